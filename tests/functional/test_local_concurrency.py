"""Concurrency against moto's server, as local mode runs it: one answer, one post, one alert.

Why moto's server and not ``mock_aws`` in-process: local mode (and every drill, demo and
end-to-end test) runs ``ThreadedMotoServer``, where each request is served on its own thread —
that is where requests really race. In-process ``mock_aws`` is not thread-safe in every backend,
so a race there says little about either local mode or AWS.

moto makes a conditional write in steps (read the item, parse and evaluate the condition, store),
so two racing writes can both succeed; local mode serialises them (``chalicelib.local.
moto_guard``), as DynamoDB's are atomic. The window is small on an idle machine (about one burst
in 200), so these tests widen it as a loaded machine does: moto pauses after each item read.
Without the guard nearly every racer then sees the key absent and wins.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import requests
from chalice.cli.factory import CLIFactory
from moto.dynamodb.models.table import Table
from moto.server import ThreadedMotoServer
from moto.stepfunctions.models import StateMachine

from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core import aws
from chalicelib.core.aws import AwsClients
from chalicelib.core.idempotency import IdempotencyStore, KeyInProgressError
from chalicelib.core.settings import get_settings, reset_settings
from chalicelib.deploy.template import PROJECT_DIR, render
from chalicelib.local import moto_guard
from chalicelib.local.provision import Provisioned, TemplateProvisioner
from chalicelib.local.runtime import api_server
from chalicelib.local.sqs_poller import sqs_event
from chalicelib.plan.service import load_example
from chalicelib.plan.wiring import plan_service
from chalicelib.sources.models import parse_definition
from chalicelib.sources.store import SourceStore
from tests.sources_server import FixtureServer, Route, serve_as_local_site

STAGE = "local"
REGION = "us-east-1"
ACCOUNT = "123456789012"
T = TypeVar("T")


@pytest.fixture
def served(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsClients]:
    """GIVEN moto's threaded server on loopback with the local stage's resources, and local
    mode's write guard (the test's own clients and the app's talk to it over HTTP)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    reset_settings()
    clients = AwsClients(get_settings())
    aws.set_clients(clients)
    step = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:yuqing-{STAGE}-workflow_step"
    TemplateProvisioner(
        render(STAGE),
        clients.client,
        ACCOUNT,
        REGION,
        external={"WorkflowStep": Provisioned(ref="workflow_step", attributes={"Arn": step})},
    ).provision_all()
    moto_guard.install()
    try:
        yield clients
    finally:
        moto_guard.uninstall()
        requests.post(f"{url}/moto-api/reset", timeout=10)
        server.stop()


@pytest.fixture
def slow_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a moto that pauses 20 ms after reading an item — between a conditional write's
    read and its store, as a loaded machine does."""
    original = Table.get_item

    def slow_get_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = original(self, *args, **kwargs)
        time.sleep(0.02)
        return found

    monkeypatch.setattr(Table, "get_item", slow_get_item)


def together(count: int, action: Callable[[int], T]) -> list[T]:
    """``action(i)`` for each i on its own thread, all released at the same moment."""
    start = threading.Barrier(count)

    def run(i: int) -> T:
        start.wait()
        return action(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _count(clients: AwsClients, table: str, prefix: str = "") -> int:
    items = clients.client("dynamodb").scan(TableName=table)["Items"]
    return sum(1 for i in items if i.get("sk", {}).get("S", "").startswith(prefix))


# -- moto's writes ---------------------------------------------------------------------------


def test_twenty_racing_claims_of_one_key_run_the_work_once(
    served: AwsClients, slow_moto: None
) -> None:
    # GIVEN one Idempotency-Key claimed by 20 requests at once
    store = IdempotencyStore(served.table(get_settings().tables.idempotency))
    runs: list[int] = []

    def work() -> dict[str, Any]:
        runs.append(1)
        return {"n": len(runs)}

    def claim(i: int) -> Any:
        try:
            return store.run("report#a", "key-00000001", {"t": 1}, work)
        except KeyInProgressError:
            return "in_progress"

    # WHEN they race THEN the work runs once; the others get its answer or are told to retry
    answers = together(20, claim)
    assert runs == [1]
    assert all(a in ({"n": 1}, "in_progress") for a in answers), answers
    assert "in_progress" in answers


@pytest.fixture
def executing(served: AwsClients) -> Iterator[None]:
    """GIVEN moto's Step Functions executing state machines (a process-wide moto setting)."""

    def execute(on: bool) -> None:
        requests.post(
            f"{get_settings().endpoint_url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": on}},
            timeout=10,
        ).raise_for_status()

    execute(True)
    yield
    execute(False)


def test_racing_starts_under_one_name_make_one_execution(
    served: AwsClients, executing: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a state machine, and moto slow between checking an execution's name and recording
    # it (it deep-copies the state machine there: ours is large)
    checked = StateMachine._handle_name_input_idempotency

    def slow_check(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = checked(self, *args, **kwargs)
        time.sleep(0.02)
        return found

    monkeypatch.setattr(StateMachine, "_handle_name_input_idempotency", slow_check)
    sfn = served.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="waits",
        definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}
        ),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/r",
    )["stateMachineArn"]

    def start(i: int) -> str:
        try:
            sfn.start_execution(stateMachineArn=arn, name="incident-c-race", input="{}")
        except sfn.exceptions.ExecutionAlreadyExists:
            return "exists"
        return "started"

    # WHEN ten workers start the incident's workflow at once THEN there is one execution
    together(10, start)
    names = [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
    assert names == ["incident-c-race"]


# -- POST /reports -------------------------------------------------------------------------


@pytest.fixture
def api(served: AwsClients) -> Iterator[str]:
    """GIVEN the API on Chalice's local server, as local mode serves it."""
    from app import app

    plan_service().load_initial(load_example())
    config = CLIFactory(str(PROJECT_DIR), environ=os.environ).create_config_obj(
        chalice_stage_name=STAGE
    )
    plain = app.__class__
    server = api_server(app, config, "127.0.0.1", 0)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.server.shutdown()
        server.server.server_close()
        app.__class__ = plain  # create_local_server swapped it for a thread-local request


def test_twenty_concurrent_reports_with_one_key_make_one_report(
    served: AwsClients, api: str, slow_moto: None
) -> None:
    # GIVEN a reporter whose app sends one report 20 times at once (a flaky network, retries)
    token = TokenStore(served.table(get_settings().tables.tokens)).issue(
        "reporter", Role.REPORTER, None
    )
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "storm-report-0001"}
    body = {
        "title": "滨江一院急诊科家属维权",
        "content": "网传急诊科医疗事故，家属维权。",
        "level": "II",
    }

    def post(i: int) -> requests.Response:
        return requests.post(f"{api}/reports", headers=headers, json=body, timeout=60)

    # WHEN they arrive together
    answers = together(20, post)

    # THEN one report was made; every other answer is the same 201 or a 409 to retry shortly
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    made = [a.json() for a in answers if a.status_code == 201]
    assert made
    assert all(m == made[0] for m in made)
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["error"] == "in_progress"
        assert refused.headers["Retry-After"] == "1"
    # ... and a retry now gets the first answer
    again = requests.post(f"{api}/reports", headers=headers, json=body, timeout=60)
    assert (again.status_code, again.json()) == (201, made[0])
    settings = get_settings()
    incident = made[0]["incident_id"]
    assert _count(served, settings.tables.posts) == 1
    assert _count(served, settings.tables.incidents, "META") == 1
    assert _count(served, settings.tables.incidents, "REPORT#") == 1
    sfn = served.client("stepfunctions")
    executions = sfn.list_executions(
        stateMachineArn=served.state_machine_arn(settings.state_machine)
    )["executions"]
    assert [e["name"] for e in executions] == [f"incident-{incident}"]


# -- SQS at least once: one crawl message delivered five times -------------------------------

STORY = "滨江市第一人民医院发生医疗事故，一名患者在手术后死亡，家属在医院门口聚集维权，太让人愤怒了"


def _feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>转发{i}</title><link>http://forum.example/{i}</link>"
        f"<description>求真相//@网友{i}:{STORY}</description></item>"
        for i in range(count)
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss><channel>{items}</channel></rss>'.encode()


@pytest.fixture
def http_server() -> Iterator[FixtureServer]:
    """A site local mode serves (as its demo site): local sources may reach it (decision 68)."""
    yield from serve_as_local_site()


def _deliver_five_times(served: AwsClients, source_id: str) -> list[Any]:
    from app import app  # noqa: F401  (registers the worker's blueprint)
    from chalicelib.sources.handlers import crawl_worker

    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": json.dumps({"source_id": source_id, "due_at": "2026-12-01T00:00:00+00:00"}),
    }
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:yuqing-local-crawl"
    event = sqs_event([message], queue_arn, REGION)
    return together(5, lambda i: crawl_worker(event, None))


def _source(served: AwsClients, server: FixtureServer, source_id: str, path: str) -> None:
    SourceStore(served.table(get_settings().tables.sources)).create(
        parse_definition({"id": source_id, "kind": "rss", "local": True, "url": server.url(path)}),
        "2026-11-30T00:00:00+00:00",
    )


def test_five_deliveries_of_one_crawl_message_crawl_once(
    served: AwsClients, http_server: FixtureServer
) -> None:
    # GIVEN a forum whose feed carries a story that opens an incident, answering requests that
    # arrive together together (so deliveries overlap however fast each is)
    plan_service().load_initial(load_example())
    http_server.routes["/feed"] = Route(body=_feed(8), content_type="application/rss+xml", gather=5)
    _source(served, http_server, "forum", "/feed")

    # WHEN SQS delivers its crawl message five times at once
    reports = [r["reports"][0] for r in _deliver_five_times(served, "forum")]

    # THEN the site was asked once, each post stored once, one incident opened and started
    crawled = [r for r in reports if r is not None]
    assert len(crawled) == 1, reports
    assert http_server.hits["/feed"] == 1
    settings = get_settings()
    assert _count(served, settings.tables.posts) == 8 == crawled[0]["new"]
    assert _count(served, settings.tables.incidents, "META") == 1
    sfn = served.client("stepfunctions")
    arn = served.state_machine_arn(settings.state_machine)
    assert len(sfn.list_executions(stateMachineArn=arn)["executions"]) == 1


def test_five_deliveries_of_one_crawl_message_to_a_broken_source_alert_once(
    served: AwsClients, http_server: FixtureServer
) -> None:
    # GIVEN a source that now answers with a login wall, and a plan whose tech group hears of it
    plan_service().load_initial(load_example())
    http_server.routes["/wall"] = Route(
        status=403,
        body="<html><title>请登录</title>登录后查看更多内容 验证码</html>".encode(),
        content_type="text/html; charset=utf-8",
        gather=5,
    )
    _source(served, http_server, "walled", "/wall")

    # WHEN its crawl message is delivered five times at once
    _deliver_five_times(served, "walled")

    # THEN the source turned unhealthy once: one alert to the tech group, one failure counted
    outbox = served.client("dynamodb").scan(TableName=get_settings().tables.outbox)["Items"]
    events = [i["event"]["S"] for i in outbox if i["event"]["S"].startswith("source_unhealthy")]
    assert len(set(events)) == 1, events
    health = SourceStore(served.table(get_settings().tables.sources)).require("walled").health
    assert not health.healthy
    assert health.consecutive_failures == 1
