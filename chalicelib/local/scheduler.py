"""Fire ``@app.schedule`` functions in local mode, where EventBridge rules never fire.

Each schedule is invoked through moto's Lambda API (so through the same hook and handler as
any other invocation) with the event EventBridge would send. ``rate(...)`` schedules fire once
shortly after start — so a fresh local mode has data at once — then at their rate; ``cron(...)``
schedules fire at matching minutes in UTC, as EventBridge evaluates them. Supported cron syntax:
``*``, ``?``, numbers, names (JAN, MON), ranges, lists and ``/`` steps; ``L``, ``W`` and ``#`` are
not (none of our schedules use them), and are rejected when the schedule is parsed.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalice.app import Cron, Rate, ScheduleExpression

from chalicelib.core.observability import logger

FIRST_FIRE_DELAY = timedelta(seconds=5)
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
# EventBridge numbers days of week 1-7 from Sunday.
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}


def _field(
    text: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int] | None:
    """The values a cron field allows, or None for any (``*`` / ``?``)."""
    if text in {"*", "?"}:
        return None
    values: set[int] = set()
    for part in text.upper().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ValueError(f"cron field {text!r} out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"unsupported cron value {text!r}")
    return int(text)


@dataclass(frozen=True)
class CronSpec:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None
    years: frozenset[int] | None

    @classmethod
    def parse(cls, text: str) -> CronSpec:
        parts = text.split()
        if len(parts) != 6:
            raise ValueError(f"cron needs 6 fields, got {text!r}")
        return cls(
            _field(parts[0], 0, 59),
            _field(parts[1], 0, 23),
            _field(parts[2], 1, 31),
            _field(parts[3], 1, 12, _MONTHS),
            _field(parts[4], 1, 7, _DAYS),
            _field(parts[5], 1970, 2199),
        )

    def matches(self, at: datetime) -> bool:
        weekday = (at.isoweekday() % 7) + 1  # Sunday → 1
        checks = (
            (self.minutes, at.minute),
            (self.hours, at.hour),
            (self.days, at.day),
            (self.months, at.month),
            (self.weekdays, weekday),
            (self.years, at.year),
        )
        return all(allowed is None or value in allowed for allowed, value in checks)

    def next_after(self, after: datetime) -> datetime:
        at = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 24 * 60):
            if self.matches(at):
                return at
            at += timedelta(minutes=1)
        raise ValueError("cron expression never fires within a year")


@dataclass(frozen=True)
class Schedule:
    """When one function fires: every ``interval``, or at ``cron`` matches."""

    interval: timedelta | None = None
    cron: CronSpec | None = None

    @classmethod
    def parse(cls, expression: str | ScheduleExpression) -> Schedule:
        text = expression.to_string() if isinstance(expression, Rate | Cron) else str(expression)
        rate = re.fullmatch(r"rate\((\d+)\s+(\w+)\)", text.strip())
        if rate and rate.group(2) in _UNITS:
            return cls(interval=timedelta(seconds=int(rate.group(1)) * _UNITS[rate.group(2)]))
        cron = re.fullmatch(r"cron\((.+)\)", text.strip())
        if cron:
            return cls(cron=CronSpec.parse(cron.group(1)))
        raise ValueError(f"unsupported schedule expression {text!r}")

    def first_after(self, start: datetime) -> datetime:
        if self.interval is not None:
            return start + min(FIRST_FIRE_DELAY, self.interval)
        assert self.cron is not None
        return self.cron.next_after(start)

    def next_after(self, fired: datetime) -> datetime:
        if self.interval is not None:
            return fired + self.interval
        assert self.cron is not None
        return self.cron.next_after(fired)


def scheduled_event(function_name: str, account: str, region: str, now: datetime) -> dict[str, Any]:
    """The event EventBridge sends a scheduled target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{function_name}-event"],
        "detail": {},
    }


def invoke_scheduled(
    lambda_client: Any, function_name: str, account: str, region: str
) -> dict[str, Any]:
    """Invoke one scheduled function now and return its decoded result."""
    event = scheduled_event(function_name, account, region, datetime.now(UTC))
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    return {"function": function_name, "error": response.get("FunctionError"), "result": payload}


class Scheduler:
    """A thread that fires each schedule on time; a slow function never delays another."""

    def __init__(
        self,
        schedules: dict[str, Schedule],
        fire: Callable[[str], Any],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._schedules = schedules
        self._fire = fire
        self._clock = clock
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="schedule")
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Fire nothing more. A function still running is not waited for: local mode's stop
        lets it finish or holds it back at its gate (:mod:`.gate`)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        now = self._clock()
        due = {name: s.first_after(now) for name, s in self._schedules.items()}
        while not self._stop.is_set():
            now = self._clock()
            for name, at in due.items():
                if at <= now:
                    self._submit(name)
                    due[name] = self._schedules[name].next_after(
                        max(at, now - timedelta(seconds=1))
                    )
            wait = min((at - self._clock()).total_seconds() for at in due.values()) if due else 1.0
            self._stop.wait(max(0.05, min(wait, 1.0)))

    def _submit(self, name: str) -> None:
        with self._lock:
            if name in self._running:
                # Still running from the last tick: skip rather than pile up (EventBridge would
                # start a second copy; for local mode one at a time is the useful behaviour).
                logger.warning("schedule still running; skipped a tick", extra={"schedule": name})
                return
            self._running.add(name)
        self._pool.submit(self._fire_one, name)

    def _fire_one(self, name: str) -> None:
        try:
            self._fire(name)
        except Exception:
            if not self._stop.is_set():  # under a stop moto goes away: nothing to report
                logger.exception("scheduled function failed", extra={"schedule": name})
        finally:
            with self._lock:
                self._running.discard(name)
