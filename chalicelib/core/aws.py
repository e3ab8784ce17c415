"""The one place that builds AWS clients.

Clients are created lazily on first use and cached per service, so importing a handler costs
nothing and a cold start pays only for the services it touches. ``AWS_ENDPOINT_URL`` (through
:class:`Settings`) points every client at moto in local mode and tests; in AWS it is unset.

Tests and local mode swap the process-wide instance with :func:`set_clients`; no application
code calls ``boto3.client`` or ``boto3.resource`` itself.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.core.errors import aws_errors
from chalicelib.core.settings import Settings, get_settings

# Standard retry mode backs off with jitter on throttling and 5xx; short connect timeout so a
# dead endpoint fails fast instead of eating the Lambda's whole budget.
_BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=3,
    read_timeout=20,
    tcp_keepalive=True,
)


class AwsClients:
    """Lazily-built, cached boto3 clients and resolved resource identifiers for one settings."""

    def __init__(self, settings: Settings, session: boto3.session.Session | None = None) -> None:
        self.settings = settings
        self._session = session or boto3.session.Session(region_name=settings.region)
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        # boto3 clients are thread-safe, resources are not: one set of resources per thread.
        self._thread = threading.local()
        self._ids: dict[tuple[str, str], str] = {}
        self._table_class: Any = None

    # -- clients ---------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        return self._cached(self._clients, service, self._session.client)

    def resource(self, service: str) -> Any:
        if not hasattr(self._thread, "resources"):
            self._thread.resources = {}
        return self._cached(self._thread.resources, service, self._session.resource)

    def _cached(self, cache: dict[str, Any], service: str, build: Any) -> Any:
        with self._lock:
            if service not in cache:
                cache[service] = build(
                    service, endpoint_url=self.settings.endpoint_url, config=_BOTO_CONFIG
                )
            return cache[service]

    def table(self, name: str) -> Any:
        """A DynamoDB ``Table`` resource by physical name (``settings.tables.<logical>``), on this
        thread's DynamoDB resource.

        ``resource.Table(name)`` builds the ``Table`` class from the service model on every call
        (milliseconds, and thousands of objects for the garbage collector); the class is the same
        each time, so it is built once and instantiated as boto3 does, with the resource's client.
        """
        resource = self.resource("dynamodb")
        table_class = self._table_class
        if table_class is None:
            table = resource.Table(name)
            self._table_class = type(table)
            return table
        return table_class(name, client=resource.meta.client)

    # -- identifiers resolved once from names ------------------------------------------------
    def _memo(self, kind: str, name: str, resolve: Any) -> str:
        key = (kind, name)
        cached = self._ids.get(key)
        if cached is None:
            with aws_errors(f"{kind} {name}"):
                cached = str(resolve())
            self._ids[key] = cached
        return cached

    def account_id(self) -> str:
        return self._memo(
            "account", "self", lambda: self.client("sts").get_caller_identity()["Account"]
        )

    def queue_url(self, name: str) -> str:
        return self._memo(
            "queue", name, lambda: self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        )

    def topic_arn(self, name: str) -> str:
        """ARN of a topic by name. SNS ARNs are deterministic; no call is needed."""
        return self._memo("topic", name, lambda: self._arn("sns", name))

    def state_machine_arn(self, name: str) -> str:
        return self._memo("states", name, lambda: self._arn("states", f"stateMachine:{name}"))

    def lambda_arn(self, name: str) -> str:
        return self._memo("lambda", name, lambda: self._arn("lambda", f"function:{name}"))

    def _arn(self, service: str, resource: str) -> str:
        partition = self._session.get_partition_for_region(self.settings.region)
        return f"arn:{partition}:{service}:{self.settings.region}:{self.account_id()}:{resource}"


_current: AwsClients | None = None
_current_lock = threading.Lock()


def get_clients() -> AwsClients:
    """The process-wide clients, built from :func:`get_settings` on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = AwsClients(get_settings())
        return _current


def set_clients(clients: AwsClients | None) -> None:
    """Replace (or with ``None`` forget) the process-wide clients: tests and local mode."""
    global _current
    with _current_lock:
        _current = clients
