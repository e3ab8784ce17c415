"""Save local mode's state under ``.yuqing/state`` and restore it at the next start.

- **Tables** (the system of record): every item, in DynamoDB's typed JSON as ``Scan`` returns it,
  written back with ``BatchWriteItem``. Saved every 30 s and at stop.
- **Running workflow executions**: name and input, saved with the tables; restarted at the next
  start under the same name. Workflow steps write idempotently, so steps that had already run
  find their records and add nothing; the execution resumes where it matters.
- **Queued messages**: drained at a clean stop and sent again at start. A hard kill loses them.
- **The journal** (:mod:`.journal`): every table write since the snapshot began, replayed on top
  of the saved tables at start (:meth:`Snapshot.replay`), so a hard kill loses no table write.

Bytes (DynamoDB ``B``/``BS`` values, binary message attributes) are stored as base64. Files are
replaced atomically, so a crash mid-save keeps the previous snapshot; a file that cannot be
restored (an older schema, a damaged file) is set aside, never fatal.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from chalicelib.core.observability import logger

_BYTES = "__base64__"


def to_jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    return value


def from_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value


class SaveCancelled(Exception):
    """A save gave way (local mode is stopping and saves again itself); files stay as they were."""


class Snapshot:
    """One state directory: tables, running executions and queued messages.

    ``cancelled`` is asked between pages: a periodic save that is under way when local mode
    stops gives way at once (:class:`SaveCancelled`) instead of holding the stop up.
    ``inputs`` remembers each execution's input across saves (it never changes), so a save
    describes only the executions started since the last one.
    """

    def __init__(
        self,
        directory: Path,
        clients: Any,
        cancelled: Callable[[], bool] = lambda: False,
        inputs: dict[str, str] | None = None,
    ) -> None:
        self._dir = directory
        self._client = clients
        self._cancelled = cancelled
        self._inputs = inputs if inputs is not None else {}

    def _check(self) -> None:
        if self._cancelled():
            raise SaveCancelled("local mode is stopping")

    # -- files ---------------------------------------------------------------------------------
    def _write(self, path: Path, data: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(to_jsonable(data), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def _restore_file(self, path: Path, restore: Any) -> int:
        """Run ``restore(data)`` on a saved file; set the file aside if that fails."""
        if not path.exists():
            return 0
        try:
            count: int = restore(from_jsonable(json.loads(path.read_text(encoding="utf-8"))))
        except Exception as err:
            aside = path.with_name(f"{path.name}.unrestorable-{int(time.time())}")
            os.replace(path, aside)
            logger.warning("snapshot not restored", extra={"file": str(aside), "error": repr(err)})
            return 0
        return count

    # -- tables --------------------------------------------------------------------------------
    def _table_path(self, table: str) -> Path:
        return self._dir / "dynamodb" / f"{table}.json"

    def save_tables(
        self, tables: list[str], items: Mapping[str, list[dict[str, Any]]] | None = None
    ) -> int:
        """Write every table's items — scanned, or as given (local mode reads them in-process,
        :func:`.moto_guard.snapshot_tables`); returns the number of items saved."""
        ddb = self._client("dynamodb")
        total = 0
        for table in tables:
            if items is not None:
                if table not in items:
                    continue  # not there: keep what was saved
                found = items[table]
            else:
                found = []
                for page in ddb.get_paginator("scan").paginate(TableName=table):
                    self._check()
                    found.extend(page.get("Items", []))
            self._write(self._table_path(table), {"table": table, "items": found})
            total += len(found)
        return total

    def restore_tables(self, tables: list[str]) -> int:
        """Write saved items back into (freshly created) tables; returns the number restored."""
        ddb = self._client("dynamodb")

        def restore(table: str, data: dict[str, Any]) -> int:
            items = data["items"]
            for start in range(0, len(items), 25):
                batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                pending: dict[str, Any] = {table: batch}
                while pending:
                    pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            return len(items)

        return sum(
            self._restore_file(self._table_path(t), lambda d, t=t: restore(t, d)) for t in tables
        )

    def replay(self, entries: Iterable[Mapping[str, Any]], tables: list[str]) -> int:
        """Apply journal entries (oldest first) to the restored tables; returns how many keys
        changed. Only each key's last entry matters, so they are collapsed first and written
        with ``BatchWriteItem``; a table that refuses its entries (its key changed) is left as
        the snapshot had it, and said so."""
        last: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any] | None]]] = {}
        for entry in entries:
            table = str(entry["table"])
            key = dict(entry["key"])
            ident = json.dumps(to_jsonable(key), sort_keys=True)
            last.setdefault(table, {})[ident] = (key, entry.get("item"))
        ddb = self._client("dynamodb")
        changed = 0
        for table, by_key in last.items():
            if table not in tables:
                continue
            requests = [
                {"PutRequest": {"Item": item}}
                if item is not None
                else {"DeleteRequest": {"Key": key}}
                for key, item in by_key.values()
            ]
            try:
                for start in range(0, len(requests), 25):
                    pending: dict[str, Any] = {table: requests[start : start + 25]}
                    while pending:
                        pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            except Exception as err:
                logger.warning("journal not replayed", extra={"table": table, "error": repr(err)})
                continue
            changed += len(requests)
        return changed

    # -- executions ----------------------------------------------------------------------------
    def save_executions(
        self, state_machine_arn: str, pending: Iterable[Mapping[str, str]] = ()
    ) -> int:
        """Write the name and input of every RUNNING execution, and of the ``pending`` ones (saved
        before, not started again yet: local mode resumes them after its API is up)."""
        sfn = self._client("stepfunctions")
        running: list[dict[str, str]] = []
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=state_machine_arn, statusFilter="RUNNING"
        ):
            for execution in page["executions"]:
                arn = execution["executionArn"]
                if arn not in self._inputs:
                    self._check()
                    described = sfn.describe_execution(executionArn=arn)
                    self._inputs[arn] = described.get("input", "{}")
                running.append({"name": execution["name"], "input": self._inputs[arn]})
        named = {e["name"] for e in running}
        running.extend(
            {"name": e["name"], "input": e["input"]} for e in pending if e["name"] not in named
        )
        self._write(self._dir / "executions.json", {"running": running})
        return len(running)

    def saved_executions(self) -> list[dict[str, str]]:
        """The executions the last save found running (name, input); none if it cannot be read
        (the file is then set aside)."""
        found: list[dict[str, str]] = []

        def read(data: dict[str, Any]) -> int:
            running = data["running"]
            found.extend({"name": str(e["name"]), "input": str(e["input"])} for e in running)
            return len(found)

        self._restore_file(self._dir / "executions.json", read)
        return found

    def restore_executions(self, state_machine_arn: str) -> int:
        """Start every saved execution again under its name; returns how many."""
        sfn = self._client("stepfunctions")
        saved = self.saved_executions()
        for execution in saved:
            sfn.start_execution(
                stateMachineArn=state_machine_arn, name=execution["name"], input=execution["input"]
            )
        return len(saved)

    # -- queues --------------------------------------------------------------------------------
    def _queue_path(self, queue: str) -> Path:
        return self._dir / "sqs" / f"{queue}.json"

    def drain_queues(self, queues: dict[str, str]) -> int:
        """Receive every visible message of each queue (name → URL) and save it; returns count."""
        sqs = self._client("sqs")
        total = 0
        for name, url in queues.items():
            messages: list[dict[str, Any]] = []
            while True:
                batch = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=300,
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not batch:
                    break
                messages.extend(
                    {"body": m["Body"], "attributes": m.get("MessageAttributes", {})} for m in batch
                )
            self._write(self._queue_path(name), {"messages": messages})
            total += len(messages)
        return total

    def restore_queues(self, queues: dict[str, str]) -> int:
        sqs = self._client("sqs")

        def restore(url: str, data: dict[str, Any]) -> int:
            for message in data["messages"]:
                sqs.send_message(
                    QueueUrl=url,
                    MessageBody=message["body"],
                    MessageAttributes=message["attributes"],
                )
            return len(data["messages"])

        restored = 0
        for name, url in queues.items():
            path = self._queue_path(name)
            restored += self._restore_file(path, lambda d, u=url: restore(u, d))
            path.unlink(missing_ok=True)  # sent again: must not be sent twice after a crash
        return restored
