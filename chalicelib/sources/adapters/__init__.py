"""Adapters: one per kind of source, each a pure function from response bytes to items.

No adapter does I/O or reads the clock: the fetched time, the source id and the base URL come in
a :class:`ParseContext`, so each is unit-tested on fixture bytes alone. A body that is not what the
adapter expects raises :class:`~chalicelib.sources.errors.SourceParseError`; an adapter that finds
a well-formed but empty list returns ``[]`` (the health rules decide what zero items mean).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from json import JSONDecodeError
from typing import Any

from chalicelib.core.inputs import clean_text, parse_crawled_json
from chalicelib.posts.models import Item, Platform
from chalicelib.sources.errors import SourceParseError
from chalicelib.sources.text import decode_body, parse_count, plain_text
from chalicelib.sources.urls import canonical_url

# More than this many entries from one response is a page we misread, not a hot list.
MAX_ITEMS = 200
# A hot list position past this is not a position, nor a longer platform id an id.
MAX_RANK = 10_000
MAX_EXTERNAL_ID = 200


@dataclass(frozen=True)
class ParseContext:
    """What an adapter knows besides the bytes."""

    source_id: str
    platform: Platform
    fetched_at: datetime
    base_url: str
    content_type: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)


Adapter = Callable[[bytes, ParseContext], list[Item]]


def load_json(body: bytes, ctx: ParseContext) -> Any:
    """The body as JSON, or a parse error that says where it broke. NaN, Infinity and numbers
    no table can hold come back as None (:func:`~chalicelib.core.inputs.parse_crawled_json`)."""
    try:
        return parse_crawled_json(decode_body(body, ctx.content_type))
    except JSONDecodeError as err:
        raise SourceParseError(f"malformed JSON: {err.msg} at line {err.lineno}") from None
    except ValueError as err:  # nested past the recursion limit
        raise SourceParseError(f"malformed JSON: {err}") from None


def make_item(
    ctx: ParseContext,
    *,
    title: Any,
    url: Any = None,
    text: Any = "",
    author: Any = None,
    published: datetime | None = None,
    engagement: Mapping[str, Any] | None = None,
    rank: int | None = None,
    external_id: Any = None,
    platform: Platform | None = None,
) -> Item | None:
    """An :class:`Item` with cleaned fields, or None when there is no title to speak of.

    Every field is made storable here, whatever the page said: text without control characters
    or lone surrogates, a URL that parses or none, counts and ranks within reason."""
    clean_title = plain_text(title, limit=500)
    if not clean_title:
        return None
    counts = {k: n for k, v in (engagement or {}).items() if (n := parse_count(v)) is not None}
    own_id = clean_text(str(external_id))[:MAX_EXTERNAL_ID] if external_id not in (None, "") else ""
    return Item(
        source_id=ctx.source_id,
        platform=platform or ctx.platform,
        title=clean_title,
        fetched_at=ctx.fetched_at,
        url=canonical_url(clean_text(str(url)), ctx.base_url) if url else None,
        text=plain_text(text),
        author=plain_text(author, limit=200) or None,
        published_at=published,
        engagement=counts,
        rank=rank if rank is not None and 1 <= rank <= MAX_RANK else None,
        external_id=own_id or None,
    )


def collect(items: list[Item | None]) -> list[Item]:
    """Drop empty entries and duplicates within one response; cap the count."""
    seen: set[str] = set()
    kept: list[Item] = []
    for item in items:
        if item is None or item.post_id in seen:
            continue
        seen.add(item.post_id)
        kept.append(item)
        if len(kept) >= MAX_ITEMS:
            break
    return kept
