"""Take the avoidable work out of moto's request path, so an alert's latency stays flat under load.

Profiled with a hundred reports in a row (each opens an incident whose workflow then waits for
the HQ), local mode's CPU went mostly to moto doing the same work again on every request:

- every execution parsed the whole state machine definition with ANTLR again (about 0.35 s of
  CPU for our 35 kB definition on a busy machine, a quarter of local mode's CPU); the parse tree
  depends only on the definition text, so it is kept per definition and only moto's cheap
  second pass (the tree into fresh evaluation components) runs per execution;
- every Lambda Task built a new boto3 Lambda client (tens of milliseconds); one is kept per
  region and endpoint, as boto3 clients are thread-safe;
- every request looked its service up by listing moto's package directory and stat-ing each of
  its ~200 entries, under the dispatcher's lock; the answer depends only on the host name the
  request resolves to, so it is remembered per host;
- every ``Query`` on a table sorted every item of the table, then kept one partition; here it
  starts from the partition (a table query) or from the items whose index key matches (an index
  query), and moto's own query code does everything else — order, ranges, filters, pagination.

Lambda never imports this (moto is not in the bundle): only local mode (:mod:`.runtime`) and
the tests' moto world install it. These are private moto internals: :func:`install` refuses any
moto but the pinned version, and ``tests/functional/test_local_moto_speed.py`` compares each
patched path's answers with moto's own.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

import moto
from antlr4 import CommonTokenStream, InputStream
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse.asl_parser import (
    ASLParserException,
    SyntaxErrorListener,
)
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

# The moto these patches were written against and tested with (requirements-dev.txt pins it).
MOTO_VERSION = "5.2.5"
# Definitions kept parsed: one per state machine version in use is plenty.
MAX_DEFINITIONS = 16


class MotoVersionError(RuntimeError):
    """moto is not the version these patches were made for: local mode must not start."""


_lock = threading.Lock()
_originals: dict[tuple[Any, str], Any] = {}
_trees: dict[str, Any] = {}  # definition text → its ANTLR parse tree (read-only once built)
_clients: dict[tuple[Any, ...], Any] = {}
_backends: dict[str | None, Any] = {}
_query_candidates = threading.local()  # (table, items) while this thread runs a patched Query


# -- Step Functions: parse each definition once ------------------------------------------------
def _parse_tree(definition: str) -> Any:
    """The ANTLR parse tree of ``definition``, built as moto's ``AmazonStateLanguageParser.parse``
    builds it (a definition with syntax errors raises as there, and is not kept)."""
    with _lock:
        tree = _trees.get(definition)
    if tree is not None:
        return tree
    errors = SyntaxErrorListener()  # type: ignore[no-untyped-call]
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    tree = parser.state_machine()  # type: ignore[no-untyped-call]
    if errors.errors:
        raise ASLParserException(errors=errors.errors)
    with _lock:
        if len(_trees) >= MAX_DEFINITIONS:
            _trees.pop(next(iter(_trees)))
        _trees[definition] = tree
    return tree


def parse_program(definition: str) -> Any:
    """Fresh evaluation components for ``definition`` (components hold an execution's state,
    the parse tree does not), from the parse tree kept per definition."""
    return Preprocessor().visit(_parse_tree(definition))


def _evaluation_entrypoint(self: Any) -> Any:
    return parse_program(self._evaluation_details.state_machine_details.definition)


# -- Step Functions: one Lambda client, not one per Task ---------------------------------------
def _shared_client(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto ignores the state's credentials ("ak"/"sk" always); the client depends on these.
        key = (region, service, botocore_stubber.enabled, moto_server_port())
        with _lock:
            client = _clients.get(key)
        if client is None:
            client = original(region=region, service=service, state_credentials=None)
            with _lock:
                client = _clients.setdefault(key, client)
        return client

    boto_client_for.__wrapped__ = original  # type: ignore[attr-defined]
    return boto_client_for


# -- the server: a request's service, found once per host --------------------------------------
def _backend_for_host(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        try:
            return _backends[host]
        except KeyError:
            pass
        backend = original(self, host)
        if backend is not None:  # an unknown host stays unknown and is printed each time
            _backends[host] = backend
        return backend

    get_backend_for_host.__wrapped__ = original  # type: ignore[attr-defined]
    return get_backend_for_host


# -- DynamoDB: a Query reads its partition, not the whole table ---------------------------------
def _table_order(item: Any) -> Any:
    # Table.all_items' own order (by table key): the candidates reach moto's query as it had them.
    return (item.hash_key, item.range_key) if item.range_key else item.hash_key


def query_candidates(
    table: Table,
    hash_key: Any,
    index_name: str | None,
    hash_key_conditions: list[tuple[str, Any]] | None,
) -> list[Any] | None:
    """The items moto's ``Table.query`` would keep from ``all_items()`` before sorting, in
    ``all_items()``'s order; None when the query is not one of the two shapes handled here."""
    if index_name is None:
        if hash_key is None:
            return None
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        found = list(partition.values()) if table.range_key_attr else [partition]
        return sorted(found, key=_table_order)
    if not hash_key_conditions:
        return None
    wanted = list(hash_key_conditions)
    matched: list[Any] = []
    partitions: Any = table.items.values()
    for partition in partitions:
        for item in partition.values() if table.range_key_attr else [partition]:
            # moto's own test: the attribute is there and equal (its __ne__ is __eq__ negated).
            if all(item.attrs.get(n) and item.attrs.get(n) == v for n, v in wanted):
                matched.append(item)
    return sorted(matched, key=_table_order)


def _partitioned_query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = signature.bind(self, *args, **kwargs).arguments
        candidates = query_candidates(
            self, given.get("hash_key"), given.get("index_name"), given.get("hash_key_conditions")
        )
        if candidates is None:
            return original(self, *args, **kwargs)
        outer = getattr(_query_candidates, "current", None)
        _query_candidates.current = (self, candidates)
        try:
            return original(self, *args, **kwargs)
        finally:
            _query_candidates.current = outer

    query.__wrapped__ = original  # type: ignore[attr-defined]
    return query


def _candidate_items(original: Callable[..., Any]) -> Callable[..., Any]:
    def all_items(self: Any) -> Any:
        current = getattr(_query_candidates, "current", None)
        if current is not None and current[0] is self:
            return list(current[1])
        return original(self)

    all_items.__wrapped__ = original  # type: ignore[attr-defined]
    return all_items


# -- install -------------------------------------------------------------------------------------
def check_version(version: str = moto.__version__) -> None:
    if version != MOTO_VERSION:
        raise MotoVersionError(
            f"local mode patches moto {MOTO_VERSION} internals (chalicelib/local/moto_speed.py) "
            f"but moto {version} is installed: install requirements-dev.txt, or check each "
            "patch against the new moto and its test before changing MOTO_VERSION"
        )


def _patch(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    _originals[(owner, name)] = original
    setattr(owner, name, make(original))


def install() -> None:
    """Apply every speed-up (once); fails with :class:`MotoVersionError` on another moto."""
    check_version()
    with _lock:
        if _originals:
            return
        _patch(ExecutionWorker, "_get_evaluation_entrypoint", lambda _: _evaluation_entrypoint)
        _patch(lambda_eval_utils, "boto_client_for", _shared_client)
        _patch(DomainDispatcherApplication, "get_backend_for_host", _backend_for_host)
        _patch(Table, "query", _partitioned_query)
        _patch(Table, "all_items", _candidate_items)


def installed() -> bool:
    return bool(_originals)


def uninstall() -> None:
    with _lock:
        for (owner, name), original in _originals.items():
            setattr(owner, name, original)
        _originals.clear()
        _trees.clear()
        _clients.clear()
        _backends.clear()
