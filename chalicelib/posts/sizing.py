"""What a DynamoDB write costs, computed from the item, and how a post is kept within one unit.

On-demand DynamoDB bills one write request unit per started KB of the item written, once for
the table and once more for every index the item is projected into (DESIGN §5 targets ≤ 1 unit
per new post). moto answers ``ReturnConsumedCapacity`` with a constant, so the units are
computed here with the documented rules ("DynamoDB item sizes and formats"): attribute name
bytes + value bytes; strings UTF-8; numbers 1 byte per two significant digits + 1; booleans
and nulls 1; lists and maps 3 bytes + 1 per element + their elements.

:func:`fit_post` trims a post record so that it, and therefore its copy in the feed index, costs
exactly one unit: the stored ``text`` is the only part that grows with the post, so it is cut
first (``text_cut`` records the original length; the ``url`` leads to the whole post).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

UNIT_BYTES = 1024
# Stay under one unit with room for the approximation of number sizes in the documented rule.
POST_BUDGET = 1000
REASON_CHARS = 60


def value_size(value: Any) -> int:
    """Bytes of one attribute value under DynamoDB's sizing rules (name not included)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | float | Decimal):
        return _number_size(value)
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode("utf-8")) + value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(value_size(v) + 1 for v in value)
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")


def _number_size(value: int | float | Decimal) -> int:
    digits = Decimal(str(value)).normalize().as_tuple().digits
    significant = len(str(int("".join(map(str, digits)) or "0")).rstrip("0")) or 1
    return math.ceil(significant / 2) + 1


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of a whole item: its attribute names plus values (``None`` values are not stored)."""
    return sum(len(k.encode("utf-8")) + value_size(v) for k, v in item.items() if v is not None)


def write_units(size: int) -> int:
    """Write request units for writing an item of ``size`` bytes to one table or index."""
    return max(1, math.ceil(size / UNIT_BYTES))


def fit_post(record: dict[str, Any], budget: int = POST_BUDGET) -> dict[str, Any]:
    """The record cut to at most ``budget`` bytes: text first, then reasons, then the title.

    Never cuts keys, scores or the URL; ``text_cut`` holds the original text length when the
    text was shortened, so a reader knows to follow ``url`` for the rest.
    """
    fitted = dict(record)
    if item_size(fitted) <= budget:
        return fitted
    text = str(fitted.get("text") or "")
    fitted["text_cut"] = len(text)
    fitted["text"] = ""
    room = budget - item_size(fitted)
    if room > 0 and text:
        fitted["text"] = _cut_to_bytes(text, room)
    else:
        fitted.pop("text")
        reasons = fitted.get("reasons") or []
        fitted["reasons"] = [_cut_to_bytes(str(r), REASON_CHARS * 3) for r in reasons]
        while item_size(fitted) > budget and fitted["reasons"]:
            fitted["reasons"].pop()
        if item_size(fitted) > budget and fitted.get("title"):
            over = item_size(fitted) - budget
            title = str(fitted["title"])
            fitted["title"] = _cut_to_bytes(title, max(0, len(title.encode("utf-8")) - over))
    return fitted


def _cut_to_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 form fits ``limit`` bytes (never half a char)."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[: max(0, limit)].decode("utf-8", errors="ignore")
