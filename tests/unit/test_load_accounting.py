"""The load benchmark's accounting (bench/load_logic.py), pure: lost and duplicated HQ alerts
from outbox items, latency per report, route families and their figures, the dashboard's poll
timers, and the loopback-only guard. Never timings."""

from __future__ import annotations

import pytest

from bench.load_logic import (
    Accepted,
    OutboxMessage,
    Polls,
    RequestRecord,
    Resend,
    account,
    loopback_only,
    route_family,
    route_figures,
)


def message(
    incident: str,
    *,
    event: str = "reported",
    group: str = "hq",
    level: str = "III",
    kind: str = "alert",
    status: str = "awaiting_ack",
    created: float = 100.0,
) -> OutboxMessage:
    return OutboxMessage(
        pk=f"m-{incident}-{event}-{level}-{group}",
        incident_id=incident,
        event=event,
        group=group,
        level=level,
        kind=kind,
        status=status,
        created=created,
    )


def test_every_report_paged_once_is_neither_lost_nor_duplicated() -> None:
    # GIVEN two reports that opened their incidents, each with its HQ "reported" alert
    accepted = [Accepted("r1", "c-1", True, 99.0), Accepted("r2", "c-2", True, 99.5)]
    outbox = [message("c-1", created=99.25), message("c-2", created=100.0)]
    # WHEN accounted
    found = account(accepted, [], outbox)
    # THEN nothing is lost or duplicated and each report has its latency
    assert (found.reports, found.incidents, found.lost, found.duplicates) == (2, 2, [], 0)
    assert sorted(found.latencies) == [0.25, 0.5]


def test_an_incident_without_its_hq_reported_alert_is_lost() -> None:
    # GIVEN c-2 has only a working group's alert and a level-rise page, not the HQ's first page
    accepted = [Accepted("r1", "c-1", True, 99.0), Accepted("r2", "c-2", True, 99.0)]
    outbox = [
        message("c-1"),
        message("c-2", group="office"),
        message("c-2", event="reported#II", level="II"),
        message("c-2", kind="repeat"),
    ]
    found = account(accepted, [], outbox)
    assert found.lost == ["c-2"]
    assert found.rises == 1
    assert found.latencies == [1.0]  # only the report whose alert was written


def test_two_hq_reported_alerts_for_one_incident_are_a_duplicate() -> None:
    # GIVEN the HQ's first page written twice for one incident (at two levels: the outbox key
    # holds the level, so the same level cannot be written twice)
    accepted = [Accepted("r1", "c-1", True, 99.0)]
    outbox = [message("c-1", level="III"), message("c-1", level="II", created=101.0)]
    found = account(accepted, [], outbox)
    assert found.duplicated == {"c-1": 1}
    assert found.duplicates == 1
    assert found.lost == []
    assert found.latencies == [1.0]  # from the first of them


def test_alerts_of_incidents_no_report_landed_in_are_not_counted() -> None:
    outbox = [message("c-1"), message("x"), message("x", level="II")]
    found = account([Accepted("r1", "c-1", True, 99.0)], [], outbox)
    assert (found.duplicates, found.incidents) == (0, 1)


def test_a_resend_answered_with_the_same_report_is_one_report() -> None:
    # GIVEN a report sent twice with one Idempotency-Key, both answered (the second replayed)
    answer = {"report_id": "r1", "incident_id": "c-1", "opened": True}
    accepted = [Accepted("r1", "c-1", True, 99.4), Accepted("r1", "c-1", True, 99.0)]
    found = account(accepted, [Resend(answer, answer)], [message("c-1")])
    # THEN it counts once, with no duplicate, timed from the first request
    assert (found.reports, found.resends, found.duplicates) == (1, 1, 0)
    assert found.latencies == [1.0]


def test_a_resend_answered_with_another_report_is_a_duplicate() -> None:
    first = {"report_id": "r1", "incident_id": "c-1"}
    again = {"report_id": "r2", "incident_id": "c-2"}
    refused = Resend(first, None)  # a 409 is counted with the calls, not here
    found = account([], [Resend(first, again), refused], [])
    assert (found.resend_mismatches, found.duplicates) == (1, 1)


def test_a_report_that_joined_an_open_incident_has_no_latency_of_its_own() -> None:
    accepted = [Accepted("r1", "c-1", True, 99.0), Accepted("r2", "c-1", False, 105.0)]
    found = account(accepted, [], [message("c-1", created=100.0)])
    assert found.latencies == [1.0]
    assert found.incidents == 1


def test_a_pending_hq_alert_is_not_lost_but_counted_unpublished() -> None:
    found = account([Accepted("r1", "c-1", True, 99.0)], [], [message("c-1", status="pending")])
    assert (found.lost, found.unpublished) == ([], 1)


def test_outbox_items_are_read_from_dynamodbs_typed_form() -> None:
    item = {
        "pk": {"S": "m1"},
        "incident_id": {"S": "c-1"},
        "event": {"S": "reported"},
        "group": {"S": "hq"},
        "level": {"S": "III"},
        "kind": {"S": "alert"},
        "status": {"S": "pending"},
        "created_at": {"S": "1970-01-01T00:01:40.250000+00:00"},
        "attempts": {"N": "0"},
    }
    read = OutboxMessage.from_dynamo(item)
    assert read.hq_reported
    assert read.created == 100.25


@pytest.mark.parametrize(
    ("method", "path", "family"),
    [
        ("post", "/reports", "POST /reports"),
        ("GET", "/incidents", "GET /incidents"),
        ("GET", "/incidents/c-k12", "GET /incidents/{id}"),
        ("POST", "/incidents/c-k12/tasks/t1", "POST /incidents/{id}/tasks/{id}"),
        ("GET", "/outbox?incident=c-k12&limit=100", "GET /outbox"),
        ("GET", "http://127.0.0.1:8000/posts?limit=30", "GET /posts"),
    ],
)
def test_calls_are_grouped_by_route_family(method: str, path: str, family: str) -> None:
    assert route_family(method, path) == family


def test_route_figures_count_errors_and_take_percentiles_per_family() -> None:
    records = [RequestRecord("POST /reports", s / 100, 201) for s in range(1, 21)]
    records += [
        RequestRecord("POST /reports", 0.5, 503),
        RequestRecord("POST /reports", 0.5, 409),
        RequestRecord("POST /reports", 30.0, 0),
        RequestRecord("GET /health", 0.01, 200),
    ]
    reports, health = route_figures(records)
    assert (reports.family, reports.count) == ("POST /reports", 23)
    assert (reports.server_errors, reports.client_errors, reports.no_answer) == (1, 1, 1)
    assert reports.max == 30.0
    assert reports.p50 <= reports.p95 <= reports.max
    assert (health.family, health.count, health.p95, health.server_errors) == (
        "GET /health",
        1,
        0.01,
        0,
    )


def test_the_dashboard_polls_each_path_at_its_own_interval() -> None:
    # GIVEN the board's timers, the page opened at t=0
    polls = Polls({"/incidents": 10.0, "/health": 30.0}, start=0.0)
    # THEN everything loads at once, then each path on its own period
    assert sorted(polls.due(0.0)) == ["/health", "/incidents"]
    assert polls.wait(0.0) == 10.0
    assert polls.due(5.0) == []
    assert polls.due(10.5) == ["/incidents"]
    assert polls.wait(10.5) == pytest.approx(9.5)
    assert polls.due(30.0) == ["/incidents", "/health"]
    # AND a late tick does not pile up the calls it missed
    assert polls.due(95.0) == ["/incidents", "/health"]
    assert polls.due(95.0) == []
    assert polls.wait(95.0) == 5.0  # /incidents at 100, /health at 120


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://127.8.9.10:1/x", "http://localhost:5", "http://[::1]:80"],
)
def test_loopback_targets_are_allowed(url: str) -> None:
    assert loopback_only(url) == url


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.5:8000", "http://192.168.1.2", "https://example.com", "http://0.0.0.0:8000"],
)
def test_any_other_target_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="only loopback"):
        loopback_only(url)
