"""tools/clock_matrix.py: the China hour it aims at, and the shim that moves a child's clock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from tools.clock_matrix import china_start, offset_to

SITE = Path(__file__).resolve().parents[2] / "tools" / "clock_site"


def test_a_china_hour_is_eight_hours_ahead_of_utc_and_may_be_yesterday_there() -> None:
    start = china_start(date(2026, 12, 31), "00:05")
    assert start.astimezone(UTC) == datetime(2026, 12, 30, 16, 5, tzinfo=UTC)
    assert offset_to(start, start.timestamp() - 90) == 90


def test_every_python_process_of_a_run_reads_the_moved_clock_and_the_real_monotonic() -> None:
    target = datetime(2027, 2, 28, 23, 58, tzinfo=UTC)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(SITE), os.environ.get("PYTHONPATH")))),
        "YUQING_CLOCK_OFFSET": f"{offset_to(target, time.time()):.3f}",
    }
    code = (
        "import datetime, time; "
        "print(datetime.datetime.now(datetime.timezone.utc).timestamp(), time.time(), "
        "time.monotonic())"
    )
    before = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    took = time.monotonic() - before
    now, wall, monotonic = (float(x) for x in out)
    # The child's wall clock reads the target (plus the seconds it took to start) ...
    assert 0 <= now - target.timestamp() <= took + 1
    assert abs(wall - now) < 1
    # ... and its monotonic clock is the machine's, untouched.
    assert before <= monotonic <= before + took
    # Without the variable nothing moves.
    plain = subprocess.run(
        [sys.executable, "-c", code],
        env={k: v for k, v in env.items() if k != "YUQING_CLOCK_OFFSET"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert abs(float(plain[1]) - time.time()) < took + 5
