"""Run tests with the machine's clock at chosen hours of the China day, and with both cores busy.

A test that passes at 15:00 and fails at 23:58 (the day turns while it runs), at 07:59 (the
daily briefing is still provisional) or at 00:05 (yesterday is another date in UTC) is a defect
in the test or in the product. This tool shows it: each run is the whole pytest process (and
local mode, chromium and every other child) under ``faketime`` starting at that China time, the
clock then running on at its real pace; ``--busy`` also keeps every core busy with spinning
processes for the run. It prints one line per run (the failed tests, or pytest's summary),
keeps each run's whole output in ``build/clock-matrix/``, and exits 1 if any run failed.

    python -m tools.clock_matrix                     # tests/e2e at the five hours, idle
    python -m tools.clock_matrix --busy tests/e2e tests/functional
    python -m tools.clock_matrix --at 23:58 --date 2026-12-31 tests/e2e/test_dashboard.py

Needs Debian's ``faketime`` (``apt-get install faketime``). The monotonic clock is left alone
(``FAKETIME_DONT_FAKE_MONOTONIC=1``): timeouts and sleeps measure real seconds, as they do on a
real machine at that hour; ``tools/faketime_site`` makes ``time.sleep`` work under that setting
(libfaketime fails it), for every Python process of the run. Not part of ``make test`` (five
runs of the end-to-end tests take longer than the whole suite); its figures go into the notes
of changes that touch time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from multiprocessing.synchronize import Event
from pathlib import Path

from chalicelib.core.clock import CHINA

HOURS = ("00:05", "07:59", "08:01", "20:15", "23:58")


def _spin(stop: Event) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def utc_start(day: date, at: str) -> str:
    """``faketime``'s absolute start for ``at`` (HH:MM, China time) on ``day``, in UTC."""
    hour, minute = (int(part) for part in at.split(":"))
    china = datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)
    return china.astimezone(UTC).strftime("@%Y-%m-%d %H:%M:%S")


def run_at(
    faketime: str, start: str, targets: list[str], extra: list[str], log: Path
) -> tuple[int, float, str]:
    """One pytest run under ``faketime`` from ``start``; its whole output goes to ``log``, and
    the answer is (exit code, seconds, the failed tests or the summary line)."""
    site = str(Path(__file__).with_name("faketime_site"))  # time.sleep that works under faketime
    python_path = os.pathsep.join(filter(None, (site, os.environ.get("PYTHONPATH"))))
    env = {
        **os.environ,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "TZ": "UTC",
        "PYTHONPATH": python_path,
    }
    pytest = [
        *(sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider"),
        *extra,
        *targets,
    ]
    began = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(
            [faketime, "-f", start, *pytest], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    summary = [line for line in lines if " in " in line and (" passed" in line or "failed" in line)]
    said = "; ".join(failed) or (summary[-1].strip("= ") if summary else f"see {log}")
    return done.returncode, time.monotonic() - began, said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.clock_matrix", description=__doc__)
    parser.add_argument("targets", nargs="*", default=["tests/e2e"])
    parser.add_argument("--at", action="append", help="HH:MM China time (repeatable)")
    parser.add_argument("--date", type=date.fromisoformat, help="the China date (default: today)")
    parser.add_argument("--busy", action="store_true", help="keep every core busy while testing")
    parser.add_argument("--pytest", default="", help="extra pytest arguments, quoted")
    parser.add_argument(
        "--logs", type=Path, default=Path("build/clock-matrix"), help="one log file per run"
    )
    args = parser.parse_args(argv)
    faketime = shutil.which("faketime")
    if faketime is None:
        print("faketime is missing: apt-get install faketime", file=sys.stderr)
        return 2
    day = args.date or datetime.now(CHINA).date()
    stop = multiprocessing.Event()
    spinners = [
        multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
        for _ in range((os.cpu_count() or 1) if args.busy else 0)
    ]
    for spinner in spinners:
        spinner.start()
    failed = 0
    try:
        for at in args.at or HOURS:
            start = utc_start(day, at)
            args.logs.mkdir(parents=True, exist_ok=True)
            log = args.logs / f"{day}-{at.replace(':', '')}{'-busy' if args.busy else ''}.log"
            code, seconds, last = run_at(faketime, start, args.targets, args.pytest.split(), log)
            failed += code != 0
            state = "ok  " if code == 0 else f"FAIL({code})"
            busy = " busy" if args.busy else ""
            print(f"{day} {at} China ({start[1:]} UTC){busy}: {state} {seconds:6.0f} s  {last}")
            sys.stdout.flush()
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(timeout=5)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
