"""``GET /`` and ``GET /assets/{name}``: the dashboard's files, served by the app with no token.

Only whitelisted files, with their real type and headers that forbid inline and foreign scripts;
an unchanged file is a 304 for its ETag.
"""

import re

import pytest
from chalice.test import Client

from chalicelib.alerts import names as outbox_names
from chalicelib.alerts.models import Status
from chalicelib.dashboard.assets import ASSETS, STATIC
from chalicelib.incidents.models import STATUSES
from chalicelib.incidents.names import STATUS_NAMES, STEP_NAMES, WAIT_NAMES
from chalicelib.plan.models import DEADLINE_LABELS, LEVEL_COLOURS, LEVEL_NAMES
from chalicelib.posts.models import PLATFORM_LABELS
from chalicelib.workflow.logic import PUBLIC_DEADLINES


def test_the_page_is_served_without_a_token_and_with_its_protections(api_client: Client) -> None:
    answer = api_client.http.get("/")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    page = answer.body.decode("utf-8")
    assert '<script type="module" src="/assets/app.js">' in page
    # No inline script or style: everything the page runs is a whitelisted file.
    assert "<script>" not in page
    assert "<style" not in page
    assert " style=" not in page


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("echarts.min.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml; charset=utf-8"),
        ("echarts-LICENSE.txt", "text/plain; charset=utf-8"),
    ],
)
def test_each_file_has_its_type(api_client: Client, name: str, content_type: str) -> None:
    answer = api_client.http.get(f"/assets/{name}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == content_type
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name", ["index.html", "views.py", "..%2Fviews.py", "vendor%2Fecharts.min.js", "APP.JS"]
)
def test_anything_off_the_whitelist_is_404(api_client: Client, name: str) -> None:
    answer = api_client.http.get(f"/assets/{name}")
    assert answer.status_code == 404
    assert answer.json_body["error"] == "not_found"


def test_an_unchanged_file_is_304_for_its_etag(api_client: Client) -> None:
    first = api_client.http.get("/assets/app.js")
    again = api_client.http.get("/assets/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.body == b""
    other = api_client.http.get("/assets/app.js", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200


def test_every_whitelisted_file_exists() -> None:
    from chalicelib.dashboard.assets import load

    assert all(load(name) is not None for name in ASSETS)


def _js_object(source: str, name: str) -> dict[str, str]:
    """The string-to-string object literal ``const NAME = {…}`` of a dashboard module."""
    body = re.search(rf"const {name} = \{{(.*?)\}};", source, re.S)
    assert body, f"{name} not found"
    return dict(re.findall(r'(\w+): "([^"]*)"', body.group(1)))


def test_the_dashboard_names_every_platform_as_the_server_does() -> None:
    """GIVEN the platform labels of the posts model WHEN the dashboard shows a platform THEN it
    uses the same Chinese label for each, and knows every platform (no id left untranslated)."""
    source = (STATIC / "dom.js").read_text(encoding="utf-8")
    assert _js_object(source, "PLATFORMS") == {
        p.value: label for p, label in PLATFORM_LABELS.items()
    }


def test_the_dashboard_names_every_public_deadline_and_execution_status() -> None:
    """GIVEN the deadlines the workflow records and Step Functions' execution statuses WHEN the
    dashboard shows them THEN each has a Chinese name."""
    source = (STATIC / "dom.js").read_text(encoding="utf-8")
    deadlines = _js_object(source, "DEADLINE_TEXT")
    assert set(DEADLINE_LABELS) <= set(deadlines)
    assert set(PUBLIC_DEADLINES) <= set(deadlines)
    statuses = _js_object(source, "EXECUTION_TEXT")
    assert {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"} <= set(statuses)
    assert statuses["RUNNING"] == "运行中"


def test_the_dashboard_and_the_briefing_name_states_waits_and_levels_alike() -> None:
    """GIVEN the one table of incident states and waits the briefing prints, and the default level
    names WHEN the dashboard shows the same incident THEN it uses the same words, for every state
    and wait and level (no second vocabulary on the wall)."""
    source = (STATIC / "dom.js").read_text(encoding="utf-8")
    assert _js_object(source, "STATUS_TEXT") == STATUS_NAMES
    assert set(STATUS_NAMES) == set(STATUSES)
    assert _js_object(source, "WAIT_TEXT") == WAIT_NAMES
    assert _js_object(source, "STEP_TEXT") == STEP_NAMES
    levels = re.search(r"const LEVELS = \{(.*?)\n\};", source, re.S)
    assert levels, "LEVELS not found"
    found = re.findall(r'(\w+): \{ name: "([^"]*)", colour: "([^"]*)"', levels.group(1))
    assert {lv: name for lv, name, _ in found} == LEVEL_NAMES
    assert {lv: colour for lv, _, colour in found} == LEVEL_COLOURS


def test_the_dashboard_and_the_excel_outbox_name_messages_alike() -> None:
    """GIVEN the words the Excel export of the outbox uses WHEN the dashboard's outbox shows the
    same messages THEN it says the same, for every status a message can have."""
    source = (STATIC / "views.js").read_text(encoding="utf-8")
    assert _js_object(source, "MESSAGE_STATUS") == outbox_names.STATUS_NAMES
    assert set(outbox_names.STATUS_NAMES) == {s.value for s in Status}
    assert _js_object(source, "CHANNEL_TEXT") == outbox_names.CHANNEL_NAMES
    assert _js_object(source, "EVENT_TEXT") == outbox_names.EVENT_NAMES
