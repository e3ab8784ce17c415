"""Scoring speed, cold start, segmentation agreement, MinHash speed and write cost per post.

Run: ``.venv/bin/python -m bench.scoring --data ../shared/data/smp2020-ewect`` (the posts are
read by path; nothing from the data set enters the project). Every figure is measured in this
run, on one core, and printed with the ratios between them. Nothing here is asserted.

1. Throughput of the full score (subject rules + segmentation + sentiment + crisis words +
   risk and reasons) beside plain ``jieba.lcut`` and SnowNLP's sentiment.
2. Cold start: a fresh interpreter imports the scoring path and scores one post.
3. Agreement of rjieba with ``jieba.lcut`` on the posts, and of the sentiment decision built
   on each (the output that matters).
4. MinHash signatures per second.
5. DynamoDB cost per new post through the scoring sink against moto (in-process), on a mix
   of the real posts (each its own story) and a storm of reposts: requests per table, write
   units computed from item sizes with DynamoDB's documented rules (indexes included), read
   units, the USD cost per million posts at on-demand prices, and a redelivery of every post;
   then the read cost of new posts while some stories are reported (人工上报).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]

COLD_START = """
import time
t0 = time.perf_counter()
from chalicelib.plan.defaults import default_plan
from chalicelib.scoring.scorer import scorer_for_plan
scorer_for_plan(default_plan()).score("市一院门口发生爆炸，已有伤亡[泪]")
print((time.perf_counter() - t0) * 1000)
"""


def load_posts(data: Path) -> list[str]:
    texts: list[str] = []
    for name in ("virus_eval_labeled.txt", "usual_eval_labeled.txt"):
        rows = json.loads((data / name).read_text(encoding="utf-8"))
        texts.extend(str(row["content"]) for row in rows)
    return texts


def rate(label: str, texts: list[str], work: Callable[[str], Any]) -> float:
    started = time.perf_counter()
    for text in texts:
        work(text)
    per_second = len(texts) / (time.perf_counter() - started)
    print(f"  {label:<44} {per_second:>10,.0f} posts/s")
    return per_second


def throughput(texts: list[str], snownlp_posts: int) -> None:
    from chalicelib.plan.defaults import default_plan
    from chalicelib.scoring.risk import Spread
    from chalicelib.scoring.scorer import scorer_for_plan

    print(f"1. throughput on one core ({len(texts)} real posts)")
    scorer = scorer_for_plan(default_plan())
    spread = Spread(engagement={"reposts": 10}, cluster_size=3, growth=2.0)
    ours = rate("full score (yuqing)", texts, lambda t: scorer.score(t, spread))

    import jieba

    jieba.dt.cache_file = "/tmp/yuqing-bench-jieba.cache"
    jieba.setLogLevel(60)
    started = time.perf_counter()
    jieba.initialize()
    print(f"  {'jieba.initialize()':<44} {time.perf_counter() - started:>10.2f} s")
    plain = rate("plain jieba.lcut", texts, jieba.lcut)
    try:
        from snownlp import SnowNLP  # type: ignore[import-untyped]
    except ImportError:
        print("  SnowNLP not installed")
        snow = math.nan
    else:
        snow = rate(
            f"SnowNLP sentiment ({snownlp_posts} posts)",
            texts[:snownlp_posts],
            lambda t: SnowNLP(t).sentiments,
        )
    print(f"  ratio: full score / jieba.lcut = {ours / plain:.1f}×, / SnowNLP = {ours / snow:.0f}×")


def cold_start(runs: int) -> None:
    print(f"2. cold start: import + first score in a fresh process (median of {runs})")
    inner, outer = [], []
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", COLD_START],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            cwd=PROJECT,
        )
        outer.append((time.perf_counter() - started) * 1000)
        inner.append(float(done.stdout.strip()))
    print(f"  import + first score                         {statistics.median(inner):>10.0f} ms")
    print(f"  whole process (interpreter start included)   {statistics.median(outer):>10.0f} ms")


def agreement(texts: list[str]) -> None:
    import jieba
    import rjieba

    from chalicelib.scoring.sentiment import SentimentScorer, load_lexicon, load_model

    print("3. rjieba against jieba.lcut (HMM on in both)")
    same = sum(1 for t in texts if rjieba.cut(t) == jieba.lcut(t))
    print(f"  identical segmentation                        {same / len(texts):>10.1%}")
    model, lexicon = load_model(), load_lexicon()
    ours = SentimentScorer(model, lexicon, rjieba.cut)
    theirs = SentimentScorer(model, lexicon, jieba.lcut)
    decisions = sum(1 for t in texts if ours.score(t).negative == theirs.score(t).negative)
    lexicon_sign = sum(
        1 for t in texts if (ours.score(t).lexicon.score < 0) == (theirs.score(t).lexicon.score < 0)
    )
    print(f"  same negative decision                        {decisions / len(texts):>10.1%}")
    print(f"  same lexicon polarity                         {lexicon_sign / len(texts):>10.1%}")


def minhash_speed(texts: list[str]) -> None:
    from chalicelib.clusters.minhash import bands, shingles, signature
    from chalicelib.scoring.text import story_text

    print("4. MinHash (3-gram shingles, 18 hashes, 6 bands)")
    rate(
        "story text + signature + bands", texts, lambda t: bands(signature(shingles(story_text(t))))
    )


# On-demand prices, us-east-1, Standard table class (since 2024-11-01), USD per million units.
USD_PER_MILLION_WRU = 0.625
USD_PER_MILLION_RRU = 0.125


class CountingTable:
    """Wraps a boto3 Table; counts requests and the units DynamoDB would bill for them.

    moto answers ``ReturnConsumedCapacity`` with a constant 1.0 and nothing for indexes, so the
    units come from the item sizes (:mod:`chalicelib.posts.sizing`, the documented rules): a
    put costs the item's units in the table plus, in every GSI whose keys it carries, the
    units of its projection; an update costs the larger of the item before and after; a refused
    conditional write is billed too. Reads: 0.5 unit per 4 KB eventually consistent, 1 strong.
    """

    def __init__(
        self,
        table: Any,
        name: str,
        counts: Counter[str],
        indexes: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._table = table
        self._name = name
        self._counts = counts
        self._indexes = indexes or {}  # GSI → the key attributes an item needs to be in it
        self.meta = _CountingMeta(table.meta, counts, name)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._table, attr)

    def _write(self, units: int, what: str = "writes") -> None:
        self._counts[f"{self._name} {what}"] += 1
        self._counts[f"{self._name} units"] += units
        self._counts["units"] += units

    def put_item(self, **kwargs: Any) -> Any:
        from chalicelib.core.dynamo import from_item
        from chalicelib.posts.sizing import item_size, write_units

        item = from_item(kwargs["Item"])
        units = write_units(item_size(item))
        try:
            result = self._table.put_item(**kwargs)
        except Exception:
            self._write(units, "refused")
            raise
        self._write(units)
        kind = _kind(item)
        if kind:
            self._counts[f"{self._name} {kind} units"] += units
        for index, keys in self._indexes.items():
            if all(item.get(k) is not None for k in keys):
                self._counts[f"{self._name} index {index} units"] += units
                self._counts["units"] += units
        return result

    def update_item(self, **kwargs: Any) -> Any:
        from chalicelib.core.dynamo import from_item
        from chalicelib.posts.sizing import item_size, write_units

        before = self._table.get_item(Key=kwargs["Key"]).get("Item") or {}
        result = self._table.update_item(**kwargs)
        after = self._table.get_item(Key=kwargs["Key"]).get("Item") or {}
        size = max(item_size(from_item(before)), item_size(from_item(after)))
        self._write(write_units(size))
        kind = _kind(kwargs["Key"])
        if kind:
            self._counts[f"{self._name} {kind} units"] += write_units(size)
        return result

    def get_item(self, **kwargs: Any) -> Any:
        result = self._table.get_item(**kwargs)
        _count_read(self._counts, [result.get("Item")], bool(kwargs.get("ConsistentRead")))
        return result

    def query(self, **kwargs: Any) -> Any:
        """A query is billed on the whole items it reads (before any filter or projection),
        their sizes added and rounded up to 4 KB once; at least one unit."""
        from chalicelib.core.dynamo import from_item
        from chalicelib.posts.sizing import item_size

        result = self._table.query(**kwargs)
        read = {
            k: v for k, v in kwargs.items() if k not in {"FilterExpression", "ProjectionExpression"}
        }
        size = sum(item_size(from_item(row)) for row in self._table.query(**read)["Items"])
        per = 1.0 if kwargs.get("ConsistentRead") else 0.5
        units = per * max(1, math.ceil(size / 4096))
        self._counts[f"{self._name} queries"] += 1
        self._counts[f"{self._name} query read units"] += units  # type: ignore[assignment]
        self._counts["read units"] += units  # type: ignore[assignment]
        return result


def _kind(item: dict[str, Any]) -> str:
    """The item type, from its sort key: BAND, META, an hour count (H), a cluster page (C) or
    the hot-word counts of an hour (W)."""
    sk = str(item.get("sk", ""))
    kinds = {"H#": "hour count", "C#": "cluster page", "W#": "hot-word count"}
    return kinds.get(sk[:2], sk.split("#")[0])


class _CountingMeta:
    def __init__(self, meta: Any, counts: Counter[str], name: str) -> None:
        self._meta = meta
        self.client = _CountingClient(meta.client, counts)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._meta, attr)


class _CountingClient:
    def __init__(self, client: Any, counts: Counter[str]) -> None:
        self._client = client
        self._counts = counts

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._client, attr)

    def batch_get_item(self, **kwargs: Any) -> Any:
        result = self._client.batch_get_item(**kwargs)
        # Every key asked for is billed, found or not (0.5 unit each, eventually consistent).
        keys = sum(len(spec["Keys"]) for spec in kwargs["RequestItems"].values())
        self._counts["read units"] += 0.5 * keys  # type: ignore[assignment]
        return result


def _count_read(counts: Counter[str], items: list[Any], consistent: bool) -> None:
    from chalicelib.core.dynamo import from_item
    from chalicelib.posts.sizing import item_size

    per = 1.0 if consistent else 0.5
    for item in items:
        size = item_size(from_item(item)) if item else 0
        counts["read units"] += per * max(1, math.ceil(size / 4096))  # type: ignore[assignment]


def write_cost(
    texts: list[str], storm: int, more: list[str] | None = None, reported: int = 0
) -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.clusters.store import ClusterStore
    from chalicelib.core.aws import AwsClients
    from chalicelib.core.dynamo import from_item
    from chalicelib.core.settings import Settings
    from chalicelib.deploy.template import render
    from chalicelib.incidents.opener import IncidentOpener
    from chalicelib.incidents.store import IncidentStore
    from chalicelib.ingest.sink import ScoringSink
    from chalicelib.local.provision import Provisioned, TemplateProvisioner
    from chalicelib.plan.defaults import default_plan
    from chalicelib.posts.models import Item, Platform
    from chalicelib.posts.sizing import item_size
    from chalicelib.posts.store import PostStore
    from chalicelib.trends.store import TrendStore
    from chalicelib.workflow.statemachine import StateMachine
    from tests.template_helpers import stage_environment

    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", **stage_environment("local")}
    os.environ.update(env)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    settings = Settings.from_env({**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    print(
        f"5. DynamoDB cost per new post (sink against moto, units from item sizes; "
        f"{len(texts)} real posts + {storm} reposts of one story, batches of 25)"
    )
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        arn = "arn:aws:lambda:us-east-1:123456789012:function:yuqing-local-workflow_step"
        TemplateProvisioner(
            render("local"),
            session.client,
            "123456789012",
            "us-east-1",
            external={"WorkflowStep": Provisioned(ref="workflow_step", attributes={"Arn": arn})},
        ).provision_all()
        clients = AwsClients(settings, session)
        # The GSIs as provisioned from infra/resources.yaml.
        described = session.client("dynamodb").describe_table(TableName=settings.tables.posts)
        post_indexes = {
            g["IndexName"]: tuple(k["AttributeName"] for k in g["KeySchema"])
            for g in described["Table"].get("GlobalSecondaryIndexes", [])
        }
        counts: Counter[str] = Counter()
        t = settings.tables
        posts_table = clients.table(t.posts)
        sink = ScoringSink(
            PostStore(CountingTable(posts_table, "posts", counts, post_indexes)),
            ClusterStore(CountingTable(clients.table(t.clusters), "clusters", counts)),
            IncidentOpener(
                IncidentStore(CountingTable(clients.table(t.incidents), "incidents", counts)),
                StateMachine.of(settings, clients).start,
            ),
            plan=default_plan,
            trends=TrendStore(CountingTable(clients.table(t.trends), "trends", counts)),
        )
        start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

        def crawled(text: str, i: int, prefix: str) -> Item:
            return Item(
                source_id="bench",
                platform=Platform.WEIBO,
                title="",
                text=text,
                fetched_at=start + timedelta(seconds=i),
                external_id=f"{prefix}{i}",
            )

        items = [crawled(text, i, "b") for i, text in enumerate(texts)]
        story = "市第一人民医院发生医疗事故，一名患者在手术后死亡，家属在医院门口聚集维权"
        items += [crawled(f"转发{i}//@网友{i}:求真相//@家属:{story}", i, "s") for i in range(storm)]
        new = 0
        started = time.perf_counter()
        for at in range(0, len(items), 25):
            new += sink.ingest(items[at : at + 25]).new
        elapsed = time.perf_counter() - started
        print(f"  new posts stored                             {new:>10,}")
        for key in sorted(counts):
            if key not in {"units", "read units"} and not key.endswith("query read units"):
                print(f"  {key:<44} {counts[key]:>10,}  ({counts[key] / new:.3f} per new post)")
        writes = sum(v for k, v in counts.items() if k.endswith(("writes", "refused")))
        per_post = counts["units"] / new
        reads = counts["read units"] / new
        print(f"  {'all write requests':<44} {writes:>10,}  ({writes / new:.3f} per new post)")
        print(
            f"  {'write units (indexes included)':<44} {counts['units']:>10,}  "
            f"({per_post:.3f} per new post)"
        )
        print(f"  {'read units':<44} {counts['read units']:>10,.1f}  ({reads:.3f} per new post)")
        usd = per_post * USD_PER_MILLION_WRU + reads * USD_PER_MILLION_RRU
        print(
            f"  per million new posts: {per_post:.3f} M write units × ${USD_PER_MILLION_WRU} + "
            f"{reads:.3f} M read units × ${USD_PER_MILLION_RRU} = ${usd:.2f} "
            "(on-demand, us-east-1, Standard class)"
        )
        print(f"  sink throughput against in-process moto      {new / elapsed:>10,.0f} posts/s")

        stored = [from_item(row) for row in posts_table.scan()["Items"]]
        sizes = sorted(item_size(row) for row in stored)
        feed = sum(1 for row in stored if "day" in row)
        cut = sum(1 for row in stored if "text_cut" in row)
        print(
            f"  post items: {len(stored)}, size median {sizes[len(sizes) // 2]} B, "
            f"max {sizes[-1]} B; text cut on {cut}; in the feed index {feed}"
        )

        # A re-crawl that finds every post again (hot lists re-list their entries).
        counts.clear()
        duplicates = 0
        for at in range(0, len(items), 25):
            duplicates += sink.ingest(items[at : at + 25]).duplicates
        print(
            f"  redelivery of all {len(items)} posts: {duplicates} duplicates, "
            f"{counts['units']} write units, {counts['read units']:.1f} read units"
        )

        # Stories people reported (人工上报): every crawl batch reads the list of them once,
        # and posts about no subject are compared with them. Other real posts, fresh.
        if not more or not reported:
            return
        counts.clear()
        for k, text in enumerate(more[:reported]):
            sink.ingest(
                [
                    Item(
                        source_id="report",
                        platform=Platform.REPORT,
                        title="上报",
                        text=text,
                        fetched_at=start,
                        external_id=f"r{k}",
                    )
                ],
                credibility=0.7,
                reported=True,
            )
        print(
            f"  {reported} reports of {reported} stories: {counts['units'] / reported:.2f} write "
            f"units and {counts['read units'] / reported:.2f} read units per report"
        )
        counts.clear()
        fresh_items = [crawled(text, i, "m") for i, text in enumerate(more[reported:])]
        new = 0
        for at in range(0, len(fresh_items), 25):
            new += sink.ingest(fresh_items[at : at + 25]).new
        print(
            f"  then {new} other new posts with those {reported} stories reported: "
            f"{counts['read units'] / new:.3f} read units per new post "
            f"({counts['clusters queries']} queries of the reported stories: "
            f"{counts['clusters query read units'] / new:.3f}), "
            f"{counts['units'] / new:.3f} write units per new post"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="the smp2020-ewect directory")
    parser.add_argument("--snownlp-posts", type=int, default=400)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--storm", type=int, default=200)
    parser.add_argument("--cost-posts", type=int, default=1000)
    parser.add_argument("--reported", type=int, default=20, help="reported stories in part 5")
    parser.add_argument("--only-write-cost", action="store_true", help="part 5 alone")
    args = parser.parse_args()
    texts = load_posts(args.data)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if args.only_write_cost:
        write_cost(
            texts[: args.cost_posts],
            args.storm,
            more=texts[args.cost_posts : 2 * args.cost_posts],
            reported=args.reported,
        )
        return
    cold_start(args.cold_runs)  # first, before this process warms any cache
    throughput(texts, args.snownlp_posts)
    agreement(texts)
    minhash_speed(texts)
    write_cost(
        texts[: args.cost_posts],
        args.storm,
        more=texts[args.cost_posts : 2 * args.cost_posts],
        reported=args.reported,
    )


if __name__ == "__main__":
    main()
