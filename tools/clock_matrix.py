"""Run tests with the wall clock at chosen hours of the China day, and with both cores busy.

A test that passes at 15:00 and fails at 23:58 (the day turns while it runs), at 07:59 (the
daily briefing is still provisional) or at 00:05 (yesterday is another date in UTC) is a defect
in the test or in the product. This tool shows it: each run is a whole pytest process whose
every Python child (local mode, moto, the tests' helpers) and browser see the wall clock at that
China time when the run starts, running on at its real pace; ``--busy`` also keeps every core
busy with spinning processes for the run. It prints one line per run (the failed tests, or
pytest's summary), keeps each run's whole output in ``build/clock-matrix/``, and exits 1 if any
run failed.

    python -m tools.clock_matrix                     # tests/e2e at the five hours, idle
    python -m tools.clock_matrix --busy --at 00:05 --at 23:58
    python -m tools.clock_matrix --at 23:58 --date 2026-12-31 tests/e2e/test_dashboard.py
    python -m tools.clock_matrix --pytest "-n 2 --dist loadfile" tests/e2e

How the clock moves (decision 62): ``tools/clock_site`` goes on ``PYTHONPATH`` with
``YUQING_CLOCK_OFFSET`` (seconds); its ``sitecustomize`` has ``time-machine`` move every Python
process's wall clock by that much at start (about 2 µs a clock read; the monotonic clocks stay
real, so timeouts and sleeps measure real seconds), and the browser test starts chromium through
``tools/clock_site/chromium``, which runs it under Debian's ``faketime`` at the same offset (the
dashboard counts down with the browser's clock). Not part of ``make test`` (five runs of the
end-to-end tests take longer than the suite); its figures go into the notes of changes that
touch time. Needs ``faketime`` for the browser (``apt-get install faketime``).
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


def china_start(day: date, at: str) -> datetime:
    """``at`` (HH:MM, China time) on ``day``, as an aware datetime."""
    hour, minute = (int(part) for part in at.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


def offset_to(start: datetime, now: float) -> float:
    """Seconds to add to the wall clock at ``now`` (epoch seconds) for it to read ``start``."""
    return start.timestamp() - now


def run_at(
    start: datetime, targets: list[str], extra: list[str], log: Path
) -> tuple[int, float, str]:
    """One pytest run with the clock at ``start``; its whole output goes to ``log``, and the
    answer is (exit code, seconds, the failed tests or the summary line)."""
    site = Path(__file__).with_name("clock_site")
    python_path = os.pathsep.join(filter(None, (str(site), os.environ.get("PYTHONPATH"))))
    env = {
        **os.environ,
        "PYTHONPATH": python_path,
        "YUQING_CLOCK_OFFSET": f"{offset_to(start, time.time()):.3f}",
        "YUQING_CHROMIUM": str(site / "chromium"),
    }
    pytest = [
        *(sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider"),
        *extra,
        *targets,
    ]
    began = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run(pytest, env=env, stdout=out, stderr=subprocess.STDOUT)
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
    if shutil.which("faketime") is None:
        print(
            "faketime is missing (the browser needs it): apt-get install faketime", file=sys.stderr
        )
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
            start = china_start(day, at)
            args.logs.mkdir(parents=True, exist_ok=True)
            log = args.logs / f"{day}-{at.replace(':', '')}{'-busy' if args.busy else ''}.log"
            code, seconds, last = run_at(start, args.targets, args.pytest.split(), log)
            failed += code != 0
            state = "ok  " if code == 0 else f"FAIL({code})"
            busy = " busy" if args.busy else ""
            utc = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
            load = os.getloadavg()[0]
            print(
                f"{day} {at} China ({utc} UTC){busy}, load {load:.1f}: "
                f"{state} {seconds:6.0f} s  {last}"
            )
            sys.stdout.flush()
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(timeout=5)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
