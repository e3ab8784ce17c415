"""The incident API through ``chalice.test.Client``: reports, the board, decisions, tasks,
statements — every route's 4xx, and nothing written when the input is bad.

moto here records executions without running them, so the workflow never asks for anything:
routes that answer the workflow (decision, task, close) meet "nothing is waiting" (409), or a
stored token that Step Functions no longer knows (409).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from chalicelib.sources import wiring
from tests.auth_helpers import role_tokens
from tests.plan_helpers import example_plan
from tests.sources_server import FixtureServer, Route, serve, serve_as_local_site

REPORT = {
    "title": "滨江一院急诊科患者家属维权",
    "content": "网传滨江一院急诊科发生医疗事故，家属在门口拉横幅维权。",
}


@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    store = TokenStore(clients.table(settings.tables.tokens))
    made = role_tokens(store)
    made["publicity"] = store.issue("宣传组成员", Role.MEMBER, group="publicity")
    made["office"] = store.issue("办公室成员", Role.MEMBER, group="office")
    return made


def call(
    client: Client, method: str, path: str, token: str | None, body: Any = None, **headers: str
) -> Any:
    sent = {"Content-Type": "application/json", **headers}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    payload = (
        body if isinstance(body, str) or body is None else json.dumps(body, ensure_ascii=False)
    )
    return getattr(client.http, method.lower())(path, headers=sent, body=payload or "")


def report(client: Client, token: str, body: Any = REPORT, **headers: str) -> Any:
    return call(client, "POST", "/reports", token, body, **headers)


def count(clients: AwsClients, table: str) -> int:
    return int(clients.table(table).scan(Select="COUNT")["Count"])


def test_a_report_opens_an_incident_and_starts_its_workflow(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    response = report(api_client, tokens["reporter"], {**REPORT, "level": "II"})
    assert response.status_code == 201, response.body
    answer = response.json_body
    assert answer["level"] == "II"
    assert answer["reasons"]
    incident = call(api_client, "GET", f"/incidents/{answer['incident_id']}", tokens["viewer"])
    assert incident.status_code == 200
    shown = incident.json_body
    assert shown["status"] == "open"
    assert shown["reports"][0]["report_id"] == answer["report_id"]
    assert shown["execution"]["name"] == f"incident-{answer['incident_id']}"
    board = call(api_client, "GET", "/incidents?status=open&level=II", tokens["viewer"])
    assert [i["incident_id"] for i in board.json_body["incidents"]] == [answer["incident_id"]]


def test_the_same_idempotency_key_twice_gives_the_same_answer_and_one_incident(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    first = report(api_client, tokens["reporter"], **{"Idempotency-Key": "phone-retry-0001"})
    second = report(api_client, tokens["reporter"], **{"Idempotency-Key": "phone-retry-0001"})
    assert first.status_code == second.status_code == 201
    assert first.json_body == second.json_body
    incidents = clients.table(settings.tables.incidents).scan()["Items"]
    assert len([i for i in incidents if i["sk"] == "META"]) == 1
    assert len([i for i in incidents if str(i["sk"]).startswith("REPORT#")]) == 1
    reused = report(
        api_client,
        tokens["reporter"],
        {**REPORT, "title": "别的事"},
        **{"Idempotency-Key": "phone-retry-0001"},
    )
    assert reused.status_code == 409
    assert "different request body" in reused.json_body["message"]


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, {"/title", "/content"}),
        ({**REPORT, "title": ""}, {"/title"}),
        ({**REPORT, "content": "长" * 5001}, {"/content"}),
        ({**REPORT, "url": "ftp://x"}, {"/url"}),
        ({**REPORT, "platform": "tv"}, {"/platform"}),
        ({**REPORT, "subject": "nosuch"}, {"/subject"}),
        ({**REPORT, "level": "V"}, {"/level"}),
        ({**REPORT, "drill": "yes"}, {"/drill"}),
        ({**REPORT, "extra": 1}, {"/extra"}),
        ({"title": 7, "content": ["x"]}, {"/title", "/content"}),
    ],
)
def test_a_bad_report_is_400_with_its_problems_and_writes_nothing(
    api_client: Client,
    tokens: dict[str, str],
    clients: AwsClients,
    settings: Settings,
    body: dict[str, Any],
    paths: set[str],
) -> None:
    response = report(api_client, tokens["reporter"], body)
    assert response.status_code == 400
    assert {p["path"] for p in response.json_body["problems"]} == paths
    assert count(clients, settings.tables.incidents) == 0
    assert count(clients, settings.tables.posts) == 0


@pytest.mark.parametrize("raw", ["", "{", "[1]", '"text"'])
def test_a_report_body_that_is_not_an_object_is_400(
    api_client: Client, tokens: dict[str, str], raw: str
) -> None:
    assert report(api_client, tokens["reporter"], raw).status_code == 400


def test_a_bad_idempotency_key_is_400(api_client: Client, tokens: dict[str, str]) -> None:
    response = report(api_client, tokens["reporter"], **{"Idempotency-Key": "x y"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("POST", "/reports", "viewer"),
        ("POST", "/incidents/c-x/decision", "lead"),
        ("POST", "/incidents/c-x/close", "lead"),
        ("POST", "/incidents/c-x/tasks/office-1", "reporter"),
        ("POST", "/incidents/c-x/statements/s1/approve", "lead"),
    ],
)
def test_the_wrong_role_is_403_and_no_token_is_401(
    api_client: Client, tokens: dict[str, str], method: str, path: str, role: str
) -> None:
    assert call(api_client, method, path, tokens[role], {"action": "ack"}).status_code == 403
    assert call(api_client, method, path, None, {"action": "ack"}).status_code == 401


def _incident(api_client: Client, tokens: dict[str, str]) -> str:
    response = report(api_client, tokens["reporter"], {**REPORT, "level": "III"})
    return str(response.json_body["incident_id"])


def test_decisions_are_validated_and_refused_when_nothing_waits(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    incident = _incident(api_client, tokens)
    path = f"/incidents/{incident}/decision"
    bad = call(api_client, "POST", path, tokens["hq"], {"action": "maybe", "level": "V"})
    assert bad.status_code == 400
    assert {p["path"] for p in bad.json_body["problems"]} == {"/action"}
    bad_level = call(api_client, "POST", path, tokens["hq"], {"action": "activate", "level": "V"})
    assert {p["path"] for p in bad_level.json_body["problems"]} == {"/level"}
    assert call(api_client, "POST", path, tokens["hq"], {"action": "dismiss"}).status_code == 409
    unknown = call(
        api_client, "POST", "/incidents/c-none/decision", tokens["hq"], {"action": "dismiss"}
    )
    assert unknown.status_code == 404
    assert call(
        api_client, "POST", "/incidents/bad id!/decision", tokens["hq"], {}
    ).status_code in {400, 404}


def test_only_the_owning_group_or_the_hq_acts_on_a_task(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    incident = _incident(api_client, tokens)
    store = IncidentStore(clients.table(settings.tables.incidents))
    store.put_once(
        incident,
        "TASK#publicity-1",
        {"task_id": "publicity-1", "group": "publicity", "status": "assigned"},
    )
    path = f"/incidents/{incident}/tasks/publicity-1"
    assert call(api_client, "POST", path, tokens["office"], {"action": "ack"}).status_code == 403
    assert (
        call(api_client, "POST", path, tokens["publicity"], {"action": "done"}).status_code == 400
    )
    assert call(api_client, "POST", path, tokens["publicity"], {"action": "ack"}).status_code == 409
    missing = f"/incidents/{incident}/tasks/nosuch-1"
    assert call(api_client, "POST", missing, tokens["hq"], {"action": "ack"}).status_code == 404
    assert store.get(incident, "TASK#publicity-1")["status"] == "assigned"  # type: ignore[index]


def test_statements_are_drafted_approved_then_released_in_that_order(
    api_client: Client, tokens: dict[str, str]
) -> None:
    incident = _incident(api_client, tokens)
    base = f"/incidents/{incident}/statements"
    assert call(api_client, "POST", base, tokens["publicity"], {"text": ""}).status_code == 400
    drafted = call(api_client, "POST", base, tokens["publicity"], {"text": "情况说明（初稿）"})
    assert drafted.status_code == 200
    sid = drafted.json_body["statement_id"]
    release = f"{base}/{sid}/release"
    assert (
        call(api_client, "POST", release, tokens["publicity"], {"channel": "官微"}).status_code
        == 409
    )
    revised = call(
        api_client,
        "POST",
        base,
        tokens["publicity"],
        {"statement_id": sid, "text": "情况说明（修订）"},
    )
    assert len(revised.json_body["versions"]) == 2
    assert call(api_client, "POST", f"{base}/{sid}/approve", tokens["hq"]).status_code == 200
    assert call(api_client, "POST", f"{base}/{sid}/approve", tokens["hq"]).status_code == 409
    bad = call(api_client, "POST", release, tokens["publicity"], {"channel": "官微", "link": "x"})
    assert bad.status_code == 400
    done = call(
        api_client,
        "POST",
        release,
        tokens["publicity"],
        {"channel": "官方微博", "link": "https://weibo.example.org/1"},
    )
    assert done.status_code == 200
    assert done.json_body["status"] == "released"
    # an edit of the released statement is a new draft; the released text stays on the record
    again = call(api_client, "POST", base, tokens["publicity"], {"statement_id": sid, "text": "改"})
    assert again.status_code == 200
    assert again.json_body["statement_id"] != sid
    assert again.json_body["revises"] == sid
    assert again.json_body["status"] == "draft"
    shown = call(api_client, "GET", f"/incidents/{incident}", tokens["viewer"]).json_body
    assert any(e["title"].startswith("发布口径") for e in shown["timeline"])
    released = next(s for s in shown["statements"] if s["statement_id"] == sid)
    assert (released["status"], released["text"]) == ("released", "情况说明（修订）")


def _statements(api_client: Client, tokens: dict[str, str], incident: str) -> dict[str, Any]:
    shown = call(api_client, "GET", f"/incidents/{incident}", tokens["viewer"]).json_body
    return {s["statement_id"]: s for s in shown["statements"]}


def test_only_the_publicity_group_and_the_hq_draft_edit_and_release_statements(
    api_client: Client, tokens: dict[str, str]
) -> None:
    # GIVEN an incident and a statement the HQ approved
    incident = _incident(api_client, tokens)
    base = f"/incidents/{incident}/statements"
    drafted = call(api_client, "POST", base, tokens["hq"], {"text": "指挥部起草的口径"})
    assert drafted.status_code == 200
    sid = drafted.json_body["statement_id"]
    assert call(api_client, "POST", f"{base}/{sid}/approve", tokens["hq"]).status_code == 200

    # WHEN members and leads of other groups draft, edit or release (a good body or none)
    # THEN 403 and nothing changes
    for who in ("office", "member", "lead"):
        for body in ({"text": "别组改写"}, {"statement_id": sid, "text": "别组改写"}, {}):
            assert call(api_client, "POST", base, tokens[who], body).status_code == 403, who
        release = call(
            api_client, "POST", f"{base}/{sid}/release", tokens[who], {"channel": "官微"}
        )
        assert release.status_code == 403, who
    assert list(_statements(api_client, tokens, incident)) == [sid]
    assert _statements(api_client, tokens, incident)[sid]["status"] == "approved"

    # WHEN the publicity group releases it THEN it is released
    done = call(
        api_client, "POST", f"{base}/{sid}/release", tokens["publicity"], {"channel": "官微"}
    )
    assert done.status_code == 200
    assert done.json_body["status"] == "released"


def test_an_edit_of_an_approved_statement_is_a_new_draft_and_the_approved_text_stays(
    api_client: Client, tokens: dict[str, str]
) -> None:
    # GIVEN a statement the HQ approved
    incident = _incident(api_client, tokens)
    base = f"/incidents/{incident}/statements"
    sid = call(api_client, "POST", base, tokens["publicity"], {"text": "初稿"}).json_body[
        "statement_id"
    ]
    approved = call(api_client, "POST", f"{base}/{sid}/approve", tokens["hq"]).json_body

    # WHEN the publicity group edits it (and the edit is retried)
    edit = {"statement_id": sid, "text": "改写稿"}
    first = call(api_client, "POST", base, tokens["publicity"], edit)
    retried = call(api_client, "POST", base, tokens["publicity"], edit)

    # THEN the edit is one new draft revising it, and the approved one is as it was
    assert first.status_code == retried.status_code == 200
    revision = first.json_body["statement_id"]
    assert revision != sid
    assert retried.json_body["statement_id"] == revision
    assert (first.json_body["status"], first.json_body["revises"]) == ("draft", sid)
    shown = _statements(api_client, tokens, incident)
    assert set(shown) == {sid, revision}
    assert len(shown[revision]["versions"]) == 1
    kept = {k: v for k, v in approved.items() if k not in ("pk", "sk")}
    assert {k: shown[sid][k] for k in kept} == kept

    # AND the old text can still be released until the HQ approves the revision
    second = call(api_client, "POST", base, tokens["publicity"], {**edit, "text": "改写二稿"})
    assert second.json_body["statement_id"] == revision
    assert call(api_client, "POST", f"{base}/{revision}/approve", tokens["hq"]).status_code == 200
    shown = _statements(api_client, tokens, incident)
    assert (shown[sid]["status"], shown[sid]["superseded_by"]) == ("superseded", revision)
    assert (shown[sid]["text"], shown[revision]["text"]) == ("初稿", "改写二稿")

    # WHEN the replaced text is released THEN 409 naming its replacement; the revision releases
    stale = call(
        api_client, "POST", f"{base}/{sid}/release", tokens["publicity"], {"channel": "官微"}
    )
    assert stale.status_code == 409
    assert stale.json_body["superseded_by"] == revision
    done = call(
        api_client, "POST", f"{base}/{revision}/release", tokens["publicity"], {"channel": "官微"}
    )
    assert done.status_code == 200


def test_the_plan_names_the_group_that_writes_statements(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    # GIVEN a plan whose workflow names the office as the publicity group
    doc = example_plan()
    doc["workflow"] = {"publicity_group": "office"}
    PlanService(PlanStore(clients.table(settings.tables.plan))).save(doc, "test")
    incident = _incident(api_client, tokens)
    base = f"/incidents/{incident}/statements"

    # THEN the office drafts, and the owner of the release measure does not
    assert (
        call(api_client, "POST", base, tokens["office"], {"text": "办公室口径"}).status_code == 200
    )
    assert (
        call(api_client, "POST", base, tokens["publicity"], {"text": "宣传组"}).status_code == 403
    )


@pytest.mark.parametrize("query", ["status=weird", "level=V", "drill=maybe"])
def test_a_bad_board_query_is_400(api_client: Client, tokens: dict[str, str], query: str) -> None:
    assert call(api_client, "GET", f"/incidents?{query}", tokens["viewer"]).status_code == 400


@pytest.fixture
def site() -> Iterator[FixtureServer]:
    """GIVEN a server that local mode serves as its demo site (a local site)."""
    yield from serve_as_local_site()


@pytest.fixture
def neighbour() -> Iterator[FixtureServer]:
    """GIVEN another server on loopback that local mode does not serve (as moto's endpoint)."""
    yield from serve()


def test_evidence_is_preserved_once_with_its_hash_and_never_changed(
    api_client: Client, tokens: dict[str, str], site: FixtureServer
) -> None:
    incident = _incident(api_client, tokens)
    page = "<html><body>网传滨江一院发生爆炸，系谣言。</body></html>".encode()
    site.routes["/rumour"] = Route(body=page, content_type="text/html; charset=utf-8")
    path = f"/incidents/{incident}/evidence"

    kept = call(api_client, "POST", path, tokens["member"], {"url": site.url("/rumour")})
    assert kept.status_code == 201, kept.body
    assert kept.json_body["sha256"] == hashlib.sha256(page).hexdigest()
    again = call(api_client, "POST", path, tokens["member"], {"url": site.url("/rumour")})
    assert again.status_code == 200
    assert again.json_body["evidence_id"] == kept.json_body["evidence_id"]

    # a post already crawled (here: the report's own post) is preserved by its id
    shown = call(api_client, "GET", f"/incidents/{incident}", tokens["viewer"]).json_body
    post_id = shown["reports"][0]["post_id"]
    by_post = call(api_client, "POST", path, tokens["member"], {"post_id": post_id, "note": "原帖"})
    assert by_post.status_code == 201
    # a GBK page is kept byte for byte (as base64), so its hash can be checked
    gbk = "滨江一院网传爆炸系谣言".encode("gbk")
    site.routes["/gbk"] = Route(body=gbk, content_type="text/html; charset=gbk")
    kept_gbk = call(api_client, "POST", path, tokens["member"], {"url": site.url("/gbk")})
    assert kept_gbk.status_code == 201
    assert base64.b64decode(kept_gbk.json_body["content_base64"]) == gbk
    assert kept_gbk.json_body["sha256"] == hashlib.sha256(gbk).hexdigest()
    listed = call(api_client, "GET", path, tokens["viewer"]).json_body["evidence"]
    assert {e["kind"] for e in listed} == {"url", "post"}
    assert len(listed) == 3
    shown_again = call(api_client, "GET", f"/incidents/{incident}", tokens["viewer"]).json_body
    assert all("content" not in e and "content_base64" not in e for e in shown_again["evidence"])
    assert all("content" not in e for e in listed)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"url": "http://x", "post_id": "p1"}, 400),
        ({"url": "file:///etc/passwd"}, 400),
        ({"url": "http://10.0.0.8/secret"}, 400),
        ({"post_id": "pnosuch"}, 404),
        ({"url": "http://127.0.0.1:9/closed"}, 400),  # loopback, and not the demo site
    ],
)
def test_bad_evidence_requests_write_nothing(
    api_client: Client, tokens: dict[str, str], body: dict[str, Any], status: int
) -> None:
    incident = _incident(api_client, tokens)
    path = f"/incidents/{incident}/evidence"
    assert call(api_client, "POST", path, tokens["member"], body).status_code == status
    assert call(api_client, "GET", path, tokens["viewer"]).json_body["evidence"] == []


def test_evidence_never_reaches_moto_or_anything_else_on_loopback(
    api_client: Client, tokens: dict[str, str], site: FixtureServer, neighbour: FixtureServer
) -> None:
    # GIVEN local mode's moto endpoint on loopback (every table, every contact) beside the demo
    # site, and an incident
    neighbour.routes["/moto-api/data.json"] = Route(body=b'{"contacts": ["13800000000"]}')
    incident = _incident(api_client, tokens)
    path = f"/incidents/{incident}/evidence"
    port = neighbour.port
    # WHEN a member asks to preserve it, in any spelling THEN 400, nothing asked, nothing kept
    for url in (
        f"http://127.0.0.1:{port}/moto-api/data.json",
        f"http://2130706433:{port}/moto-api/data.json",
        f"http://0x7f.0.0.1:{port}/moto-api/data.json",
        f"http://[::ffff:127.0.0.1]:{port}/moto-api/data.json",
        f"http://localhost:{port}/moto-api/data.json",
    ):
        refused = call(api_client, "POST", path, tokens["member"], {"url": url})
        assert refused.status_code == 400, (url, refused.body)
        assert refused.json_body["error"] == "blocked_address"
    # ... and a name is refused in words that do not say what it resolved to
    assert refused.json_body["message"] == "refused: localhost has no public address"
    # ... nor through a redirect from the demo site
    site.routes["/jump"] = Route(
        status=302, headers={"Location": f"http://127.0.0.1:{port}/moto-api/data.json"}
    )
    jumped = call(api_client, "POST", path, tokens["member"], {"url": site.url("/jump")})
    assert jumped.status_code == 400
    assert neighbour.hits == {}
    assert call(api_client, "GET", path, tokens["viewer"]).json_body["evidence"] == []


def test_evidence_from_a_slow_page_is_a_422_within_the_api_deadline(
    api_client: Client, tokens: dict[str, str], site: FixtureServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a page that answers after 10 s, and an API fetch deadline of 1 s (20 s in service)
    monkeypatch.setattr(wiring, "API_FETCH_SECONDS", 1.0)
    site.routes["/slow"] = Route(delay=10, body=b"<p>late</p>", content_type="text/html")
    incident = _incident(api_client, tokens)
    path = f"/incidents/{incident}/evidence"
    started = time.monotonic()
    # WHEN a member asks to preserve it THEN a 422 that says so, well before the page would answer
    answer = call(api_client, "POST", path, tokens["member"], {"url": site.url("/slow")})
    assert time.monotonic() - started < 5
    assert answer.status_code == 422, answer.body
    assert answer.json_body["fetch_error"] == "timeout"
    assert call(api_client, "GET", path, tokens["viewer"]).json_body["evidence"] == []


def test_a_story_that_flares_up_after_its_incident_ended_opens_a_follow_up(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings
) -> None:
    # GIVEN a reported story whose incident the HQ dismissed
    first = report(api_client, tokens["reporter"], {**REPORT, "level": "III"}).json_body
    store = IncidentStore(clients.table(settings.tables.incidents))
    store.update(first["incident_id"], "META", {"status": "dismissed"})

    # WHEN the same story is reported again
    again = report(api_client, tokens["reporter"], {**REPORT, "level": "II"})

    # THEN it opens a follow-up incident (with its own workflow), not a note on the ended one
    assert again.status_code == 201
    follow_up = again.json_body
    assert follow_up["incident_id"] == f"{first['incident_id']}-2"
    assert follow_up["opened"] is True
    shown = call(api_client, "GET", f"/incidents/{follow_up['incident_id']}", tokens["viewer"])
    assert shown.json_body["level"] == "II"
    assert shown.json_body["execution"]["name"] == f"incident-{follow_up['incident_id']}"
    assert store.require(first["incident_id"])["status"] == "dismissed"
