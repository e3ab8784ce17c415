"""Drive a repost storm through the scoring sink of a running local mode, and show what it made.

With ``make run`` going in another terminal::

    .venv/bin/python -m tools.storm --posts 200

generates ``--posts`` reposts of one story about the example plan's subject (different comment
chains, links and hashtags, a few seconds apart), hands them to :class:`ScoringSink` in batches
of 25 as the crawl worker would, then prints the clusters and incidents in local mode's tables
and the response workflow executions. Expected: one cluster, one incident, one execution.
Running it again adds nothing (the same posts are duplicates).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from chalicelib.core.aws import AwsClients
from chalicelib.core.clock import utcnow
from chalicelib.core.settings import Settings
from chalicelib.deploy.template import PROJECT_DIR
from chalicelib.ingest.wiring import build_scoring_sink
from chalicelib.posts.models import Item, Platform

STORY = "市第一人民医院发生医疗事故，一名患者在手术后死亡，家属在医院门口聚集维权，太让人愤怒了"
COMMENTS = ["太可怕了", "求真相", "[怒][怒]", "转发", "心疼家属", "必须严查", "这也太过分了"]


def settings_for(info: dict[str, Any]) -> Settings:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text(encoding="utf-8"))
    env = {
        **config.get("environment_variables", {}),
        **config["stages"][info["stage"]].get("environment_variables", {}),
        **info["aws_env"],
        "AWS_ENDPOINT_URL": info["aws_endpoint_url"],
        "AWS_DEFAULT_REGION": info["region"],
    }
    os.environ.update({k: str(v) for k, v in info["aws_env"].items()})
    return Settings.from_env(env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--state-dir", type=Path, default=PROJECT_DIR / ".yuqing")
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    info = json.loads((args.state_dir / "local.json").read_text(encoding="utf-8"))
    settings = settings_for(info)
    clients = AwsClients(settings)
    sink = build_scoring_sink(settings, clients)
    start = utcnow().replace(microsecond=0)
    items = [
        Item(
            source_id="storm-demo",
            platform=Platform.WEIBO,
            title="",
            text=f"{COMMENTS[i % len(COMMENTS)]}//@网友{i}:求真相//@家属:{STORY} #市一院# "
            f"http://t.cn/{i}",
            fetched_at=start + timedelta(seconds=i // 10),
            external_id=f"storm-{i}",
            engagement={"reposts": 20 + i, "comments": 5},
        )
        for i in range(args.posts)
    ]
    new = 0
    for at in range(0, len(items), 25):
        new += sink.ingest(items[at : at + 25], credibility=0.6).new
    clusters = clients.table(settings.tables.clusters).scan()["Items"]
    metas = [c for c in clusters if c["sk"] == "META" and c.get("drill") is not True]
    incidents = [
        i for i in clients.table(settings.tables.incidents).scan()["Items"] if i["sk"] == "META"
    ]
    sfn = clients.client("stepfunctions")
    arn = clients.state_machine_arn(settings.state_machine)
    executions = [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
    print(f"posts sent {len(items)}, new {new}")
    for c in metas:
        print(f"cluster {c['cluster_id']}: {c['count']} posts, level {c.get('level')}")
    for i in incidents:
        print(f"incident {i['pk']}: level {i['level']}, {i['title']}")
    print(f"executions: {', '.join(executions) or '-'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
