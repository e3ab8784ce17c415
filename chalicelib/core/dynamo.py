"""Plain Python values to and from DynamoDB items.

The boto3 resource layer refuses ``float`` (it wants ``Decimal``) and hands numbers back as
``Decimal``. Domain code works with ``float``/``int``; data-access classes convert at the
boundary with these two functions so that no other module has to think about it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Context, Decimal
from typing import Any

from chalicelib.core.errors import ConflictError, aws_errors

# DynamoDB numbers carry up to 38 significant digits; scores need far fewer.
_CONTEXT = Context(prec=15)


def to_item(value: Any) -> Any:
    """Convert floats (recursively) to Decimal and drop ``None`` map values (DynamoDB keys
    cannot be null and sparse GSIs rely on absent attributes)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return _CONTEXT.create_decimal_from_float(value)
    if isinstance(value, Mapping):
        return {str(k): to_item(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [to_item(v) for v in value]
    return value


def from_item(value: Any) -> Any:
    """Convert Decimal (recursively) back to int where integral, else float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: from_item(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_item(v) for v in value]
    if isinstance(value, set):
        return {from_item(v) for v in value}
    return value


def put_if_absent(table: Any, item: Mapping[str, Any], resource: str) -> bool:
    """``PutItem`` unless an item with the same key exists: True if written now, False if it was
    there already. The one write behind "a repeat writes nothing" (posts, outbox messages,
    timeline entries, escalations, trend pages)."""
    try:
        with aws_errors(resource):
            table.put_item(Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
    except ConflictError:
        return False
    return True


def query_all(
    table: Any, resource: str, *, limit: int | None = None, **request: Any
) -> list[dict[str, Any]]:
    """Every item a ``Query`` answers, page after page, as plain values; with ``limit``, stop
    reading once that many are in and return at most that many. The one paging loop of the
    stores (a filter can leave a page short, so a page is never taken for the end)."""
    found: list[dict[str, Any]] = []
    while limit is None or len(found) < limit:
        with aws_errors(resource):
            page = table.query(**request)
        found.extend(from_item(i) for i in page.get("Items", []))
        if not page.get("LastEvaluatedKey"):
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found if limit is None else found[:limit]


def furthest_reads(
    reads: Iterable[Iterable[Mapping[str, Any]]], progress: Callable[[Mapping[str, Any]], int]
) -> list[dict[str, Any]]:
    """Items of several Queries (one per status of a ``by_status`` index), each ``pk`` once, at
    its furthest ``progress``. The Queries run one after the other, so an item moved on between
    two of them is read under both; its status only moves forward, so the further read is the
    newer one (decision 60)."""
    found: dict[str, dict[str, Any]] = {}
    for items in reads:
        for item in items:
            seen = found.get(str(item["pk"]))
            if seen is None or progress(item) > progress(seen):
                found[str(item["pk"])] = dict(item)
    return list(found.values())
