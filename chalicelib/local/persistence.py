"""What survives a restart of local mode: when its state is saved, restored and resumed.

:mod:`.snapshot` and :mod:`.journal` know the files; the runtime knows the order of a start and
a stop. Between them sits one piece of work with state of its own: lock the state directory,
restore the saved tables and replay the journal on top, send saved queue messages again, start
the saved executions and every open incident's workflow again once the API is up, save every
30 s, and save and drain once more at the stop. The executions still to resume are both what the
resuming thread works through and what each save must list again, and a stop makes the periodic
save and the resuming give way; that shared state is why this is one class apart from the
runtime. Like :mod:`.snapshot`, it calls Step Functions itself to start a saved execution under
its saved name and input: that carries moto's state across a restart, which the product's
``StateMachine`` has no reason to do (decision 79).
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import time
from pathlib import Path
from typing import IO

from chalicelib.core.aws import AwsClients, get_clients
from chalicelib.core.errors import ConflictError, YuqingError, aws_errors
from chalicelib.core.observability import logger
from chalicelib.core.settings import get_settings
from chalicelib.incidents.models import OPEN_STATUSES
from chalicelib.incidents.store import IncidentStore
from chalicelib.local import moto_guard
from chalicelib.local.journal import Journal
from chalicelib.local.snapshot import SaveCancelled, Snapshot
from chalicelib.workflow.statemachine import StateMachine

SNAPSHOT_EVERY_SECONDS = 30.0


class StateKeeper:
    """One local mode's state directory: locked while it runs, restored at its start, saved
    periodically and at its stop. ``restored`` says whether :meth:`restore_tables` ran: a start
    that failed before it must not save, or it would overwrite a snapshot with empty tables."""

    def __init__(self, state_dir: Path) -> None:
        self._state_dir = state_dir
        self._lock_file: IO[str] | None = None
        self._snapshot_thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._save_lock = threading.Lock()
        self._journal: Journal | None = None
        self._pending: list[dict[str, str]] = []  # saved, not started again yet
        self._state_machine_arn = ""
        self._queues: dict[str, str] = {}
        self.restored = False

    # -- the state directory -----------------------------------------------------------------
    def lock(self) -> None:
        """One local mode per state directory: two would overwrite each other's snapshots."""
        self._state_dir.mkdir(parents=True, exist_ok=True)
        handle = (self._state_dir / "lock").open("w", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise OSError(
                f"another local mode is using {self._state_dir}; stop it or pass --state-dir"
            ) from None
        self._lock_file = handle

    def unlock(self) -> None:
        if self._lock_file:
            self._lock_file.close()

    def _snapshot(self, cancellable: bool = False) -> Snapshot:
        cancelled = self._stopping.is_set if cancellable else (lambda: False)
        directory = self._state_dir / "state"
        return Snapshot(directory, get_clients().client, cancelled, moto_guard.execution_inputs())

    # -- start -------------------------------------------------------------------------------
    def restore_tables(
        self, tables: list[str], state_machine_arn: str, queues: dict[str, str]
    ) -> None:
        """The saved tables, then the writes since that snapshot (all of them, after a kill),
        then journal from here on. Saves list the executions of ``state_machine_arn`` and drain
        ``queues`` (name → URL)."""
        self._state_machine_arn = state_machine_arn
        self._queues = queues
        snapshot = self._snapshot()
        snapshot.restore_tables(tables)
        self._journal = Journal(self._state_dir / "state" / "journal")
        snapshot.replay(self._journal.entries(), tables)
        self._journal.open()
        moto_guard.journal_to(self._journal)
        self.restored = True

    def restore_queues(self) -> None:
        self._snapshot().restore_queues(self._queues)

    def load_pending(self) -> None:
        """Read the executions the last save found running: each save lists them until
        :meth:`start_resuming` has started them again."""
        self._pending = self._snapshot().saved_executions()

    def start_resuming(self, clients: AwsClients) -> None:
        """Start the saved executions again, then the workflow of every incident in progress —
        on a thread, after the API is up: moto parses the state machine for every start and
        each resumed workflow runs its first steps at once, about a second per execution on a
        busy machine, and the HQ must not wait minutes for the dashboard after a restart. The
        periodic snapshots begin once this is done (the journal keeps every write meanwhile)."""

        def resume() -> None:
            try:
                self._resume(clients)
            except Exception:
                logger.exception("resuming workflows failed; the incident sweep starts open ones")
            if not self._stopping.is_set():
                self._start_snapshots()

        threading.Thread(target=resume, name="resume", daemon=True).start()

    def _resume(self, clients: AwsClients) -> None:
        """Saved running executions, then every incident the tables say is in progress: after a
        kill the last save can be older than an incident (its items come back from the
        journal). Starting is idempotent by execution name."""
        sfn = clients.client("stepfunctions")
        for execution in list(self._pending):
            if self._stopping.is_set():
                return  # stopping: the save lists what is left as still to resume
            try:
                with contextlib.suppress(ConflictError), aws_errors("state machine"):
                    sfn.start_execution(
                        stateMachineArn=self._state_machine_arn,
                        name=execution["name"],
                        input=execution["input"],
                    )
            except YuqingError as err:  # kept as pending: the next save lists it again
                logger.warning(
                    "execution not resumed", extra={"name": execution["name"], "error": err.code}
                )
                continue
            self._pending.remove(execution)
        settings = get_settings()
        store = IncidentStore(clients.table(settings.tables.incidents))
        starter = StateMachine.of(settings, clients)
        for item in store.by_statuses(OPEN_STATUSES, limit=10_000):
            if self._stopping.is_set():
                return
            if not item.get("workflow_error"):
                starter.start(str(item["pk"]), bool(item.get("drill", False)))

    def _start_snapshots(self) -> None:
        def loop() -> None:
            while not self._stopping.wait(SNAPSHOT_EVERY_SECONDS):
                try:
                    self.save(periodic=True)
                except SaveCancelled:
                    return
                except Exception:
                    if not self._stopping.is_set():
                        logger.exception("periodic snapshot failed; will try again")

        self._snapshot_thread = threading.Thread(target=loop, name="snapshot", daemon=True)
        self._snapshot_thread.start()

    # -- save and stop -----------------------------------------------------------------------
    def give_way(self) -> None:
        """Local mode is stopping: a periodic save under way and the resuming stop (the stop
        saves, listing the executions not resumed yet)."""
        self._stopping.set()

    def save(self, periodic: bool = False) -> int:
        """Save running executions and tables (queues are drained only at stop).

        The tables are read in one instant, when the journal moves to a new file; the older
        files go once the snapshot is written, so at every moment snapshot + journal hold every
        write. A ``periodic`` save gives way to a stop (:class:`SaveCancelled`): the stop saves.
        """
        with self._save_lock:  # one save at a time: the stop's must not race a periodic one
            started = time.monotonic()
            tables = get_settings().tables.all()
            items, since = moto_guard.snapshot_tables(tables)
            read = time.monotonic()
            snapshot = self._snapshot(cancellable=periodic)
            running = snapshot.save_executions(self._state_machine_arn, list(self._pending))
            listed = time.monotonic()
            saved = snapshot.save_tables(tables, items)
            if self._journal and since is not None:
                self._journal.drop_before(since)
            logger.info(
                "saved",
                extra={
                    "executions": running,
                    "items": saved,
                    "seconds": {
                        "read": round(read - started, 2),
                        "executions": round(listed - read, 2),
                        "written": round(time.monotonic() - listed, 2),
                    },
                },
            )
            return saved

    def drain_queues(self) -> None:
        self._snapshot().drain_queues(self._queues)

    def close_journal(self) -> None:
        if self._journal:
            self._journal.close()
