"""Put on ``PYTHONPATH`` by ``tools.clock_matrix`` only, for every Python process of a run.

libfaketime 0.9.10 (Debian's) with ``FAKETIME_DONT_FAKE_MONOTONIC=1`` answers every
``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, …)`` — what ``time.sleep`` makes — with
``EINVAL``, so any sleep raises ``OSError`` under it, on every machine at every hour: a fault of
the tool, not of the code under test. A timed wait on a lock (what ``threading.Event.wait``
does) passes through unharmed, so ``time.sleep`` waits on one instead. Nothing else changes.
"""

from __future__ import annotations

import threading
import time
from typing import SupportsFloat


def _sleep(seconds: SupportsFloat) -> None:
    length = float(seconds)
    if length < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(length)


time.sleep = _sleep  # type: ignore[assignment]
