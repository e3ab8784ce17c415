"""Deliver SQS messages to ``@app.on_sqs_message`` functions in local mode, as Lambda does.

moto's own event source mapping invokes the function synchronously inside ``SendMessage``, so a
producer would wait for every consumer. This poller behaves like Lambda's SQS integration instead:
several concurrent long-polling workers per queue, one invocation per batch through moto's Lambda
API, messages deleted only when the invocation succeeds — a failure leaves them to reappear after
the visibility timeout and, after ``maxReceiveCount``, to move to the dead-letter queue.

At a stop, a batch whose invocation was held back unstarted (:mod:`.gate`) is made visible again
(:meth:`QueuePoller.release_unfinished`), so the snapshot's drain saves it instead of leaving it
invisible — and lost — until a visibility timeout that the next start never sees.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
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
        self._in_flight: dict[str, str] = {}  # receipt handle → message id, received, not done
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, name=f"sqs-{function_name}-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Receive nothing more; wait up to ``timeout`` seconds in all for the workers."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.ident is not None:  # started
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def release_unfinished(self) -> int:
        """Make the batches received but not delivered visible again; how many messages."""
        with self._lock:
            handles = list(self._in_flight)
            self._in_flight.clear()
        self._make_visible(handles)
        return len(handles)

    def _make_visible(self, handles: list[str]) -> None:
        for start in range(0, len(handles), 10):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + 10])
                ],
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                if self._stop.is_set():
                    return  # moto is going away under a stop: nothing to report
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
        if self._stop.is_set():  # received as the stop came: back to the queue, to be saved
            self._make_visible([m["ReceiptHandle"] for m in received])
            return 0
        with self._lock:
            self._in_flight.update({m["ReceiptHandle"]: m["MessageId"] for m in received})
        try:
            delivered = self._deliver(received)
        finally:
            with self._lock:
                for m in received:
                    self._in_flight.pop(m["ReceiptHandle"], None)
        return delivered

    def _deliver(self, received: list[dict[str, Any]]) -> int:
        event = sqs_event(received, self._queue_arn, self._region)
        response = self._lambda.invoke(
            FunctionName=self._function, Payload=json.dumps(event).encode()
        )
        response["Payload"].read()
        if response.get("FunctionError"):
            if not self._stop.is_set():
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
