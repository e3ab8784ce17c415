"""End to end: local embedded mode as a newcomer runs it, as a separate process.

Start → ``/health`` answers 200 → local.json holds URLs and role tokens → the AWS CLI sees the
tables and the state machine → an execution runs the real workflow handler to SUCCEEDED →
a schedule fires on demand → SIGTERM stops it cleanly → a restart finds the data and the tokens.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalMode:
    def __init__(self, state_dir: Path, port: int) -> None:
        self.state_dir = state_dir
        self.port = port
        self.process: subprocess.Popen[str] | None = None
        self.log = state_dir / "local-mode.log"

    def start(self) -> dict[str, Any]:
        local_json = self.state_dir / "local.json"
        env = {
            **os.environ,
            "PORT": str(self.port),
            "YUQING_TIME_SCALE": "0.0003",  # cool-down 6 s: long enough to stop mid-wait
            "PYTHONUNBUFFERED": "1",
            # The schedules run: the example public hot lists must not reach the internet.
            "YUQING_OFFLINE": "1",
        }
        env.pop("AWS_ENDPOINT_URL", None)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = self.log.open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chalicelib.local", "--state-dir", str(self.state_dir), "run"],
            cwd=PROJECT,
            env=env,
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
                if (
                    info["pid"] == self.process.pid
                    and requests.get(f"{info['api_url']}/health", timeout=5).status_code == 200
                ):
                    return info
            time.sleep(0.3)
        raise AssertionError(f"local mode did not become healthy:\n{self.log.read_text()}")

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture
def local_mode(tmp_path: Path) -> Iterator[LocalMode]:
    mode = LocalMode(tmp_path / "yuqing", _free_port())
    yield mode
    if mode.process and mode.process.poll() is None:
        mode.process.kill()


def _local_cli(state_dir: Path, *args: str, port: int | None = None) -> Any:
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


def _aws_cli(info: dict[str, Any], *args: str) -> Any:
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


def _finished_status(sfn: Any, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    """The execution's description once it is no longer RUNNING (or when ``timeout`` passes)."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
    while status["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.2)
        status = sfn.describe_execution(executionArn=execution_arn)
    return status


def _timeline_steps(ddb: Any, incident_id: str) -> list[str]:
    items = ddb.query(
        TableName="yuqing-local-incidents",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": incident_id}},
    )["Items"]
    return [i["step"]["S"] for i in items]


def _session(info: dict[str, Any]) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=info["aws_env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=info["aws_env"]["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=info["aws_env"]["AWS_SESSION_TOKEN"],
        region_name=info["region"],
    )


def test_local_mode_runs_restarts_and_keeps_its_data(local_mode: LocalMode) -> None:
    # GIVEN local mode started as a newcomer would
    info = local_mode.start()
    assert info["api_url"] == f"http://127.0.0.1:{local_mode.port}"
    assert set(info["tokens"]) == {"hq", "lead", "member", "reporter", "viewer"}

    health = requests.get(f"{info['api_url']}/health", timeout=10).json()
    assert health["status"] == "ok"
    assert {c["kind"] for c in health["components"]} == {"table", "queue", "topic", "state_machine"}

    who = requests.get(
        f"{info['api_url']}/whoami",
        headers={"Authorization": f"Bearer {info['tokens']['hq']}"},
        timeout=10,
    )
    assert who.status_code == 200
    assert who.json()["role"] == "hq"
    assert requests.get(f"{info['api_url']}/whoami", timeout=10).status_code == 401

    # THEN the AWS CLI against the local endpoint lists the tables and the state machine
    tables = _aws_cli(info, "dynamodb", "list-tables")["TableNames"]
    assert "yuqing-local-incidents" in tables
    machines = _aws_cli(info, "stepfunctions", "list-state-machines")["stateMachines"]
    assert [m["name"] for m in machines] == ["yuqing-local-response"]

    # WHEN an execution starts THEN the real workflow handler runs every step to SUCCEEDED
    session = _session(info)
    sfn = session.client("stepfunctions", endpoint_url=info["aws_endpoint_url"])
    execution = sfn.start_execution(
        stateMachineArn=machines[0]["stateMachineArn"],
        name="incident-e2e1",
        input=json.dumps({"incident_id": "e2e1", "drill": False}),
    )["executionArn"]
    status = _finished_status(sfn, execution)
    assert status["status"] == "SUCCEEDED", status
    ddb = session.client("dynamodb", endpoint_url=info["aws_endpoint_url"])
    assert set(_timeline_steps(ddb, "e2e1")) == {
        "report",
        "triage",
        "measures",
        "implement",
        "monitor",
        "evaluate",
        "close",
    }

    # AND a schedule fires on demand through the same Lambda path
    fired = _local_cli(local_mode.state_dir, "fire", "health_probe")
    assert fired.returncode == 0, fired.stdout + fired.stderr
    assert json.loads(fired.stdout)["result"] == {"ok": True, "down": []}

    # AND the example sources were seeded: crawling the demo source now stores posts, the public
    # hot lists are refused offline, and a source at a private address is refused
    hq = {"Authorization": f"Bearer {info['tokens']['hq']}"}
    sources = requests.get(f"{info['api_url']}/sources", headers=hq, timeout=10).json()["sources"]
    assert {"demo-weibo", "demo-forum", "weibo-hot"} <= {s["id"] for s in sources}
    crawl = requests.post(f"{info['api_url']}/sources/demo-weibo/crawl", headers=hq, timeout=60)
    assert crawl.status_code == 200, crawl.text
    assert crawl.json()["outcome"] == "ok"
    assert crawl.json()["items"] == 12
    posts = ddb.scan(TableName="yuqing-local-posts")["Items"]
    assert len(posts) >= 12
    # ... scored on the way in (one write per post carries its risk and reasons)
    assert all("risk" in post and "reasons" in post for post in posts)
    public = requests.post(f"{info['api_url']}/sources/weibo-hot/crawl", headers=hq, timeout=60)
    assert public.json()["error"]["code"] == "offline"
    private = requests.post(
        f"{info['api_url']}/sources",
        headers=hq,
        json={"id": "intranet", "kind": "rss", "url": "http://192.168.1.10/feed"},
        timeout=10,
    )
    assert private.status_code == 400
    assert "private address" in private.json()["problems"][0]["message"]

    # GIVEN, at the moment of stopping, an execution in its cool-down wait and a queued message
    # (on the dead-letter queue, which no function consumes)
    sqs = session.client("sqs", endpoint_url=info["aws_endpoint_url"])
    queue = sqs.get_queue_url(QueueName="yuqing-local-crawl-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody='{"source": "kept"}')
    sfn.start_execution(
        stateMachineArn=machines[0]["stateMachineArn"],
        name="incident-e2e2",
        input=json.dumps({"incident_id": "e2e2", "drill": True}),
    )

    # WHEN it is stopped with SIGTERM THEN it exits cleanly and saves its tables
    assert local_mode.stop() == 0
    assert (local_mode.state_dir / "state" / "dynamodb" / "yuqing-local-incidents.json").exists()

    # WHEN it starts again THEN the data and the tokens written before are still there
    again = local_mode.start()
    assert again["tokens"] == info["tokens"]
    ddb = _session(again).client("dynamodb", endpoint_url=again["aws_endpoint_url"])
    assert len(_timeline_steps(ddb, "e2e1")) == 7
    probe = ddb.get_item(TableName="yuqing-local-system", Key={"pk": {"S": "health"}})
    assert probe["Item"]["status"]["S"] == "ok"
    who = requests.get(
        f"{again['api_url']}/whoami",
        headers={"Authorization": f"Bearer {info['tokens']['viewer']}"},
        timeout=10,
    )
    assert who.json()["role"] == "viewer"

    # AND the message is queued again and the interrupted execution ran to its end
    sqs = _session(again).client("sqs", endpoint_url=again["aws_endpoint_url"])
    queue = sqs.get_queue_url(QueueName="yuqing-local-crawl-dlq")["QueueUrl"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue).get("Messages", [])] == [
        '{"source": "kept"}'
    ]
    sfn = _session(again).client("stepfunctions", endpoint_url=again["aws_endpoint_url"])
    resumed = (
        f"{machines[0]['stateMachineArn'].replace(':stateMachine:', ':execution:')}:incident-e2e2"
    )
    assert _finished_status(sfn, resumed)["status"] == "SUCCEEDED"
    assert len(_timeline_steps(ddb, "e2e2")) == 7

    # AND a second local mode on the same state directory is refused while this one runs
    second = _local_cli(local_mode.state_dir, "run", port=_free_port())
    assert second.returncode == 1
    assert "another local mode is using" in second.stderr
    assert local_mode.stop() == 0


def test_a_busy_api_port_fails_fast_with_a_clear_message(local_mode: LocalMode) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", local_mode.port))
        busy.listen()
        done = _local_cli(local_mode.state_dir, "run", port=local_mode.port)
    assert done.returncode == 1
    assert "could not start" in done.stderr
