"""Make moto's writes atomic, as AWS's are, and journal them — local mode's safety under load.

The code relies on conditional writes to make duplicates harmless: an Idempotency-Key is claimed
with ``attribute_not_exists``, a post is written once, an incident opened once, an outbox message
put once; a Step Functions execution name is taken once. In AWS each is atomic. In moto's server
each request runs on its own thread and a conditional write reads the item, evaluates the
condition (parsing the expression) and only then stores: two requests for one key can both see
it absent and both succeed (measured: about one burst in 200 of 20 concurrent claims on an idle
machine; more under load). ``StartExecution`` likewise checks the name, deep-copies the state
machine and only then records the execution, so two starts under one name can run two workflows.

This module serialises moto's DynamoDB item writes (``PutItem``, ``UpdateItem`` — its whole
request, which copies the item before writing —, ``DeleteItem``, ``TransactWriteItems``;
``BatchWriteItem`` goes through the first and the third) on one lock, and ``StartExecution`` on
another. Reads are not serialised: they see each
write whole, as in DynamoDB. Under the same lock each write is queued for the :class:`Journal`
(as the item stands after it), so the journal's order is the order writes took effect, and
written to its file once the lock is released, before moto answers; a transaction's writes are
journaled only if it commits.

Because every write passes here, this is also where local mode takes its snapshot of the tables
(:func:`snapshot_tables`): every item of every table at one instant, read in-process under the
write lock, and the journal moved to a new file at that same instant — so snapshot + journal
are exact, and saving costs milliseconds however busy local mode is (scanning through moto's
HTTP API took seconds with a hundred workflows running). ``StartExecution`` remembers each
execution's input (:func:`execution_inputs`), so saving the running executions needs no
``DescribeExecution`` per execution.

Like :mod:`.lambda_hook`, this wraps private moto methods: moto is pinned exactly, and
``tests/functional/test_local_concurrency.py`` fails if a write stops going through here.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.responses import DynamoHandler
from moto.stepfunctions.models import StepFunctionBackend
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from chalicelib.local.journal import Journal

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_STARTS: tuple[type[Any], ...] = (StepFunctionBackend, StepFunctionsParserBackend)

_write_lock = threading.RLock()
_start_lock = threading.RLock()
_pending = threading.local()  # the journal lines of the outermost write on this thread
_journal: Journal | None = None
_originals: dict[tuple[type[Any], str], Callable[..., Any]] = {}
_inputs: dict[str, str] = {}  # execution ARN → its input, as started


def boto_value(value: Any) -> Any:
    """A typed value as moto returns it (binary as base64 text at the top, bytes when nested)
    → as boto3 takes it (binary as bytes)."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    kind, inner = next(iter(value.items()))
    if kind == "B":
        return {"B": inner if isinstance(inner, bytes) else base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [v if isinstance(v, bytes) else base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: boto_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [boto_value(v) for v in inner]}
    return value


def _key_of(table: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: boto_value(attrs[name]) for name in names if name in attrs}


def _record(
    backend: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any
) -> None:
    """Queue the journal line of one write: the item as it now stands, or its deleted key."""
    if name == "transact_write_items":
        return  # its puts, updates and deletes record themselves
    table_name = kwargs.get("table_name", args[0] if args else None)
    if name == "delete_item":
        key = kwargs.get("key", args[1] if len(args) > 1 else {})
        entry = {"table": table_name, "key": {k: boto_value(v) for k, v in key.items()}}
        entry["item"] = None
    else:
        attrs = result.to_json()["Attributes"]
        entry = {"table": table_name, "key": _key_of(backend.get_table(table_name), attrs)}
        entry["item"] = {k: boto_value(v) for k, v in attrs.items()}
    _pending.lines.append(entry)


def _guarded_write(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _write_lock:
            outermost = not getattr(_pending, "depth", 0)
            if outermost:
                _pending.lines = []
            _pending.depth = getattr(_pending, "depth", 0) + 1
            try:
                result = original(self, *args, **kwargs)
                if _journal is not None:
                    _record(self, name, args, kwargs, result)
            except BaseException:
                if outermost:
                    _pending.lines = []  # a failed transaction was rolled back: nothing happened
                raise
            finally:
                _pending.depth -= 1
            journal = _journal if outermost else None
            if journal is not None:
                journal.queue(_pending.lines)  # in commit order: still under the lock
                _pending.lines = []
        if journal is not None:
            journal.write_queued()  # before moto answers, without holding up other writes
        return result

    write.__wrapped__ = original  # type: ignore[attr-defined]
    return write


def _guarded_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_execution(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _start_lock:
            execution = original(self, *args, **kwargs)
        given = kwargs.get("execution_input", args[2] if len(args) > 2 else None)
        _inputs[str(execution.execution_arn)] = given if given is not None else "{}"
        return execution

    start_execution.__wrapped__ = original  # type: ignore[attr-defined]
    return start_execution


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    def handle(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _write_lock:
            return original(self, *args, **kwargs)

    handle.__wrapped__ = original  # type: ignore[attr-defined]
    return handle


def install() -> None:
    """Serialise moto's DynamoDB writes and execution starts (journal nothing yet)."""
    if _originals:
        return
    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)
        _originals[(DynamoDBBackend, name)] = original
        setattr(DynamoDBBackend, name, _guarded_write(name, original))
    # moto's UpdateItem handler deep-copies the stored item before the write, outside the
    # backend: another thread's update of that item changed its attributes mid-copy
    # ("dictionary changed size during iteration", a 500). The whole request takes the lock.
    original = DynamoHandler.__dict__["update_item"]
    _originals[(DynamoHandler, "update_item")] = original
    DynamoHandler.update_item = _locked(original)  # type: ignore[method-assign]
    for cls in _STARTS:
        original = cls.__dict__["start_execution"]
        _originals[(cls, "start_execution")] = original
        cls.start_execution = _guarded_start(original)


def execution_inputs() -> dict[str, str]:
    """Execution ARN → input of every execution started since :func:`install` (live)."""
    return _inputs


def snapshot_tables(names: Iterable[str]) -> tuple[dict[str, list[dict[str, Any]]], int | None]:
    """Every item of the named tables (as boto3 takes them) at one instant, and the number of
    the journal file begun at that instant (None without a journal): the older files hold
    nothing the snapshot lacks."""
    wanted = set(names)
    read: dict[str, list[dict[str, Any]]] = {}
    with _write_lock:
        for by_region in dynamodb_backends.values():
            for backend in by_region.values():
                for name, table in backend.tables.items():
                    if name in wanted:
                        # Items are changed in place by updates: read them now, as moto's JSON
                        # (new dicts); the conversion for boto3 can wait for the lock's release.
                        read[name] = [item.to_json()["Attributes"] for item in table.all_items()]
        number = _journal.rotate() if _journal is not None else None
    found = {
        name: [{k: boto_value(v) for k, v in attrs.items()} for attrs in items]
        for name, items in read.items()
    }
    return found, number


def journal_to(journal: Journal | None) -> None:
    """From now on hand every committed write to ``journal`` (None: stop journaling)."""
    global _journal
    with _write_lock:
        _journal = journal


def uninstall() -> None:
    journal_to(None)
    for (cls, name), original in _originals.items():
        setattr(cls, name, original)
    _originals.clear()
    _inputs.clear()
