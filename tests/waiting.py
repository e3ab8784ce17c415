"""Polling until something holds, for tests and benchmarks that watch a running system.

One helper, standard library only, so ``bench/`` can import it without pulling test
dependencies: local mode, moto's Step Functions and the workflow finish their work on other
threads or processes, and the caller can only look again until it is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(what: Callable[..., T], timeout: float = 60, every: float = 0.2) -> T:
    """``what()`` once it is truthy, asked every ``every`` seconds; TimeoutError after
    ``timeout`` seconds. (``...``: a lambda binding a loop variable as a default is welcome.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"condition not reached in {timeout} s")
