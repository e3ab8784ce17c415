"""Start and stop the whole system in one process: moto, functions, resources, API, schedules.

Order matters and is the same every start: lock the state directory → moto server (Step Functions
execution on) → environment for the stage → import the Chalice app and bind the API port → Lambda
hook (behind the work gate), moto's write guard, and functions → resources from ``infra/`` → saved
tables and the journal replayed on top → event sources (after the restore, so restored rows are
not replayed into stream handlers) → tokens → the plan (the example on first start; SNS
subscriptions reconciled) → saved queue messages → SQS pollers and scheduler → API server →
``.yuqing/local.json`` → on a thread, the saved running executions and the workflow of every
incident still open (a second or so each: the API must not wait for them), then periodic
snapshots. What those steps do with the state directory (lock, restore, resume, save) is
:mod:`.persistence`'s; this module says when they happen.

:meth:`LocalRuntime.stop` must be quick however busy local mode is (a person pressed Ctrl-C; a
supervisor sends SIGTERM and kills a few seconds later): it holds the work gate (:mod:`.gate`) so
nothing new starts, gives what is running a few seconds, saves while everything holds still,
then lets the held work unwind and stops moto. It saves only once a start got as far as
restoring, so a start that fails early never overwrites a snapshot with empty tables.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from chalice.cli.factory import CLIFactory
from chalice.local import LocalDevServer, create_local_server
from moto.server import ThreadedMotoServer

from chalicelib.alerts.wiring import alert_service
from chalicelib.auth.models import Role
from chalicelib.auth.store import TokenStore
from chalicelib.core.aws import AwsClients, get_clients, set_clients
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings, reset_settings
from chalicelib.deploy.template import PROJECT_DIR, render
from chalicelib.local import lambda_hook, moto_guard, moto_speed
from chalicelib.local.demo_site import DemoSite
from chalicelib.local.functions import RegisteredFunctions, register_functions, wire_event_sources
from chalicelib.local.gate import LocalModeStopping, WorkGate
from chalicelib.local.moto_cors import disable_global_cors
from chalicelib.local.persistence import StateKeeper
from chalicelib.local.provision import TemplateProvisioner
from chalicelib.local.scheduler import Schedule, Scheduler, invoke_scheduled
from chalicelib.local.sqs_poller import QueuePoller
from chalicelib.plan.service import load_example, load_plan_file
from chalicelib.plan.wiring import plan_service
from chalicelib.sources.seed import seed_sources
from chalicelib.sources.wiring import source_store

STAGE = "local"
# The example plan's working groups: local mode issues a lead token for each.
LOCAL_GROUPS = ("office", "monitoring", "publicity", "tech", "coordination", "logistics")
REGION = "us-east-1"
# At a stop, how long work already running may go on before the snapshot is taken anyway (what
# it writes later is still journaled, so this bounds the stop, not what is kept).
STOP_GRACE_SECONDS = 2.0
API_BACKLOG = 128
# The collector's youngest generation is collected after this many allocations (Python's default
# is 700). Local mode keeps every running workflow in memory, so a full collection walks a heap
# that grows with each incident — most of a million objects after a hundred, seconds of pause on
# a busy machine, during which nothing runs. With the default, a request's own short-lived
# objects live through several young collections and are promoted, and full collections came
# every few seconds; with this, they die young and full collections become rare.
GC_YOUNG_THRESHOLD = 50_000
# moto accepts any credentials; these keep boto3 from looking for real ones.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # Current botocore puts the account id in DynamoDB endpoints; moto needs it off for Streams.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


@dataclass
class LocalOptions:
    project_dir: Path = PROJECT_DIR
    state_dir: Path = PROJECT_DIR / ".yuqing"
    host: str = "127.0.0.1"
    api_port: int = 8000
    moto_port: int = 0  # 0: any free port; local.json says which
    time_scale: float | None = None  # None: the stage's YUQING_TIME_SCALE
    run_schedules: bool = True
    # The plan stored as version 1 on the first start (None: examples/plan.json); a plan that
    # is already stored is never replaced.
    plan_file: Path | None = None
    log_level: str | None = None  # None: the stage's POWERTOOLS_LOG_LEVEL (WARNING)


def _no_proxy_for_loopback() -> dict[str, str]:
    """A proxy in the environment must not capture calls to moto or the API on loopback."""
    hosts = [h for h in os.environ.get("NO_PROXY", os.environ.get("no_proxy", "")).split(",") if h]
    hosts += [h for h in ("127.0.0.1", "localhost") if h not in hosts]
    value = ",".join(hosts)
    return {"NO_PROXY": value, "no_proxy": value}


def _check_port_free(host: str, port: int) -> None:
    # moto's server thread waits forever for a server that failed to bind: check first.
    if port:
        with socket.socket() as probe:
            probe.bind((host, port))


def api_server(
    app: Any, config: Any, host: str, port: int, gate: WorkGate | None = None
) -> LocalDevServer:
    """Chalice's local server (a thread per request), bound now, for a crisis's load.

    - Its listen backlog is socketserver's default of 5: the sixth of twenty reports sent at
      once would be refused with a connection reset. Listen again with a real backlog.
    - With ``gate``, each request is one unit of its work (:mod:`.gate`). socketserver calls
      ``RequestHandlerClass`` once per request on the request's own thread: that is the seam.
    """
    server = create_local_server(app, config, host, port)
    server.server.socket.listen(API_BACKLOG)
    if gate is not None:
        handle = server.server.RequestHandlerClass

        def gated(request: Any, client_address: Any, owner: Any) -> Any:
            try:
                with gate.work():
                    return handle(request, client_address, owner)
            except LocalModeStopping:
                return None  # came in during a stop: closed unanswered, nothing written

        server.server.RequestHandlerClass = gated
    return server


@dataclass
class LocalRuntime:
    options: LocalOptions
    registry: lambda_hook.HandlerRegistry = field(default_factory=lambda_hook.HandlerRegistry)
    tokens: dict[str, str] = field(default_factory=dict)
    group_tokens: dict[str, str] = field(default_factory=dict)
    functions: RegisteredFunctions | None = None
    endpoint_url: str = ""
    api_url: str = ""
    _moto: ThreadedMotoServer | None = None
    _server: LocalDevServer | None = None
    _api_thread: threading.Thread | None = None
    _pollers: list[QueuePoller] = field(default_factory=list)
    _scheduler: Scheduler | None = None
    _gate: WorkGate = field(default_factory=WorkGate)
    _demo: DemoSite | None = None
    _gc_thresholds: tuple[int, ...] = ()
    _state: StateKeeper = field(init=False)  # tables, executions and queues across restarts

    def __post_init__(self) -> None:
        self._state = StateKeeper(self.options.state_dir)

    # -- start -------------------------------------------------------------------------------
    def start(self) -> None:
        opts = self.options
        moto_speed.install()  # refuses another moto than the one its patches were made for
        self._state.lock()
        self._gc_thresholds = gc.get_threshold()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *self._gc_thresholds[1:])
        # moto's server logs every request; the console is for people.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        _check_port_free(opts.host, opts.moto_port)
        disable_global_cors()  # no web page may read moto's tables (decision 68)
        self._moto = ThreadedMotoServer(ip_address=opts.host, port=opts.moto_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        os.environ.update(_no_proxy_for_loopback())
        requests.post(
            f"{self.endpoint_url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()

        factory = CLIFactory(str(opts.project_dir), environ=os.environ)
        config = factory.create_config_obj(chalice_stage_name=STAGE)
        environment = {str(k): str(v) for k, v in config.environment_variables.items()}
        environment.update(LOCAL_AWS_ENV)
        environment["AWS_ENDPOINT_URL"] = self.endpoint_url
        environment["MOTO_PORT"] = str(port)  # moto's Step Functions calls back on this port
        if opts.time_scale is not None:
            environment["YUQING_TIME_SCALE"] = str(opts.time_scale)
        if opts.log_level:
            environment["POWERTOOLS_LOG_LEVEL"] = opts.log_level
        os.environ.update(environment)
        # Powertools reads POWERTOOLS_LOG_LEVEL once, when the Logger is built — and the
        # application's Logger was built when this module imported it, before the stage's
        # variables were in the environment. Without this the console gets every INFO line.
        logger.setLevel(environment.get("POWERTOOLS_LOG_LEVEL", "INFO"))
        reset_settings()
        set_clients(None)
        clients = get_clients()
        settings = get_settings()

        app = factory.load_chalice_app()
        # Bind the API port before anything slow, so a busy port fails at once.
        self._server = api_server(app, config, opts.host, opts.api_port, self._gate)
        # Links in e-mails (the daily briefing) point at this API.
        api_host, api_port = self._server.server.server_address[:2]
        environment["YUQING_PUBLIC_URL"] = f"http://{api_host}:{api_port}"
        os.environ["YUQING_PUBLIC_URL"] = environment["YUQING_PUBLIC_URL"]
        reset_settings()
        lambda_hook.install(self.registry, self._gate)
        moto_guard.install()
        self.functions = register_functions(
            app,
            STAGE,
            clients.client,
            self.registry,
            environment,
            memory_mb=int(config.lambda_memory_size or 512),
            timeout_s=int(config.lambda_timeout or 60),
        )
        account = clients.account_id()
        provisioned = TemplateProvisioner(
            render(STAGE), clients.client, account, REGION, external=self.functions.provisioned
        ).provision_all()
        queues = {
            made.attributes["QueueName"]: made.ref
            for made in provisioned.values()
            if "QueueUrl" in made.attributes
        }
        self._state.restore_tables(
            settings.tables.all(), clients.state_machine_arn(settings.state_machine), queues
        )
        self._start_demo_site()
        wire_event_sources(self.functions, clients.client)
        self._issue_tokens(clients)
        self._load_plan()
        self._state.restore_queues()
        self._start_pollers(clients)
        if opts.run_schedules:
            self._start_scheduler(clients, account)
        self._state.load_pending()
        self._start_api()
        self._write_local_json(port, account)
        # What start-up built (modules, the app, moto's models) lives as long as the process:
        # out of the collector's sight, full collections walk only what came after.
        gc.collect()
        gc.freeze()
        self._state.start_resuming(clients)

    def _start_demo_site(self) -> None:
        """The demo site (same port as last time if free) and, into an empty table, the examples."""
        saved = str(self._read_local_json().get("demo_site_url", ""))
        port = int(saved.rsplit(":", 1)[-1]) if saved.rsplit(":", 1)[-1].isdigit() else 0
        self._demo = DemoSite(self.options.host, port)
        self._demo.start()
        examples = self.options.project_dir / "examples" / "sources.json"
        seeded = seed_sources(source_store(), examples, self._demo.url)
        if seeded:
            logger.info("seeded example sources", extra={"sources": seeded})

    def _issue_tokens(self, clients: AwsClients) -> None:
        """One token per role, and one group lead per working group of the example plan (so a
        newcomer can act on a group's task); kept across restarts in local.json.

        A member or lead always has a group: the plain ``member`` and ``lead`` tokens act for the
        舆情监测组 (``monitoring``), which watches around the clock, is alerted at every level and
        keeps the sources (a lead's write) — the people who acknowledge first."""
        store = TokenStore(clients.table(get_settings().tables.tokens))
        saved = self._read_local_json()
        for role in Role:
            group = "monitoring" if role in (Role.MEMBER, Role.LEAD) else None
            self.tokens[role.value] = self._token(
                store, saved.get("tokens", {}).get(role.value), f"local {role.value}", role, group
            )
        for group in LOCAL_GROUPS:
            self.group_tokens[group] = self._token(
                store,
                saved.get("group_tokens", {}).get(group),
                f"local {group} lead",
                Role.LEAD,
                group,
            )

    @staticmethod
    def _token(
        store: TokenStore, saved: str | None, name: str, role: Role, group: str | None
    ) -> str:
        if saved:
            store.register(saved, name, role, group)
            return saved
        return store.issue(name, role, group)

    def _load_plan(self) -> None:
        """First start: the example plan (or ``--plan FILE``) becomes version 1; a stored plan
        is never replaced. A file that is not a valid plan stops the start with its problems.

        SNS topics and subscriptions are not snapshotted, so a restart reconciles them again.
        """
        service = plan_service()
        path = self.options.plan_file
        first = load_example() if path is None else load_plan_file(path)
        if not service.load_initial(first, "example plan" if path is None else path.name):
            current = service.current_view()
            if current is not None:
                alert_service().reconcile_plan(current, None)

    def _start_pollers(self, clients: AwsClients) -> None:
        assert self.functions is not None
        sqs = clients.client("sqs")
        for spec, source in self.functions.queue_consumers():
            name = source.queue or str(source.queue_arn).rsplit(":", 1)[-1]
            url = clients.queue_url(name)
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            poller = QueuePoller(
                sqs,
                clients.client("lambda"),
                url,
                arn["Attributes"]["QueueArn"],
                spec.name,
                REGION,
                batch_size=source.batch_size,
                workers=int(source.maximum_concurrency or 8),
            )
            poller.start()
            self._pollers.append(poller)

    def _start_scheduler(self, clients: AwsClients, account: str) -> None:
        assert self.functions is not None
        schedules = {
            spec.name: Schedule.parse(source.schedule_expression)
            for spec, source in self.functions.schedules()
        }
        lam = clients.client("lambda")
        self._scheduler = Scheduler(
            schedules, lambda name: invoke_scheduled(lam, name, account, REGION)
        )
        self._scheduler.start()

    def _start_api(self) -> None:
        assert self._server is not None
        host, port = self._server.server.server_address[:2]
        self.api_url = f"http://{host}:{port}"
        self._api_thread = threading.Thread(
            target=self._server.server.serve_forever, name="api", daemon=True
        )
        self._api_thread.start()

    def dashboard_url(self, role: str = "hq") -> str:
        """The dashboard signed in as ``role``: the token rides in the fragment, which the
        browser never sends; the page moves it to sessionStorage and clears the address bar."""
        return f"{self.api_url}/#token={self.tokens[role]}"

    # -- local.json --------------------------------------------------------------------------
    @property
    def local_json(self) -> Path:
        return self.options.state_dir / "local.json"

    def _read_local_json(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.local_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data

    def _write_local_json(self, moto_port: int, account: str) -> None:
        data = {
            "api_url": self.api_url,
            "dashboard_url": self.dashboard_url(),
            "aws_endpoint_url": self.endpoint_url,
            "region": REGION,
            "account": account,
            "stage": STAGE,
            "tokens": self.tokens,
            "group_tokens": self.group_tokens,
            "functions": self.registry.names(),
            "aws_env": {k: v for k, v in LOCAL_AWS_ENV.items() if k.startswith("AWS_")},
            "moto_port": moto_port,
            "demo_site_url": self._demo.url if self._demo else None,
            "pid": os.getpid(),
        }
        tmp = self.local_json.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)  # holds bearer tokens
        os.replace(tmp, self.local_json)

    # -- stop --------------------------------------------------------------------------------
    def stop(self) -> None:
        """Hold new work, let running work finish (a few seconds at most), save, stop."""
        started = time.monotonic()
        try:
            self._gate.hold()
            self._state.give_way()
            if self._scheduler:
                self._scheduler.stop()
            for poller in self._pollers:
                poller.stop(timeout=1.0)
            if self._server and self._api_thread:
                self._server.server.shutdown()  # returns once serve_forever has stopped
            left = self._gate.wait_idle(STOP_GRACE_SECONDS)
            phases = {"quiet": time.monotonic() - started}
            if self._state.restored:
                for poller in self._pollers:
                    poller.release_unfinished()
                self._state.save()
                phases["saved"] = time.monotonic() - started
                self._state.drain_queues()
                phases["drained"] = time.monotonic() - started
            logger.info(
                "local mode saved",
                extra={
                    "seconds": {k: round(v, 2) for k, v in phases.items()},
                    "still_running": left,
                },
            )
        finally:
            self._gate.refuse()  # what waited at the gate unwinds, unstarted
            if self._server:
                self._server.server.server_close()
            if self._demo:
                self._demo.stop()
            if self._moto:
                self._moto.stop()
            moto_guard.uninstall()
            self._state.close_journal()
            lambda_hook.uninstall()
            moto_speed.uninstall()
            if self._gc_thresholds:
                gc.unfreeze()
                gc.set_threshold(*self._gc_thresholds)
            self._state.unlock()
