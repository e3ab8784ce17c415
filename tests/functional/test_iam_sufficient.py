"""Every AWS call each function makes is allowed by that function's own IAM policy.

Least privilege fails on the worst night if a function lacks one permission it needs: an
``AccessDenied`` in the crawl worker or the workflow step is a lost alert. This test runs every
function of the app against moto — the API through ``chalice.test.Client``, the schedules and
the crawl worker through moto's Lambda (the local-mode hook), the workflow step from moto's
executing Step Functions — walks an incident from a crawled story and a manual report to closed,
and checks each recorded call (action and resource ARN) against the policy file that
``.chalice/config.json`` gives the function, resolved as CloudFormation would resolve it.
The SQS calls Lambda's event source mapping makes for the crawl worker (receive, delete) are
made here by local mode's poller on the worker's behalf and are checked against its policy too.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.auth.store import TokenStore
from chalicelib.core import aws
from chalicelib.core.aws import AwsClients
from chalicelib.core.settings import get_settings, reset_settings
from chalicelib.deploy.iam import resolved_policies
from chalicelib.deploy.template import PROJECT_DIR, render
from chalicelib.drills import views as drill_views
from chalicelib.health import service as health_service
from chalicelib.local.functions import RegisteredFunctions, register_functions
from chalicelib.local.provision import TemplateProvisioner
from chalicelib.local.scheduler import invoke_scheduled
from chalicelib.local.sqs_poller import QueuePoller
from tests.auth_helpers import role_tokens
from tests.iam_audit import CallLog, denied
from tests.moto_harness import ACCOUNT, REGION, executing_moto
from tests.plan_helpers import quick_plan
from tests.sources_server import FixtureServer, Route, serve_as_local_site
from tests.waiting import wait_for

STAGE = "local"
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>滨江论坛</title><link>https://forum.example.org/</link>
<description>论坛</description>
<item><title>滨江一院发生医疗事故，患者死亡，家属维权</title>
<link>https://forum.example.org/t/1</link><guid>t1</guid>
<description>网传滨江一院急诊科医疗事故致患者死亡，家属在门口拉横幅维权，现场有人受伤。</description>
</item>
<item><title>滨江一院医疗事故：家属维权曝光</title>
<link>https://forum.example.org/t/2</link><guid>t2</guid>
<description>滨江一院急诊科医疗事故，患者死亡，家属维权，视频曝光。</description>
</item>
</channel></rss>
""".encode()
# A small drill: the start injects the report, ``drill_tick`` the post.
DRILL = {
    "name": "审计演练",
    "events": [
        {
            "at_minutes": 0,
            "kind": "report",
            "title": "滨江一院火灾",
            "content": "滨江一院发生火灾。",
        },
        {"at_minutes": 1, "kind": "post", "text": "滨江一院火灾，有人受伤", "copies": 2},
    ],
}
REPORT = {
    "title": "滨江一院急诊科患者家属维权",
    "content": "网传滨江一院急诊科发生医疗事故，家属在门口拉横幅维权。",
}


class ContextExecutor(ThreadPoolExecutor):
    """A pool whose tasks run in the submitter's context, so they act as its function."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


@dataclass
class World:
    log: CallLog
    client: Any  # moto clients that are not the app's (not recorded)
    clients: AwsClients
    functions: RegisteredFunctions
    api: Client
    site: FixtureServer
    other_site: FixtureServer  # a second host, which the dispatcher does not space out
    tokens: dict[str, str]

    def call(
        self, method: str, path: str, role: str = "hq", body: Any = None, **headers: str
    ) -> Any:
        sent = {"Content-Type": "application/json", "Authorization": f"Bearer {self.tokens[role]}"}
        sent.update(headers)
        payload = "" if body is None else json.dumps(body, ensure_ascii=False)
        with self.log.acting_as("api_handler"):
            response = getattr(self.api.http, method.lower())(path, headers=sent, body=payload)
        # Each call must succeed: a refused one would not reach the calls it is here to make.
        assert 200 <= response.status_code < 300, (method, path, response.body)
        return response

    def fire(self, name: str) -> dict[str, Any]:
        """One schedule, invoked through moto's Lambda as EventBridge would."""
        answer = invoke_scheduled(self.client("lambda"), f"yuqing-{STAGE}-{name}", ACCOUNT, REGION)
        assert answer["error"] is None, answer
        return answer

    def crawl_queue(self) -> int:
        """Deliver the crawl queue's messages to the worker, as Lambda's SQS mapping does."""
        (spec, _) = self.functions.queue_consumers()[0]
        settings = get_settings()
        url = self.clients.queue_url(settings.crawl_queue)
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{settings.crawl_queue}"
        poller = QueuePoller(
            self.clients.client("sqs"), self.client("lambda"), url, arn, spec.name, REGION
        )
        delivered = 0
        with self.log.acting_as("crawl_worker"):
            while poller.poll_once():
                delivered += 1
        return delivered

    def incident_waits_for(self, incident: str, kind: str) -> bool:
        shown = self.call("GET", f"/incidents/{incident}", "viewer").json_body
        return any(w.get("kind") == kind for w in shown.get("waiting_for", []))


@pytest.fixture
def world(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """GIVEN the local stage in moto with every function hooked in and recorded, and two sites
    that local mode serves (as it serves its demo site)."""
    monkeypatch.setenv("YUQING_TIME_SCALE", "0.01")
    monkeypatch.setattr(drill_views, "PACE_IN_PROCESS", False)
    monkeypatch.setattr(health_service, "ThreadPoolExecutor", ContextExecutor)
    reset_settings()
    aws.set_clients(None)
    with executing_moto(monkeypatch) as moto, serve_site() as site, serve_site() as other:
        from app import app

        log = CallLog(ACCOUNT, REGION)
        session = boto3.session.Session(region_name=REGION)
        log.install(session)
        clients = AwsClients(get_settings(), session)
        aws.set_clients(clients)
        functions = register_functions(app, STAGE, moto.client, moto.registry, {})
        for spec in functions.specs:
            moto.registry.register(spec.name, log.wrap(spec.function, spec.handler))
        TemplateProvisioner(
            render(STAGE), moto.client, ACCOUNT, REGION, external=functions.provisioned
        ).provision_all()
        store = TokenStore(clients.table(get_settings().tables.tokens))
        tokens = role_tokens(store)
        with Client(app, stage_name=STAGE, project_dir=str(PROJECT_DIR)) as api:
            yield World(log, moto.client, clients, functions, api, site, other, tokens)


serve_site = contextmanager(serve_as_local_site)


def test_each_function_is_allowed_every_call_it_makes(world: World) -> None:
    # GIVEN a plan saved by the HQ (topics and subscriptions reconciled) and a crawled story;
    # the 研判 deadline is long enough (6 real minutes) that a loaded machine still decides in time
    plan = quick_plan()
    for level in plan["levels"]:
        level["deadlines_minutes"]["triage"] = 600
    assert world.call("PUT", "/plan", body=plan).status_code == 200
    world.site.routes["/feed.xml"] = Route(body=FEED, content_type="application/rss+xml")
    world.other_site.routes["/gone.xml"] = Route(status=404)
    # (two hosts, so that the dispatcher queues both without spacing them out)
    gone = world.other_site.url("/gone.xml")
    for source_id, url in (("forum", world.site.url("/feed.xml")), ("gone", gone)):
        body = {"id": source_id, "kind": "rss", "url": url, "local": True}
        assert world.call("POST", "/sources", body=body).status_code == 201
    world.fire("crawl_dispatcher")
    assert world.crawl_queue() == 2
    world.call("POST", "/sources/gone/crawl")
    world.call("POST", "/sources/gone/crawl")

    # WHEN a report opens an incident and the HQ, the groups and the schedules act on it
    answer = world.call(
        "POST", "/reports", "reporter", REPORT, **{"Idempotency-Key": "audit-report-1"}
    )
    assert answer.status_code == 201, answer.body
    incident = answer.json_body["incident_id"]
    wait_for(lambda: world.incident_waits_for(incident, "decision"), 30, every=0.1)
    decision = {"action": "activate", "level": "II", "note": "启动"}
    assert world.call("POST", f"/incidents/{incident}/decision", body=decision).status_code == 200
    draft = world.call("POST", f"/incidents/{incident}/statements", body={"text": "情况说明"})
    sid = draft.json_body["statement_id"]
    world.call("POST", f"/incidents/{incident}/statements/{sid}/approve")
    world.call("POST", f"/incidents/{incident}/statements/{sid}/release", body={"channel": "微博"})
    world.site.routes["/rumour"] = Route(
        body="网传滨江一院爆炸系谣言".encode(), content_type="text/html"
    )
    world.call("POST", f"/incidents/{incident}/evidence", body={"url": world.site.url("/rumour")})
    for method, path in (
        ("GET", "/health"),
        ("GET", "/whoami"),
        ("GET", "/plan"),
        ("GET", "/plan/versions"),
        ("GET", "/plan/versions/1"),
        ("GET", "/sources"),
        ("GET", "/sources/forum"),
        ("GET", "/sources/forum/health"),
        ("GET", "/incidents"),
        ("GET", f"/incidents/{incident}"),
        ("GET", f"/incidents/{incident}/evidence"),
        ("GET", f"/incidents/{incident}/report"),
        ("GET", "/outbox?live=1"),
        ("GET", f"/outbox?incident={incident}"),
        ("GET", "/posts"),
        ("GET", "/clusters"),
        ("GET", "/trends"),
        ("GET", "/briefings"),
        ("GET", "/briefings/latest"),
        ("GET", "/drills"),
        ("GET", "/drills/scenarios"),
        ("GET", "/"),
    ):
        world.call(method, path, "hq" if path.startswith("/outbox") else "viewer")
    world.call("POST", "/briefings", "lead", {})
    sent = world.call(
        "POST",
        "/alerts",
        body={
            "incident": "audit",
            "event": "test",
            "level": "III",
            "template_id": "incident_alert",
            "variables": {
                "level": "III",
                "subject": "滨江一院",
                "summary": "测试",
                "deadline": "2小时",
            },
        },
    )
    for message_id in sent.json_body.get("message_ids", [])[:1]:
        world.call("POST", f"/alerts/{message_id}/ack", "hq")  # any group's, as the HQ may
    world.call("POST", f"/alerts/incident/{incident}/ack", "member")
    drill = world.call("POST", "/drills", body={"scenario": DRILL})
    world.call("GET", f"/drills/{drill.json_body['drill_id']}", "viewer")
    world.call(
        "PUT",
        "/sources/forum",
        body={"kind": "rss", "url": world.site.url("/feed.xml"), "local": True, "enabled": False},
    )
    world.call("DELETE", "/sources/gone")
    for name in ("health_probe", "alert_dispatch", "incident_sweep", "drill_tick", "briefing_tick"):
        world.fire(name)

    # THEN every function acted, and each call it made is one its own policy allows
    acting = {call.function for call in world.log.calls}
    assert acting == {spec.function for spec in world.functions.specs}
    policies = resolved_policies(stage=STAGE, account=ACCOUNT, region=REGION)
    assert denied(world.log.calls, policies) == []
