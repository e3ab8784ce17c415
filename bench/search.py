"""The search (检索, ``GET /posts?q=``) over a busy week: first-page time and read units a search.

Run: ``.venv/bin/python -m bench.search [--posts 100000] [--days 7] [--searches 25] [--follow]``.

Setup: moto in-process with the local stage's tables (as ``bench.scoring``), moto's Query made
to read a partition as local mode has it (:mod:`chalicelib.local.moto_speed`), and ``--posts``
feed posts spread evenly over ``--days`` UTC days, each as the scoring sink stores a feed post
(every attribute, ``day`` set, cut to one write unit by ``fit_post``), written 25 to a
``BatchWriteItem``. Every stored post is a feed post here: the worst case for the search, whose
index holds only feed posts (about 1 in 80 of the real posts in ``bench.scoring``).

Then ``--searches`` first pages (``limit`` 30, as the dashboard asks; the default window, the
last 7 days), rules taken in turn from :data:`RULES` — a common word, a subject-like rule, a
NEAR, a rare phrase, and a rule nothing matches — through :class:`PostSearch`, the code behind
the route. For each: the time to the answer, index entries read, queries, and the read units
DynamoDB would bill (0.5 per 4 KB of entries a query reads, eventually consistent, as
``bench.scoring`` counts them; moto answers ``ReturnConsumedCapacity`` with a constant), and
the time our code took apart from moto's: moto walks every item of the table for an index query
(DynamoDB reads the partition) and serialises each item it returns through its generic
serializer (≈ 2–3 ms an item here), so the end-to-end times are mostly moto's. Last, what
reading the whole window costs for the rule that matches nothing (``--follow`` also follows it
with its cursor to the end of the week: slow against moto). The CPU reference of ``bench.cpu``
is printed beside the times. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.cpu import reference

REGION = "us-east-1"
ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
LIMIT = 30
USD_PER_MILLION_RRU = 0.125

# (name, rule): how often each matches follows from post_text
RULES = [
    ("common word", "医院"),
    ("subject rule", "(市第一医院 OR 一院) AND (投诉 OR 纠纷 OR 医闹) NOT 招聘"),
    ("NEAR", "爆炸 NEAR/10 (化工厂 OR 仓库)"),
    ("rare phrase", '"食物中毒" AND 学校'),
    ("no match", "核泄漏 OR 溃坝"),
]

_PLACES = ["市第一医院", "一院", "滨江区政府", "实验小学", "地铁三号线", "开发区", "人民公园"]
_TOPICS = ["投诉", "纠纷", "排队", "收费", "停水", "施工", "噪音", "招聘", "医闹", "服务态度"]
_FILLER = (
    "据网友反映，今天上午现场聚集了不少人，有人拍下视频发到网上，评论区里说法不一。"
    "相关部门表示已经注意到此事，正在核实情况，将及时向社会公布调查结果。"
    "也有市民认为事情被夸大了，希望大家理性看待，不信谣不传谣。"
)


def post_text(rng: random.Random) -> tuple[str, str]:
    """A title and text of 80–250 characters; about 1 in 150 a plant blast, 1 in 1,000 a
    school's food poisoning, none about a nuclear leak."""
    place, topic = rng.choice(_PLACES), rng.choice(_TOPICS)
    start = rng.randrange(0, len(_FILLER) - 60)
    body = _FILLER[start : start + rng.randrange(60, len(_FILLER) - start + 1)]
    roll = rng.random()
    if roll < 0.007:
        where = rng.choice(["化工厂", "仓库", "加油站"])
        news = f"{where}{'附近' * rng.randrange(0, 4)}发生爆炸，"
    elif roll < 0.008:
        news = "实验小学食堂疑似发生食物中毒，"
    else:
        news = f"{place}{topic}问题引发关注，"
    return f"{place}{topic}", news + body


def feed_record(n: int, seen: datetime, rng: random.Random) -> dict[str, Any]:
    from chalicelib.posts.models import Item, Platform, feed_day
    from chalicelib.posts.sizing import fit_post

    title, text = post_text(rng)
    platform = rng.choice([Platform.WEIBO, Platform.NEWS, Platform.FORUM, Platform.VIDEO])
    item = Item(
        source_id=f"bench-{n % 40}",
        platform=platform,
        title=title,
        text=text,
        url=f"https://bench.example.org/{n}",
        author=f"网友{n % 997}",
        fetched_at=seen,
        engagement={"likes": n % 500, "comments": n % 90, "reposts": n % 40},
    )
    record = item.to_record()
    negative = rng.random() < 0.3
    record.update(
        day=feed_day(record["seen_at"]),
        cluster_id=f"k{n:020x}",
        sentiment=round(-0.6 if negative else 0.2, 4),
        negative=negative,
        risk=round(rng.random(), 4),
        level=rng.choice([None, None, "IV", "III"]),
        subjects=["hospital"] if "医院" in title else ["district"],
        crisis_words=["爆炸"] if "爆炸" in text else [],
        components={"negative": 0.4, "crisis": 0.1, "heat": 0.2, "spread": 0.1, "credibility": 0.5},
        reasons=["命中主体「市第一医院」规则：医院", "负面情绪 0.60"],
        expires_at=int(seen.timestamp()) + 90 * 86400,
    )
    return fit_post(record)


class CountingTable:
    """Wraps the posts table: counts queries and the read units their entries cost.

    A query is billed on the entries it reads (before its filter), their sizes added and
    rounded up to 4 KB once, 0.5 unit per 4 KB (an index is read eventually consistent). Here
    no stored post is a drill post, so the filter keeps every entry read (checked) and the
    entries read are the items returned."""

    def __init__(self, table: Any, counts: Counter[str]) -> None:
        self._table = table
        self._counts = counts

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._table, attr)

    def query(self, **kwargs: Any) -> Any:
        from chalicelib.core.dynamo import from_item
        from chalicelib.posts.sizing import item_size

        started = time.perf_counter()
        answer = self._table.query(**kwargs)
        if answer["Count"] != answer["ScannedCount"]:
            raise RuntimeError("the filter dropped entries: units would be undercounted")
        size = sum(item_size(from_item(row)) for row in answer["Items"])
        self._counts["queries"] += 1
        self._counts["units"] += 0.5 * max(1, math.ceil(size / 4096))  # type: ignore[assignment]
        # The counting is the bench's, not the search's: its time is left out with moto's. boto3
        # turning the answer's DynamoDB JSON into Python is the Lambda's work with DynamoDB too:
        # timed again here on the same items, it counts as ours.
        moto = time.perf_counter() - started - _deserialising(answer["Items"])
        self._counts["query seconds"] += moto  # type: ignore[assignment]
        return answer


def _deserialising(items: list[dict[str, Any]]) -> float:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    wire = [{k: TypeSerializer().serialize(v) for k, v in item.items()} for item in items]
    reader = TypeDeserializer()
    started = time.perf_counter()
    for item in wire:
        {k: reader.deserialize(v) for k, v in item.items()}
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def load(table: Any, posts: int, days: int) -> float:
    """Write ``posts`` feed posts spread over the ``days`` days before :data:`NOW`."""
    rng = random.Random(16)
    step = timedelta(days=days) / posts
    started = time.perf_counter()
    with table.batch_writer() as batch:
        for n in range(posts):
            batch.put_item(Item=_to_item(feed_record(n, NOW - step * (n + 1), rng)))
    return time.perf_counter() - started


def _to_item(record: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.core.dynamo import to_item

    item: dict[str, Any] = to_item(record)
    return item


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--searches", type=int, default=25, help="first pages, rules in turn")
    parser.add_argument(
        "--follow", action="store_true", help="also follow a search to the window's end (slow)"
    )
    args = parser.parse_args(argv)

    import boto3
    from moto import mock_aws

    from chalicelib.core.observability import logger
    from chalicelib.core.settings import Settings
    from chalicelib.deploy.template import render
    from chalicelib.local import moto_speed
    from chalicelib.local.provision import Provisioned, TemplateProvisioner
    from chalicelib.posts.store import PostStore
    from chalicelib.search.service import FIRST_READ, MAX_QUERIES, READ_BUDGET, PostSearch
    from chalicelib.search.service import parse_search_query as parse
    from tests.template_helpers import stage_environment

    logger.setLevel("WARNING")
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            **stage_environment("local"),
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    settings = Settings.from_env({**os.environ, "AWS_DEFAULT_REGION": REGION})
    moto_speed.install()
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        step = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:yuqing-local-workflow_step"
        TemplateProvisioner(
            render("local"),
            session.client,
            ACCOUNT,
            REGION,
            external={"WorkflowStep": Provisioned(ref="workflow_step", attributes={"Arn": step})},
        ).provision_all()
        table = session.resource("dynamodb").Table(settings.tables.posts)
        seconds = load(table, args.posts, args.days)
        print(
            f"stored {args.posts:,} feed posts over {args.days} days in {seconds:.0f} s "
            f"({args.posts / seconds:,.0f} posts/s, BatchWriteItem of 25, in-process moto)"
        )
        print(
            f"budget per request: {READ_BUDGET:,} index entries in at most {MAX_QUERIES} queries "
            f"(first query max(limit, {FIRST_READ}) entries, then twice as many each); "
            f"limit {LIMIT}"
        )

        counts: Counter[str] = Counter()
        searcher = PostSearch(PostStore(CountingTable(table, counts)), clock=lambda: NOW)
        rows: dict[str, list[dict[str, float]]] = {name: [] for name, _ in RULES}
        for n in range(args.searches):
            name, rule = RULES[n % len(RULES)]
            counts.clear()
            started = time.perf_counter()
            answer = searcher.search(parse({"q": rule, "limit": str(LIMIT)}))
            took = time.perf_counter() - started
            rows[name].append(
                {
                    "seconds": took,
                    "posts": len(answer["posts"]),
                    "examined": answer["examined"],
                    "queries": counts["queries"],
                    "units": counts["units"],
                    "ours": took - counts["query seconds"],
                    "spent": float(answer["budget_spent"]),
                }
            )

        cpu = reference()
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(cpu.line())
        print(f"first page of a search ({args.searches} searches, default window of 7 days):")
        print(
            f"  {'rule':<14}{'posts':>6}{'read':>7}{'queries':>8}{'units':>7}"
            f"{'p50 ms':>8}{'p95 ms':>8}  budget spent"
        )
        for name, rule in RULES:
            got = rows[name]
            if not got:
                continue
            times = [g["seconds"] for g in got]
            print(
                f"  {name:<14}{statistics.median(g['posts'] for g in got):>6.0f}"
                f"{statistics.median(g['examined'] for g in got):>7.0f}"
                f"{statistics.median(g['queries'] for g in got):>8.0f}"
                f"{statistics.median(g['units'] for g in got):>7.1f}"
                f"{statistics.median(times) * 1000:>8.0f}{percentile(times, 0.95) * 1000:>8.0f}"
                f"  {'yes' if any(g['spent'] for g in got) else 'no'}   {rule}"
            )
        every = [g for got in rows.values() for g in got]
        times = [g["seconds"] for g in every]
        units = [g["units"] for g in every]
        p95 = percentile(times, 0.95)
        print(
            f"  all: p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; "
            f"read units per search: mean {statistics.mean(units):.1f}, max {max(units):.1f} "
            f"(≈ ${statistics.mean(units) * USD_PER_MILLION_RRU / 1e6:.7f} a search at "
            f"${USD_PER_MILLION_RRU}/M read units)"
        )
        scaled = cpu.at_readme_speed(p95)
        if scaled is not None:
            print(
                f"  p95 at the README machine's speed (× reference ratio): {scaled * 1000:.0f} ms"
            )
        ours = [g["ours"] for g in every]
        ours_p95 = percentile(ours, 0.95)
        scaled_ours = cpu.at_readme_speed(ours_p95)
        print(
            f"  of which our code (boto3 reading the answer, rule matching, paging, shaping; the "
            f"rest is moto's Query): p50 {statistics.median(ours) * 1000:.0f} ms, p95 "
            f"{ours_p95 * 1000:.0f} ms"
            + (f" ({scaled_ours * 1000:.0f} ms at README speed)" if scaled_ours else "")
        )
        spent = [g for g in every if g["spent"]]
        if spent:
            per_entry = statistics.mean(g["units"] / g["examined"] for g in spent)
            requests = math.ceil(args.posts / READ_BUDGET)
            week = per_entry * args.posts
            print(
                f"  the whole window for a rule nothing matches: {args.posts:,} entries in about "
                f"{requests} requests (「继续检索」), ≈ {week:,.0f} read units "
                f"(≈ ${week * USD_PER_MILLION_RRU / 1e6:.4f}) at the {per_entry:.4f} units per "
                "entry measured above"
            )
        if args.follow:
            follow(searcher, counts, RULES[-1][1], parse)
    moto_speed.uninstall()
    return 0


def follow(searcher: Any, counts: Counter[str], rule: str, parse: Any) -> None:
    """Follow a rule nothing matches with its cursor to the window's end (slow against moto)."""
    counts.clear()
    pages, examined = 0, 0
    started = time.perf_counter()
    params = {"q": rule, "limit": str(LIMIT)}
    while True:
        answer = searcher.search(parse(params))
        pages += 1
        examined += answer["examined"]
        if not answer["more"]:
            break
        params = {"q": rule, "limit": str(LIMIT), "cursor": answer["next_cursor"]}
    took = time.perf_counter() - started
    print(
        f"  followed to the end ({rule}): {pages} requests, {examined:,} entries read, "
        f"{counts['queries']} queries, {counts['units']:,.0f} read units, {took:.1f} s "
        "against moto"
    )


if __name__ == "__main__":
    sys.exit(main())
