"""Every DynamoDB write since the last complete snapshot, so a killed local mode loses nothing.

Snapshots (:mod:`.snapshot`) are taken every 30 s; alone, a SIGKILL (an OOM kill, a closed
laptop lid that ends the terminal) would lose the writes since the last one — a report answered
201, an HQ decision, an alert marked sent. The journal closes that gap: :mod:`.moto_guard`
appends the item as it stands after each write (or its key, after a delete), one JSON line, and
flushes it to the operating system before moto answers. A process killed at any point leaves
every answered write in the file (a machine that loses power may lose the last lines: the file
is not fsynced, which would cost a disk round trip per write).

The lines are queued (:meth:`Journal.queue`) while moto's write lock is held, so their order is
the order the writes took effect, and written (:meth:`Journal.write_queued`) after it is
released: every other write of every table would otherwise wait on this file. Whoever writes
takes everything queued so far, in order, so a write's lines are in the file before its own
``write_queued`` returns, whichever thread wrote them.

Files are numbered. A snapshot first :meth:`Journal.rotate` s to a new file, then scans the
tables, then :meth:`drop_before` s the files older than the rotation — only once the snapshot is
complete, so a crash in the middle keeps both the previous snapshot and every line written since
it. At start the saved tables are restored and every remaining line is replayed on top, in
order: lines are whole items, so replaying a write the snapshot already holds changes nothing,
and the last line for a key is its state at the kill.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from chalicelib.core.observability import logger
from chalicelib.local.snapshot import from_jsonable, to_jsonable

SUFFIX = ".jsonl"


class Journal:
    """The numbered journal files in one directory; thread-safe appends."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._number = 0
        self._queued: deque[str] = deque()  # lines of answered-to-be writes, in commit order

    def _numbers(self) -> list[int]:
        if not self._dir.exists():
            return []
        return sorted(int(p.stem) for p in self._dir.glob(f"*{SUFFIX}") if p.stem.isdigit())

    def _path(self, number: int) -> Path:
        return self._dir / f"{number:08d}{SUFFIX}"

    def open(self) -> int:
        """Start writing to a new file after the existing ones (kept until the next snapshot)."""
        with self._lock:
            self._dir.mkdir(parents=True, exist_ok=True)
            self._number = max(self._numbers(), default=0) + 1
            self._file = self._path(self._number).open("a", encoding="utf-8")
            return self._number

    def append(self, entries: list[Mapping[str, Any]]) -> None:
        """Write ``entries`` and hand them to the operating system before returning."""
        self.queue(entries)
        self.write_queued()

    def queue(self, entries: list[Mapping[str, Any]]) -> None:
        """Take ``entries`` in this order (as JSON lines, so later changes to them do not count);
        :meth:`write_queued` writes them. Called under moto's write lock: no I/O here."""
        if entries:
            self._queued.append(
                "".join(
                    json.dumps(to_jsonable(entry), ensure_ascii=False, separators=(",", ":")) + "\n"
                    for entry in entries
                )
            )

    def write_queued(self) -> None:
        """Write every line queued so far and hand it to the operating system before returning."""
        with self._lock:
            self._write_queued()

    def _write_queued(self) -> None:
        lines: list[str] = []
        while self._queued:
            lines.append(self._queued.popleft())
        if lines and self._file is not None:
            self._file.write("".join(lines))
            self._file.flush()

    def rotate(self) -> int:
        """Continue in a new file; returns its number (what :meth:`drop_before` keeps). Lines
        queued before the rotation go to the file before it."""
        with self._lock:
            self._write_queued()
            if self._file is not None:
                self._file.close()
            self._number += 1
            self._file = self._path(self._number).open("a", encoding="utf-8")
            return self._number

    def drop_before(self, number: int) -> None:
        """Remove the files before ``number``: a complete snapshot holds what they say."""
        for older in self._numbers():
            if older < number:
                self._path(older).unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._write_queued()
            if self._file is not None:
                self._file.close()
                self._file = None

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every line of every file, oldest first. A line cut short by a kill mid-write (only
        ever the last of a file) is skipped: its write was never answered."""
        for number in self._numbers():
            path = self._path(number)
            with path.open(encoding="utf-8") as lines:
                for n, line in enumerate(lines, 1):
                    try:
                        entry = from_jsonable(json.loads(line))
                    except ValueError:
                        logger.warning(
                            "journal line not replayed", extra={"file": path.name, "line": n}
                        )
                        continue
                    if isinstance(entry, dict) and "table" in entry and "key" in entry:
                        yield entry
