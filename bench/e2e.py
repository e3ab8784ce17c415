"""Alert latency and workflow cost in local mode: manual report → the HQ's alert in the outbox.

Run: ``.venv/bin/python -m bench.e2e [--reports 100] [--walks 3]``. Starts local mode as a
subprocess (offline, schedules off, a throw-away state directory), then:

1. posts ``--reports`` reports about different stories, one after another, and for each measures
   the time from sending ``POST /reports`` until the HQ's "reported" alert is in the outbox
   (read from DynamoDB, as the alert service writes it before publishing); prints p50/p95
   (target p95 ≤ 1 s, DESIGN.md §5);
2. walks ``--walks`` incidents through every step to closed through the API (the HQ and the
   groups acting) and counts Step Functions state transitions per incident, the billing unit of
   Standard workflows.

It prints the CPU reference of ``bench.cpu`` measured in the same run, and the latencies scaled
to the README's machine by it, so figures from a slower or busier machine compare. Nothing is
asserted: tests never assert timings.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from typing import Any

import requests

from bench.cpu import reference
from bench.local_startup import local_mode, percentile
from tests.plan_helpers import quick_plan
from tests.waiting import wait_for

PRICE_PER_1000_TRANSITIONS = 0.025  # USD, Step Functions Standard, us-east-1


def _reported_alert(ddb: Any, incident: str) -> bool:
    items = ddb.query(
        TableName="yuqing-local-outbox",
        IndexName="by_incident",
        KeyConditionExpression="incident_id = :i",
        ExpressionAttributeValues={":i": {"S": incident}},
    )["Items"]
    return any(i["event"]["S"] == "reported" and i["group"]["S"] == "hq" for i in items)


# Words to compose reports about different stories: each report must be its own story (its own
# cluster and incident), or the benchmark would measure one incident's alert a hundred times.
_WORDS = [
    "门诊",
    "急诊",
    "住院部",
    "药房",
    "停车场",
    "食堂",
    "检验科",
    "放射科",
    "儿科",
    "产科",
    "骨科",
    "眼科",
    "口腔科",
    "体检中心",
    "收费处",
    "挂号",
    "排队",
    "插队",
    "收费",
    "退费",
    "态度",
    "延误",
    "误诊",
    "漏诊",
    "丢失",
    "泄露",
    "隐私",
    "噪音",
    "漏水",
    "停电",
    "电梯",
    "故障",
    "家属",
    "患者",
    "护士",
    "医生",
    "保安",
    "护工",
    "志愿者",
    "黄牛",
    "广告",
    "短信",
    "电话",
    "网站",
    "小程序",
    "公众号",
    "视频",
    "直播",
]


def story(rng: random.Random, i: int) -> dict[str, str]:
    words = rng.sample(_WORDS, 12)
    return {
        "title": f"滨江一院{words[0]}{words[1]}投诉（{i}）",
        "content": "，".join(
            f"{a}{b}{c}" for a, b, c in zip(words[::3], words[1::3], words[2::3], strict=True)
        )
        + "，要求曝光。",
        "level": "III",
    }


def _post(info: dict[str, Any], token: str, path: str, body: dict[str, Any]) -> Any:
    response = requests.post(
        f"{info['api_url']}{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=body,
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def _get(info: dict[str, Any], path: str) -> Any:
    headers = {"Authorization": f"Bearer {info['tokens']['hq']}"}
    return requests.get(f"{info['api_url']}{path}", headers=headers, timeout=30).json()


def _until(what: Any, timeout: float = 120) -> Any:
    # A fine poll: the alert latency measured is only as precise as this.
    return wait_for(what, timeout, every=0.05)


def _waiting(info: dict[str, Any], incident: str, kind: str) -> bool:
    shown = _get(info, f"/incidents/{incident}")
    return any(w["kind"] == kind for w in shown.get("waiting_for", []))


def walk(info: dict[str, Any], incident: str) -> None:
    hq = info["tokens"]["hq"]
    _until(lambda: _waiting(info, incident, "decision"))
    _post(info, hq, f"/incidents/{incident}/decision", {"action": "activate", "level": "II"})
    _until(lambda: _get(info, f"/incidents/{incident}")["tasks"])
    for task in _get(info, f"/incidents/{incident}")["tasks"]:
        lead = info["group_tokens"][task["group"]]
        for kind, action in (("ack", "ack"), ("done", "complete")):
            _until(lambda k=kind, t=task["task_id"]: _waiting(info, incident, f"{k}#{t}"))
            _post(info, lead, f"/incidents/{incident}/tasks/{task['task_id']}", {"action": action})
    _until(lambda: _waiting(info, incident, "close"))
    _post(info, hq, f"/incidents/{incident}/close", {})
    _until(lambda: _get(info, f"/incidents/{incident}")["execution"]["status"] == "SUCCEEDED")


def transitions(sfn: Any, execution_arn: str) -> int:
    count, token = 0, None
    while True:
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        count += sum(1 for e in page["events"] if e["type"].endswith("StateEntered"))
        token = page.get("nextToken")
        if not token:
            return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--walks", type=int, default=3)
    args = parser.parse_args()
    # Latency at the real time scale: the incidents reported before wait for their 研判 as they
    # would in production, instead of escalating hours of policy per second in the background.
    with local_mode("1") as (info, ddb, _):
        rng = random.Random(7)
        latencies: list[float] = []
        incidents: list[str] = []
        for i in range(args.reports):
            started = time.perf_counter()
            answer = _post(info, info["tokens"]["reporter"], "/reports", story(rng, i))
            _until(lambda a=answer: _reported_alert(ddb, a["incident_id"]), timeout=30)
            latencies.append(time.perf_counter() - started)
            incidents.append(answer["incident_id"])
            if (i + 1) % 20 == 0:
                print(f"  {i + 1} reports", file=sys.stderr, flush=True)
        distinct = len(set(incidents))
    # Walks at 1/1000, so the plan's hours pass in seconds.
    with local_mode("0.001") as (info, ddb, sfn):
        rng = random.Random(11)
        hq = {"Authorization": f"Bearer {info['tokens']['hq']}"}
        requests.put(f"{info['api_url']}/plan", headers=hq, json=quick_plan(), timeout=30)
        machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
        counts: list[int] = []
        walk_seconds: list[float] = []
        for i in range(args.walks):
            started = time.perf_counter()
            # A different story each time (the same story would join the incident already
            # closed).
            answer = _post(
                info, info["tokens"]["reporter"], "/reports", {**story(rng, i), "level": "II"}
            )
            print(f"  walk {i + 1}: {answer['incident_id']}", file=sys.stderr, flush=True)
            walk(info, answer["incident_id"])
            walk_seconds.append(time.perf_counter() - started)
            name = _get(info, f"/incidents/{answer['incident_id']}")["execution"]["name"]
            counts.append(
                transitions(sfn, machine.replace(":stateMachine:", ":execution:") + f":{name}")
            )

    cpu = reference()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(cpu.line())
    figures = {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)}
    figures["max"] = max(latencies)
    print(
        f"report → HQ alert in the outbox over {len(latencies)} reports: "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in figures.items())
        + f" (target p95 ≤ 1000 ms, max ≤ 2000 ms); {distinct} distinct incidents"
    )
    fifth = max(1, len(latencies) // 5)
    first, last = latencies[:fifth], latencies[-fifth:]
    print(
        f"  as executions accumulate: p50 of the first {fifth} reports "
        f"{statistics.median(first) * 1000:.0f} ms, of the last {fifth} "
        f"{statistics.median(last) * 1000:.0f} ms; max {max(first) * 1000:.0f} → "
        f"{max(last) * 1000:.0f} ms"
    )
    scaled = {k: cpu.at_readme_speed(v) for k, v in figures.items()}
    if all(v is not None for v in scaled.values()):
        print(
            "  at the README machine's speed (× reference ratio): "
            + ", ".join(f"{k} {(v or 0) * 1000:.0f} ms" for k, v in scaled.items())
        )
    per = statistics.median(counts)
    print(
        f"state transitions per incident walked to closed (level II, 3 group tasks, no "
        f"breach): {counts} → median {per:.0f}, ≈ ${per * PRICE_PER_1000_TRANSITIONS / 1000:.4f} "
        f"per incident at ${PRICE_PER_1000_TRANSITIONS}/1,000 transitions"
    )
    print(f"walk to closed at time scale 1/1000: median {statistics.median(walk_seconds):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
