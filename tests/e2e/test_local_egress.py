"""What local mode fetches, end to end (decision 68): the demo site, and nothing else on loopback.

Local mode runs moto on a loopback port that serves every table — contacts included — at
``/moto-api/data.json``. Neither evidence capture nor a source a lead defines may reach it (or the
API, or the metadata address), and no web page the developer has open may read it either.
"""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.local_mode import LocalMode

EVIL = "http://evil.example"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_local_mode_reaches_its_demo_site_and_nothing_else_on_loopback(
    local_mode: LocalMode,
) -> None:
    # GIVEN local mode as a newcomer starts it, an incident, a member and a group lead
    info: dict[str, Any] = local_mode.start()
    api, moto, demo = info["api_url"], info["aws_endpoint_url"], info["demo_site_url"]
    member = _bearer(info["tokens"]["member"])
    lead = _bearer(info["group_tokens"]["tech"])
    report = {"title": "取证测试", "content": "某医院门诊排队过长引发投诉", "level": "IV"}
    reported = requests.post(
        f"{api}/reports", json=report, headers=_bearer(info["tokens"]["reporter"]), timeout=30
    )
    assert reported.status_code == 201, reported.text
    evidence = f"{api}/incidents/{reported.json()['incident_id']}/evidence"

    # THEN moto gives a page from another origin nothing to read
    page = requests.get(f"{moto}/moto-api/data.json", headers={"Origin": EVIL}, timeout=30)
    assert "Access-Control-Allow-Origin" not in page.headers

    # AND evidence cannot be taken from moto, the API itself or the metadata address
    for url in (
        f"{moto}/moto-api/data.json",
        f"{moto.replace('127.0.0.1', 'localhost')}/moto-api/data.json",
        f"{api}/whoami",
        "http://169.254.169.254/latest/meta-data/",
    ):
        refused = requests.post(evidence, json={"url": url}, headers=member, timeout=30)
        assert refused.status_code == 400, (url, refused.text)
        assert refused.json()["error"] == "blocked_address"
    # ... but from the demo site it can
    kept = requests.post(evidence, json={"url": f"{demo}/feed.xml"}, headers=member, timeout=30)
    assert kept.status_code == 201, kept.text
    listed = requests.get(evidence, headers=member, timeout=30).json()["evidence"]
    assert [e["url"] for e in listed] == [f"{demo}/feed.xml"]

    # AND a lead cannot aim a source marked local at moto or the metadata address
    for url in (f"{moto}/moto-api/data.json", "http://169.254.169.254/latest/meta-data/"):
        source = {"id": "sneaky", "kind": "rss", "local": True, "url": url}
        made = requests.post(f"{api}/sources", json=source, headers=lead, timeout=30)
        assert made.status_code == 400, (url, made.text)
    # ... while one at the demo site is crawled at once
    source = {"id": "mine", "kind": "rss", "local": True, "url": f"{demo}/feed.xml"}
    made = requests.post(f"{api}/sources", json=source, headers=lead, timeout=30)
    assert made.status_code == 201, made.text
    crawled = requests.post(f"{api}/sources/mine/crawl", headers=lead, timeout=60).json()
    assert crawled["outcome"] == "ok", crawled
