"""Alert use cases: send through the outbox, publish with retries, repeat, escalate, acknowledge.

Alertmanager / PagerDuty behaviour over SNS:

- **Outbox first.** ``send`` writes one pending message per group (id = hash of incident, event,
  level, group; a repeated event writes nothing), then tries to publish at once. A publish that
  fails stays pending with ``attempts`` and a backed-off ``next_attempt_at`` (30 s doubling to
  at most 2 minutes, every level); the ``alert_dispatch`` schedule retries it. Once a message is
  in the outbox, nothing that goes wrong while publishing fails ``send``: the schedule owns it.
  An SNS outage delays alerts but loses none; a message is leased before publishing and marked
  sent conditionally (that mark retried, DynamoDB may be throttling), so it is not published
  twice — except if a process dies, or the outbox stays unwritable, between publishing and
  marking, after which the lease expires: at least once, never lost (decision 72).
- **An outage costs one attempt, not one per message.** After SNS answers "unavailable" or
  "throttled", the same service instance (one request, one workflow step, one dispatch run)
  publishes nothing more: the rest stay pending and due, so a workflow step is not held up by
  one timeout per group, and the next run's first attempt is the probe. The run that finds SNS
  back publishes every due message (up to ``MAX_PUBLISH_PER_RUN``). The backlog — how many are
  pending and since when — is what ``/health``, the dashboard and the ``OldestPendingAlertAge``
  metric show.
- **Grouping per incident, repeat, escalate.** An alert that needs an ack is ``awaiting_ack``
  after publishing; while unacknowledged it is repeated to its group every
  ``repeat_interval_minutes`` (at most ``max_repeats``) and escalated to the groups of each
  escalation step once ``after_minutes`` have passed since it was sent. Acknowledging the alert
  (or every alert of the incident) stops both. All plan durations are × ``time_scale``.
- **SMS spend guard.** SMS recipients are counted per day (China time) against the plan's
  ``sms_daily_cap``; a message that would pass the cap goes by e-mail only, and the 指挥部 is told
  once per day by e-mail.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.alerts import render
from chalicelib.alerts.models import (
    AlertRequest,
    Backlog,
    Kind,
    Status,
    filter_policy,
    message_attributes,
    message_id,
    policy_matches,
)
from chalicelib.alerts.outbox import OutboxStore, SmsCounter, SystemMarks
from chalicelib.alerts.topics import Reconciler, SnsGateway, group_topic_name
from chalicelib.core.aws import AwsClients, get_clients
from chalicelib.core.clock import CHINA, Clock, iso, utcnow
from chalicelib.core.errors import (
    ForbiddenError,
    NotFoundError,
    Problem,
    ThrottledError,
    UnavailableError,
    ValidationError,
    YuqingError,
)
from chalicelib.core.observability import logger, mask_contact
from chalicelib.core.settings import Settings, get_settings
from chalicelib.plan.models import HQ_GROUP, HQ_LEVELS, Contact, PlanView
from chalicelib.plan.store import PlanStore

LEASE = timedelta(seconds=60)
BACKOFF_BASE_S = 30.0
# The longest wait between two attempts at one message, for every level (decision 72): after SNS
# comes back, every alert is out within this (plus one schedule tick for those the outage
# breaker held back, which are due all along).
BACKOFF_MAX_S = 120.0
# One dispatch run publishes at most this many messages (~4 calls each): well inside the
# function's 60 s even after an hour's backlog; the next minute's run takes the rest.
MAX_PUBLISH_PER_RUN = 500
# Marking a published message sent is retried this many times (after botocore's own retries),
# sleeping 0.2 s, 0.4 s … between: a throttled outbox must not turn into a second SMS.
MARK_ATTEMPTS = 5
MARK_PAUSE_S = 0.2
ALL_CHANNELS = ("sms", "email")
SYSTEM_INCIDENT = "system"
# SNS errors that say the service, not this message, is the problem: stop publishing for now.
OUTAGE_ERRORS = (UnavailableError, ThrottledError)
OUTAGE_HOLD = timedelta(seconds=60)


@dataclass
class DispatchReport:
    published: int = 0
    failed: int = 0
    # Why the run stopped publishing before the end ("unavailable", "throttled": SNS failing,
    # or the outbox refusing a lease); the messages not tried stay pending and due.
    held_back: str | None = None
    follow_ups: int = 0
    reconciled: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    backlog: dict[str, Any] | None = None  # Backlog.as_dict after the run (None: unreadable)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backoff(attempts: int, time_scale: float) -> timedelta:
    """30 s, 60 s, then 120 s for every further attempt, × the time scale (at least 1 s)."""
    seconds = min(BACKOFF_BASE_S * 2 ** max(attempts - 1, 0), BACKOFF_MAX_S) * time_scale
    return timedelta(seconds=max(seconds, 1.0))


def china_day(moment: datetime) -> str:
    return moment.astimezone(CHINA).date().isoformat()


def recipients(plan: PlanView, item: Mapping[str, Any]) -> list[Contact]:
    """The contacts of the message's group whose subscription filter matches the message."""
    attributes = _attributes(item)
    return [
        c for c in plan.contacts(str(item["group"])) if policy_matches(filter_policy(c), attributes)
    ]


def _attributes(item: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    return message_attributes(
        level=str(item["level"]),
        incident=str(item["incident_id"]),
        drill=bool(item.get("drill")),
        channels=list(item.get("channels") or ALL_CHANNELS),
        event=str(item["event"]),
    )


class AlertService:
    def __init__(
        self,
        settings: Settings,
        *,
        outbox: OutboxStore,
        plans: PlanStore,
        gateway: SnsGateway,
        counter: SmsCounter,
        marks: SystemMarks,
        clock: Clock = utcnow,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self.outbox = outbox
        self._plans = plans
        self._sns = gateway
        self._counter = counter
        self._marks = marks
        self._clock = clock
        self._sleep = sleep
        self.reconciler = Reconciler(settings, gateway)
        self._plan_cache: dict[int, PlanView] = {}
        # Set when SNS answered "unavailable" or "throttled": this instance publishes nothing
        # more until OUTAGE_HOLD has passed (or a dispatch run starts, which probes afresh).
        self._sns_outage: str | None = None
        self._sns_outage_until = datetime.min.replace(tzinfo=UTC)

    # -- plans -------------------------------------------------------------------------------
    def _current_plan(self) -> PlanView:
        latest = self._plans.latest()
        if latest is None:
            raise UnavailableError("no plan is stored yet; alerts need the plan's groups")
        view = PlanView(latest.doc, latest.version)
        self._plan_cache[latest.version] = view
        return view

    def plan_version(self, version: int) -> PlanView | None:
        if version not in self._plan_cache:
            found = self._plans.get(version)
            if found is None:
                return None
            self._plan_cache[version] = PlanView(found.doc, found.version)
        return self._plan_cache[version]

    # -- sending -----------------------------------------------------------------------------
    def send(self, request: AlertRequest) -> list[str]:
        """Write the alert's messages to the outbox and publish them; returns their ids."""
        request.check()
        plan = self._current_plan()
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
                self._item(
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
        self._create_and_publish(plan, items, now)
        return [str(i["pk"]) for i in items]

    def _item(
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

    def _create_and_publish(
        self, plan: PlanView, items: Sequence[dict[str, Any]], now: datetime
    ) -> None:
        created = []
        capped = False
        cap = plan.sms_daily_cap
        for item in items:
            if self.outbox.get(str(item["pk"])) is not None:
                continue  # the same event again: nothing new
            if "sms" in item["channels"] and cap is not None:
                sms_count = sum(1 for c in recipients(plan, item) if c.channel == "sms")
                if not self._counter.try_spend(china_day(now), sms_count, cap):
                    item["channels"] = ["email"]
                    item["degraded"] = True
                    capped = True
            if self.outbox.put_new(item):
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
        return [notice] if self.outbox.put_new(notice) else []

    def _hq_email(
        self, plan: PlanView, now: datetime, *, key: str, event: str, subject: str, body: str
    ) -> dict[str, Any]:
        """An informational e-mail to the 指挥部 (no SMS, no ack), keyed by (key, event)."""
        return self._item(
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
            self._current_plan(), now, key=key, event=event, subject=subject, body=body
        )
        if not self.outbox.put_new(notice):
            return None
        self._publish_or_leave(notice, now)
        return str(notice["pk"])

    def _publish_or_leave(self, item: Mapping[str, Any], now: datetime) -> str:
        """Publish a message just written; whatever fails, it stays in the outbox for the
        schedule, and the caller (an API request, a workflow step) is not failed for it."""
        try:
            return self._publish(item, now)
        except YuqingError as err:  # the outbox refused the lease or the mark
            logger.warning(
                "alert left for the dispatcher",
                extra={"message_id": item["pk"], "error": err.code},
            )
            return "deferred"

    def _publish(self, item: Mapping[str, Any], now: datetime) -> str:
        """Lease, publish, mark: "published", "failed", "skipped" or "deferred" (not tried:
        SNS is known to be failing). Raises only if the outbox refuses the lease."""
        if self._sns_outage is not None and now < self._sns_outage_until:
            return "deferred"
        mid = str(item["pk"])
        claimed = self.outbox.claim(mid, str(item["next_attempt_at"]), iso(now + LEASE))
        if claimed is None:
            return "skipped"  # someone else is publishing it or already did
        try:
            sns_id = self._sns.publish(
                self._sns.arn(str(claimed["topic"])),
                sms=str(claimed["sms"]),
                email_subject=str(claimed["email_subject"]),
                email_body=str(claimed["email_body"]),
                attributes=_attributes(claimed),
            )
        except YuqingError as err:
            if isinstance(err, OUTAGE_ERRORS):
                self._sns_outage, self._sns_outage_until = err.code, now + OUTAGE_HOLD
            attempts = int(claimed.get("attempts", 0)) + 1
            next_at = now + backoff(attempts, self._settings.time_scale)
            logger.warning(
                "alert publish failed; will retry",
                extra={"message_id": mid, "attempts": attempts, "error": err.code},
            )
            self.outbox.mark_failed(mid, error=err.code, next_at=iso(next_at))
            return "failed"
        self._sns_outage = None
        needs_ack = bool(claimed.get("requires_ack")) and not claimed.get("acked_at")
        follow = self._next_follow_up(claimed, now) if needs_ack else None
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

    def _mark_published(self, mid: str, **mark: Any) -> None:
        """Record a publish that happened. SNS cannot take a message back, so this write is
        retried: left unwritten, the lease would expire and the message go out again."""
        for attempt in range(1, MARK_ATTEMPTS + 1):
            try:
                self.outbox.mark_published(mid, **mark)
                return
            except OUTAGE_ERRORS as err:
                if attempt == MARK_ATTEMPTS:
                    logger.error(
                        "alert published but not marked; it may go out once more",
                        extra={"message_id": mid, "error": err.code},
                    )
                    return
                self._sleep(MARK_PAUSE_S * 2 ** (attempt - 1))

    # -- repeats and escalation --------------------------------------------------------------
    def _policy_seconds(self, minutes: Any) -> timedelta:
        return timedelta(seconds=max(float(minutes) * 60 * self._settings.time_scale, 1.0))

    def _next_follow_up(self, item: Mapping[str, Any], sent_at: datetime) -> datetime | None:
        policy = self._current_plan().escalation
        times = []
        repeats = int(item.get("repeats", 0))
        if repeats < int(policy.get("max_repeats", 0)):
            interval = self._policy_seconds(policy["repeat_interval_minutes"])
            times.append(sent_at + interval * (repeats + 1))
        steps = policy.get("steps", [])
        step = int(item.get("escalation_step", 0))
        if step < len(steps):
            times.append(sent_at + self._policy_seconds(steps[step]["after_minutes"]))
        return min(times) if times else None

    def _follow_up(self, root: Mapping[str, Any], now: datetime) -> int:
        plan = self._current_plan()
        policy = plan.escalation
        sent_at = datetime.fromisoformat(str(root["sent_at"]))
        elapsed = now - sent_at
        interval = self._policy_seconds(policy["repeat_interval_minutes"])
        repeats, step = int(root.get("repeats", 0)), int(root.get("escalation_step", 0))
        new_repeats = max(repeats, min(int(policy.get("max_repeats", 0)), elapsed // interval))
        steps = policy.get("steps", [])
        new_step = max(
            step, sum(1 for s in steps if self._policy_seconds(s["after_minutes"]) <= elapsed)
        )

        def child(kind: Kind, event: str, group: str, subject: str, body: str) -> dict[str, Any]:
            return self._item(
                plan,
                now,
                kind=kind,
                incident=str(root["incident_id"]),
                event=event,
                level=str(root["level"]),
                group=group,
                drill=bool(root.get("drill")),
                sms=str(root["sms"]),
                email_subject=subject[:99],
                email_body=body,
                root=str(root["pk"]),
            )

        children = []
        if new_repeats > repeats:
            children.append(
                child(
                    Kind.REPEAT,
                    f"{root['event']}#r{new_repeats}",
                    str(root["group"]),
                    f"[第{new_repeats}次提醒] {root['email_subject']}",
                    str(root["email_body"]),
                )
            )
        for k in range(step, new_step):
            minutes = steps[k]["after_minutes"]
            source = plan.group(str(root["group"])) or {}
            note = f"升级：{source.get('name', root['group'])}在 {minutes} 分钟内未确认以下告警。"
            for target in steps[k]["notify"]:
                children.append(
                    child(
                        Kind.ESCALATION,
                        f"{root['event']}#e{k + 1}",
                        str(target),
                        f"[升级] {root['email_subject']}",
                        f"{note}\n\n{root['email_body']}",
                    )
                )
        self._create_and_publish(plan, children, now)
        progressed = {**root, "repeats": new_repeats, "escalation_step": new_step}
        follow = self._next_follow_up(progressed, sent_at)
        changes: dict[str, Any] = {"repeats": new_repeats, "escalation_step": new_step}
        if follow is None:
            changes["status"] = Status.EXPIRED.value
        else:
            changes["next_attempt_at"] = iso(follow)
        self.outbox.advance_follow_up(
            str(root["pk"]), seen={"repeats": repeats, "escalation_step": step}, changes=changes
        )
        return len(children)

    # -- acknowledgement ---------------------------------------------------------------------
    def acknowledge(self, message_id: str, by: str, *, group: str | None) -> list[str]:
        """Acknowledge the alert a message belongs to (its repeats and escalations included).

        ``group`` is the group the caller acts for: only that group's alerts (403 otherwise);
        None is every group, the 指挥部's scope. There is no default: every caller says whom it
        acts for.
        """
        item = self.outbox.get(message_id)
        if item is None:
            raise NotFoundError(f"no outbox message {message_id}")
        root_id = str(item.get("root") or message_id)
        root = item if root_id == message_id else self.outbox.get(root_id) or item
        if group is not None and root["group"] != group:
            raise ForbiddenError(f"this alert is for group {root['group']}, not {group}")
        done = self.outbox.acknowledge(root_id, by=by, at=iso(self._clock()))
        return [root_id] if done is not None else []

    def acknowledge_incident(self, incident_key: str, by: str, *, group: str | None) -> list[str]:
        """Acknowledge the incident's open alerts for ``group`` (None: every group's, the
        指挥部's scope); other groups' alerts are left to them."""
        acked = []
        for item in self.outbox.by_incident(incident_key):
            if item.get("kind") != Kind.ALERT.value or not item.get("requires_ack"):
                continue
            if item["status"] not in (Status.PENDING.value, Status.AWAITING_ACK.value):
                continue
            if group is not None and item["group"] != group:
                continue
            if self.outbox.acknowledge(str(item["pk"]), by=by, at=iso(self._clock())):
                acked.append(str(item["pk"]))
        return acked

    # -- the schedule ------------------------------------------------------------------------
    def dispatch_due(self) -> DispatchReport:
        """The ``alert_dispatch`` schedule: publish what is due (all of it when SNS answers,
        one probe when it does not), repeat and escalate, and say what is left (the backlog)."""
        now = self._clock()
        report = DispatchReport()
        self._sns_outage = None  # every run's first attempt is the probe
        try:
            report.reconciled = self.catch_up_reconciliation()
        except YuqingError as err:
            report.errors.append(f"reconcile: {err.code}")
        try:
            self._publish_due(now, report)
        except YuqingError as err:  # the outbox unreadable: the next run tries again
            report.errors.append(f"publish: {err.code}")
        try:
            for root in self.outbox.due(Status.AWAITING_ACK, iso(now)):
                try:
                    report.follow_ups += self._follow_up(root, now)
                except YuqingError as err:
                    report.errors.append(f"follow-up {root['pk']}: {err.code}")
        except YuqingError as err:
            report.errors.append(f"follow-ups: {err.code}")
        try:
            report.backlog = self.backlog().as_dict(now)
        except YuqingError as err:
            report.errors.append(f"backlog: {err.code}")
        return report

    def _publish_due(self, now: datetime, report: DispatchReport) -> None:
        for tried, item in enumerate(self.outbox.due(Status.PENDING, iso(now))):
            if tried >= MAX_PUBLISH_PER_RUN:
                report.held_back = "run limit"
                return
            try:
                outcome = self._publish(item, now)
            except YuqingError as err:  # the outbox refused the lease or a mark: next run
                report.held_back = err.code
                return
            if outcome == "deferred":  # SNS failed just before: the rest wait for the next run
                report.held_back = self._sns_outage
                return
            report.published += outcome == "published"
            report.failed += outcome == "failed"

    def backlog(self) -> Backlog:
        """The messages not yet published (积压): how many, and the oldest one's time."""
        return self.outbox.backlog()

    def retry_now(self, message_id: str) -> str:
        """Publish one pending message now (tests, operators); "published"/"failed"/"skipped"."""
        item = self.outbox.get(message_id)
        if item is None:
            raise NotFoundError(f"no outbox message {message_id}")
        return self._publish(item, self._clock())

    # -- reconciliation ----------------------------------------------------------------------
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

    def catch_up_reconciliation(self) -> dict[str, Any] | None:
        latest = self._plans.latest()
        if latest is None:
            return None
        done = self._marks.reconciled_version()
        if done >= latest.version:
            return None
        previous = self.plan_version(done) if done else None
        return self.reconcile_plan(PlanView(latest.doc, latest.version), previous)

    # -- reading -----------------------------------------------------------------------------
    def list_messages(
        self, *, incident: str | None, status: Status | None, limit: int, live: bool
    ) -> list[dict[str, Any]]:
        if incident:
            items = self.outbox.by_incident(incident, limit=limit)
            if status is not None:
                items = [i for i in items if i["status"] == status.value]
        elif status is not None:
            items = self.outbox.by_status(status, limit=limit)
        else:
            items = self.outbox.by_statuses(Status, limit=limit)
        items = sorted(items, key=lambda i: str(i["created_at"]), reverse=True)[:limit]
        live_cache: dict[str, list[Any]] = {}
        out = []
        for item in items:
            plan = self.plan_version(int(item.get("plan_version", 0)))
            shown = {k: v for k, v in item.items() if k != "pk"}
            shown["message_id"] = item["pk"]
            shown["recipients"] = [
                {
                    "group": c.group,
                    "member": c.member_id,
                    "name": c.name,
                    "role": c.role,
                    "channel": c.channel,
                    "contact": mask_contact(c.endpoint),
                }
                for c in (recipients(plan, item) if plan else [])
            ]
            if live:
                topic = str(item["topic"])
                if topic not in live_cache:
                    live_cache[topic] = self._sns.subscriptions(self._sns.arn(topic))
                attributes = _attributes(item)
                shown["live_subscriptions"] = [
                    {"protocol": s.protocol, "endpoint": mask_contact(s.endpoint)}
                    for s in live_cache[topic]
                    if policy_matches(s.filter_policy, attributes)
                ]
            out.append(shown)
        return out


def alert_service(
    settings: Settings | None = None, clients: AwsClients | None = None, clock: Clock = utcnow
) -> AlertService:
    settings = settings or get_settings()
    clients = clients or get_clients()
    system = clients.table(settings.tables.system)
    return AlertService(
        settings,
        outbox=OutboxStore(clients.table(settings.tables.outbox)),
        plans=PlanStore(clients.table(settings.tables.plan)),
        gateway=SnsGateway(clients.client("sns"), clients.topic_arn),
        counter=SmsCounter(system),
        marks=SystemMarks(system),
        clock=clock,
    )
