"""Telling 技术保障组 (the tech group) that a source broke.

:class:`SourceAlerts` is the seam: the crawl service calls it once per transition to unhealthy.
The default publishes a plain message to the ops topic, where CloudWatch alarms also go; the
alert service (templates, outbox, group topics) replaces it when it exists, targeting group
``tech``.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from chalicelib.core.errors import aws_errors
from chalicelib.sources.models import SourceDefinition, SourceHealth

TECH_GROUP = "tech"


class SourceAlerts(Protocol):
    def source_unhealthy(
        self, source: SourceDefinition, reason: str, health: SourceHealth
    ) -> None: ...


class OpsTopicAlerts:
    """Publishes one message per unhealthy transition to the ops SNS topic."""

    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def source_unhealthy(self, source: SourceDefinition, reason: str, health: SourceHealth) -> None:
        text = (
            f"【技术保障】监测来源异常: {source.name} ({source.id})\n"
            f"原因: {reason}\n"
            f"地址: {source.fetch_url}\n"
            f"连续失败: {health.consecutive_failures}; 最近成功: {health.last_success_at or '无'}"
        )
        with aws_errors("ops topic"):
            self._sns.publish(
                TopicArn=self._topic_arn,
                Subject=f"yuqing: source {source.id} unhealthy"[:99],
                Message=text,
                MessageAttributes={
                    "group": {"DataType": "String", "StringValue": TECH_GROUP},
                    "event": {"DataType": "String", "StringValue": "source_unhealthy"},
                    "detail": {
                        "DataType": "String",
                        "StringValue": json.dumps(
                            {"source": source.id, "reason": reason}, ensure_ascii=False
                        ),
                    },
                },
            )


class RecordingAlerts:
    """Keeps alerts in memory: for tests and the benchmark (a fake, not a mock)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def source_unhealthy(self, source: SourceDefinition, reason: str, health: SourceHealth) -> None:
        self.sent.append((source.id, reason))
