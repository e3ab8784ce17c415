"""Health (技术保障): every component answers and no alert waits too long, or the report says
what does not — to a viewer; to anyone else, the status alone, from a half-minute cache."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from chalice.test import Client

from chalicelib.alerts.store import OutboxStore
from chalicelib.auth.store import TokenStore
from chalicelib.core import aws
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.health.service import HealthService, report_cache
from tests.auth_helpers import role_tokens


@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    store = TokenStore(clients.table(settings.tables.tokens))
    return role_tokens(store)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def component(report: dict[str, object], name: str) -> dict[str, object]:
    components = report["components"]
    assert isinstance(components, list)
    matches = [c for c in components if c["name"] == name]
    assert len(matches) == 1, name
    found: dict[str, object] = matches[0]
    return found


def test_all_components_answer(clients: AwsClients, settings: Settings) -> None:
    # GIVEN every resource of the stage exists
    # WHEN health is checked
    report = HealthService(settings, clients).check()

    # THEN every table, queue, topic and the state machine is checked and ok
    assert report.ok
    assert report.as_dict()["status"] == "ok"
    assert report.stage == "local"
    kinds = [c.kind for c in report.components]
    assert kinds.count("table") == 10
    assert kinds.count("queue") == 2
    assert kinds.count("topic") == 2
    assert kinds.count("state_machine") == 1
    assert all(c.detail for c in report.components)


def test_a_deleted_table_degrades_the_report(clients: AwsClients, settings: Settings) -> None:
    # GIVEN the posts table is gone
    boto3.client("dynamodb").delete_table(TableName=settings.tables.posts)

    # WHEN health is checked
    report = HealthService(settings, clients).check()

    # THEN only that component is down, and the report says degraded
    assert not report.ok
    body = report.as_dict()
    assert body["status"] == "degraded"
    down = [c for c in report.components if not c.ok]
    assert [(c.kind, c.name) for c in down] == [("table", "yuqing-local-posts")]
    assert "not found" in down[0].detail


def test_a_missing_queue_and_topic_are_reported(clients: AwsClients, settings: Settings) -> None:
    # GIVEN the dead-letter queue and the ops topic are gone
    sqs = boto3.client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=settings.crawl_dlq)["QueueUrl"])
    sns = boto3.client("sns")
    sns.delete_topic(TopicArn=clients.topic_arn(settings.ops_topic))

    # WHEN health is checked THEN both are named as down
    report = HealthService(settings, clients).check()
    assert {c.name for c in report.components if not c.ok} == {
        "yuqing-local-crawl-dlq",
        "yuqing-local-ops",
    }


def test_record_and_read_back(clients: AwsClients, settings: Settings) -> None:
    # GIVEN a report WHEN recorded THEN the latest one is read back from the system table
    service = HealthService(settings, clients)
    assert service.last_recorded() is None
    report = service.check()
    service.record(report)
    recorded = service.last_recorded()
    assert recorded is not None
    assert recorded["status"] == "ok"
    assert recorded["checked_at"] == report.checked_at
    assert len(recorded["components"]) == len(report.components)


def test_get_health_answers_200_when_everything_answers(api_client: Client) -> None:
    # GIVEN a healthy deployment WHEN GET /health without a token
    response = api_client.http.get("/health")

    # THEN 200 with the status alone: nothing that names a resource, a depth or a subscription
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json_body == {"status": "ok"}


def test_anonymous_health_is_503_degraded_and_says_no_more(
    api_client: Client, settings: Settings
) -> None:
    # GIVEN the incidents table is gone WHEN GET /health without a token
    boto3.client("dynamodb").delete_table(TableName=settings.tables.incidents)
    response = api_client.http.get("/health")

    # THEN 503, and still the status alone
    assert response.status_code == 503
    assert response.json_body == {"status": "degraded"}


def test_get_health_with_a_token_names_the_failing_component(
    api_client: Client, settings: Settings, tokens: dict[str, str]
) -> None:
    # GIVEN the incidents table is gone
    boto3.client("dynamodb").delete_table(TableName=settings.tables.incidents)

    # WHEN a viewer asks GET /health
    response = api_client.http.get("/health", headers=bearer(tokens["viewer"]))

    # THEN 503, and the failing component is named while the others are ok
    assert response.status_code == 503
    body = response.json_body
    assert body["status"] == "degraded"
    assert body["stage"] == "local"
    failing = component(body, "yuqing-local-incidents")
    assert failing["ok"] is False
    assert failing["kind"] == "table"
    assert component(body, "yuqing-local-plan")["ok"] is True
    assert body["alerts"]["pending"] == 0


@pytest.mark.parametrize(
    ("token", "status"), [("reporter", 200), ("hq", 200), ("nonsense", 401)], ids=str
)
def test_details_are_for_viewer_and_up_and_a_bad_token_is_401(
    api_client: Client, tokens: dict[str, str], token: str, status: int
) -> None:
    response = api_client.http.get("/health", headers=bearer(tokens.get(token, token)))
    assert response.status_code == status
    if status == 200:
        assert {"components", "alerts", "last_probe", "checked_at"} <= set(response.json_body)
    else:
        assert "components" not in response.json_body


def test_an_alert_waiting_more_than_5_minutes_degrades_health_and_shows_in_the_details(
    api_client: Client, clients: AwsClients, settings: Settings, tokens: dict[str, str]
) -> None:
    # GIVEN an alert written 6 minutes ago and still not published (SNS failing)
    written = datetime.now(UTC) - timedelta(minutes=6)
    OutboxStore(clients.table(settings.tables.outbox)).put_new(
        {
            "pk": "m-stuck",
            "status": "pending",
            "created_at": written.isoformat(),
            "next_attempt_at": (written + timedelta(hours=1)).isoformat(),
            "incident_id": "inc-1",
        }
    )

    # WHEN anyone asks GET /health THEN it is degraded, though every component answers
    assert api_client.http.get("/health").json_body == {"status": "degraded"}
    # AND a viewer sees the backlog: how many, since when, and that it is too old
    body = api_client.http.get("/health", headers=bearer(tokens["viewer"])).json_body
    assert all(c["ok"] for c in body["components"])
    alerts = body["alerts"]
    assert (alerts["ok"], alerts["pending"], alerts["oldest_pending_at"]) == (
        False,
        1,
        written.isoformat(),
    )
    assert 360 <= alerts["oldest_age_seconds"] <= 420
    assert alerts["stale_after_seconds"] == 300


def test_a_flood_of_anonymous_calls_costs_one_check_per_half_minute(
    api_client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the app's clients counting every AWS call, and the cache's clock in our hands
    session = boto3.session.Session(region_name=settings.region)
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    aws.set_clients(AwsClients(settings, session=session))
    seconds = [1000.0]
    monkeypatch.setattr(report_cache, "clock", lambda: seconds[0])

    # WHEN /health is asked once, then 50 more times within the half minute
    assert api_client.http.get("/health").status_code == 200
    one_check = len(calls)
    for _ in range(50):
        seconds[0] += 0.5
        assert api_client.http.get("/health").json_body == {"status": "ok"}

    # THEN only the first call cost AWS calls (one check: every component, backlog, probe)
    assert 10 <= one_check <= 25
    assert len(calls) == one_check
    # AND once the half minute has passed, the next call checks again (without the lookups of
    # account id and queue URLs, which the clients keep)
    seconds[0] += 30
    api_client.http.get("/health")
    assert one_check - 6 <= len(calls) - one_check <= one_check
