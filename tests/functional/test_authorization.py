"""The authorization matrix: every route × method of the app, called as each of seven principals,
answers as ``docs/authorization.md`` says — the document is the table this test reads, so the two
cannot disagree, and a route without a row fails. Then the object-level rules (group A acting on
group B's task, alert, statement) and the contacts rule over every answer, documents included.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice.test import Client

from app import app
from chalicelib.alerts.models import AlertRequest
from chalicelib.alerts.wiring import alert_service
from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import Settings
from chalicelib.drills import views as drill_views
from chalicelib.incidents.store import IncidentStore
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from tests.plan_helpers import contacts, example_plan

DOCS = Path(__file__).resolve().parents[2] / "docs"
PRINCIPALS = ("none", "reporter", "viewer", "member A", "member B", "lead A", "hq")
MINIMUMS = ("public", *(role.value for role in Role))
SCOPES = ("—", "group", "publicity", "own")
GROUP_A, GROUP_B = "publicity", "office"  # A: the plan's publicity group, owns task and alert


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    minimum: str
    scope: str
    expected: dict[str, str]  # principal → "401" | "403" | "ok"


def matrix() -> dict[tuple[str, str], Row]:
    """The table of docs/authorization.md whose header starts with ``| route |``."""
    lines = (DOCS / "authorization.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| route |"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    assert header[:3] == ["route", "minimum", "scope"]
    assert tuple(header[3 : 3 + len(PRINCIPALS)]) == PRINCIPALS
    rows: dict[tuple[str, str], Row] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        method, path = cells[0].strip("`").split(" ", 1)
        assert (method, path) not in rows, f"two rows for {method} {path}"
        rows[(method, path)] = Row(
            method,
            path,
            cells[1],
            cells[2],
            dict(zip(PRINCIPALS, cells[3 : 3 + len(PRINCIPALS)], strict=True)),
        )
    return rows


def follows(minimum: str, scope: str, principal: str) -> str:
    """What ``principal`` must get from a route with this minimum role and scope."""
    if minimum == "public":
        return "ok"
    if principal == "none":
        return "401"
    role = Role(principal.split(" ")[0])
    if not role.at_least(Role(minimum)):
        return "403"
    if scope in ("group", "publicity") and principal.endswith(" B"):
        return "403"
    return "ok"


def test_every_route_has_one_row_and_every_row_follows_from_its_role_and_scope() -> None:
    # GIVEN the app's routes and the table
    rows = matrix()
    routes = {(method, path) for path, entries in app.routes.items() for method in entries}

    # THEN every route has a row and every row a route
    assert sorted(routes - set(rows)) == [], "routes without a row in docs/authorization.md"
    assert sorted(set(rows) - routes) == [], "rows for routes the app does not have"

    # AND each row's answers follow from its minimum role and scope (no typo can hide a hole)
    openapi = yaml.safe_load((DOCS / "openapi.yaml").read_text(encoding="utf-8"))["paths"]
    for row in rows.values():
        where = f"{row.method} {row.path}"
        assert row.minimum in MINIMUMS, where
        assert row.scope in SCOPES, where
        assert row.expected == {p: follows(row.minimum, row.scope, p) for p in PRINCIPALS}, where
        # and the OpenAPI document lists the refusals this route can give
        documented = set(openapi[row.path][row.method.lower()]["responses"])
        for status in {"401", "403"} & set(row.expected.values()):
            assert status in documented, f"{where}: {status} not in docs/openapi.yaml"


# -- calling every route ------------------------------------------------------------------------
@dataclass
class World:
    client: Client
    tokens: dict[str, str | None]
    incident: str
    params: dict[str, str]
    alerts: dict[str, str]  # group → the root message id of its alert
    store: IncidentStore

    def call(self, method: str, path: str, who: str, body: Any = None, **headers: str) -> Any:
        sent = {"Content-Type": "application/json", **headers}
        token = self.tokens[who]
        if token:
            sent["Authorization"] = f"Bearer {token}"
        payload = "" if body is None else json.dumps(body, ensure_ascii=False)
        return self.client.http.request(method, path, headers=sent, body=payload.encode())


@pytest.fixture
def world(api_client: Client, clients: AwsClients, settings: Settings) -> World:
    """GIVEN the example plan, a token per principal, an incident with a task for each of groups A
    and B, a draft statement and an unacknowledged alert to each group."""
    PlanService(PlanStore(clients.table(settings.tables.plan))).save(example_plan(), "test")
    issue = TokenStore(clients.table(settings.tables.tokens)).issue
    tokens: dict[str, str | None] = {
        "none": None,
        "reporter": issue("上报员", Role.REPORTER),
        "viewer": issue("只读", Role.VIEWER),
        "member A": issue("宣传组成员", Role.MEMBER, GROUP_A),
        "member B": issue("办公室成员", Role.MEMBER, GROUP_B),
        "lead A": issue("宣传组组长", Role.LEAD, GROUP_A),
        "hq": issue("指挥部", Role.HQ),
    }
    world = World(
        api_client, tokens, "", {}, {}, IncidentStore(clients.table(settings.tables.incidents))
    )
    reported = world.call(
        "POST",
        "/reports",
        "reporter",
        {"title": "滨江一院急诊科患者家属维权", "content": "网传急诊科医疗事故，家属拉横幅维权。"},
    )
    assert reported.status_code == 201, reported.body
    world.incident = str(reported.json_body["incident_id"])
    for group in (GROUP_A, GROUP_B):
        world.store.put_once(
            world.incident,
            f"TASK#{group}-1",
            {"task_id": f"{group}-1", "group": group, "status": "assigned"},
        )
    drafted = world.call(
        "POST", f"/incidents/{world.incident}/statements", "member A", {"text": "情况说明"}
    )
    assert drafted.status_code == 200, drafted.body
    ids = alert_service().send(
        AlertRequest(
            incident_key=world.incident,
            event="opened",
            level="III",
            template_id="incident_alert",
            variables={
                "level": "III",
                "subject": "维权",
                "summary": "家属维权",
                "deadline": "1小时",
            },
            groups=(GROUP_A, GROUP_B),
        )
    )
    world.alerts = dict(zip((GROUP_A, GROUP_B), ids, strict=True))
    world.params = {
        "incident_id": world.incident,
        "incident_key": world.incident,
        "task_id": f"{GROUP_A}-1",
        "sid": str(drafted.json_body["statement_id"]),
        "message_id": world.alerts[GROUP_A],
        "number": "1",
        "name": "app.js",
        "source_id": "no-such-source",
        "drill_id": "d-nosuch",
        "date": "2020-01-01",
        "week": "2020-W01",
        "month": "2020-01",
    }
    return world


def _shown(response: Any) -> str:
    """An answer's text: JSON or HTML as is, a Word document's XML."""
    body = response.body if isinstance(response.body, bytes) else str(response.body).encode()
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as docx:
            return "".join(
                docx.read(n).decode("utf-8") for n in docx.namelist() if n.endswith(".xml")
            )
    return body.decode("utf-8", errors="replace")


EVERYONE = contacts(example_plan())


def _may_see(method: str, path: str, who: str) -> set[str]:
    """The whole contacts ``who`` may read in the answer of this route."""
    if (method, path) not in {("GET", "/plan"), ("GET", "/plan/versions/{number}")}:
        return set()
    if who == "hq":
        return EVERYONE
    return contacts(example_plan(), GROUP_A) if who == "lead A" else set()


def test_every_route_answers_every_principal_as_the_matrix_says(world: World) -> None:
    # WHEN every route is called with a minimal request as each principal
    got: dict[str, dict[str, str]] = {}
    leaks: list[str] = []
    for method, path in matrix():
        url = re.sub(r"\{(\w+)\}", lambda m: world.params[m.group(1)], path)
        body: dict[str, Any] | None = None if method in ("GET", "DELETE") else {}
        for who in PRINCIPALS:
            response = world.call(method, url, who, body)
            status = response.status_code
            got.setdefault(f"{method} {path}", {})[who] = (
                str(status) if status in (401, 403) else "ok"
            )
            assert status < 500, f"{method} {url} as {who}: {status} {response.body!r}"
            shown = {c for c in EVERYONE if c in _shown(response)}
            allowed = _may_see(method, path, who)
            if not shown <= allowed or (status == 200 and shown != allowed):
                leaks.append(f"{method} {path} as {who}: {sorted(shown)}, may see {allowed}")

    # THEN each answer is the table's, and no answer shows a contact its reader may not see
    expected = {f"{r.method} {r.path}": r.expected for r in matrix().values()}
    wrong = {
        route: {p: f"{got[route][p]} (table: {cells[p]})" for p in PRINCIPALS}
        for route, cells in expected.items()
        if got[route] != cells
    }
    assert (wrong, leaks) == ({}, [])


def test_a_group_cannot_act_on_another_groups_task_alert_or_statement(world: World) -> None:
    incident = world.incident
    valid = {"action": "ack", "note": "收到"}
    # A task of group B: group A's member and lead get 403 — and so does B on A's task
    for who in ("member A", "lead A"):
        path = f"/incidents/{incident}/tasks/{GROUP_B}-1"
        assert world.call("POST", path, who, valid).status_code == 403, who
    path = f"/incidents/{incident}/tasks/{GROUP_A}-1"
    assert world.call("POST", path, "member B", valid).status_code == 403
    for group in (GROUP_A, GROUP_B):
        assert world.store.get(incident, f"TASK#{group}-1")["status"] == "assigned"  # type: ignore[index]

    # An alert of group B: 403 for group A, and it is still unacknowledged
    for who in ("member A", "lead A"):
        response = world.call("POST", f"/alerts/{world.alerts[GROUP_B]}/ack", who)
        assert response.status_code == 403, who
    # the incident-wide ack of group A acknowledges A's alert only
    acked = world.call("POST", f"/alerts/incident/{incident}/ack", "member A")
    assert acked.json_body == {"acknowledged": [world.alerts[GROUP_A]]}
    outbox = world.call("GET", f"/outbox?incident={incident}", "hq").json_body["messages"]
    state = {m["group"]: m.get("acked_by") for m in outbox}
    assert state == {GROUP_A: "宣传组成员", GROUP_B: None}
    # … and the HQ acknowledges any group's
    hq = world.call("POST", f"/alerts/{world.alerts[GROUP_B]}/ack", "hq")
    assert hq.json_body == {"acknowledged": [world.alerts[GROUP_B]]}

    # Statements belong to the publicity group (A): group B neither drafts, edits nor releases
    base = f"/incidents/{incident}/statements"
    sid = world.params["sid"]
    for body in ({"text": "办公室的口径"}, {"statement_id": sid, "text": "办公室改写"}):
        assert world.call("POST", base, "member B", body).status_code == 403
    assert world.call("POST", f"{base}/{sid}/approve", "hq").status_code == 200
    released = world.call("POST", f"{base}/{sid}/release", "member B", {"channel": "官微"})
    assert released.status_code == 403
    shown = world.call("GET", f"/incidents/{incident}", "viewer").json_body["statements"]
    assert [(s["statement_id"], s["status"], s["text"]) for s in shown] == [
        (sid, "approved", "情况说明")
    ]


@pytest.mark.parametrize("fmt", ["json", "html", "docx"])
def test_reports_and_briefings_show_no_contact_to_anyone(
    world: World, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the incident's evaluation report, a drill's report and the briefing of the last 24
    # hours, as each principal that may read them would get them (the HQ included: documents
    # are forwarded)
    monkeypatch.setattr(drill_views, "PACE_IN_PROCESS", False)
    scenario = {
        "name": "权限演练",
        "description": "一份上报",
        "events": [{"at_minutes": 0, "kind": "report", "title": "演练上报", "content": "演练内容"}],
    }
    drill = world.call("POST", "/drills", "hq", {"scenario": scenario})
    assert drill.status_code == 201, drill.body
    drill_report = f"/drills/{drill.json_body['drill_id']}"
    for path in (f"/incidents/{world.incident}/report", drill_report, "/briefings/latest"):
        for who in ("viewer", "member B", "hq"):
            response = world.call("GET", f"{path}?format={fmt}", who, Accept="*/*")
            assert response.status_code == 200, (path, who, response.body)
            # THEN no phone number or e-mail address of the plan is in it
            assert [c for c in EVERYONE if c in _shown(response)] == [], (path, who)
