"""Typed settings, read once from the environment.

This is the only module that looks at ``os.environ``. Everything else receives a
:class:`Settings` (or the pieces of it that it needs), so domain code stays free of
process state and tests build settings from a plain dict.

Resource *names* arrive as environment variables set per stage in ``.chalice/config.json``
(local mode sets the same variables); ARNs and URLs are resolved from them at first use
by :mod:`chalicelib.core.aws`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from chalicelib.core.errors import ConfigError


@dataclass(frozen=True)
class TableNames:
    """Physical DynamoDB table names; see docs/data-model.md for keys and access patterns."""

    plan: str
    sources: str
    posts: str
    clusters: str
    trends: str
    incidents: str
    outbox: str
    tokens: str
    idempotency: str
    system: str

    def all(self) -> list[str]:
        """Every table's physical name, in declaration order."""
        return [getattr(self, f.name) for f in fields(self)]


# Logical table → environment variable. The order is the order health checks report them.
TABLE_ENV: dict[str, str] = {f.name: f"{f.name.upper()}_TABLE" for f in fields(TableNames)}


@dataclass(frozen=True)
class Settings:
    """Everything the code needs to know about where it runs."""

    stage: str
    region: str
    tables: TableNames
    crawl_queue: str
    crawl_dlq: str
    hq_topic: str
    ops_topic: str
    state_machine: str
    endpoint_url: str | None = None
    # Multiplies the workflow's waits and deadlines computed from the plan (Wait states read
    # them through SecondsPath): 1.0 in AWS, small in local mode and tests, so that a 30-minute
    # 研判 deadline passes in seconds without patching the interpreter. Retry intervals in the
    # ASL are literals and run in real time.
    time_scale: float = 1.0
    local_mode: bool = False
    # The offline switch (YUQING_OFFLINE=1): the crawler refuses every fetch that is not to a
    # loopback address, without any network attempt (not even DNS). Local-mode tests and drills
    # set it so that running the schedules never reaches the public hot lists.
    offline: bool = False
    # The API's public base URL (YUQING_PUBLIC_URL), for links in e-mails (the daily briefing's
    # .docx). Local mode sets it to its own API URL; in AWS it is a stage setting. Unset, links
    # are paths without a host.
    public_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping, reporting every missing variable at once."""
        required = [
            "YUQING_STAGE",
            *TABLE_ENV.values(),
            "CRAWL_QUEUE",
            "CRAWL_DLQ",
            "HQ_TOPIC",
            "OPS_TOPIC",
            "RESPONSE_STATE_MACHINE",
        ]
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise ConfigError(f"missing environment variables: {', '.join(missing)}")
        time_scale_text = environ.get("YUQING_TIME_SCALE", "1")
        try:
            time_scale = float(time_scale_text)
        except ValueError:
            raise ConfigError(f"YUQING_TIME_SCALE is not a number: {time_scale_text!r}") from None
        if not 0 < time_scale <= 1:
            raise ConfigError(f"YUQING_TIME_SCALE must be in (0, 1], got {time_scale}")
        return cls(
            stage=environ["YUQING_STAGE"],
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            tables=TableNames(**{key: environ[env] for key, env in TABLE_ENV.items()}),
            crawl_queue=environ["CRAWL_QUEUE"],
            crawl_dlq=environ["CRAWL_DLQ"],
            hq_topic=environ["HQ_TOPIC"],
            ops_topic=environ["OPS_TOPIC"],
            state_machine=environ["RESPONSE_STATE_MACHINE"],
            endpoint_url=environ.get("AWS_ENDPOINT_URL") or None,
            time_scale=time_scale,
            local_mode=_flag(environ.get("YUQING_LOCAL")),
            offline=_flag(environ.get("YUQING_OFFLINE")),
            public_url=(environ.get("YUQING_PUBLIC_URL") or "").rstrip("/") or None,
        )


def _flag(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes"}


def crawl_queue_name() -> str:
    """The crawl queue's name as ``@on_sqs_message`` needs it, at import time.

    Chalice reads the queue name when the decorator runs. ``chalice package`` and local mode
    both put the stage's environment variables into ``os.environ`` before importing ``app.py``
    (``CLIFactory.load_chalice_app``), so ``CRAWL_QUEUE`` names the stage's queue there; in
    Lambda the variable is set too. Imported without a stage (a bare ``import app``), the local
    stage's queue stands in; the packaging test checks that the dev template names the dev queue.
    """
    return os.environ.get("CRAWL_QUEUE") or "yuqing-local-crawl"


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, parsed on first use (not at import, so tests can set env)."""
    return Settings.from_env(os.environ)


def reset_settings() -> None:
    """Forget the cached settings (tests and local mode, after changing the environment)."""
    get_settings.cache_clear()
