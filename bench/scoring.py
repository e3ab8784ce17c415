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
5. DynamoDB writes per new post through the scoring sink against moto (in-process), on a
   mix of the real posts (each its own story) and a storm of reposts, counted per table and
   as estimated write units (1 per KB, GSIs included).
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
from chalicelib.scoring.config import default_plan
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
    from chalicelib.scoring.config import default_plan
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


class CountingTable:
    """Wraps a boto3 Table and counts write calls and estimated write units."""

    def __init__(self, table: Any, name: str, counts: Counter[str], gsi_copies: int = 0) -> None:
        self._table = table
        self._name = name
        self._counts = counts
        self._gsi = gsi_copies

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._table, attr)

    def _units(self, item: dict[str, Any]) -> int:
        size = sum(
            len(str(k).encode()) + len(json.dumps(v, default=str, ensure_ascii=False).encode())
            for k, v in item.items()
        )
        return max(1, math.ceil(size / 1024))

    def put_item(self, **kwargs: Any) -> Any:
        units = self._units(kwargs["Item"])
        self._counts[f"{self._name} writes"] += 1
        self._counts["units"] += units
        self._counts[f"{self._name} units"] += units
        try:
            result = self._table.put_item(**kwargs)
        except Exception:
            self._counts[f"{self._name} refused"] += 1
            raise
        # A stored item is copied into each GSI whose keys it carries.
        copies = (
            self._gsi
            if self._name != "posts"
            else (1 + (1 if "cluster_id" in kwargs["Item"] else 0))
        )
        if self._name == "posts":
            self._counts["units"] += copies * units
            self._counts["posts GSI units"] += copies * units
        return result

    def update_item(self, **kwargs: Any) -> Any:
        self._counts[f"{self._name} writes"] += 1
        self._counts["units"] += 1
        self._counts[f"{self._name} units"] += 1
        return self._table.update_item(**kwargs)


def write_cost(texts: list[str], storm: int) -> None:
    import boto3
    from moto import mock_aws

    from chalicelib.clusters.incidents import DynamoIncidentOpener
    from chalicelib.clusters.sink import ScoringSink
    from chalicelib.clusters.store import ClusterStore
    from chalicelib.core.aws import AwsClients
    from chalicelib.core.settings import Settings
    from chalicelib.deploy.template import render
    from chalicelib.local.provision import Provisioned, TemplateProvisioner
    from chalicelib.posts.models import Item, Platform
    from chalicelib.posts.store import PostStore
    from chalicelib.scoring.config import default_plan
    from chalicelib.workflow.service import WorkflowStarter
    from tests.template_helpers import stage_environment

    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", **stage_environment("local")}
    os.environ.update(env)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    settings = Settings.from_env({**os.environ, "AWS_DEFAULT_REGION": "us-east-1"})
    print(
        f"5. DynamoDB writes per new post (sink against moto; {len(texts)} posts + {storm} reposts)"
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
        counts: Counter[str] = Counter()
        t = settings.tables
        sink = ScoringSink(
            PostStore(CountingTable(clients.table(t.posts), "posts", counts)),
            ClusterStore(CountingTable(clients.table(t.clusters), "clusters", counts)),
            DynamoIncidentOpener(
                CountingTable(clients.table(t.incidents), "incidents", counts),
                WorkflowStarter(settings, clients).start,
            ),
            plan=default_plan,
        )
        start = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        items = [
            Item(
                source_id="bench",
                platform=Platform.WEIBO,
                title="",
                text=text,
                fetched_at=start + timedelta(seconds=i),
                external_id=f"b{i}",
            )
            for i, text in enumerate(texts)
        ]
        story = "市第一人民医院发生医疗事故，一名患者在手术后死亡，家属在医院门口聚集维权"
        items += [
            Item(
                source_id="bench",
                platform=Platform.WEIBO,
                title="",
                text=f"转发{i}//@网友{i}:求真相//@家属:{story}",
                fetched_at=start + timedelta(seconds=i),
                external_id=f"s{i}",
            )
            for i in range(storm)
        ]
        new = 0
        started = time.perf_counter()
        for at in range(0, len(items), 25):
            new += sink.ingest(items[at : at + 25]).new
        elapsed = time.perf_counter() - started
        for key in sorted(counts):
            if key != "units":
                print(f"  {key:<44} {counts[key]:>10,}  ({counts[key] / new:.3f} per new post)")
        writes = sum(v for k, v in counts.items() if k.endswith("writes"))
        print(f"  {'all write requests':<44} {writes:>10,}  ({writes / new:.3f} per new post)")
        print(
            f"  {'estimated write units (GSIs included)':<44} {counts['units']:>10,}  "
            f"({counts['units'] / new:.2f} per new post)"
        )
        print(f"  sink throughput against in-process moto      {new / elapsed:>10,.0f} posts/s")
        # The same posts stored unscored (StoreOnlySink): the item and its by_day copy.
        sizer = CountingTable(None, "bare", Counter())
        bare = sum(
            2 * sizer._units({k: v for k, v in i.to_record().items() if v is not None})
            for i in items
        )
        print(
            f"  {'unscored posts, for comparison (by_day incl.)':<44} {bare:>10,}  "
            f"({bare / len(items):.2f} per post)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="the smp2020-ewect directory")
    parser.add_argument("--snownlp-posts", type=int, default=400)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--storm", type=int, default=200)
    parser.add_argument("--cost-posts", type=int, default=1000)
    args = parser.parse_args()
    texts = load_posts(args.data)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    cold_start(args.cold_runs)  # first, before this process warms any cache
    throughput(texts, args.snownlp_posts)
    agreement(texts)
    minhash_speed(texts)
    write_cost(texts[: args.cost_posts], args.storm)


if __name__ == "__main__":
    main()
