"""Local embedded mode on a busy night: how long SIGTERM takes with many incidents running, and
how long the next start takes to resume them.

Run: ``.venv/bin/python -m bench.local_stop --incidents 150``. Starts local mode (offline, time
scale 0.1, so every workflow is still waiting for the HQ when it stops), opens one incident per
report with ``--incidents`` reports about different stories (8 at a time), sends SIGTERM and
times it to the process's exit, then starts again on the same state directory and times it to
``/health`` 200 and to every workflow running again. Prints figures measured in this run;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import requests

from bench.local_startup import PROJECT, free_port, wait_healthy
from tests.waiting import wait_for

WORDS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土日月星辰山川河海风云雷电"


def start(
    state_dir: Path, started: list[subprocess.Popen[bytes]]
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "YUQING_OFFLINE": "1",
        "YUQING_TIME_SCALE": "0.1",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "chalicelib.local", "--state-dir", str(state_dir), "run"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started.append(process)  # stopped by main() whatever happens
    return process, wait_healthy(state_dir, process)


def running(info: dict[str, Any]) -> int:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=info["region"]
    )
    sfn = session.client("stepfunctions", endpoint_url=info["aws_endpoint_url"])
    machine = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=machine, statusFilter="RUNNING"
    )
    return sum(len(page["executions"]) for page in pages)


def report(info: dict[str, Any], i: int) -> None:
    pick = random.Random(i)
    story = "".join(pick.choice(WORDS) for _ in range(24))
    answer = requests.post(
        f"{info['api_url']}/reports",
        headers={
            "Authorization": f"Bearer {info['tokens']['reporter']}",
            "Idempotency-Key": f"bench-stop-{i:05d}",
        },
        json={"title": f"事件{i}", "content": story, "level": "III"},
        timeout=120,
    )
    answer.raise_for_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--incidents", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        processes: list[subprocess.Popen[bytes]] = []
        try:
            process, info = start(state, processes)
            opened = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda i: report(info, i), range(args.incidents)))
            opening = time.perf_counter() - opened
            wait_for(lambda: running(info) >= args.incidents, timeout=600, every=1)
            before = running(info)

            asked = time.perf_counter()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=600)
            stop = time.perf_counter() - asked
            saved = json.loads((state / "state" / "executions.json").read_text(encoding="utf-8"))

            started = time.perf_counter()
            process, info = start(state, processes)
            healthy = time.perf_counter() - started
            wait_for(lambda: running(info) >= before, timeout=600, every=1)
            resumed = time.perf_counter() - started
        finally:
            for each in processes:
                if each.poll() is None:
                    each.send_signal(signal.SIGTERM)
                    each.wait(timeout=600)

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{args.incidents} reports → incidents in {opening:.1f} s; {before} workflows running")
    print(f"SIGTERM → exit: {stop:.1f} s (target ≤ 10 s); saved {len(saved['running'])} running")
    print(f"restart → /health 200: {healthy:.1f} s; every workflow running again: {resumed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
