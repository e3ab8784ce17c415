"""Load on the worst night: reporters post manual reports while the HQ's dashboard polls.

Run: ``.venv/bin/python -m bench.load [--users 20] [--minutes 2] [--dashboards 2]``. Starts local
mode as a subprocess (offline, schedules off, a throw-away state directory, real time scale, as
``bench.e2e`` does), refuses any target that is not a loopback address, and drives it with
locust as a library (headless, no web UI) for a bounded time:

- ``--users`` reporters (role reporter), each posting ``POST /reports`` about a story of its own
  (``bench.e2e.story``, levels II–IV), then pausing 10–30 s (``--think``; the first report
  comes within one pause of the start, not all at once); one report in five carries an
  ``Idempotency-Key`` and is sent again, alternately after the answer (a retry after a lost
  answer) and 50 ms after the first, while it runs (a retry on a timeout: 409 ``in_progress``,
  then again after ``Retry-After``);
- ``--dashboards`` HQ dashboard pages (role hq) polling what the page polls, at its intervals:
  the board (``/incidents`` and ``/drills`` every 10 s, ``/outbox`` every 15 s) and the newest
  incident's page (the incident and its outbox every 4 s, the feed every 30 s), each with the
  header's ``/health`` every 30 s.

Before the run one report and each poll are sent once, not counted (the first request's imports
are not the night's figures; its time is printed). When the time is up the users finish the
request they are in (at most 30 s), then the outbox
table is read (DynamoDB on local mode's endpoint) until every accepted report's incident has the
HQ's "reported" alert, for at most ``--settle`` seconds. Lost, duplicated and the latency are
defined in ``bench.load_logic.account``: latency is from the report's request start to the
alert item's ``created_at`` (same machine, same clock), because polling the outbox for each
report, as ``bench.e2e`` does one report at a time, would add 20 users' worth of reads to the
load being measured.

Prints the machine, the CPU reference (``bench.cpu``, after local mode has stopped) and the
figures; nothing is asserted on timings. Exits 1 if any call answered 5xx or not within 29 s
(API Gateway's limit, after which it answers 504), or an alert was lost or duplicated.
"""

from __future__ import annotations

# Imported first: locust patches the process with gevent (sockets, ssl, threads, sleep) when it
# is imported, and must do so before requests, boto3 or ssl are.
import locust  # isort: split

import argparse
import itertools
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import gevent
import requests
from locust import FastHttpUser, task
from locust.env import Environment

from bench.cpu import DATA, Reference, reference
from bench.e2e import story
from bench.load_logic import (
    Accepted,
    AlertAccount,
    OutboxMessage,
    Polls,
    RequestRecord,
    Resend,
    account,
    loopback_only,
    route_family,
    route_figures,
)
from bench.local_startup import local_mode, percentile

THINK = (10.0, 30.0)  # a reporter's pause between two reports, seconds (--think)
KEYED_EVERY = 5  # one report in this many carries an Idempotency-Key and is sent twice
DURING_DELAY = 0.05  # the concurrent resend leaves this long after the first request
RESEND_TRIES = 60  # …and is sent again every second (Retry-After: 1) while the first runs
# No answer within this is a failure, counted with the 5xx: API Gateway answers 504 after 29 s.
API_TIMEOUT = 29.0
STOP_TIMEOUT = 30.0  # users finish the request they are in, for at most this long
OUTBOX_TABLE = "yuqing-local-outbox"

# What the dashboard's pages poll (chalicelib/dashboard/static: views.js, incident.js, app.js).
BOARD = {"/incidents": 10.0, "/drills": 10.0, "/outbox?limit=200": 15.0, "/health": 30.0}
INCIDENT = {
    "/incidents/{newest}": 4.0,
    "/outbox?incident={newest}&limit=100": 4.0,
    "/posts?limit=30": 30.0,
    "/clusters?limit=10": 30.0,
    "/health": 30.0,
}


class RunLog:
    """What the load generator saw: every call, the accepted reports, the resends."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.accepted: list[Accepted] = []
        self.resends: list[Resend] = []
        self.user_errors: list[str] = []
        self.numbers = itertools.count()

    def newest_incident(self) -> str | None:
        return self.accepted[-1].incident_id if self.accepted else None


LOG = RunLog()


class Reporter(FastHttpUser):
    """上报人: one report about a story of its own, then a pause."""

    token: ClassVar[str] = ""
    think: ClassVar[tuple[float, float]] = THINK
    network_timeout = API_TIMEOUT
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.rng = random.Random(next(LOG.numbers))
        # The night is under way: reporters are somewhere in their cycle, not all at "send".
        gevent.sleep(self.rng.uniform(0, self.think[1]))

    def wait_time(self) -> float:
        return self.rng.uniform(*self.think)

    def _post(self, body: dict[str, Any], key: str | None, resend: bool = False) -> Any:
        """The answer of a 201, else None (a 409 while the key's first request runs)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        started = time.time()
        # Resends are counted apart: their 409s answer at once and would flatter the figures.
        name = "/reports (resend)" if resend else "/reports"
        response = self.client.post("/reports", json=body, headers=headers, name=name)
        if response.status_code != 201:
            return None
        answer = response.json()
        LOG.accepted.append(
            Accepted(answer["report_id"], answer["incident_id"], bool(answer["opened"]), started)
        )
        return answer

    @task
    def report(self) -> None:
        number = next(LOG.numbers)
        body = {**story(self.rng, number), "level": self.rng.choice(("II", "III", "III", "IV"))}
        if number % KEYED_EVERY:
            self._post(body, None)
            return
        key = f"load-{os.getpid()}-{number}"
        if (number // KEYED_EVERY) % 2:
            first = self._post(body, key)  # the answer was "lost": the client sends it again
            LOG.resends.append(Resend(first, self._post(body, key, resend=True)))
            return
        # Sent again while the first still runs: 409 in_progress with Retry-After 1, again.
        racing = gevent.spawn(self._post, body, key)
        gevent.sleep(DURING_DELAY)
        again = self._post(body, key, resend=True)
        for _ in range(RESEND_TRIES):
            if again is not None or (racing.ready() and racing.value is None):
                break  # answered, or the first failed: nothing to wait for
            gevent.sleep(1.0)
            again = self._post(body, key, resend=True)
        LOG.resends.append(Resend(racing.get(), again))


class Dashboard(FastHttpUser):
    """The HQ's dashboard page: its timers' polls, one view per user (board, then incident)."""

    token: ClassVar[str] = ""
    views: ClassVar[list[dict[str, float]]] = [BOARD, INCIDENT]
    pages: ClassVar[itertools.count[int]] = itertools.count()
    network_timeout = API_TIMEOUT
    connection_timeout = 10.0

    def on_start(self) -> None:
        view = self.views[next(self.pages) % len(self.views)]
        self.polls = Polls(view, time.monotonic())

    def wait_time(self) -> float:
        return self.polls.wait(time.monotonic())

    @task
    def poll(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        for path in self.polls.due(time.monotonic()):
            newest = LOG.newest_incident()
            if "{newest}" in path and newest is None:
                continue  # no incident yet: the page would show the board
            self.client.get(path.format(newest=newest), headers=headers)


def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,
    exception: Exception | None = None,
    **_: Any,
) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    if exception is not None and status < 400:
        status = 0  # no answer (refused, reset, timed out)
    LOG.records.append(
        RequestRecord(route_family(request_type, name), response_time / 1000, status)
    )


def _on_user_error(user_instance: Any, exception: Exception, tb: Any, **_: Any) -> None:
    LOG.user_errors.append(f"{type(user_instance).__name__}: {exception!r}")


def drive(
    api_url: str,
    tokens: dict[str, str],
    users: int,
    dashboards: int,
    seconds: float,
    think: tuple[float, float],
) -> None:
    """Run the users against ``api_url`` for ``seconds``, then let them finish their request."""
    Reporter.token, Dashboard.token = tokens["reporter"], tokens["hq"]
    Reporter.fixed_count, Dashboard.fixed_count = users, dashboards
    Reporter.think = think
    env = Environment(
        user_classes=[Reporter, Dashboard], host=loopback_only(api_url), stop_timeout=STOP_TIMEOUT
    )
    env.events.request.add_listener(_on_request)  # type: ignore[no-untyped-call]
    env.events.user_error.add_listener(_on_user_error)  # type: ignore[no-untyped-call]
    runner = env.create_local_runner()
    runner.start(users + dashboards, spawn_rate=users + dashboards)
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()


def warm_up(api_url: str, tokens: dict[str, str]) -> float:
    """One report and one call of each page's polls before the run, not counted: the figures
    are the night's, not the first request's imports (printed beside them). Its seconds."""
    started = time.perf_counter()
    body = {**story(random.Random(-1), -1), "level": "IV"}
    reporter = {"Authorization": f"Bearer {tokens['reporter']}"}
    answer = requests.post(f"{api_url}/reports", json=body, headers=reporter, timeout=60)
    answer.raise_for_status()
    newest = answer.json()["incident_id"]
    for path in {**BOARD, **INCIDENT}:
        hq = {"Authorization": f"Bearer {tokens['hq']}"}
        requests.get(f"{api_url}{path.format(newest=newest)}", headers=hq, timeout=60)
    return time.perf_counter() - started


def read_outbox(ddb: Any) -> list[OutboxMessage]:
    items: list[OutboxMessage] = []
    for page in ddb.get_paginator("scan").paginate(TableName=OUTBOX_TABLE, ConsistentRead=True):
        items.extend(OutboxMessage.from_dynamo(i) for i in page["Items"])
    return items


def settle(ddb: Any, limit: float) -> tuple[AlertAccount, float]:
    """The account once no alert is missing, or after ``limit`` seconds; and the wait."""
    started = time.monotonic()
    while True:
        found = account(LOG.accepted, LOG.resends, read_outbox(ddb))
        waited = time.monotonic() - started
        if not found.lost or waited >= limit:
            return found, waited
        time.sleep(1.0)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20, help="reporters (default 20)")
    parser.add_argument("--minutes", type=float, default=2.0, help="duration (default 2)")
    parser.add_argument("--dashboards", type=int, default=2, choices=(0, 1, 2))
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=THINK,
        metavar=("MIN", "MAX"),
        help="a reporter's pause between reports, s (default 10 30)",
    )
    parser.add_argument("--settle", type=float, default=60.0, help="alert wait after, s")
    parser.add_argument("--data", type=Path, default=DATA, help="SMP2020 posts for bench.cpu")
    args = parser.parse_args()
    if not 1 <= args.users <= 200 or not 0 < args.minutes <= 30:
        parser.error("--users 1–200 and --minutes up to 30: a bounded run")
    if not 0 <= args.think[0] <= args.think[1]:
        parser.error("--think MIN MAX with 0 ≤ MIN ≤ MAX")
    args.think = tuple(args.think)
    load_before = os.getloadavg()
    with local_mode("1") as (info, ddb, _):
        for url in (info["api_url"], info["aws_endpoint_url"]):
            loopback_only(url)
        print(
            f"  local mode up at {info['api_url']}; {args.users} reporters and "
            f"{args.dashboards} dashboards for {args.minutes:g} min",
            file=sys.stderr,
            flush=True,
        )
        warm = warm_up(info["api_url"], info["tokens"])
        started = time.monotonic()
        drive(
            info["api_url"],
            info["tokens"],
            args.users,
            args.dashboards,
            args.minutes * 60,
            args.think,
        )
        ran = time.monotonic() - started
        print("  run over; reading the outbox", file=sys.stderr, flush=True)
        result, waited = settle(ddb, args.settle)
    load_after = os.getloadavg()
    cpu = reference(args.data)
    return report(args, result, waited, ran, warm, cpu, (load_before, load_after))


def report(
    args: argparse.Namespace,
    result: AlertAccount,
    waited: float,
    ran: float,
    warm: float,
    cpu: Reference,
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> int:
    figures = route_figures(LOG.records)
    total = len(LOG.records)
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
        f"locust {locust.__version__}"
    )
    print(
        "load average (1, 5, 15 min) before / after: "
        + " / ".join(", ".join(f"{x:.2f}" for x in load) for load in loads)
        + " (the machine is shared)"
    )
    print(cpu.line())
    print(f"warm-up before the run (one report, each poll once; not counted): {warm:.1f} s")
    print(
        f"{args.users} reporters (pause {args.think[0]:g}–{args.think[1]:g} s) + "
        f"{args.dashboards} dashboard pages for {ran:.0f} s: "
        f"{total} requests ({total / ran:.1f}/s), {result.reports} reports accepted into "
        f"{result.incidents} incidents, {result.resends} resent with their Idempotency-Key"
    )
    print(f"{'route':32} {'calls':>6} {'p50':>9} {'p95':>9} {'max':>9} {'5xx':>4} {'4xx':>4} none")
    for f in figures:
        print(
            f"{f.family:32} {f.count:6} {_ms(f.p50):>9} {_ms(f.p95):>9} {_ms(f.max):>9} "
            f"{f.server_errors:4} {f.client_errors:4} {f.no_answer:4}"
        )
    every = [r.seconds for r in LOG.records]
    if every:
        print(
            f"{'all':32} {total:6} {_ms(percentile(every, 0.5)):>9} "
            f"{_ms(percentile(every, 0.95)):>9} {_ms(max(every)):>9}"
        )
    server_errors = sum(f.server_errors for f in figures)
    no_answer = sum(f.no_answer for f in figures)
    print(
        f"5xx: {server_errors}; no answer within {API_TIMEOUT:g} s: {no_answer}; "
        f"user errors: {len(LOG.user_errors)}"
    )
    refused = Counter((r.family, r.status) for r in LOG.records if 400 <= r.status < 500)
    if refused:
        print("4xx: " + ", ".join(f"{f} {code} ×{n}" for (f, code), n in sorted(refused.items())))
    for line in LOG.user_errors[:5]:
        print(f"  {line}")
    lat = result.latencies
    if lat:
        values = {"p50": percentile(lat, 0.5), "p95": percentile(lat, 0.95), "max": max(lat)}
        print(
            f"report → HQ alert written (request start → created_at), {len(lat)} reports that "
            "opened their incident: " + ", ".join(f"{k} {_ms(v)}" for k, v in values.items())
        )
        scaled = {k: cpu.at_readme_speed(v) for k, v in values.items()}
        if all(v is not None for v in scaled.values()):
            print(
                "  at the README machine's speed (× reference ratio): "
                + ", ".join(f"{k} {_ms(v or 0)}" for k, v in scaled.items())
            )
    print(
        f"lost alerts: {len(result.lost)}; duplicated alerts: {result.duplicates} "
        f"({sum(result.duplicated.values())} incidents paged twice, {result.resend_mismatches} "
        f"resends answered with another report); waited {waited:.1f} s for the outbox"
    )
    print(
        f"HQ first alerts not yet published: {result.unpublished}; "
        f"level-rise pages (reported#<level>): {result.rises}"
    )
    for incident in result.lost[:5]:
        print(f"  lost: {incident}")
    for incident, extra in list(result.duplicated.items())[:5]:
        print(f"  duplicated: {incident} (+{extra})")
    failed = server_errors or no_answer or result.lost or result.duplicates
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
