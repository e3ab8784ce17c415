"""The latest health probe's result (巡检记录), in the system table under ``pk=health``.

``/health`` shows when the scheduled probe last ran, so a stalled schedule shows; the probe
writes its report here and the answer reads it back. A read that fails is "never ran", not an
error: ``/health`` must answer while the table it reports on is down.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.errors import YuqingError, aws_errors


class ProbeStore:
    """Data access for the probe's record; takes the system ``Table`` in the constructor."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, report: dict[str, Any]) -> None:
        with aws_errors("system table"):
            self._table.put_item(Item={"pk": "health", **report})

    def latest(self) -> dict[str, Any] | None:
        try:
            with aws_errors("system table"):
                item = self._table.get_item(Key={"pk": "health"})
        except YuqingError:
            return None
        found: dict[str, Any] | None = item.get("Item")
        return found
