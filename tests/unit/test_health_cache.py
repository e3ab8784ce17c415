"""The /health answer cache: one check per half minute per process, whoever asks."""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.health.service import ReportCache


class Checks:
    """Counts the checks computed; the first one can be held until released."""

    def __init__(self) -> None:
        self.count = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> dict[str, Any]:
        self.count += 1
        self.started.set()
        self.release.wait(10)
        return {"status": "ok", "n": self.count}


def test_within_the_ttl_the_answer_is_reused_and_after_it_checked_again() -> None:
    now = [0.0]
    cache, checks, clients = ReportCache(ttl=30, clock=lambda: now[0]), Checks(), object()
    assert cache.get(clients, checks) == {"status": "ok", "n": 1}
    now[0] = 29.9
    assert cache.get(clients, checks)["n"] == 1
    now[0] = 30.0
    assert cache.get(clients, checks)["n"] == 2


def test_other_clients_never_get_an_answer_computed_for_another_deployment() -> None:
    cache, checks = ReportCache(ttl=30, clock=lambda: 0.0), Checks()
    assert cache.get(object(), checks)["n"] == 1
    assert cache.get(object(), checks)["n"] == 2


def test_a_fresher_answer_put_by_the_probe_is_served() -> None:
    cache, checks, clients = ReportCache(ttl=30, clock=lambda: 0.0), Checks(), object()
    cache.get(clients, checks)
    cache.put(clients, {"status": "degraded"})
    assert cache.get(clients, checks) == {"status": "degraded"}
    assert checks.count == 1


def test_callers_arriving_during_a_check_wait_for_it_instead_of_checking_too() -> None:
    # GIVEN a check in progress (held)
    cache, checks, clients = ReportCache(ttl=30, clock=lambda: 0.0), Checks(), object()
    checks.release.clear()
    answers: list[dict[str, Any]] = []
    first = threading.Thread(target=lambda: answers.append(cache.get(clients, checks)))
    first.start()
    assert checks.started.wait(10)
    # WHEN ten more callers arrive, and then the check finishes
    others = [
        threading.Thread(target=lambda: answers.append(cache.get(clients, checks)))
        for _ in range(10)
    ]
    for thread in others:
        thread.start()
    checks.release.set()
    for thread in [first, *others]:
        thread.join(10)
    # THEN one check answered all eleven
    assert checks.count == 1
    assert answers == [{"status": "ok", "n": 1}] * 11
