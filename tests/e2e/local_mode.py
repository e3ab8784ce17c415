"""Local embedded mode as a separate process, for the end-to-end tests that need it.

:class:`LocalMode` starts ``python -m chalicelib.local run`` on a free port with a state
directory of the test's own, waits until its ``local.json`` is this process's and ``/health``
answers, and stops it with SIGTERM as a person's Ctrl-C would (or kills it, as the OOM killer
would).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from tests.waiting import wait_for

PROJECT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalMode:
    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = state_dir
        self.port = port
        self.process: subprocess.Popen[str] | None = None
        self.log = state_dir / "local-mode.log"

    def start(
        self, *, plan: dict[str, Any] | None = None, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Start local mode and wait until healthy. ``plan``: stored as version 1 instead of the
        example plan (first start only), so that nothing happens under another plan before the
        test's own; ``env`` overrides the test environment below."""
        local_json = self.state_dir / "local.json"
        environment = {
            **os.environ,
            "PORT": str(self.port),
            # A 30-minute 研判 deadline passes in 1.8 s; the test saves a plan with short public
            # deadlines and long task deadlines (tests/plan_helpers.quick_plan).
            "YUQING_TIME_SCALE": "0.001",
            "PYTHONUNBUFFERED": "1",
            # The schedules run: the example public hot lists must not reach the internet.
            "YUQING_OFFLINE": "1",
            **(env or {}),
        }
        environment.pop("AWS_ENDPOINT_URL", None)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.log.open("a", encoding="utf-8")
        command = [sys.executable, "-m", "chalicelib.local", "--state-dir", str(self.state_dir)]
        command.append("run")
        if plan is not None:
            plan_file = self.state_dir / "first-plan.json"
            plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
            command += ["--plan", str(plan_file)]
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"local mode exited early:\n{self.log.read_text()}")
            if local_json.exists():
                info: dict[str, Any] = json.loads(local_json.read_text())
                # local.json is rewritten by each start once it is complete; wait for ours.
                if info["pid"] == self.process.pid and _healthy(info["api_url"]):
                    return info
            time.sleep(0.3)
        raise AssertionError(f"local mode did not become healthy:\n{self.log.read_text()}")

    def settle(self, info: dict[str, Any]) -> None:
        """Wait until the demo site's sources have been crawled once (schedules fire about 5 s
        after start, and a second source on the same host 10 s later): from then on the demo
        site adds nothing, so what the test does next meets a world that stays still."""
        hq = {"Authorization": f"Bearer {info['tokens']['hq']}"}

        def crawled() -> bool:
            sources = requests.get(f"{info['api_url']}/sources", headers=hq, timeout=10)
            demo = [s for s in sources.json()["sources"] if s["id"].startswith("demo-")]
            return bool(demo) and all(s["health"]["last_success_at"] for s in demo)

        wait_for(crawled, timeout=START_TIMEOUT, every=0.5)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def kill(self) -> int:
        """SIGKILL: no handler runs, nothing is saved at the last moment."""
        assert self.process is not None
        self.process.kill()
        return self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")


def local_cli(state_dir: Path, *args: str, port: int | None = None) -> Any:
    """``python -m chalicelib.local --state-dir DIR ARGS…``, run to completion."""
    env = {**os.environ, "PORT": str(port)} if port else None
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.local", "--state-dir", str(state_dir), *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def aws_cli(info: dict[str, Any], *args: str) -> Any:
    env = {**os.environ, **info["aws_env"], "AWS_DEFAULT_REGION": info["region"]}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "aws"),
            "--endpoint-url",
            info["aws_endpoint_url"],
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def _healthy(api_url: str) -> bool:
    """One look at ``/health``. An answer slower than 5 s (a loaded machine while a restarted
    local mode resumes its workflows) is "not yet", like a 503: the start's own deadline
    decides, not one request's."""
    try:
        return requests.get(f"{api_url}/health", timeout=5).status_code == 200
    except requests.Timeout:
        return False
