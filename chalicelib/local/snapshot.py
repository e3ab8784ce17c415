"""Save local mode's tables under ``.yuqing/state`` and restore them at the next start.

DynamoDB is the system of record, so saving every table is what makes a restart lose nothing
that matters. Items are kept in DynamoDB's typed JSON exactly as ``Scan`` returns them and written
back with ``BatchWriteItem``. Files are replaced atomically, so a crash mid-save keeps the previous
snapshot. Queued SQS messages and running Step Functions executions are not saved (see
docs/local-mode.md).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.core.observability import logger


class TableSnapshot:
    def __init__(self, dynamodb: Any, directory: Path) -> None:
        self._ddb = dynamodb
        self._dir = directory

    def _path(self, table: str) -> Path:
        return self._dir / f"{table}.json"

    def save(self, tables: list[str]) -> int:
        """Write every table's items; returns the number of items saved."""
        self._dir.mkdir(parents=True, exist_ok=True)
        total = 0
        for table in tables:
            items: list[dict[str, Any]] = []
            for page in self._ddb.get_paginator("scan").paginate(TableName=table):
                items.extend(page.get("Items", []))
            path = self._path(table)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(
                json.dumps({"table": table, "items": items}, ensure_ascii=False), encoding="utf-8"
            )
            os.replace(tmp, path)
            total += len(items)
        return total

    def restore(self, tables: list[str]) -> int:
        """Write saved items back into (freshly created) tables; returns the number restored."""
        total = 0
        for table in tables:
            path = self._path(table)
            if not path.exists():
                continue
            try:
                items = json.loads(path.read_text(encoding="utf-8"))["items"]
                self._write(table, items)
            except (ValueError, KeyError, ClientError) as err:
                # A snapshot from an older schema (or a damaged file) must not stop local mode:
                # keep it aside for inspection and start that table empty.
                aside = path.with_name(f"{path.name}.unrestorable-{int(time.time())}")
                os.replace(path, aside)
                logger.warning(
                    "snapshot not restored",
                    extra={"table": table, "kept_as": str(aside), "error": str(err)},
                )
                continue
            total += len(items)
        return total

    def _write(self, table: str, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), 25):
            batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending: dict[str, Any] = {table: batch}
            while pending:
                pending = (
                    self._ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                )
