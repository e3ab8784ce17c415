"""Alerts against moto: reconciliation, outbox, retries, dedup, filters, repeats, spend guard."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from chalice.test import Client

from chalicelib.alerts import dispatch as dispatch_module
from chalicelib.alerts.handlers import alert_dispatch
from chalicelib.alerts.models import AlertRequest, Status, filter_policy
from chalicelib.alerts.service import AlertService
from chalicelib.alerts.store import OutboxStore, SmsCounter, SystemMarks
from chalicelib.alerts.topics import Reconciler, SnsGateway, group_topic_name
from chalicelib.core.aws import AwsClients
from chalicelib.core.errors import ForbiddenError
from chalicelib.core.observability import OLDEST_PENDING_ALERT_AGE, PENDING_ALERTS, metrics
from chalicelib.core.settings import Settings
from chalicelib.plan.models import Contact, PlanView
from chalicelib.plan.service import PlanService
from chalicelib.plan.store import PlanStore
from tests.functional.test_health_probe import scheduled_event
from tests.plan_helpers import example_plan, group

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
METRIC_NAMES = (PENDING_ALERTS, OLDEST_PENDING_ALERT_AGE)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FlakySns:
    """The real (moto) SNS client, except that the next ``failures`` publishes cannot connect,
    nor any while ``down``. ``delivered`` lists (topic, incident, event) of each publish that
    went through; ``attempts`` counts every publish tried."""

    def __init__(self, real: Any, failures: int = 0) -> None:
        self._real = real
        self.failures = failures
        self.down = False
        self.published = 0
        self.attempts = 0
        self.delivered: list[tuple[str, str, str]] = []

    def publish(self, **kwargs: Any) -> Any:
        self.attempts += 1
        if self.failures or self.down:
            self.failures = max(self.failures - 1, 0)
            raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")
        self.published += 1
        attributes = kwargs["MessageAttributes"]
        self.delivered.append(
            (
                str(kwargs["TopicArn"]).rsplit(":", 1)[-1],
                attributes["incident"]["StringValue"],
                attributes["event"]["StringValue"],
            )
        )
        return self._real.publish(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class World:
    """The stores, a flaky SNS and a clock around one AlertService, with a plan saved."""

    def __init__(self, settings: Settings, clients: AwsClients) -> None:
        self.settings = settings
        self.clients = clients
        self.clock = FakeClock()
        self.sns = FlakySns(clients.client("sns"))
        self.service = self.service_over(OutboxStore(clients.table(settings.tables.outbox)))
        self.plans = PlanService(
            PlanStore(clients.table(settings.tables.plan)),
            after_save=self.service.reconcile_plan,
            clock=self.clock,
        )

    def service_over(self, outbox: OutboxStore) -> AlertService:
        """An AlertService on this world's tables, SNS and clock, reading ``outbox``."""
        system = self.clients.table(self.settings.tables.system)
        return AlertService(
            self.settings,
            outbox=outbox,
            plans=PlanStore(self.clients.table(self.settings.tables.plan)),
            gateway=SnsGateway(self.sns, self.clients.topic_arn),
            counter=SmsCounter(system),
            marks=SystemMarks(system),
            clock=self.clock,
        )

    def save(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        return self.plans.save(doc, "test")[1]

    def queue_on(self, group_id: str, policy: dict[str, Any] | None) -> str:
        """An SQS queue subscribed to a group's topic with ``policy``: it sees what SNS sends."""
        sqs = self.clients.client("sqs")
        url = sqs.create_queue(QueueName=f"probe-{group_id}-{len(policy or {})}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        attributes = {"RawMessageDelivery": "true"}
        if policy:
            attributes["FilterPolicy"] = json.dumps(policy)
        self.clients.client("sns").subscribe(
            TopicArn=self.clients.topic_arn(group_topic_name(self.settings, group_id)),
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes=attributes,
        )
        return str(url)

    def received(self, url: str) -> list[str]:
        sqs = self.clients.client("sqs")
        bodies: list[str] = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return bodies
            for message in got:
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def subscriptions(self, group_id: str) -> dict[tuple[str, str], Any]:
        gateway = SnsGateway(self.clients.client("sns"), self.clients.topic_arn)
        arn = gateway.arn(group_topic_name(self.settings, group_id))
        return {
            (s.protocol, s.endpoint): s.filter_policy
            for s in gateway.subscriptions(arn)
            if s.protocol in ("sms", "email")
        }


@pytest.fixture
def world(clients: AwsClients, settings: Settings) -> World:
    made = World(settings, clients)
    made.save(example_plan())
    return made


def alert(**changes: Any) -> AlertRequest:
    values: dict[str, Any] = {
        "incident_key": "inc-1",
        "event": "opened",
        "level": "II",
        "template_id": "incident_alert",
        "variables": {
            "level": "II",
            "subject": "滨江一院",
            "summary": "网传医疗纠纷",
            "deadline": "30分钟",
        },
    }
    values.update(changes)
    return AlertRequest(**values)


# -- reconciliation --------------------------------------------------------------------------


def test_saving_the_plan_creates_topics_and_filtered_subscriptions(world: World) -> None:
    # THEN each group has its topic, each contact a subscription filtered on its levels
    tech = world.subscriptions("tech")
    assert tech == {
        ("sms", "+8613800138040"): {"level": ["I", "II", "III", "IV"], "channel": ["sms"]},
        ("email", "zheng.kai@example.org"): {
            "level": ["I", "II", "III", "IV"],
            "channel": ["email"],
        },
        ("sms", "+8613800138041"): {"level": ["I", "II"], "channel": ["sms"]},
        ("email", "ma.lin@example.org"): {"level": ["I", "II"], "channel": ["email"]},
    }
    assert ("sms", "+8613800138000") in world.subscriptions("hq")  # the stage's hq topic
    # AND the ops topic reaches the 技术保障组 without a filter (alarms carry no attributes)
    gateway = SnsGateway(world.clients.client("sns"), world.clients.topic_arn)
    ops = gateway.subscriptions(gateway.arn(world.settings.ops_topic))
    assert {(s.endpoint, s.filter_policy is None) for s in ops if s.protocol == "sms"} == {
        ("+8613800138040", True),
        ("+8613800138041", True),
    }


def test_reconciling_twice_changes_nothing(world: World) -> None:
    plan = PlanView(example_plan(), 1)
    second = Reconciler.build(world.settings, world.clients).reconcile(plan, plan)
    assert second.as_dict() == {
        "topics_created": [],
        "subscribed": 0,
        "unsubscribed": 0,
        "updated": 0,
        "pending_confirmation": 0,
    }


def test_a_changed_plan_subscribes_unsubscribes_and_updates_filters(world: World) -> None:
    # GIVEN a new version: one member leaves, one joins, one changes levels, a group goes
    doc = example_plan()
    tech = group(doc, "tech")
    tech["members"].pop()  # 马琳 leaves
    tech["members"].append(
        {"id": "new", "name": "新同事", "role": "member", "phone": "+8613800138042"}
    )
    tech["members"][0]["levels"] = ["I", "II", "III"]
    doc["groups"] = [g for g in doc["groups"] if g["id"] != "logistics"]
    doc["levels"][0]["alert_groups"].remove("logistics")

    report = world.save(doc)

    assert report is not None
    assert report["ok"] is True
    assert report["subscribed"] == 2  # on the tech topic and the ops topic
    assert report["unsubscribed"] == 2 + 2 + 2  # 马琳 sms+email on tech and ops; 罗斌 sms+email
    assert report["updated"] == 2
    assert set(world.subscriptions("tech")) == {
        ("sms", "+8613800138040"),
        ("email", "zheng.kai@example.org"),
        ("sms", "+8613800138042"),
    }
    assert world.subscriptions("tech")[("sms", "+8613800138040")]["level"] == ["I", "II", "III"]
    assert world.subscriptions("logistics") == {}


# -- outbox, retries, dedup ------------------------------------------------------------------


def test_a_publish_that_raises_is_retried_later_and_sent_once(world: World) -> None:
    # GIVEN SNS that cannot be reached for the next publish, and a probe on the office topic
    probe = world.queue_on("office", None)
    world.sns.failures = 1

    # WHEN an alert is sent to the office alone (level III: no HQ)
    [mid] = world.service.send(alert(level="III", groups=["office"]))

    # THEN it is in the outbox, pending, with the attempt and a later retry time
    item = world.service.outbox.get(mid)
    assert item is not None
    assert item["status"] == Status.PENDING
    assert item["attempts"] == 1
    assert item["last_error"] == "unavailable"
    assert item["next_attempt_at"] > item["created_at"]
    assert world.received(probe) == []

    # WHEN the schedule runs before the retry is due THEN nothing is published
    assert world.service.dispatch_due().published == 0

    # WHEN it runs after the backoff THEN the message is published once and marked sent
    world.clock.advance(2)
    assert world.service.dispatch_due().published == 1
    item = world.service.outbox.get(mid)
    assert item is not None
    assert item["status"] == Status.AWAITING_ACK
    assert item["attempts"] == 2
    assert item["sns_message_id"]
    # AND a later run, or a retry of the same id, publishes nothing more
    world.clock.advance(2)
    assert world.service.dispatch_due().published == 0
    assert world.service.retry_now(mid) == "skipped"
    assert len(world.received(probe)) == 1


def test_an_hour_without_sns_loses_no_alert_and_each_goes_out_once_soon_after_recovery(
    clients: AwsClients, settings: Settings
) -> None:
    # GIVEN production durations (time scale 1) and SNS unreachable from the start
    world = World(replace(settings, time_scale=1.0), clients)
    world.save(example_plan())
    world.sns.down = True
    raised = {
        0: alert(incident_key="inc-a", level="II"),
        7: alert(incident_key="inc-b", level="I"),
        23: alert(incident_key="inc-c", level="III", groups=["office"]),
        41: alert(incident_key="inc-d", level="IV", groups=["tech"]),
        59: alert(incident_key="inc-e", level="II", event="rose"),
    }
    ids: list[str] = []

    # WHEN, for an hour, alerts of every level are raised while the schedule runs every minute
    for minute in range(60):
        if minute in raised:
            ids += world.service.send(raised[minute])
        assert world.service.dispatch_due().published == 0
        world.clock.advance(60)

    # THEN nothing was lost: every message waits in the outbox, and the backlog says since when
    assert all(world.service.outbox.get(mid)["status"] == Status.PENDING for mid in ids)  # type: ignore[index]
    backlog = world.service.backlog()
    assert backlog.pending == len(ids) > 10
    assert backlog.oldest_age_seconds(world.clock.now) == 3600
    # AND the outage cost about one attempt a minute, not one per message per minute
    assert world.sns.attempts <= 60 + len(raised)

    # WHEN SNS comes back 17 s into a minute and the schedule goes on every minute
    world.clock.advance(17)
    recovered = world.clock.now
    world.sns.down = False
    world.clock.advance(43)
    for _ in range(3):
        world.service.dispatch_due()
        world.clock.advance(60)

    # THEN every alert is out, within 2 minutes of the recovery, and none went out twice
    for mid in ids:
        item = world.service.outbox.get(mid)
        assert item is not None
        assert item["status"] != Status.PENDING
        assert datetime.fromisoformat(item["sent_at"]) - recovered <= timedelta(minutes=2)
    assert world.service.backlog().pending == 0
    assert len(world.sns.delivered) == len(set(world.sns.delivered)) == len(ids)


def test_during_an_outage_one_send_tries_sns_once_and_leaves_the_rest_due(world: World) -> None:
    # GIVEN SNS unreachable
    world.sns.down = True

    # WHEN a level I alert is sent (the HQ and every group of level I)
    ids = world.service.send(alert(level="I"))

    # THEN SNS was tried once, not once per group (each try may cost a connect timeout)
    assert len(ids) > 3
    assert world.sns.attempts == 1
    items = [world.service.outbox.get(mid) for mid in ids]
    assert all(i is not None and i["status"] == Status.PENDING for i in items)
    # AND the untried ones are due at once for the schedule, whose first attempt is the probe
    untried = [i for i in items if i is not None and i["attempts"] == 0]
    assert len(untried) == len(ids) - 1
    assert all(i["next_attempt_at"] == i["created_at"] for i in untried)
    report = world.service.dispatch_due()
    assert (report.published, report.failed, report.held_back) == (0, 1, "unavailable")
    assert world.sns.attempts == 2

    # WHEN SNS is back THEN the next run publishes every due one
    world.sns.down = False
    world.clock.advance(60)
    assert world.service.dispatch_due().published == len(ids)


def test_a_run_publishes_at_most_its_limit_and_the_next_runs_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a limit of 2 a run, and a level I alert left pending by an outage, SNS now back
    monkeypatch.setattr(dispatch_module, "MAX_PUBLISH_PER_RUN", 2)
    world.sns.down = True
    ids = world.service.send(alert(level="I"))
    world.sns.down = False
    world.clock.advance(60)

    # WHEN the schedule runs THEN each run publishes 2 and says it held the rest back
    runs = [world.service.dispatch_due() for _ in range(len(ids) // 2 + 1)]
    assert [r.published for r in runs] == [2] * (len(ids) // 2) + [len(ids) % 2]
    assert runs[0].held_back == "run limit"
    assert runs[-1].held_back is None
    assert world.service.backlog().pending == 0
    assert len(world.sns.delivered) == len(set(world.sns.delivered)) == len(ids)


def test_the_same_event_twice_gives_one_message(world: World) -> None:
    probe = world.queue_on("publicity", None)
    first = world.service.send(alert())
    second = world.service.send(alert())
    assert first == second
    assert len(world.received(probe)) == 1
    assert len(world.service.outbox.by_incident("inc-1")) == len(first)


def test_levels_i_and_ii_always_reach_the_hq_and_groups_default_to_the_level(
    world: World,
) -> None:
    ids_ii = world.service.send(alert(groups=["office"]))
    ids_iii = world.service.send(alert(event="raised", level="III"))
    groups_ii = [world.service.outbox.get(i)["group"] for i in ids_ii]  # type: ignore[index]
    groups_iii = [world.service.outbox.get(i)["group"] for i in ids_iii]  # type: ignore[index]
    assert groups_ii == ["hq", "office"]
    assert groups_iii == ["office", "monitoring", "publicity"]  # the plan's III alert_groups


def test_a_level_iv_alert_does_not_reach_a_subscription_for_i_and_ii_only(world: World) -> None:
    # GIVEN a subscriber on the tech topic with 马琳's filter policy (levels I–II)
    contact = Contact("tech", "ma-lin", "马琳", "member", "sms", "+8613800138041", ("I", "II"))
    probe = world.queue_on("tech", filter_policy(contact))

    # WHEN a level IV and a level II alert go to the tech group
    world.service.send(alert(event="minor", level="IV", groups=["tech"]))
    world.service.send(alert(event="major", level="II", groups=["tech"]))

    # THEN SNS delivers only the level II one
    bodies = world.received(probe)
    assert len(bodies) == 1
    # AND the outbox names 马琳 as a recipient of the II alert only
    messages = world.service.list_messages(incident="inc-1", status=None, limit=50, live=True)
    tech = {m["event"]: m for m in messages if m["group"] == "tech"}
    assert "ma-lin" not in {r["member"] for r in tech["minor"]["recipients"]}
    assert "ma-lin" in {r["member"] for r in tech["major"]["recipients"]}
    assert {r["contact"] for r in tech["major"]["recipients"]} >= {"*********8041"}
    live = {s["endpoint"] for s in tech["major"]["live_subscriptions"]}
    assert "*********8041" in live
    assert "*********8041" not in {s["endpoint"] for s in tech["minor"]["live_subscriptions"]}


def test_drill_messages_are_marked(world: World) -> None:
    probe = world.queue_on("office", None)
    [mid] = world.service.send(alert(level="III", groups=["office"], drill=True))
    item = world.service.outbox.get(mid)
    assert item is not None
    assert item["sms"].startswith("【演练】")
    assert item["email_subject"].startswith("【演练】")
    assert item["drill"] is True
    [body] = world.received(probe)
    assert body.startswith("【演练】")  # SQS gets the default (e-mail) text


# -- repeats, escalation, ack ----------------------------------------------------------------


def test_an_unacknowledged_alert_repeats_and_escalates_until_acknowledged(world: World) -> None:
    # GIVEN the example policy (repeat every 10 min, escalate to office at 15, hq at 30) × 0.01
    assert world.settings.time_scale == 0.01
    [mid] = world.service.send(alert(level="III", groups=["publicity"]))

    world.clock.advance(6.5)  # 10 min × 0.01 = 6 s: first repeat
    assert world.service.dispatch_due().follow_ups == 1
    world.clock.advance(3)  # 9.5 s: past 15 min × 0.01 → escalate to the office
    assert world.service.dispatch_due().follow_ups == 1
    world.clock.advance(0.1)
    assert world.service.dispatch_due().follow_ups == 0  # nothing new is due

    kinds = sorted(
        (m["kind"], m["group"]) for m in world.service.outbox.by_incident("inc-1") if m["pk"] != mid
    )
    assert kinds == [("escalation", "office"), ("repeat", "publicity")]

    # WHEN the publicity lead acknowledges a repeat THEN the alert stops
    repeat = next(m for m in world.service.outbox.by_incident("inc-1") if m["kind"] == "repeat")
    assert world.service.acknowledge(repeat["pk"], "高敏", group="publicity") == [mid]
    world.clock.advance(60)
    assert world.service.dispatch_due().follow_ups == 0
    root = world.service.outbox.get(mid)
    assert root is not None
    assert root["status"] == Status.ACKED
    assert root["acked_by"] == "高敏"


def test_repeats_and_escalation_end_when_the_policy_is_exhausted(world: World) -> None:
    [mid] = world.service.send(alert(level="III", groups=["office"]))
    for _ in range(10):
        world.clock.advance(7)
        world.service.dispatch_due()
    root = world.service.outbox.get(mid)
    assert root is not None
    assert root["status"] == Status.EXPIRED
    assert root["repeats"] == 3
    assert root["escalation_step"] == 2
    others = [m for m in world.service.outbox.by_incident("inc-1") if m["pk"] != mid]
    assert len(others) == 3 + 1 + 1  # three repeats, office once, hq once
    assert all(m["status"] == Status.SENT for m in others)


def test_only_the_alerted_group_or_the_hq_may_acknowledge(world: World) -> None:
    ids = world.service.send(alert(groups=["office"]))
    with pytest.raises(ForbiddenError):
        world.service.acknowledge(ids[1], "某人", group="tech")
    assert world.service.acknowledge_incident("inc-1", "值班员", group="office") == [ids[1]]
    assert world.service.acknowledge_incident("inc-1", "指挥部", group=None) == [ids[0]]
    assert world.service.acknowledge_incident("inc-1", "指挥部", group=None) == []


# -- spend guard -----------------------------------------------------------------------------


def test_above_the_daily_sms_cap_alerts_go_by_email_and_the_hq_is_told_once(
    world: World,
) -> None:
    # GIVEN a cap of 3 SMS a day (the office and monitoring groups have 2 SMS contacts each)
    doc = example_plan()
    doc["alerting"]["sms_daily_cap"] = 3
    world.save(doc)

    first = world.service.send(alert(event="a", level="III", groups=["office"]))
    second = world.service.send(alert(event="b", level="III", groups=["monitoring"]))
    third = world.service.send(alert(event="c", level="III", groups=["monitoring"]))

    def channels(ids: list[str]) -> list[list[str]]:
        return [world.service.outbox.get(i)["channels"] for i in ids]  # type: ignore[index]

    assert channels(first) == [["sms", "email"]]
    assert channels(second) == [["email"]]
    assert channels(third) == [["email"]]
    notices = world.service.outbox.by_incident("system")
    assert [(n["group"], n["channels"]) for n in notices] == [("hq", ["email"])]
    assert world.service._counter.spent("2026-03-02") == 2


# -- the backlog as metrics ------------------------------------------------------------------


def test_the_dispatch_schedule_emits_the_backlog_as_metrics(
    api_client: Client,
    clients: AwsClients,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN metrics switched on, and two messages waiting, the older written 10 minutes ago
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    outbox = OutboxStore(clients.table(settings.tables.outbox))
    now = datetime.now(UTC)
    for pk, age in (("m-old", 600), ("m-new", 5)):
        outbox.put_new(
            {
                "pk": pk,
                "status": Status.PENDING.value,
                "created_at": (now - timedelta(seconds=age)).isoformat(),
                "next_attempt_at": (now + timedelta(hours=1)).isoformat(),  # not retried now
                "incident_id": "inc-1",
            }
        )
    metrics.clear_metrics()  # what earlier calls left (a disabled flush keeps them)
    capsys.readouterr()

    # WHEN the alert_dispatch schedule runs (called as Lambda calls it: chalice.test.Client
    # would put back the local stage's POWERTOOLS_METRICS_DISABLED for the call)
    event = scheduled_event(api_client)
    result = alert_dispatch(event, None)

    assert result["backlog"]["pending"] == 2
    emitted = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    # (EMF gives one value as a number or a one-element list)
    values = {
        k: v if isinstance(v, list) else [v]
        for doc in emitted
        for k, v in doc.items()
        if k in METRIC_NAMES
    }
    assert values[PENDING_ALERTS] == [2]
    [age] = values[OLDEST_PENDING_ALERT_AGE]
    assert 600 <= age <= 660
    declared = [
        m for doc in emitted for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    ]
    assert {"Name": OLDEST_PENDING_ALERT_AGE, "Unit": "Seconds"} in declared


# -- reading the outbox ------------------------------------------------------------------------


class SentBetweenReads(OutboxStore):
    """An outbox whose dispatch publishes every pending message right after ``GET /outbox`` has
    read the pending ones: the race happens every time instead of now and then."""

    def __init__(self, table: Any, publish: Callable[[], object]) -> None:
        super().__init__(table)
        self._publish = publish

    def by_status(self, status: Status, limit: int = 500) -> list[dict[str, Any]]:
        found = super().by_status(status, limit)
        if status is Status.PENDING:
            self._publish()
        return found


def test_a_message_sent_while_the_outbox_is_read_is_listed_once_at_its_newer_status(
    world: World,
) -> None:
    # GIVEN a level II alert still pending (SNS refused its first publish), which dispatch
    # publishes while the outbox is between its reads of 待发送 and 待确认
    world.sns.failures = 1
    ids = world.service.send(alert())
    assert {world.service.outbox.get(i)["status"] for i in ids} == {"pending"}  # type: ignore[index]

    def publish() -> None:
        world.clock.advance(60)
        world.service.dispatch_due()

    racing = world.service_over(
        SentBetweenReads(world.clients.table(world.settings.tables.outbox), publish)
    )

    # WHEN the whole outbox is listed
    listed = racing.list_messages(incident=None, status=None, limit=100, live=False)

    # THEN each message appears once, at the status it has now
    assert sorted(m["message_id"] for m in listed) == sorted(ids)
    assert {m["status"] for m in listed} == {"awaiting_ack"}
