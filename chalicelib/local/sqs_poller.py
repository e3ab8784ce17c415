"""Deliver SQS messages to ``@app.on_sqs_message`` functions in local mode, as Lambda does.

moto's own event source mapping invokes the function synchronously inside ``SendMessage``, so a
producer would wait for every consumer. This poller behaves like Lambda's SQS integration instead:
several concurrent long-polling workers per queue, one invocation per batch through moto's Lambda
API, messages deleted only when the invocation succeeds — a failure leaves them to reappear after
the visibility timeout and, after ``maxReceiveCount``, to move to the dead-letter queue.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from chalicelib.core.observability import logger


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS integration sends for a batch of received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.get("DataType"),
                    }
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody")
                or hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class QueuePoller:
    """``workers`` threads long-polling one queue and invoking one function per batch."""

    def __init__(
        self,
        sqs: Any,
        lambda_client: Any,
        queue_url: str,
        queue_arn: str,
        function_name: str,
        region: str,
        batch_size: int = 1,
        workers: int = 8,
    ) -> None:
        self._sqs = sqs
        self._lambda = lambda_client
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._function = function_name
        self._region = region
        self._batch_size = max(1, min(batch_size, 10))
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name=f"sqs-{function_name}-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                logger.exception("sqs poll failed", extra={"function": self._function})
                self._stop.wait(1.0)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and deliver it; returns the number of messages delivered."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return 0
        event = sqs_event(received, self._queue_arn, self._region)
        response = self._lambda.invoke(
            FunctionName=self._function, Payload=json.dumps(event).encode()
        )
        response["Payload"].read()
        if response.get("FunctionError"):
            logger.warning(
                "sqs batch failed; left for redelivery", extra={"function": self._function}
            )
            return 0
        self._sqs.delete_message_batch(
            QueueUrl=self._queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
            ],
        )
        return len(received)
