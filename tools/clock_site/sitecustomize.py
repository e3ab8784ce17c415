"""Put on ``PYTHONPATH`` by ``tools.clock_matrix`` only: every Python process of a run (pytest,
local mode, the tests' helpers) sees the wall clock moved by ``YUQING_CLOCK_OFFSET`` seconds.

``time-machine`` replaces the wall-clock functions (``time.time``, ``time.time_ns``,
``time.gmtime``, ``time.localtime``, ``time.strftime``, ``datetime.now``/``utcnow``/``today``,
``date.today``) at the C level, in every thread, and leaves the monotonic clocks alone, so
timeouts and sleeps measure real seconds, as they would on a real machine at that hour. The
clock then runs on at its real pace (``tick=True``). Each process moves its own clock by the
same offset when it starts, so a child started a minute later agrees with its parent to the
millisecond. Nothing happens without the variable; the module is loaded nowhere else.
"""

from __future__ import annotations

import os
import time

_OFFSET = os.environ.get("YUQING_CLOCK_OFFSET")

if _OFFSET:
    import time_machine

    time_machine.travel(time.time() + float(_OFFSET), tick=True).start()
