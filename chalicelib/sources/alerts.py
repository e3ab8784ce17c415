"""Telling 技术保障组 (the tech group) that a source broke.

:class:`SourceAlerts` is the seam: the crawl service calls it once per transition to unhealthy.
:class:`AlertServiceSourceAlerts` sends it through the alert service (template
``source_unhealthy``, outbox, the tech group's topic, repeated until acknowledged);
:class:`OpsTopicAlerts` publishes a plain message to the ops topic, where CloudWatch alarms also
go, and serves when no plan is stored yet.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from chalicelib.alerts.models import AlertRequest
from chalicelib.alerts.topics import SnsGateway
from chalicelib.core.errors import YuqingError
from chalicelib.core.observability import logger
from chalicelib.sources.models import SourceDefinition, SourceHealth

TECH_GROUP = "tech"


class SourceAlerts(Protocol):
    def source_unhealthy(
        self, source: SourceDefinition, reason: str, health: SourceHealth, *, streak: str
    ) -> None:
        """Tell the tech group; ``streak`` (:func:`chalicelib.sources.health.outage_key`) names
        the failure streak, the same for every delivery of the crawl that found it."""
        ...


class OpsTopicAlerts:
    """Publishes one message per unhealthy transition to the ops SNS topic.

    The last resort, when the outbox cannot be used: a plain publish has no de-duplication, so a
    redelivered crawl message may publish twice here (better twice than not at all).
    """

    def __init__(self, gateway: SnsGateway, topic_arn: str) -> None:
        self._sns = gateway
        self._topic_arn = topic_arn

    def source_unhealthy(
        self, source: SourceDefinition, reason: str, health: SourceHealth, *, streak: str
    ) -> None:
        text = (
            f"【技术保障】监测来源异常: {source.name} ({source.id})\n"
            f"原因: {reason}\n"
            f"地址: {source.fetch_url}\n"
            f"连续失败: {health.consecutive_failures}; 最近成功: {health.last_success_at or '无'}"
        )
        self._sns.publish_text(
            self._topic_arn,
            subject=f"yuqing: source {source.id} unhealthy",
            text=text,
            attributes={
                "group": TECH_GROUP,
                "event": "source_unhealthy",
                "detail": json.dumps({"source": source.id, "reason": reason}, ensure_ascii=False),
            },
        )


class AlertServiceSourceAlerts:
    """Alerts the plan's ops group (技术保障组) through the outbox; falls back to the ops topic
    when that fails (no plan stored yet, outbox unreachable), so a broken source is never
    silent."""

    def __init__(self, alerts: Any, fallback: SourceAlerts, group: str = TECH_GROUP) -> None:
        self._alerts = alerts
        self._fallback = fallback
        self._group = group

    def source_unhealthy(
        self, source: SourceDefinition, reason: str, health: SourceHealth, *, streak: str
    ) -> None:
        request = AlertRequest(
            incident_key=f"source-{source.id}"[:64],
            # One alert per failure streak, however often the crawl that found it is delivered.
            event=f"source_unhealthy:{streak}"[:80],
            level="IV",
            template_id="source_unhealthy",
            variables={"source": source.name, "reason": reason},
            groups=(self._group,),
            # The ops group is told once per breakage; it is not escalated to the HQ along the
            # incident policy (a broken hot list is not a public-opinion incident).
            requires_ack=False,
            email_subject=f"【技术保障】监测来源异常：{source.name}",
            email_body=(
                f"监测来源 {source.name}（{source.id}）异常。\n原因：{reason}\n"
                f"地址：{source.fetch_url}\n连续失败：{health.consecutive_failures}；"
                f"最近成功：{health.last_success_at or '无'}"
            ),
        )
        try:
            self._alerts.send(request)
        except YuqingError as err:  # no plan stored yet, or the outbox unreachable
            logger.warning("source alert falls back to the ops topic", extra={"error": err.code})
            self._fallback.source_unhealthy(source, reason, health, streak=streak)


class RecordingAlerts:
    """Keeps alerts in memory: for tests and the benchmark (a fake, not a mock)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.streaks: list[str] = []

    def source_unhealthy(
        self, source: SourceDefinition, reason: str, health: SourceHealth, *, streak: str
    ) -> None:
        self.sent.append((source.id, reason))
        self.streaks.append(streak)
