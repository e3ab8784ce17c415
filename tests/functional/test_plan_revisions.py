"""Plan revisions close the evaluation's loop (预案修订), through the app against moto.

GIVEN an evaluated incident, WHEN a lead proposes a revision of the plan and the HQ saves a
version that answers it THEN the version keeps its reason and the incidents it answers, and the
incident's evaluation report lists the proposal and the version that changed what, and when.
Proposals before the evaluation, bad sections and texts, unknown incidents are clear 4xx.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.auth.store import TokenStore
from chalicelib.briefings import evaluation
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from tests.auth_helpers import role_tokens
from tests.plan_helpers import example_plan

EVALUATED = "c-evaluated"
OPEN = "c-open"


@pytest.fixture
def tokens(clients: AwsClients, settings: Settings) -> dict[str, str]:
    return role_tokens(TokenStore(clients.table(settings.tables.tokens)))


@pytest.fixture
def incidents(clients: AwsClients, settings: Settings) -> IncidentStore:
    store = IncidentStore(clients.table(settings.tables.incidents))
    PlanService(PlanStore(clients.table(settings.tables.plan))).save(example_plan(), "test")
    base = {"level": "III", "title": "滨江一院医疗纠纷", "opened_at": "2026-03-01T04:00:00+00:00"}
    evaluation_built = {"built_at": "2026-03-01T09:00:00+00:00", "questions": ["研判为何超时？"]}
    store.create({"pk": EVALUATED, "status": "evaluating", "evaluation": evaluation_built, **base})
    store.create({"pk": OPEN, "status": "active", **base})
    return store


def call(client: Client, method: str, path: str, token: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    payload = "" if body is None else json.dumps(body, ensure_ascii=False)
    return client.http.request(method, path, headers=headers, body=payload.encode())


PROPOSAL = {"section": "levels", "text": "III 级研判时限由 60 分钟缩短为 30 分钟"}


def test_a_lead_proposes_a_revision_once_and_the_incident_shows_it(
    api_client: Client, tokens: dict[str, str], incidents: IncidentStore
) -> None:
    path = f"/incidents/{EVALUATED}/revisions"
    first = call(api_client, "POST", path, tokens["lead"], PROPOSAL)
    assert first.status_code == 201, first.body
    assert first.json_body["by"] == "test lead"
    assert first.json_body["section"] == "levels"
    # the same proposal again (a double click, a retried request) is the same record
    again = call(
        api_client, "POST", path, tokens["hq"], {**PROPOSAL, "text": f" {PROPOSAL['text']} "}
    )
    assert again.status_code == 200
    assert again.json_body == first.json_body
    shown = call(api_client, "GET", f"/incidents/{EVALUATED}", tokens["viewer"]).json_body
    assert [r["text"] for r in shown["revisions"]] == [PROPOSAL["text"]]


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, {"/section", "/text"}),
        ({"section": "timetable", "text": "x"}, {"/section"}),
        ({"section": "levels", "text": "  "}, {"/text"}),
        ({"section": "levels", "text": "长" * 2001}, {"/text"}),
        ({"section": ["levels"], "text": 5}, {"/section", "/text"}),
    ],
)
def test_a_bad_proposal_is_a_400_naming_each_field(
    api_client: Client,
    tokens: dict[str, str],
    incidents: IncidentStore,
    body: dict[str, Any],
    paths: set[str],
) -> None:
    answer = call(api_client, "POST", f"/incidents/{EVALUATED}/revisions", tokens["lead"], body)
    assert answer.status_code == 400
    assert {p["path"] for p in answer.json_body["problems"]} == paths


def test_no_proposal_before_the_evaluation_nor_for_an_unknown_incident(
    api_client: Client, tokens: dict[str, str], incidents: IncidentStore
) -> None:
    early = call(api_client, "POST", f"/incidents/{OPEN}/revisions", tokens["lead"], PROPOSAL)
    assert early.status_code == 409
    unknown = call(api_client, "POST", "/incidents/c-nosuch/revisions", tokens["lead"], PROPOSAL)
    assert unknown.status_code == 404
    member = call(
        api_client, "POST", f"/incidents/{EVALUATED}/revisions", tokens["member"], PROPOSAL
    )
    assert member.status_code == 403
    assert incidents.get(OPEN, "REV#") is None


def test_repeated_answers_and_padded_text_count_once_and_as_trimmed(
    api_client: Client, tokens: dict[str, str], incidents: IncidentStore
) -> None:
    padded = {"section": "measures", "text": "长" * 2000 + "  "}
    made = call(api_client, "POST", f"/incidents/{EVALUATED}/revisions", tokens["lead"], padded)
    assert made.status_code == 201, made.body
    assert made.json_body["text"] == "长" * 2000
    revision = {"plan": example_plan(), "reason": "  理由  ", "answers": [EVALUATED] * 21}
    saved = call(api_client, "PUT", "/plan", tokens["hq"], revision)
    assert saved.status_code == 200, saved.body
    assert (saved.json_body["reason"], saved.json_body["answers"]) == ("理由", [EVALUATED])


def test_a_plan_version_answers_the_incident_and_its_report_says_what_changed(
    api_client: Client, tokens: dict[str, str], incidents: IncidentStore
) -> None:
    call(api_client, "POST", f"/incidents/{EVALUATED}/revisions", tokens["lead"], PROPOSAL)
    doc = example_plan()
    doc["levels"][2]["deadlines_minutes"]["triage"] = 30
    revision = {"plan": doc, "reason": "落实评估建议：缩短 III 级研判时限", "answers": [EVALUATED]}

    saved = call(api_client, "PUT", "/plan", tokens["hq"], revision)

    assert saved.status_code == 200, saved.body
    assert saved.json_body["version"] == 2
    assert saved.json_body["reason"] == revision["reason"]
    assert saved.json_body["answers"] == [EVALUATED]
    listed = call(api_client, "GET", "/plan/versions", tokens["viewer"]).json_body["versions"]
    assert [(v["version"], v["answers"]) for v in listed] == [(2, [EVALUATED]), (1, [])]
    report = call(
        api_client, "GET", f"/incidents/{EVALUATED}/report?format=json", tokens["viewer"]
    ).json_body
    assert [p["text"] for p in report["revision_proposals"]] == [PROPOSAL["text"]]
    [answered] = report["plan_revisions"]
    assert answered["version"] == 2
    assert answered["reason"] == revision["reason"]
    assert "levels" in answered["changes"]
    [lessons] = [s for s in evaluation.document(report).sections if s.heading.startswith("七、")]
    assert [t.caption for t in lessons.tables] == [
        "评估提出的预案修订建议",
        "此后据此作出的预案修订",
    ]
    assert lessons.tables[1].rows[0][0] == "第 2 版"


@pytest.mark.parametrize(
    ("revision", "paths"),
    [
        ({"answers": ["c-nosuch"]}, {"/answers/0"}),
        ({"answers": ["bad id!", EVALUATED]}, {"/answers/0"}),
        (
            {"answers": [f"c-{i}" for i in range(21)]},
            {"/answers", *(f"/answers/{i}" for i in range(20))},
        ),
        ({"answers": [EVALUATED], "answer": [EVALUATED]}, {"/answer"}),
        ({"plan": "the plan"}, {"/plan"}),
        ({"answers": "c-evaluated"}, {"/answers"}),
        ({"reason": 7}, {"/reason"}),
        ({"reason": "理" * 501}, {"/reason"}),
    ],
)
def test_a_bad_revision_is_a_400_and_saves_nothing(
    api_client: Client,
    tokens: dict[str, str],
    incidents: IncidentStore,
    revision: dict[str, Any],
    paths: set[str],
) -> None:
    answer = call(api_client, "PUT", "/plan", tokens["hq"], {"plan": example_plan(), **revision})
    assert answer.status_code == 400, answer.body
    assert {p["path"] for p in answer.json_body["problems"]} == paths
    listed = call(api_client, "GET", "/plan/versions", tokens["hq"]).json_body["versions"]
    assert [v["version"] for v in listed] == [1]
