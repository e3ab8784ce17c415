"""One scheduler tick over 50 slow sources: dispatch + crawl, and posts written per second.

Run: ``.venv/bin/python -m bench.crawl [--sources 50] [--latency 0.2] [--items 20]``.

Setup: moto in-process with the local stage's tables and queue; ``--sources`` RSS feeds on
127.0.0.1, each its own server (port) answering after ``--latency`` seconds with ``--items``
entries and an ETag. A tick is: the dispatcher (the real ``Dispatcher`` → SQS) queues one message
per due source, then every message is received and handed to the crawl worker's code
(``CrawlService.handle_message``, what the ``crawl_worker`` Lambda runs) — concurrently, one
thread per message, because in AWS each message is its own Lambda invocation. A second tick then
finds every feed unchanged (304): no parsing, no post writes. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from moto import mock_aws

from chalicelib.core import aws
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings, reset_settings
from chalicelib.deploy.template import PROJECT_DIR, render
from chalicelib.local.provision import Provisioned, TemplateProvisioner
from chalicelib.sources.guard import LOCAL_SITES, LocalSite
from chalicelib.sources.models import parse_definition
from chalicelib.sources.service import CrawlQueue, Dispatcher
from chalicelib.sources.wiring import crawl_service, source_store

REGION = "us-east-1"
ACCOUNT = "123456789012"


def feed(source: int, items: int) -> bytes:
    now = format_datetime(datetime(2023, 11, 15, tzinfo=UTC))
    entries = "".join(
        f"<item><title>来源{source}的第{i}条帖子：滨江市第一人民医院</title>"
        f"<link>http://bench.example.org/{source}/{i}</link>"
        f"<description>内容 {source}-{i}</description><pubDate>{now}</pubDate></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>bench {source}'
        f"</title>{entries}</channel></rss>"
    ).encode()


def start_server(source: int, latency: float, items: int) -> ThreadingHTTPServer:
    body = feed(source, items)
    etag = f'"bench-{source}"'

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            time.sleep(latency)
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
    ).start()
    return server


def local_stage_environment() -> dict[str, str]:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return {
        **config.get("environment_variables", {}),
        **config["stages"]["local"]["environment_variables"],
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": REGION,
        "YUQING_OFFLINE": "1",  # loopback only: nothing here may leave the machine
    }


def tick(now: datetime) -> tuple[float, float, list[Any]]:
    """Dispatch then crawl every queued message concurrently; (dispatch s, total s, reports)."""
    settings, clients = get_settings(), aws.get_clients()
    sqs = clients.client("sqs")
    url = clients.queue_url(settings.crawl_queue)
    started = time.perf_counter()
    Dispatcher(source_store(), CrawlQueue(sqs, url).send, clock=lambda: now).tick()
    dispatched = time.perf_counter()
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        bodies += [m["Body"] for m in got]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )
    service = crawl_service()
    with ThreadPoolExecutor(max_workers=max(1, len(bodies))) as pool:
        reports = list(pool.map(service.handle_message, bodies))
    return dispatched - started, time.perf_counter() - started, reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()

    logger.setLevel("WARNING")  # one INFO line per crawl is for Lambda logs, not this console
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.update(local_stage_environment())
    reset_settings()
    aws.set_clients(None)
    servers = [start_server(i, args.latency, args.items) for i in range(args.sources)]
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
        store = source_store()
        created = "2023-11-15T00:00:00+00:00"
        for i, server in enumerate(servers):
            port = server.server_address[1]
            LOCAL_SITES.add(LocalSite("127.0.0.1", port))  # as local mode's demo site is
            body = {"id": f"bench-{i}", "kind": "rss", "local": True, "interval_minutes": 5,
                    "url": f"http://127.0.0.1:{port}/feed.xml"}  # fmt: skip
            store.create(parse_definition(body), created)

        now = datetime.now(UTC)
        dispatch_s, total_s, reports = tick(now)
        written = sum(r.new for r in reports if r)
        failed = [r.source_id for r in reports if r and r.outcome != "ok"]
        print(f"sources: {args.sources}, each answering after {args.latency * 1000:.0f} ms, "
              f"{args.items} items each")  # fmt: skip
        print("workers: one thread per SQS message (as one Lambda invocation per message in AWS)")
        print(f"tick 1: dispatch {dispatch_s:.2f} s, dispatch + crawl {total_s:.2f} s "
              f"(target ≤ 10 s); {len(reports)} crawls, {len(failed)} failed")  # fmt: skip
        print(f"tick 1: posts written {written}, {written / total_s:.0f} posts/s over the tick")

        _, total2, reports2 = tick(now + timedelta(minutes=10))
        not_modified = sum(1 for r in reports2 if r and r.outcome == "not_modified")
        written2 = sum(r.new for r in reports2 if r)
        print(f"tick 2: dispatch + crawl {total2:.2f} s; {not_modified}/{len(reports2)} answered "
              f"304 (no parsing), posts written {written2}")  # fmt: skip
    for server in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
