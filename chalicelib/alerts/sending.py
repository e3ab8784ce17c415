"""Sending an alert (发送告警): the outbox first, then one lease, publish and mark per message.

Alertmanager / PagerDuty behaviour over SNS:

- **Outbox first.** ``send`` writes one pending message per group (id = hash of incident, event,
  level, group; a repeated event writes nothing), then tries to publish at once. A publish that
  fails stays pending with ``attempts`` and a backed-off ``next_attempt_at``
  (:func:`chalicelib.alerts.policy.backoff`); the ``alert_dispatch`` schedule retries it. Once a
  message is in the outbox, nothing that goes wrong while publishing fails ``send``: the
  schedule owns it. An SNS outage delays alerts but loses none; a message is leased before
  publishing and marked sent conditionally (that mark retried, DynamoDB may be throttling), so
  it is not published twice — except if a process dies, or the outbox stays unwritable, between
  publishing and marking, after which the lease expires: at least once, never lost (decision 72).
- **An outage costs one attempt, not one per message.** After SNS answers "unavailable" or
  "throttled", the same sender (one request, one workflow step, one dispatch run) publishes
  nothing more: the rest stay pending and due, so a workflow step is not held up by one timeout
  per group, and the next run's first attempt is the probe.
- **SMS spend guard.** SMS recipients are counted per day (China time) against the plan's
  ``sms_daily_cap``; a message that would pass the cap goes by e-mail only, and the 指挥部 is told
  once per day by e-mail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.alerts import render
from chalicelib.alerts.models import (
    AlertRequest,
    Kind,
    Status,
    filter_policy,
    message_attributes,
    message_id,
    policy_matches,
)
from chalicelib.alerts.policy import backoff, next_follow_up
from chalicelib.alerts.store import OutboxStore, PlanCache, SmsCounter
from chalicelib.alerts.topics import SnsGateway, group_topic_name
from chalicelib.core.clock import CHINA, Clock, iso, utcnow
from chalicelib.core.errors import (
    Problem,
    ThrottledError,
    UnavailableError,
    ValidationError,
    YuqingError,
)
from chalicelib.core.observability import logger
from chalicelib.core.settings import Settings
from chalicelib.plan.models import HQ_GROUP, HQ_LEVELS, Contact, PlanView

LEASE = timedelta(seconds=60)
# Marking a published message sent is retried this many times (after botocore's own retries),
# sleeping 0.2 s, 0.4 s … between: a throttled outbox must not turn into a second SMS.
MARK_ATTEMPTS = 5
MARK_PAUSE_S = 0.2
ALL_CHANNELS = ("sms", "email")
SYSTEM_INCIDENT = "system"
# SNS errors that say the service, not this message, is the problem: stop publishing for now.
OUTAGE_ERRORS = (UnavailableError, ThrottledError)
OUTAGE_HOLD = timedelta(seconds=60)


def china_day(moment: datetime) -> str:
    return moment.astimezone(CHINA).date().isoformat()


def recipients(plan: PlanView, item: Mapping[str, Any]) -> list[Contact]:
    """The contacts of the message's group whose subscription filter matches the message."""
    attributes = outbox_attributes(item)
    return [
        c for c in plan.contacts(str(item["group"])) if policy_matches(filter_policy(c), attributes)
    ]


def outbox_attributes(item: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The SNS message attributes of an outbox message (what subscription filters match)."""
    return message_attributes(
        level=str(item["level"]),
        incident=str(item["incident_id"]),
        drill=bool(item.get("drill")),
        channels=list(item.get("channels") or ALL_CHANNELS),
        event=str(item["event"]),
    )


class Sender:
    """Writes messages to the outbox and publishes them: one instance per request, workflow
    step or dispatch run (its outage state is that run's)."""

    def __init__(
        self,
        settings: Settings,
        *,
        outbox: OutboxStore,
        plans: PlanCache,
        gateway: SnsGateway,
        counter: SmsCounter,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._outbox = outbox
        self._plans = plans
        self._sns = gateway
        self._counter = counter
        self._clock = clock
        self._sleep = sleep
        # Set when SNS answered "unavailable" or "throttled": this instance publishes nothing
        # more until OUTAGE_HOLD has passed (or a dispatch run starts, which probes afresh).
        self.outage: str | None = None
        self._outage_until = datetime.min.replace(tzinfo=UTC)

    def probe_afresh(self) -> None:
        """Forget an outage seen before: the next publish is the probe (a dispatch run)."""
        self.outage = None

    def send(self, request: AlertRequest) -> list[str]:
        """Write the alert's messages to the outbox and publish them; returns their ids."""
        request.check()
        plan = self._plans.current()
        render.sms_text(plan, request)  # unknown template or missing variables: 400 now
        level = plan.level(request.level) or {}
        groups = list(dict.fromkeys(request.groups or level.get("alert_groups", [])))
        unknown = [
            Problem(f"/groups/{i}", f"unknown group {g!r}")
            for i, g in enumerate(groups)
            if plan.group(g) is None
        ]
        if unknown:
            raise ValidationError("the alert names groups the plan does not have", unknown)
        if request.level in HQ_LEVELS and HQ_GROUP not in groups:
            groups.insert(0, HQ_GROUP)
        now = self._clock()
        items = []
        for group in groups:
            subject, body = render.email(plan, request, group)
            items.append(
                self.message(
                    plan,
                    now,
                    kind=Kind.ALERT,
                    incident=request.incident_key,
                    event=request.event,
                    level=request.level,
                    group=group,
                    drill=request.drill,
                    sms=render.sms_text(plan, request),
                    email_subject=subject,
                    email_body=body,
                    requires_ack=request.requires_ack,
                )
            )
        self.create_and_publish(plan, items, now)
        return [str(i["pk"]) for i in items]

    def message(
        self,
        plan: PlanView,
        now: datetime,
        *,
        kind: Kind,
        incident: str,
        event: str,
        level: str,
        group: str,
        drill: bool,
        sms: str,
        email_subject: str,
        email_body: str,
        requires_ack: bool = False,
        root: str | None = None,
        channels: Sequence[str] = ALL_CHANNELS,
    ) -> dict[str, Any]:
        """A new outbox message, pending and due now."""
        mid = message_id(incident, event, level, group)
        return {
            "pk": mid,
            "kind": kind.value,
            "incident_id": incident,
            "event": event,
            "level": level,
            "group": group,
            "topic": group_topic_name(self._settings, group),
            "drill": drill,
            "status": Status.PENDING.value,
            "created_at": iso(now),
            "next_attempt_at": iso(now),
            "attempts": 0,
            "channels": list(channels),
            "sms": sms,
            "email_subject": email_subject,
            "email_body": email_body,
            "plan_version": plan.version,
            "requires_ack": requires_ack and kind is Kind.ALERT,
            "root": root or mid,
            "repeats": 0,
            "escalation_step": 0,
        }

    def create_and_publish(
        self, plan: PlanView, items: Sequence[dict[str, Any]], now: datetime
    ) -> None:
        """Write the messages not in the outbox yet (SMS counted against the daily cap), then
        publish each one written now."""
        created = []
        capped = False
        cap = plan.sms_daily_cap
        for item in items:
            if self._outbox.get(str(item["pk"])) is not None:
                continue  # the same event again: nothing new
            if "sms" in item["channels"] and cap is not None:
                sms_count = sum(1 for c in recipients(plan, item) if c.channel == "sms")
                if not self._counter.try_spend(china_day(now), sms_count, cap):
                    item["channels"] = ["email"]
                    item["degraded"] = True
                    capped = True
            if self._outbox.put_new(item):
                created.append(item)
        if capped:
            created += self._cap_notice(plan, now)
        for item in created:
            self._publish_or_leave(item, now)

    def _cap_notice(self, plan: PlanView, now: datetime) -> list[dict[str, Any]]:
        """Tell the 指挥部 by e-mail, once per day, that SMS now goes by e-mail."""
        day = china_day(now)
        text = f"今日短信已达上限（{plan.sms_daily_cap} 条），其余告警改为仅发邮件。"
        notice = self._hq_email(
            plan,
            now,
            key=SYSTEM_INCIDENT,
            event=f"sms-cap-{day}",
            subject=f"短信日上限已到（{day}）",
            body=text + "\n请检查告警是否过多，或在预案 alerting.sms_daily_cap 中调整上限。\n",
        )
        logger.warning("SMS daily cap reached; degrading to e-mail", extra={"day": day})
        return [notice] if self._outbox.put_new(notice) else []

    def _hq_email(
        self, plan: PlanView, now: datetime, *, key: str, event: str, subject: str, body: str
    ) -> dict[str, Any]:
        """An informational e-mail to the 指挥部 (no SMS, no ack), keyed by (key, event)."""
        return self.message(
            plan,
            now,
            kind=Kind.NOTICE,
            incident=key,
            event=event,
            level="I",  # every HQ member's filter includes I
            group=HQ_GROUP,
            drill=False,
            sms=body.split("\n", 1)[0][:70],
            email_subject=" ".join(f"[{plan.name}] {subject}".split())[:99],
            email_body=body,
            channels=["email"],
        )

    def notify_hq(self, *, key: str, event: str, subject: str, body: str) -> str | None:
        """E-mail the 指挥部 once per (key, event): the message id if written now, None if it
        was already in the outbox (a repeated call sends nothing twice)."""
        now = self._clock()
        notice = self._hq_email(
            self._plans.current(), now, key=key, event=event, subject=subject, body=body
        )
        if not self._outbox.put_new(notice):
            return None
        self._publish_or_leave(notice, now)
        return str(notice["pk"])

    def _publish_or_leave(self, item: Mapping[str, Any], now: datetime) -> str:
        """Publish a message just written; whatever fails, it stays in the outbox for the
        schedule, and the caller (an API request, a workflow step) is not failed for it."""
        try:
            return self.publish(item, now)
        except YuqingError as err:  # the outbox refused the lease or the mark
            logger.warning(
                "alert left for the dispatcher",
                extra={"message_id": item["pk"], "error": err.code},
            )
            return "deferred"

    def publish(self, item: Mapping[str, Any], now: datetime) -> str:
        """Lease, publish, mark: "published", "failed", "skipped" or "deferred" (not tried:
        SNS is known to be failing). Raises only if the outbox refuses the lease."""
        if self.outage is not None and now < self._outage_until:
            return "deferred"
        mid = str(item["pk"])
        claimed = self._outbox.claim(mid, str(item["next_attempt_at"]), iso(now + LEASE))
        if claimed is None:
            return "skipped"  # someone else is publishing it or already did
        try:
            sns_id = self._sns.publish(
                self._sns.arn(str(claimed["topic"])),
                sms=str(claimed["sms"]),
                email_subject=str(claimed["email_subject"]),
                email_body=str(claimed["email_body"]),
                attributes=outbox_attributes(claimed),
            )
        except YuqingError as err:
            if isinstance(err, OUTAGE_ERRORS):
                self.outage, self._outage_until = err.code, now + OUTAGE_HOLD
            attempts = int(claimed.get("attempts", 0)) + 1
            next_at = now + backoff(attempts, self._settings.time_scale)
            logger.warning(
                "alert publish failed; will retry",
                extra={"message_id": mid, "attempts": attempts, "error": err.code},
            )
            self._outbox.mark_failed(mid, error=err.code, next_at=iso(next_at))
            return "failed"
        self.outage = None
        needs_ack = bool(claimed.get("requires_ack")) and not claimed.get("acked_at")
        follow = self.next_follow_up(claimed, now) if needs_ack else None
        if needs_ack and follow is not None:
            status, next_at = Status.AWAITING_ACK, follow
        elif claimed.get("acked_at"):
            status, next_at = Status.ACKED, now
        else:
            status, next_at = Status.SENT, now
        self._mark_published(
            mid, status=status, sns_message_id=sns_id, sent_at=iso(now), next_at=iso(next_at)
        )
        return "published"

    def next_follow_up(self, item: Mapping[str, Any], sent_at: datetime) -> datetime | None:
        """When the alert is next repeated or escalated, under the current plan's policy."""
        policy = self._plans.current().escalation
        return next_follow_up(policy, item, sent_at, self._settings.time_scale)

    def _mark_published(self, mid: str, **mark: Any) -> None:
        """Record a publish that happened. SNS cannot take a message back, so this write is
        retried: left unwritten, the lease would expire and the message go out again."""
        for attempt in range(1, MARK_ATTEMPTS + 1):
            try:
                self._outbox.mark_published(mid, **mark)
                return
            except OUTAGE_ERRORS as err:
                if attempt == MARK_ATTEMPTS:
                    logger.error(
                        "alert published but not marked; it may go out once more",
                        extra={"message_id": mid, "error": err.code},
                    )
                    return
                self._sleep(MARK_PAUSE_S * 2 ** (attempt - 1))
