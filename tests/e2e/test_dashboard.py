"""End to end in a real browser: the HQ dashboard against local mode started by the test.

Debian's chromium (``tools/ensure_browser.sh`` installs it; ``make test`` runs that first) driven
headless by Playwright — never Playwright's own browser downloads. The HQ signs in through the
URL ``make run`` prints (the header saying that alerts get out); with the demo site's crawled
story, realistic reports of three levels and a drill on the board, the HQ opens one and activates
it, and the page speaks the plan's language (group and measure names, platforms, the workflow's
state in Chinese; the public 权威信息 deadline counting down on the board); the daily briefing and
the drill report download, or say in Chinese why not; the briefing e-mail's link
(``#/briefing/<date>``) asks a new tab to sign in, then shows that day's summary and risk line and
downloads the Word document. Then the owning group's lead signs in with the form, acknowledges and
completes the group's task, and watches the timeline record both. Text from the API stays text: a
report whose title and content carry ``<img src=x onerror=alert(1)>`` shows those characters and
creates no element.

Screenshots go to ``build/test-artefacts/``; with ``YUQING_README_SCREENSHOTS=1`` (``make
screenshots``) the board and the clean incident page are also written to ``docs/`` for the README,
taken before the hostile report exists.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from openpyxl import load_workbook
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect, sync_playwright

from chalicelib.briefings.models import DOCX_TYPE
from chalicelib.core.clock import CHINA
from tests.e2e.local_mode import PROJECT, LocalMode
from tests.plan_helpers import quick_plan
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e

# tools/clock_matrix.py runs the browser at another hour through a wrapper of this one.
CHROMIUM = Path(os.environ.get("YUQING_CHROMIUM", "/usr/bin/chromium"))
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
DOCS = PROJECT / "docs"
# Ids that must not reach the page where the plan has names for them.
IDS = ("publicity", "coordination", "office", "release", "guidance", "handling", "RUNNING")
# Realistic reports for the board the README shows (all fictitious).
EXAMPLES = [
    {
        "title": "滨江一院急诊科患者家属聚集维权，现场视频在微博传播",
        "content": "微博多条视频显示滨江一院急诊科门口有家属拉横幅，称患者抢救不及时，转发已过千。",
        "platform": "weibo",
        "subject": "hospital",
        "level": "II",
    },
    {
        "title": "网帖称滨江一院某科室收受红包，医德医风遭质疑",
        "content": "论坛网帖称滨江一院某科室医生收受患者红包，附聊天截图，评论区情绪激烈。",
        "platform": "forum",
        "subject": "integrity",
        "level": "III",
    },
    {
        "title": "患者投诉滨江一院门诊挂号排队时间过长",
        "content": "问答平台有患者投诉滨江一院门诊挂号排队两小时，希望医院改进预约流程。",
        "platform": "qa",
        "subject": "hospital",
        "level": "IV",
    },
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "chromium is missing: run tools/ensure_browser.sh (make test does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


# The plan's longest duration (10 days): 14.4 real minutes at the test's time scale, so no wait
# a person is to answer in the browser runs out, however slowly a loaded machine gets there.
ROOMY = 14_400


def _roomy_plan() -> dict[str, Any]:
    """Deadlines long enough at the test's time scale for a browser to act before them."""
    doc = quick_plan(ack_minutes={"I": ROOMY, "II": ROOMY, "III": ROOMY, "IV": ROOMY})
    for level in doc["levels"]:
        level["deadlines_minutes"]["triage"] = ROOMY
        # The public deadlines in the plan's order, the first (权威信息) the earliest wait of an
        # activated incident, so the board counts it down.
        public = {"authoritative_info": 12_000, "press_conference": ROOMY, "public_response": ROOMY}
        for kind, minutes in public.items():
            if level["deadlines_minutes"].get(kind):
                level["deadlines_minutes"][kind] = minutes
    for measure in doc["measures"]:
        if isinstance(measure.get("deadline_minutes"), dict):
            measure["deadline_minutes"] = {k: ROOMY for k in measure["deadline_minutes"]}
    return doc


def _shoot(page: Page, name: str) -> None:
    """A full-page screenshot into the artefacts, and into docs/ when the README's are renewed."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('notice').hidden = true")  # a passing toast
    page.screenshot(path=str(ARTEFACTS / name), full_page=True)
    if os.environ.get("YUQING_README_SCREENSHOTS") == "1":
        shutil.copyfile(ARTEFACTS / name, DOCS / name)


def _downloads(page: Page, button: Any, answer: requests.Response) -> None:
    """THEN the button saves the Word document under the name the server gives it."""
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["Content-Type"] == DOCX_TYPE
    with page.expect_download(timeout=WAIT_MS) as download:
        button.click()
    name = download.value.suggested_filename
    assert name.endswith(".docx")
    assert name in unquote(answer.headers["Content-Disposition"])
    expect(page.locator("#notice")).to_contain_text(f"已下载：{name}", timeout=WAIT_MS)


def _watch(page: Page) -> list[str]:
    """Console errors and any dialog (an injected alert() would open one)."""
    seen: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A document the API does not serve yet is a notice on the page; the browser also logs
        # the failed request, which is not a fault of the page.
        url = str(message.location.get("url", ""))
        if message.text.startswith("Failed to load resource") and (
            "/briefings/" in url or "/drills/" in url or "/report" in url
        ):
            return
        # Nor is a search's 400 for a bad rule: the page shows the fault (checked below).
        if "status of 400" in message.text and "/posts?" in url and "q=" in url:
            return
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
    # GIVEN local mode whose first plan has deadlines that leave a person time to click, once
    # the demo site's posts are in: crawled at start, they open one incident of their own (the
    # hospital's 收费 complaint of 维权的王女士, level III) under that plan, before the test acts
    info = local_mode.start(plan=_roomy_plan())
    local_mode.settle(info)
    api, tokens = info["api_url"], info["tokens"]
    hq = {"Authorization": f"Bearer {tokens['hq']}"}

    def crawled() -> list[tuple[str, str, str]]:
        board = requests.get(f"{api}/incidents?drill=false", headers=hq, timeout=30).json()
        return [(i["incident_id"], i["level"], i["status"]) for i in board["incidents"]]

    # (its workflow reports it to the HQ, then waits for the 研判)
    waiting = wait_for(lambda: [c for c in crawled() if c[2] == "awaiting_decision"])
    assert [(level, status) for _, level, status in crawled()] == [("III", "awaiting_decision")]
    demo_story = waiting[0][0]

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
    # ... and countdowns turn orange in the last 10 plan minutes at the deployment's time scale
    # (from /whoami), not in the last 10 real minutes, which would colour every countdown here
    scale = requests.get(f"{api}/whoami", headers=hq, timeout=10).json()["time_scale"]
    assert 0 < scale < 0.5
    soon = page.evaluate(
        """async (scale) => {
            const dom = await import("/assets/dom.js");
            const now = Date.now(), iso = (ms) => new Date(now + ms).toISOString();
            const tense = (left) =>
                dom.countdown(iso(left), iso(0)).classList.contains("soon");
            const planMinute = 60e3 * scale;
            const atScale = [tense(20 * planMinute), tense(5 * planMinute)];
            dom.setTimeScale(1);
            const inRealMinutes = tense(20 * planMinute);
            dom.setTimeScale(scale);
            return [...atScale, inRealMinutes];
        }""",
        scale,
    )
    assert soon == [False, True, True]
    expect(page.locator("#tabs a[data-tab=outbox]")).to_be_visible()
    # ... and the header says the alerts get out (from /health's details), and would say in
    # red how many are stuck and since when, without any SMS
    expect(page.locator("#health")).to_have_attribute("data-kind", "ok", timeout=WAIT_MS)
    expect(page.locator("#health")).to_have_text("告警通道正常")
    stuck = page.evaluate(
        """async () => (await import("/assets/app.js")).healthSummary({
            status: "degraded", components: [],
            alerts: {ok: false, pending: 3, oldest_age_seconds: 725},
        })"""
    )
    assert stuck == {
        "kind": "bad",
        "text": "告警积压：3 条未发出，最早一条已等 12 分钟（短信/邮件可能未送达，请电话通知）",
    }

    # WHEN reporters report three stories of different levels and the HQ starts a drill
    reporter = {"Authorization": f"Bearer {tokens['reporter']}"}
    examples = []
    for example in EXAMPLES:
        answer = requests.post(f"{api}/reports", headers=reporter, json=example, timeout=30)
        assert answer.status_code == 201, answer.text
        examples.append(answer.json()["incident_id"])
    drill = requests.post(
        f"{api}/drills", headers=hq, json={"scenario": "rumour-accident"}, timeout=30
    )
    assert drill.status_code == 201, drill.text
    drill_id = drill.json()["drill_id"]
    serious = examples[0]

    # AND the HQ opens the level II story and activates a level II response
    page.goto(f"{api}/#/incident/{serious}")
    expect(page.locator("#activate")).to_be_visible(timeout=WAIT_MS)
    page.select_option("#decision-level", "II")
    page.locator("#activate").click()
    expect(page.locator("tr[data-group=publicity]")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator('#timeline li[data-entry="measures#1"]')).to_be_visible(timeout=WAIT_MS)
    # THEN the page names groups, measures, platforms and the workflow's state in Chinese
    expect(page.locator("#incident-meta")).to_contain_text("流程运行中")
    expect(page.locator('#timeline li[data-entry="measures#1"]')).to_contain_text("宣传组")
    expect(page.locator('#timeline li[data-entry="measures#1"]')).to_contain_text("信息发布")
    expect(page.locator(".panel", has_text="研判依据")).to_contain_text("信息发布")
    public = page.locator('.waiting li[data-wait="public#authoritative_info"]')
    expect(public).to_contain_text("宣传组 发布权威信息")
    for selector in ("#incident-meta", "#timeline", ".waiting", ".panel:has-text('研判依据')"):
        text = page.locator(selector).first.inner_text()
        assert not [i for i in IDS if i in text], f"{selector} shows ids: {text}"
    task_groups = page.locator("tr[data-group] td:first-child").all_inner_texts()
    assert "宣传组" in task_groups
    assert not set(task_groups) & set(IDS)
    _shoot(page, "dashboard-incident.png")

    # AND on the board the activated story counts down its public deadline, the drill is apart
    page.goto(f"{api}/#/board")
    card = page.locator(f'[data-incident="{serious}"]')
    expect(card.locator(".next")).to_have_attribute(
        "data-kind", "public#authoritative_info", timeout=WAIT_MS
    )
    expect(card.locator(".next")).to_contain_text("宣传组 发布权威信息")
    for other in examples[1:]:
        expect(page.locator(f'[data-incident="{other}"]')).to_be_visible()
    expect(page.locator(".drills [data-incident]").first).to_be_visible(timeout=WAIT_MS)
    drill_row = page.locator(f'.drill-reports tr[data-drill="{drill_id}"]')
    expect(drill_row).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(f'[data-incident="{demo_story}"]')).to_contain_text("收费单")
    # AND the summary counts the three reports and the crawled story, and not the drill
    expect(page.locator("#board-summary")).to_contain_text("进行中的事件 4 起")
    _shoot(page, "dashboard.png")

    # WHEN the HQ asks for today's briefing and for the drill report as Word documents
    today = datetime.now(CHINA).date().isoformat()
    briefing = requests.get(f"{api}/briefings/{today}?format=docx", headers=hq, timeout=120)
    _downloads(page, page.locator("#briefing-today"), briefing)
    latest = requests.get(f"{api}/briefings/latest?format=docx", headers=hq, timeout=120)
    _downloads(page, page.locator("#briefing-latest"), latest)
    # AND last week's 周报 and last month's 月报, named in China time as the server names them
    spans = page.evaluate(
        """async () => {
            const app = await import("/assets/app.js");
            const at = (t) => [app.chinaLastWeek(new Date(t)), app.chinaLastMonth(new Date(t))];
            return [at("2026-12-06T16:30:00Z"), at("2027-01-04T01:00:00Z"), at(Date.now())];
        }"""
    )
    assert spans[:2] == [["2026-W49", "2026-11"], ["2026-W53", "2026-12"]]
    week, month = spans[2]
    weekly = requests.get(f"{api}/briefings/week/{week}?format=docx", headers=hq, timeout=120)
    _downloads(page, page.locator("#briefing-week"), weekly)
    monthly = requests.get(f"{api}/briefings/month/{month}?format=docx", headers=hq, timeout=120)
    _downloads(page, page.locator("#briefing-month"), monthly)
    drill_doc = requests.get(f"{api}/drills/{drill_id}?format=docx", headers=hq, timeout=120)
    _downloads(page, drill_row.locator('button[data-drill-report="docx"]'), drill_doc)
    # AND the board's 导出 Excel saves the incident list, one row per incident, in Chinese
    with page.expect_download(timeout=WAIT_MS) as download:
        page.locator('button[data-export="舆情事件台账"]').click()
    assert re.fullmatch(r"舆情事件台账-\d{8}-\d{4}\.xlsx", download.value.suggested_filename)
    ledger = load_workbook(io.BytesIO(download.value.path().read_bytes())).worksheets[0]
    heads = [c.value for c in ledger[1]]
    rows = {r[heads.index("事件编号")]: r for r in ledger.iter_rows(min_row=2, values_only=True)}
    assert set(examples) <= set(rows)
    assert rows[serious][heads.index("状态")] == "响应中"
    # AND whatever a gateway answered, the token is never put on screen
    assert tokens["hq"] not in page.locator("body").inner_text()

    # WHEN the HQ opens the briefing e-mail's link in a new tab (no session there yet)
    mailed = browser.new_page(viewport={"width": 1200, "height": 900}, locale="zh-CN")
    problems += _watch(mailed)
    mailed.goto(f"{api}/#/briefing/{today}")
    # THEN the page asks for the token first, then shows that day's briefing, not the board
    expect(mailed.locator("#signin")).to_be_visible(timeout=WAIT_MS)
    mailed.fill("#token", tokens["hq"])
    mailed.get_by_role("button", name="登录").click()
    expect(mailed.locator("#briefing-risk")).to_contain_text("风险结论", timeout=WAIT_MS)
    expect(mailed.locator("#briefing-summary")).to_contain_text("共监测信息")
    assert mailed.url.endswith(f"#/briefing/{today}")
    # AND its Word button downloads the document with the tab's token
    _downloads(mailed, mailed.locator("#briefing-docx"), briefing)
    # AND the 周报 e-mail's link (#/briefing/<YYYY-Www>) shows that week's briefing the same way
    mailed.goto(f"{api}/#/briefing/{week}")
    expect(mailed.get_by_role("heading", name=f"舆情周报 {week}")).to_be_visible(timeout=WAIT_MS)
    expect(mailed.locator("#briefing-risk")).to_contain_text("风险结论", timeout=WAIT_MS)
    _downloads(mailed, mailed.locator("#briefing-docx"), weekly)
    mailed.close()

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
    # AND its timeline lists the report with its reporter, the markup as text
    reported_entry = page.locator('#timeline li[data-entry^="report#"]')
    expect(reported_entry).to_contain_text("人工上报", timeout=WAIT_MS)
    expect(reported_entry).to_contain_text(INJECTION)
    expect(reported_entry).to_contain_text("上报人 ")
    activate = page.locator("#activate")
    expect(activate).to_be_visible(timeout=WAIT_MS)
    page.select_option("#decision-level", "II")
    activate.click()
    # THEN the timeline records the decision and tasks are assigned to the groups
    expect(page.locator('#timeline li[data-entry="decided"]')).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("tr[data-group=publicity]")).to_be_visible(timeout=WAIT_MS)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "dashboard-hq-hostile.png"), full_page=True)

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
    # THEN the timeline shows both, by the group's name, and the task is completed
    done = page.locator('#timeline li[data-entry^="task#publicity"][data-entry$="#complete"]')
    expect(done).to_be_visible(timeout=WAIT_MS)
    expect(done).to_contain_text("宣传组 完成任务")
    expect(page.locator("tr[data-group=publicity]")).to_contain_text("已完成")
    page.screenshot(path=str(ARTEFACTS / "dashboard-lead-incident.png"), full_page=True)

    # AND the live feed shows the reported post, its markup as text
    page.goto(f"{api}/#/feed")
    post = page.locator(".post", has_text="家属拉横幅维权")
    expect(post.first).to_be_visible(timeout=WAIT_MS)
    expect(post.first).to_contain_text(INJECTION)
    assert page.locator("main img").count() == 0
    # AND its search box points at a bad rule's fault, then finds the post by a good one
    page.fill("#search input[name=q]", "横幅 AND (维权")
    page.click("#search button[type=submit]")
    expect(page.locator("#search-error mark")).to_have_text("(", timeout=WAIT_MS)
    page.fill("#search input[name=q]", "横幅 AND 维权 NOT 演练")
    page.click("#search button[type=submit]")
    expect(page.locator("#search-note")).to_contain_text("已找到", timeout=WAIT_MS)
    found = page.locator(".post", has_text="家属拉横幅维权")
    expect(found.first).to_contain_text("命中检索词：横幅、维权", timeout=WAIT_MS)
    page.screenshot(path=str(ARTEFACTS / "dashboard-search.png"), full_page=True)

    # AND the HQ's board with charts: the trends tab draws its canvas
    page.goto(f"{api}/#token={tokens['hq']}")
    expect(page.locator("#me")).to_contain_text("local hq", timeout=WAIT_MS)
    page.goto(f"{api}/#/trends")
    expect(page.locator("#chart-volume canvas")).to_have_count(1, timeout=WAIT_MS)
    # ... and, drawn in the same load, the hot words: their chart or a line saying there are none
    hot_words = page.locator("#chart-words:visible canvas").count()
    assert hot_words + page.get_by_text("今日暂无明显上升的热词").count() == 1
    page.goto(f"{api}/#/board")
    expect(page.locator(f'[data-incident="{incident}"]')).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=str(ARTEFACTS / "dashboard-board-after.png"), full_page=True)

    # AND nothing ran that should not have: no dialog, no CSP violation, no script error
    assert problems == []
    assert local_mode.stop() == 0
