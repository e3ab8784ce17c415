"""End to end in a real browser: the HQ dashboard against local mode started by the test.

Debian's chromium (``tools/ensure_browser.sh`` installs it; ``make test`` runs that first) driven
headless by Playwright — never Playwright's own browser downloads. The HQ signs in through the
URL ``make run`` prints, sees a reported incident appear on the board, opens it and activates
it; the owning group's lead signs in with the form, acknowledges and completes the group's task,
and watches the timeline record both. Text from the API stays text: a report whose title and
content carry ``<img src=x onerror=alert(1)>`` shows those characters and creates no element.
Screenshots go to ``build/test-artefacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect, sync_playwright

from tests.e2e.local_mode import PROJECT, LocalMode
from tests.plan_helpers import quick_plan

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTEFACTS = PROJECT / "build" / "test-artefacts"
INJECTION = "<img src=x onerror=alert(1)>"
WAIT_MS = 30_000


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "chromium is missing: run tools/ensure_browser.sh (make test does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _roomy_plan() -> dict[str, Any]:
    """Deadlines long enough at the test's time scale for a browser to act before them."""
    doc = quick_plan(ack_minutes={"I": 1500, "II": 1500, "III": 1500, "IV": 1500})
    for level in doc["levels"]:
        level["deadlines_minutes"]["triage"] = 1500
    for measure in doc["measures"]:
        if isinstance(measure.get("deadline_minutes"), dict):
            measure["deadline_minutes"] = {k: 1500 for k in measure["deadline_minutes"]}
    return doc


def _watch(page: Page) -> list[str]:
    """Console errors and any dialog (an injected alert() would open one)."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.append(f"console: {message.text}")

    def on_dialog(dialog: Dialog) -> None:
        seen.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("console", on_console)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda err: seen.append(f"pageerror: {err}"))
    return seen


def test_hq_and_a_group_lead_work_an_incident_in_the_dashboard(
    local_mode: LocalMode, browser: Browser
) -> None:
    # GIVEN local mode with a plan whose deadlines leave a person time to click
    info = local_mode.start()
    api, tokens = info["api_url"], info["tokens"]
    hq = {"Authorization": f"Bearer {tokens['hq']}"}
    saved = requests.put(f"{api}/plan", headers=hq, json=_roomy_plan(), timeout=30)
    assert saved.status_code == 200, saved.text

    # AND the page is served with its protections, and nothing outside the whitelist
    page_response = requests.get(f"{api}/", timeout=10)
    assert page_response.status_code == 200
    assert "script-src 'self'" in page_response.headers["Content-Security-Policy"]
    assert page_response.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(f"{api}/assets/..%2Fviews.py", timeout=10).status_code == 404
    assert (
        requests.get(f"{api}/assets/app.js", timeout=10)
        .headers["Content-Type"]
        .startswith("text/javascript")
    )

    # WHEN the HQ opens the URL local mode prints
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    problems = _watch(page)
    assert info["dashboard_url"] == f"{api}/#token={tokens['hq']}"
    page.goto(info["dashboard_url"])
    # THEN the HQ is signed in, and the token has left the address bar for sessionStorage
    expect(page.locator("#me")).to_contain_text("local hq", timeout=WAIT_MS)
    assert "token" not in page.url
    assert page.evaluate("sessionStorage.getItem('yuqing.token')") == tokens["hq"]
    expect(page.locator("#tabs a[data-tab=outbox]")).to_be_visible()

    # WHEN a reporter reports an incident whose text tries to inject markup
    reported = requests.post(
        f"{api}/reports",
        headers={"Authorization": f"Bearer {tokens['reporter']}"},
        json={
            "title": f"滨江一院急诊科家属维权 {INJECTION}",
            "content": f"网传滨江一院急诊科医疗事故，家属拉横幅维权。{INJECTION}",
            "level": "II",
        },
        timeout=30,
    )
    assert reported.status_code == 201, reported.text
    incident = reported.json()["incident_id"]

    # THEN it appears on the board (a reload keeps the sign-in), its title shown as text
    page.reload()
    card = page.locator(f'[data-incident="{incident}"]')
    expect(card).to_be_visible(timeout=WAIT_MS)
    expect(card).to_contain_text(INJECTION)
    expect(card).to_contain_text("橙 II级")
    assert page.locator("main img").count() == 0

    # WHEN the HQ opens it and activates a level II response
    card.click()
    expect(page.locator("#incident-title")).to_contain_text(INJECTION)
    activate = page.locator("#activate")
    expect(activate).to_be_visible(timeout=WAIT_MS)
    page.select_option("#decision-level", "II")
    activate.click()
    # THEN the timeline records the decision and tasks are assigned to the groups
    expect(page.locator('#timeline li[data-entry="decided"]')).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("tr[data-group=publicity]")).to_be_visible(timeout=WAIT_MS)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "dashboard-hq-incident.png"), full_page=True)

    # WHEN the publicity group's lead signs in with the form
    page.get_by_role("button", name="退出").click()
    page.fill("#token", info["group_tokens"]["publicity"])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#me")).to_contain_text("local publicity lead", timeout=WAIT_MS)
    # THEN the lead has no HQ tab and, on the incident, no decision and no other group's buttons
    expect(page.locator("#tabs a[data-tab=outbox]")).to_be_hidden()
    page.goto(f"{api}/#/incident/{incident}")
    ack = page.locator("tr[data-group=publicity] button[data-action=ack]")
    expect(ack).to_be_visible(timeout=WAIT_MS)
    assert page.locator("#activate").count() == 0
    assert page.locator("tr[data-group=office] button").count() == 0

    # WHEN the lead acknowledges and then completes the group's task
    ack.click()
    expect(
        page.locator('#timeline li[data-entry^="task#publicity"][data-entry$="#ack"]')
    ).to_be_visible(timeout=WAIT_MS)
    complete = page.locator("tr[data-group=publicity] button[data-action=complete]")
    expect(complete).to_be_visible(timeout=WAIT_MS)
    complete.click()
    # THEN the timeline shows both, and the task is completed
    expect(
        page.locator('#timeline li[data-entry^="task#publicity"][data-entry$="#complete"]')
    ).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("tr[data-group=publicity]")).to_contain_text("已完成")
    page.screenshot(path=str(ARTEFACTS / "dashboard-lead-incident.png"), full_page=True)

    # AND the live feed shows the reported post, its markup as text
    page.goto(f"{api}/#/feed")
    post = page.locator(".post", has_text="家属拉横幅维权")
    expect(post.first).to_be_visible(timeout=WAIT_MS)
    expect(post.first).to_contain_text(INJECTION)
    assert page.locator("main img").count() == 0

    # AND the HQ's board with charts: the trends tab draws its canvas
    page.goto(f"{api}/#token={tokens['hq']}")
    expect(page.locator("#me")).to_contain_text("local hq", timeout=WAIT_MS)
    page.goto(f"{api}/#/trends")
    expect(page.locator("#chart-volume canvas")).to_have_count(1, timeout=WAIT_MS)
    page.goto(f"{api}/#/board")
    expect(page.locator(f'[data-incident="{incident}"]')).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=str(ARTEFACTS / "dashboard-board.png"), full_page=True)

    # AND nothing ran that should not have: no dialog, no CSP violation, no script error
    assert problems == []
    assert local_mode.stop() == 0
