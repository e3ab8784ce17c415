"""The crawl schedule and the crawl worker (SQS consumer).

``crawl_dispatcher`` runs every minute and queues one message per due source. ``crawl_worker``
takes one message per invocation (``batch_size=1``): Chalice has no ReportBatchItemFailures, and
with one message a failure retries only that source, so one broken source never delays another.
The worker raises only when our own infrastructure fails (SQS then redelivers, and after five
receives the message goes to the dead-letter queue, which alarms); a source's own failure is
recorded in its health and the message is done. ``maximum_concurrency`` caps how many crawls run
at once, out of politeness and to leave Lambda concurrency for the API.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate
from chalice.app import SQSEvent

from chalicelib.core.settings import crawl_queue_name
from chalicelib.sources.wiring import crawl_service, dispatcher

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="crawl_dispatcher")
def crawl_dispatcher(event: Any) -> dict[str, Any]:
    """Every minute: queue one crawl message per due, enabled source."""
    return dispatcher().tick().as_dict()


@bp.on_sqs_message(
    queue=crawl_queue_name(), batch_size=1, name="crawl_worker", maximum_concurrency=10
)
def crawl_worker(event: SQSEvent) -> dict[str, Any]:
    """Crawl the source named in the message."""
    service = crawl_service()
    reports = []
    for record in event:
        report = service.handle_message(record.body)
        reports.append(report.as_dict() if report else None)
    return {"reports": reports}
