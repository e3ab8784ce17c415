"""The API against its contract: schemathesis drives local mode from ``docs/openapi.yaml``.

Local mode runs as a subprocess (offline, no schedules). For every documented operation
schemathesis generates valid and invalid requests (a bounded, derandomised number each) with the
HQ token, and checks every answer: never a 5xx, a documented status code and content type, a
body that matches the documented schema, and a 4xx for input the document calls invalid. A
viewer token meets 403s and no token a 401, as documented.
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

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.local_mode import aws_cli
from tests.plan_helpers import example_plan

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
DOC = PROJECT / "docs" / "openapi.yaml"
START_TIMEOUT = 90.0
MAX_EXAMPLES = 10

SCHEMA = schemathesis.openapi.from_path(DOC)
SCHEMA.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    # Unknown query parameters are ignored, as most HTTP APIs do; not a contract violation.
    allow_extra_parameters=False,
    # The token is the test's (HQ, or viewer for the 403s), never generated or mutated.
    with_security_parameters=False,
)
# Examples and fuzzing; the coverage phase enumerates every boundary of every field, which is
# thorough but multiplies the run time on a 2-core machine.
SCHEMA.config.phases.update(phases=["examples", "coverage", "fuzzing"])
# Undocumented methods must be refused with a 4xx, except TRACE: Chalice's local dev server
# answers it 501 itself, before the app (API Gateway refuses it in production).
SCHEMA.config.phases.coverage.unexpected_methods = {"get", "put", "post", "delete", "patch"}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Local mode on a free port, offline and without schedules; its ``local.json``."""
    state_dir = tmp_path_factory.mktemp("contract") / "yuqing"
    state_dir.mkdir(parents=True)
    log_path = state_dir / "local-mode.log"
    env = {
        **os.environ,
        "PORT": str(_free_port()),
        "PYTHONUNBUFFERED": "1",
        "YUQING_OFFLINE": "1",
        # Workflow waits scaled down so the executions that reports start finish quickly.
        "YUQING_TIME_SCALE": "0.001",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    with log_path.open("a", encoding="utf-8") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chalicelib.local",
                "--state-dir",
                str(state_dir),
                "run",
                "--no-schedules",
            ],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        info = _wait_until_up(process, state_dir / "local.json", log_path)
        info["seeded"] = _seed(info)
        yield info
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(process: subprocess.Popen[str], local_json: Path, log: Path) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"local mode exited early:\n{log.read_text()}")
        if local_json.exists():
            info: dict[str, Any] = json.loads(local_json.read_text())
            if info["pid"] == process.pid:
                try:
                    if requests.get(f"{info['api_url']}/health", timeout=5).status_code == 200:
                        return info
                except requests.ConnectionError:
                    pass
        time.sleep(0.3)
    raise AssertionError(f"local mode did not become healthy:\n{log.read_text()}")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _seed(info: dict[str, Any]) -> dict[str, str]:
    """An incident and a (loopback) source that exist, so generated requests reach past 404."""
    api, hq = info["api_url"], _bearer(info["tokens"]["hq"])
    report = {"title": "契约测试", "content": "某医院门诊排队过长引发投诉", "level": "IV"}
    answer = requests.post(f"{api}/reports", json=report, headers=hq, timeout=30)
    assert answer.status_code == 201, answer.text
    # Public: offline mode refuses to fetch it at once, so crawling it costs no retries.
    source = {"id": "contract", "kind": "rss", "url": "https://example.com/feed.xml"}
    created = requests.post(f"{api}/sources", json=source, headers=hq, timeout=30)
    assert created.status_code == 201, created.text
    incident_id = answer.json()["incident_id"]
    # A task of that incident, as the workflow writes one after the HQ's 启动: a request naming
    # a task that does not exist is a 404 before its body is read (the group check needs the
    # task), so the regressions below act on this one.
    task = {"pk": incident_id, "sk": "TASK#t1", "task_id": "t1", "group": "office"}
    item = {key: {"S": value} for key, value in {**task, "status": "assigned"}.items()}
    aws_cli(
        info,
        *("dynamodb", "put-item", "--table-name", "yuqing-local-incidents"),
        *("--item", json.dumps(item, ensure_ascii=False)),
        *("--return-consumed-capacity", "TOTAL"),  # an answer in JSON, which aws_cli reads
    )
    return {"incident_id": incident_id, "source_id": "contract"}


_calls = iter(range(1_000_000))


def _aim_at_seeded(case: Case[Any], seeded: dict[str, str]) -> None:
    """Every other valid case names the seeded incident or source instead of a random one."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or next(_calls) % 2:
        return
    for name in ("incident_id", "source_id"):
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = seeded[name]


@SCHEMA.parametrize()
@settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
def test_every_operation_honours_the_contract(case: Case[Any], local_api: dict[str, Any]) -> None:
    # GIVEN a generated request with the HQ token (every role check passes, bodies are read)
    # WHEN it is sent THEN no 5xx, and status, content type and body are as documented
    _aim_at_seeded(case, local_api["seeded"])
    case.call_and_validate(
        base_url=local_api["api_url"],
        headers=_bearer(local_api["tokens"]["hq"]),
        checks=CHECKS,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/plan", {}),
        ("POST", "/alerts", {}),
        ("POST", "/sources", {"id": "x", "kind": "rss"}),
        ("GET", "/outbox", None),
        ("POST", "/incidents/i1/decision", {"action": "dismiss"}),
    ],
)
def test_a_viewer_is_refused_as_documented(
    local_api: dict[str, Any], method: str, path: str, body: dict[str, Any] | None
) -> None:
    # GIVEN a viewer token WHEN it calls a route for a higher role THEN 403, as documented
    template = next(p for p in SCHEMA.raw_schema["paths"] if _matches(p, path))
    operation = SCHEMA[template][method]
    case = operation.Case(body=body) if body is not None else operation.Case()
    case.path_parameters = _path_parameters(template, path)
    response = case.call(
        base_url=local_api["api_url"], headers=_bearer(local_api["tokens"]["viewer"]), timeout=30
    )
    assert response.status_code == 403, response.text
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )
    assert response.json()["error"] == "forbidden"


def test_no_token_is_401_and_health_needs_none(local_api: dict[str, Any]) -> None:
    api = local_api["api_url"]
    # GIVEN no Authorization header WHEN a route needs a token THEN 401 with a JSON error
    response = requests.get(f"{api}/incidents", timeout=30)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"
    # AND /health answers without one
    assert requests.get(f"{api}/health", timeout=30).status_code == 200


def _matches(template: str, path: str) -> bool:
    parts, actual = template.split("/"), path.split("/")
    return len(parts) == len(actual) and all(
        t == a or t.startswith("{") for t, a in zip(parts, actual, strict=True)
    )


def _path_parameters(template: str, path: str) -> dict[str, Any]:
    return {
        t[1:-1]: a
        for t, a in zip(template.split("/"), path.split("/"), strict=True)
        if t.startswith("{")
    }


def _problem_paths(response: requests.Response) -> set[str]:
    return {p["path"] for p in response.json()["problems"]}


def _plan_with(edit: Any) -> dict[str, Any]:
    doc = example_plan()
    edit(doc)
    return doc


# Each of these was a 500 (an unhashable JSON value tested against a set, or a URL that
# urlsplit cannot parse) until the contract test found it.
REGRESSIONS: list[tuple[str, str, Any, str]] = [
    ("POST", "/reports", {"title": "t", "content": "c", "subject": {}}, "/subject"),
    ("POST", "/reports", {"title": "t", "content": "c", "platform": []}, "/platform"),
    ("POST", "/incidents/{incident_id}/decision", {"action": {}}, "/action"),
    ("POST", "/incidents/{incident_id}/tasks/t1", {"action": []}, "/action"),
    ("POST", "/incidents/{incident_id}/evidence", {"url": "http://[::1"}, ""),
    ("POST", "/sources", {"id": "bad1", "kind": "hotlist", "hotlist": {}}, "/hotlist"),
    ("POST", "/sources", {"id": "bad2", "kind": "rss", "url": "http://[::1"}, "/url"),
    (
        "PUT",
        "/plan",
        _plan_with(lambda d: d["measures"][0].update(owner={})),
        "/measures/0/owner",
    ),
    (
        "PUT",
        "/plan",
        _plan_with(lambda d: d["levels"][0].update(alert_groups=[{}])),
        "/levels/0/alert_groups/0",
    ),
    (
        "PUT",
        "/plan",
        _plan_with(lambda d: d.update(alerting={"ops_group": []})),
        "/alerting/ops_group",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "problem"), REGRESSIONS)
def test_wrongly_typed_input_is_a_400_not_a_500(
    local_api: dict[str, Any], method: str, path: str, body: Any, problem: str
) -> None:
    url = local_api["api_url"] + path.format(**local_api["seeded"])
    headers = _bearer(local_api["tokens"]["hq"])
    # GIVEN a JSON value of the wrong type WHEN it is sent THEN a 400
    response = requests.request(method, url, json=body, headers=headers, timeout=30)
    assert response.status_code == 400, response.text
    if problem:  # AND the problem is located
        assert problem in _problem_paths(response)
