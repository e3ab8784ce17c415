"""The plan and alert routes through ``chalice.test.Client``: auth, every 400 of PUT /plan, 409."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from tests.auth_helpers import role_tokens
from tests.functional.test_health_probe import scheduled_event
from tests.plan_helpers import contacts, example_plan, group, paths


@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    store = TokenStore(clients.table(settings.tables.tokens))
    made = role_tokens(store)
    made["office"] = store.issue("陈静", Role.LEAD, group="office")
    return made


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **extra}


def put(client: Client, token: str, doc: Any, **headers: str) -> Any:
    body = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)
    return client.http.put("/plan", headers=auth(token, **headers), body=body)


def versions(client: Client, token: str) -> list[int]:
    response = client.http.get("/plan/versions", headers=auth(token))
    return [v["version"] for v in response.json_body["versions"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/plan"),
        ("PUT", "/plan"),
        ("GET", "/plan/versions"),
        ("GET", "/plan/versions/1"),
        ("GET", "/outbox"),
        ("POST", "/alerts"),
        ("POST", "/alerts/mabc/ack"),
        ("POST", "/alerts/incident/inc-1/ack"),
    ],
)
def test_every_route_needs_a_token(api_client: Client, method: str, path: str) -> None:
    response = api_client.http.request(method, path, body=b"{}", headers={})
    assert response.status_code == 401


def test_the_plan_lifecycle(api_client: Client, tokens: dict[str, str]) -> None:
    # GIVEN no plan yet
    assert api_client.http.get("/plan", headers=auth(tokens["viewer"])).status_code == 404

    # WHEN the hq saves the example THEN version 1 is created and subscriptions reconciled
    first = put(api_client, tokens["hq"], example_plan())
    assert first.status_code == 200, first.body
    assert first.json_body["version"] == 1
    assert first.json_body["created_by"] == "test hq"
    assert first.json_body["summary"]["text"] == "first version"
    assert first.json_body["reconciliation"]["ok"] is True
    assert first.json_body["reconciliation"]["subscribed"] > 20

    # WHEN a valid change is saved on top of version 1 THEN version 2 says what changed
    doc = example_plan()
    group(doc, "office")["members"].pop()
    second = put(api_client, tokens["hq"], doc, **{"If-Match": "1"})
    assert second.status_code == 200, second.body
    assert second.json_body["version"] == 2
    assert second.json_body["summary"]["sections"] == {"members": {"removed": ["office/wu-lei"]}}
    assert second.json_body["reconciliation"]["unsubscribed"] == 2

    # THEN the HQ reads the current plan and each version as saved (every role reads them;
    # below the HQ with contacts masked: the contacts test below)
    current = api_client.http.get("/plan", headers=auth(tokens["hq"])).json_body
    assert current["version"] == 2
    assert current["plan"] == doc
    assert current["contacts_masked"] is False
    assert versions(api_client, tokens["member"]) == [2, 1]
    old = api_client.http.get("/plan/versions/1", headers=auth(tokens["hq"])).json_body
    assert old["plan"] == example_plan()
    shown = api_client.http.get("/plan/versions/1", headers=auth(tokens["viewer"])).json_body
    assert shown["version"] == 1
    assert shown["contacts_masked"] is True
    assert api_client.http.get("/plan/versions/9", headers=auth(tokens["hq"])).status_code == 404
    bad = api_client.http.get("/plan/versions/x", headers=auth(tokens["hq"]))
    assert bad.status_code == 400

    # AND a save based on a stale version is refused with 409, writing nothing
    stale = put(api_client, tokens["hq"], example_plan(), **{"If-Match": "1"})
    assert stale.status_code == 409
    assert stale.json_body["version"] == 2
    assert (
        api_client.http.put(
            "/plan?base_version=1", headers=auth(tokens["hq"]), body=json.dumps(example_plan())
        ).status_code
        == 409
    )
    assert versions(api_client, tokens["hq"]) == [2, 1]


@pytest.mark.parametrize("path", ["/plan", "/plan/versions/1"])
def test_contacts_are_shown_to_the_hq_and_to_a_lead_for_their_own_group_only(
    api_client: Client, tokens: dict[str, str], clients: AwsClients, settings: Settings, path: str
) -> None:
    # GIVEN the example plan, with the phone numbers and e-mail addresses of 15 people
    PlanService(PlanStore(clients.table(settings.tables.plan))).save(example_plan(), "test")
    everyone = contacts(example_plan())

    def read(token: str) -> tuple[dict[str, Any], str]:
        response = api_client.http.get(path, headers=auth(token))
        assert response.status_code == 200
        return response.json_body, json.dumps(response.json_body, ensure_ascii=False)

    # WHEN a viewer, a reporter or a member reads the plan THEN every contact is masked, as
    # /outbox shows them, and the answer says so; names and roles are still there to call on
    for role in ("viewer", "reporter", "member"):
        body, text = read(tokens[role])
        assert not [c for c in everyone if c in text], role
        assert body["contacts_masked"] is True
        wu_lei = group(body["plan"], "office")["members"][1]
        assert (wu_lei["name"], wu_lei["phone"], wu_lei["email"]) == (
            "吴磊",
            "*********8011",
            "w***@example.org",
        )

    # WHEN the office's lead reads it THEN the office's contacts are whole, nobody else's
    body, text = read(tokens["office"])
    assert {c for c in everyone if c in text} == contacts(example_plan(), "office")
    assert body["contacts_masked"] is True

    # WHEN the HQ reads it THEN the document is exactly as saved
    body, _ = read(tokens["hq"])
    assert body["plan"] == example_plan()
    assert body["contacts_masked"] is False
    assert body["publicity_group"] == "publicity"


def test_only_the_hq_may_save(api_client: Client, tokens: dict[str, str]) -> None:
    assert put(api_client, tokens["lead"], example_plan()).status_code == 403
    assert put(api_client, tokens["hq"], example_plan()).status_code == 200


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], set[str]]] = [
    (
        "unknown group at a level",
        _set(["levels", 2, "alert_groups"], ["press"]),
        {"/levels/2/alert_groups/0"},
    ),
    (
        "unknown group in escalation",
        _set(["escalation", "steps", 0, "notify"], ["it"]),
        {"/escalation/steps/0/notify/0"},
    ),
    (
        "bad phone",
        _set(["groups", 2, "members", 0, "phone"], "13800138020"),
        {"/groups/2/members/0/phone"},
    ),
    (
        "bad email",
        _set(["groups", 2, "members", 1, "email"], "li.na@"),
        {"/groups/2/members/1/email"},
    ),
    ("duplicate group id", _set(["groups", 3, "id"], "office"), {"/groups/3/id"}),
    (
        "duplicate member id",
        _set(["groups", 3, "members", 0, "id"], "chen-jing"),
        {"/groups/3/members/0/id"},
    ),
    ("overlapping levels", _set(["levels", 3, "min_risk"], 0.5), {"/levels/3/min_risk"}),
    ("missing level", lambda d: d["levels"].pop(), {"/levels"}),
    ("measure without owner", _set(["measures", 4, "owner"], ""), {"/measures/4/owner"}),
    (
        "template longer than its limit",
        _set(["sms_templates", 2, "limit"], 40),
        {"/sms_templates/2/text"},
    ),
    (
        "not a plan at all",
        lambda d: d.clear(),
        {
            "/organisation",
            "/groups",
            "/levels",
            "/measures",
            "/escalation",
            "/subjects",
            "/sms_templates",
        },
    ),
]


@pytest.mark.parametrize(("name", "edit", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_an_invalid_plan_is_400_with_its_problems_and_writes_nothing(
    api_client: Client, tokens: dict[str, str], name: str, edit: Any, expected: set[str]
) -> None:
    assert put(api_client, tokens["hq"], example_plan()).status_code == 200
    doc = example_plan()
    edit(doc)
    response = put(api_client, tokens["hq"], doc)
    assert response.status_code == 400, name
    assert response.json_body["error"] == "validation_error"
    # (a renamed group also leaves its references dangling: those are listed too)
    assert paths(response.json_body["problems"]) >= expected
    assert versions(api_client, tokens["hq"]) == [1]


def test_a_subject_rule_with_a_syntax_error_is_400_naming_the_position(
    api_client: Client, tokens: dict[str, str]
) -> None:
    # GIVEN a plan whose second subject rule misses a closing parenthesis
    doc = example_plan()
    doc["subjects"][1]["rule"] = "(滨江一院 AND 红包"
    # WHEN the HQ saves it THEN the rule parser's message, with its position, is the problem
    response = put(api_client, tokens["hq"], doc)
    assert response.status_code == 400
    (problem,) = response.json_body["problems"]
    assert problem["path"] == "/subjects/1/rule"
    assert any(ch.isdigit() for ch in problem["message"]), problem
    assert versions(api_client, tokens["hq"]) == []


def test_several_problems_are_all_listed(api_client: Client, tokens: dict[str, str]) -> None:
    doc = example_plan()
    several = [b for b in BROKEN if b[0] not in ("missing level", "not a plan at all")]
    for _, edit, _ in several:
        edit(doc)
    response = put(api_client, tokens["hq"], doc)
    assert response.status_code == 400
    assert paths(response.json_body["problems"]) >= set().union(*(b[2] for b in several))
    assert versions(api_client, tokens["hq"]) == []


@pytest.mark.parametrize(
    ("body", "headers"),
    [("", {}), ("{not json", {}), ("[1, 2]", {}), (json.dumps(example_plan()), {"If-Match": "v"})],
    ids=["empty", "not JSON", "not an object", "bad If-Match"],
)
def test_a_body_that_is_not_a_plan_object_is_400(
    api_client: Client, tokens: dict[str, str], body: str, headers: dict[str, str]
) -> None:
    response = put(api_client, tokens["hq"], body, **headers)
    assert response.status_code == 400
    assert response.json_body["problems"]


# -- alerts over HTTP ------------------------------------------------------------------------


def test_an_alert_sent_by_the_hq_appears_in_the_outbox_with_its_recipients(
    api_client: Client, tokens: dict[str, str]
) -> None:
    assert put(api_client, tokens["hq"], example_plan()).status_code == 200
    body = {
        "incident": "test-1",
        "event": "opened",
        "level": "II",
        "template_id": "incident_alert",
        "variables": {
            "level": "II",
            "subject": "测试事件",
            "summary": "这是一条测试告警",
            "deadline": "30分钟",
        },
        "groups": ["office"],
        "links": ["https://example.org/incidents/test-1"],
    }
    sent = api_client.http.post("/alerts", headers=auth(tokens["hq"]), body=json.dumps(body))
    assert sent.status_code == 200, sent.body
    ids = sent.json_body["message_ids"]
    assert len(ids) == 2  # the hq (level II) and the office

    listed = api_client.http.get("/outbox?incident=test-1&live=1", headers=auth(tokens["hq"]))
    assert listed.status_code == 200
    messages = {m["group"]: m for m in listed.json_body["messages"]}
    assert set(messages) == {"hq", "office"}
    office = messages["office"]
    assert office["status"] == "awaiting_ack"
    assert {(r["name"], r["channel"]) for r in office["recipients"]} == {
        ("陈静", "sms"),
        ("陈静", "email"),
        ("吴磊", "sms"),
        ("吴磊", "email"),
    }
    assert "+8613800138010" not in json.dumps(listed.json_body)  # contacts are masked
    assert len(office["live_subscriptions"]) == 4
    by_status = api_client.http.get("/outbox?status=awaiting_ack", headers=auth(tokens["hq"]))
    assert by_status.json_body["count"] == 2

    # WHEN the office lead acknowledges THEN only the office's alert is acknowledged
    acked = api_client.http.post(
        "/alerts/incident/test-1/ack", headers=auth(tokens["office"]), body=b""
    )
    assert acked.status_code == 200
    assert acked.json_body["acknowledged"] == [office["message_id"]]
    other = api_client.http.post(
        f"/alerts/{messages['hq']['message_id']}/ack", headers=auth(tokens["office"]), body=b""
    )
    assert other.status_code == 403
    assert (
        api_client.http.post("/alerts/m0000/ack", headers=auth(tokens["hq"]), body=b"").status_code
        == 404
    )
    # AND the outbox is for the hq only
    assert api_client.http.get("/outbox", headers=auth(tokens["lead"])).status_code == 403


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"event": "x", "level": "II", "template_id": "notice"}, {"/incident"}),
        (
            {
                "incident": "a b",
                "event": "x",
                "level": "V",
                "template_id": "notice",
                "variables": {"text": "t"},
            },
            {"/incident_key", "/level"},
        ),
        (
            {
                "incident": "a",
                "event": "x",
                "level": "II",
                "template_id": "notice",
                "variables": {"text": True},
                "drill": "yes",
                "colour": 1,
            },
            {"/variables", "/drill", "/colour"},
        ),
        (
            {
                "incident": "a",
                "event": "x",
                "level": "III",
                "template_id": "notice",
                "variables": {},
            },
            {"/variables/text"},
        ),
        (
            {
                "incident": "a",
                "event": "x",
                "level": "III",
                "template_id": "notice",
                "variables": {"text": "t"},
                "groups": ["press"],
            },
            {"/groups/0"},
        ),
        ({"incident": "a", "event": "x", "level": "III", "template_id": "nope"}, {"/template_id"}),
    ],
)
def test_a_bad_alert_is_400_and_writes_nothing(
    api_client: Client, tokens: dict[str, str], body: dict[str, Any], expected: set[str]
) -> None:
    assert put(api_client, tokens["hq"], example_plan()).status_code == 200
    response = api_client.http.post("/alerts", headers=auth(tokens["hq"]), body=json.dumps(body))
    assert response.status_code == 400
    assert paths(response.json_body["problems"]) == expected
    listed = api_client.http.get("/outbox", headers=auth(tokens["hq"]))
    assert listed.json_body["count"] == 0


@pytest.mark.parametrize(
    "query", ["status=lost", "limit=0", "limit=x", "incident=a%20b", "live=maybe"]
)
def test_a_bad_outbox_query_is_400(api_client: Client, tokens: dict[str, str], query: str) -> None:
    assert api_client.http.get(f"/outbox?{query}", headers=auth(tokens["hq"])).status_code == 400


def test_the_dispatch_schedule_catches_up_a_reconciliation_that_did_not_happen(
    api_client: Client, clients: AwsClients, settings: Settings
) -> None:
    # GIVEN a plan saved while SNS could not be reconciled (no after_save ran)
    PlanService(PlanStore(clients.table(settings.tables.plan))).save(example_plan(), "test")
    sns = clients.client("sns")
    tech = clients.topic_arn("yuqing-local-group-tech")
    assert "yuqing-local-group-tech" not in json.dumps(sns.list_topics())

    # WHEN the alert_dispatch schedule fires
    result = api_client.lambda_.invoke("alert_dispatch", scheduled_event(api_client))

    # THEN it reconciles the plan, and a second run has nothing left to do
    assert result.payload["reconciled"]["ok"] is True
    assert result.payload["errors"] == []
    assert len(sns.list_subscriptions_by_topic(TopicArn=tech)["Subscriptions"]) == 4
    again = api_client.lambda_.invoke("alert_dispatch", scheduled_event(api_client))
    assert again.payload["reconciled"] is None
