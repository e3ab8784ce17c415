"""SNS topics and subscriptions reconciled with the plan: one topic for the 指挥部, one per group.

On every plan save, each group's topic (``yuqing-<stage>-group-<id>``; the HQ's is the stage's
``hq`` topic) is created if missing and its subscriptions made equal to the plan: each contact
subscribed by SMS and/or e-mail with a filter policy on ``level`` and ``channel``, changed
policies updated, removed contacts (and every contact of a removed group) unsubscribed. The ops
topic gets the ops group's contacts without a filter (CloudWatch alarms carry no attributes).
Reconciling an unchanged plan makes no create, subscribe, unsubscribe or update call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.alerts.models import filter_policy
from chalicelib.alerts.store import PlanCache, SystemMarks
from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import NotFoundError, YuqingError, aws_errors
from chalicelib.core.observability import logger, mask_contact
from chalicelib.core.settings import Settings
from chalicelib.plan.models import HQ_GROUP, PlanView


@dataclass(frozen=True)
class Subscription:
    arn: str
    protocol: str
    endpoint: str
    filter_policy: dict[str, Any] | None

    @property
    def confirmed(self) -> bool:
        # E-mail subscriptions are "PendingConfirmation" until the recipient clicks the link;
        # they cannot be changed or removed until then.
        return self.arn.startswith("arn:")


class SnsGateway:
    """Data access for SNS; takes the client and an ARN resolver in the constructor."""

    def __init__(self, sns: Any, topic_arn: Any) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    @classmethod
    def of(cls, clients: AwsClients) -> SnsGateway:
        return cls(clients.client("sns"), clients.topic_arn)

    def arn(self, name: str) -> str:
        return str(self._topic_arn(name))

    def topic_exists(self, arn: str) -> bool:
        try:
            with aws_errors(f"topic {arn}"):
                self._sns.get_topic_attributes(TopicArn=arn)
        except NotFoundError:
            return False
        return True

    def create_topic(self, name: str, display_name: str) -> str:
        with aws_errors(f"topic {name}"):
            made = self._sns.create_topic(Name=name, Attributes={"DisplayName": display_name[:100]})
        return str(made["TopicArn"])

    def subscriptions(self, arn: str) -> list[Subscription]:
        found: list[Subscription] = []
        kwargs: dict[str, Any] = {"TopicArn": arn}
        while True:
            with aws_errors(f"topic {arn}"):
                page = self._sns.list_subscriptions_by_topic(**kwargs)
            for sub in page.get("Subscriptions", []):
                policy = None
                if sub["SubscriptionArn"].startswith("arn:"):
                    with aws_errors("subscription"):
                        attrs = self._sns.get_subscription_attributes(
                            SubscriptionArn=sub["SubscriptionArn"]
                        )["Attributes"]
                    policy = json.loads(attrs["FilterPolicy"]) if "FilterPolicy" in attrs else None
                found.append(
                    Subscription(sub["SubscriptionArn"], sub["Protocol"], sub["Endpoint"], policy)
                )
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]

    def subscribe(
        self, arn: str, protocol: str, endpoint: str, policy: dict[str, Any] | None
    ) -> None:
        attributes = {"FilterPolicy": json.dumps(policy)} if policy else {}
        with aws_errors(f"subscribe to {arn}"):
            self._sns.subscribe(
                TopicArn=arn,
                Protocol=protocol,
                Endpoint=endpoint,
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )

    def set_filter_policy(self, subscription_arn: str, policy: dict[str, Any] | None) -> None:
        with aws_errors("subscription"):
            self._sns.set_subscription_attributes(
                SubscriptionArn=subscription_arn,
                AttributeName="FilterPolicy",
                AttributeValue=json.dumps(policy or {}),
            )

    def unsubscribe(self, subscription_arn: str) -> None:
        with aws_errors("subscription"):
            self._sns.unsubscribe(SubscriptionArn=subscription_arn)

    def publish(
        self, arn: str, *, sms: str, email_subject: str, email_body: str, attributes: Any
    ) -> str:
        """One publish with a text per protocol; returns the SNS message id."""
        message = {"default": email_body, "email": email_body, "sms": sms}
        with aws_errors(f"publish to {arn}"):
            result = self._sns.publish(
                TopicArn=arn,
                Message=json.dumps(message, ensure_ascii=False),
                MessageStructure="json",
                Subject=email_subject,
                MessageAttributes=attributes,
            )
        return str(result["MessageId"])

    def publish_text(
        self, arn: str, *, subject: str, text: str, attributes: Mapping[str, str]
    ) -> str:
        """One plain publish, the same text for every protocol (the ops topic's fallback, where
        CloudWatch alarms go too); string attributes. Returns the SNS message id."""
        with aws_errors(f"publish to {arn}"):
            result = self._sns.publish(
                TopicArn=arn,
                Subject=subject[:99],
                Message=text,
                MessageAttributes={
                    k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
                },
            )
        return str(result["MessageId"])

    def confirmed_subscriptions(self, arn: str) -> str:
        """How many subscriptions of the topic are confirmed, as SNS counts them (``/health``)."""
        with aws_errors(f"topic {arn}"):
            attributes = self._sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        return str(attributes.get("SubscriptionsConfirmed", "0"))


def group_topic_name(settings: Settings, group_id: str) -> str:
    if group_id == HQ_GROUP:
        return settings.hq_topic
    return f"yuqing-{settings.stage}-group-{group_id}"


@dataclass
class ReconcileReport:
    topics_created: list[str] = field(default_factory=list)
    subscribed: int = 0
    unsubscribed: int = 0
    updated: int = 0
    pending_confirmation: int = 0

    @property
    def changes(self) -> int:
        return len(self.topics_created) + self.subscribed + self.unsubscribed + self.updated

    def as_dict(self) -> dict[str, Any]:
        return {
            "topics_created": self.topics_created,
            "subscribed": self.subscribed,
            "unsubscribed": self.unsubscribed,
            "updated": self.updated,
            "pending_confirmation": self.pending_confirmation,
        }


Desired = Mapping[tuple[str, str], dict[str, Any] | None]


class Reconciler:
    def __init__(self, settings: Settings, gateway: SnsGateway) -> None:
        self._settings = settings
        self._sns = gateway

    @classmethod
    def build(cls, settings: Settings, clients: AwsClients) -> Reconciler:
        return cls(settings, SnsGateway.of(clients))

    def reconcile(self, plan: PlanView, previous: PlanView | None = None) -> ReconcileReport:
        report = ReconcileReport()
        for group_id in plan.group_ids():
            group = plan.group(group_id) or {}
            desired = {(c.channel, c.endpoint): filter_policy(c) for c in plan.contacts(group_id)}
            name = group_topic_name(self._settings, group_id)
            self._topic(name, str(group.get("name", group_id)), desired, report)
        gone = set(previous.group_ids()) - set(plan.group_ids()) if previous else set()
        for group_id in sorted(gone):
            arn = self._sns.arn(group_topic_name(self._settings, group_id))
            if self._sns.topic_exists(arn):
                self._subscriptions(arn, {}, report)
        ops = plan.ops_group
        ops_desired: dict[tuple[str, str], dict[str, Any] | None] = (
            {(c.channel, c.endpoint): None for c in plan.contacts(ops)} if ops else {}
        )
        self._topic(self._settings.ops_topic, "技术保障", ops_desired, report)
        return report

    def _topic(self, name: str, display: str, desired: Desired, report: ReconcileReport) -> None:
        arn = self._sns.arn(name)
        if not self._sns.topic_exists(arn):
            arn = self._sns.create_topic(name, display)
            report.topics_created.append(name)
        self._subscriptions(arn, desired, report)

    def _subscriptions(self, arn: str, desired: Desired, report: ReconcileReport) -> None:
        existing = self._sns.subscriptions(arn)
        ours = [s for s in existing if s.protocol in ("sms", "email")]
        have = {(s.protocol, s.endpoint): s for s in ours}
        for (protocol, endpoint), policy in desired.items():
            sub = have.get((protocol, endpoint))
            if sub is None:
                self._sns.subscribe(arn, protocol, endpoint, policy)
                report.subscribed += 1
                logger.info("subscribed", extra={"topic": arn, "endpoint": mask_contact(endpoint)})
            elif not sub.confirmed:
                report.pending_confirmation += 1
            elif sub.filter_policy != policy:
                self._sns.set_filter_policy(sub.arn, policy)
                report.updated += 1
        for key, sub in have.items():
            if key not in desired and sub.confirmed:
                self._sns.unsubscribe(sub.arn)
                report.unsubscribed += 1
                logger.info(
                    "unsubscribed", extra={"topic": arn, "endpoint": mask_contact(sub.endpoint)}
                )


class PlanReconciliation:
    """Reconciling on every plan save, and catching up when that failed: the plan version last
    reconciled is kept in the system table, and the ``alert_dispatch`` schedule reconciles any
    newer plan (a save is never failed for SNS; the schedule owns what it could not do)."""

    def __init__(
        self,
        reconciler: Reconciler,
        plans: PlanCache,
        marks: SystemMarks,
        clock: Clock = utcnow,
    ) -> None:
        self.reconciler = reconciler
        self._plans = plans
        self._marks = marks
        self._clock = clock

    def reconcile_plan(self, plan: PlanView, previous: PlanView | None) -> dict[str, Any]:
        """``PlanService.after_save``: reconcile now; on failure the schedule catches up."""
        try:
            report = self.reconciler.reconcile(plan, previous)
        except YuqingError as err:
            logger.error(
                "plan reconciliation failed; the schedule will retry",
                extra={"version": plan.version, "error": err.code},
            )
            return {"ok": False, "error": err.code, "version": plan.version}
        self._marks.set_reconciled_version(plan.version, iso(self._clock()))
        return {"ok": True, "version": plan.version, **report.as_dict()}

    def catch_up(self) -> dict[str, Any] | None:
        """Reconcile the latest plan if a save's reconciliation failed; None: nothing to do."""
        latest = self._plans.store.latest()
        if latest is None:
            return None
        done = self._marks.reconciled_version()
        if done >= latest.version:
            return None
        previous = self._plans.version(done) if done else None
        return self.reconcile_plan(PlanView(latest.doc, latest.version), previous)
