"""Alerts in local mode: POST /alerts → published and in the outbox; PUT /plan; validation.

Run: ``.venv/bin/python -m bench.alert_latency [--alerts 100]``. Starts local mode as a subprocess
(schedules off) with a throw-away state directory, so the example plan is version 1, then prints
figures measured in this run (DESIGN.md §5 target: manual alert → SMS/e-mail in the outbox ≤ 1 s
p95 in local mode). Nothing here is asserted: tests never assert timings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import requests

from bench.local_startup import PROJECT, local_mode, percentile
from chalicelib.plan.validation import validate_plan

EXAMPLE = PROJECT / "examples" / "plan.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--alerts", type=int, default=100)
    args = parser.parse_args()
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))

    validation = []
    for _ in range(200):
        t0 = time.perf_counter()
        validate_plan(doc)
        validation.append(time.perf_counter() - t0)

    with local_mode() as (info, _, _):
        api = info["api_url"]
        hq = {"Authorization": f"Bearer {info['tokens']['hq']}"}
        saves = []
        for i in range(5):
            doc["organisation"]["note"] = f"bench save {i}"
            t0 = time.perf_counter()
            requests.put(f"{api}/plan", headers=hq, json=doc, timeout=60).raise_for_status()
            saves.append(time.perf_counter() - t0)
        latencies = []
        published = 0
        for i in range(args.alerts):
            body = {
                "incident": f"bench-{i}",
                "event": "opened",
                "level": "II",
                "template_id": "incident_alert",
                "variables": {
                    "level": "II",
                    "subject": "压测",
                    "summary": "延迟测量",
                    "deadline": "30分钟",
                },
            }
            t0 = time.perf_counter()
            sent = requests.post(f"{api}/alerts", headers=hq, json=body, timeout=30)
            sent.raise_for_status()
            latencies.append(time.perf_counter() - t0)
            outbox = requests.get(
                f"{api}/outbox", params={"incident": f"bench-{i}"}, headers=hq, timeout=30
            ).json()
            published += sum(1 for m in outbox["messages"] if m.get("sns_message_id"))
        groups = len(sent.json()["message_ids"])

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"validate_plan(example): p50 {percentile(validation, 0.5) * 1000:.2f} ms, "
        f"p95 {percentile(validation, 0.95) * 1000:.2f} ms"
    )
    print(
        f"PUT /plan (validate + version + reconcile {len(doc['groups'])} topics): "
        f"p50 {percentile(saves, 0.5) * 1000:.0f} ms over {len(saves)}"
    )
    print(
        f"POST /alerts, level II ({groups} groups: outbox write + publish each): "
        f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms over {len(latencies)} (target ≤ 1 s)"
    )
    print(f"messages published at once (no retry needed): {published} of {groups * args.alerts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
