"""Local embedded mode: time to healthy and /health latency.

Run: ``.venv/bin/python -m bench.local_startup``. Starts local mode as a
subprocess on free ports with a throw-away state directory, exactly as ``make run`` would, and
prints figures measured in this run. Nothing here is asserted: tests never assert timings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import requests

PROJECT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait_healthy(state_dir: Path, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    local_json = state_dir / "local.json"
    while True:
        if process.poll() is not None:
            raise SystemExit("local mode exited before it was healthy")
        if local_json.exists():
            info: dict[str, Any] = json.loads(local_json.read_text())
            # A restart on the same state directory finds the last run's file first.
            if info.get("pid") != process.pid:
                time.sleep(0.05)
                continue
            if requests.get(f"{info['api_url']}/health", timeout=5).status_code == 200:
                return info
        time.sleep(0.05)


@contextlib.contextmanager
def running(extra_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Local mode as a subprocess on a free port with a throw-away state directory, as ``make
    run`` starts it (no schedules): its local.json once ``/health`` answers; stopped on exit."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PORT": str(free_port()), **extra_env}
        env.pop("AWS_ENDPOINT_URL", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local", "--state-dir", tmp, "run", "--no-schedules"],
            cwd=PROJECT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield wait_healthy(Path(tmp), process)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)


@contextlib.contextmanager
def local_mode(time_scale: str | None = None) -> Iterator[tuple[dict[str, Any], Any, Any]]:
    """Local mode for a benchmark (offline): its local.json, and DynamoDB and Step Functions
    clients on its endpoint."""
    extra = {"YUQING_OFFLINE": "1"}
    if time_scale is not None:
        extra["YUQING_TIME_SCALE"] = time_scale
    with running(extra) as info:
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=info["region"]
        )
        endpoint = info["aws_endpoint_url"]
        yield (
            info,
            session.client("dynamodb", endpoint_url=endpoint),
            session.client("stepfunctions", endpoint_url=endpoint),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.parse_args()
    started = time.perf_counter()
    with running({"YUQING_TIME_SCALE": "0.0001"}) as info:
        to_healthy = time.perf_counter() - started
        health = []
        for _ in range(50):
            t0 = time.perf_counter()
            requests.get(f"{info['api_url']}/health", timeout=10).raise_for_status()
            health.append(time.perf_counter() - t0)

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"local mode start → /health 200: {to_healthy:.2f} s (target < 60 s)")
    print(
        f"/health latency over 50 calls: p50 {percentile(health, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(health, 0.95) * 1000:.1f} ms"
    )
    print("(workflow figures: python -m bench.e2e)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
