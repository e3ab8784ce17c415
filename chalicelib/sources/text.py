"""Turning crawled bytes and loosely-typed fields into text, numbers and times.

Chinese sites still serve GBK / GB2312 pages, often with no charset header or a wrong one.
Decoding order: byte-order mark → ``charset`` in ``Content-Type`` → ``<meta charset>`` in the first
bytes → strict UTF-8 → GB18030 (a superset of GBK and GB2312, so it also decodes those) → UTF-8
with replacement. Counts come as ``"1234 万热度"`` or ``"1.2亿"``; times as epoch seconds or
milliseconds, ISO-8601, RFC 2822, or ``"2024-05-01 10:00"`` in Beijing time.
"""

from __future__ import annotations

import codecs
import html
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from chalicelib.core.inputs import clean_text

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)
# GBK and GB2312 pages often contain characters only GB18030 maps; decode them with the superset.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _normal_encoding(name: str) -> str | None:
    try:
        codec = codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None
    return _SUPERSETS.get(codec, codec)


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The encoding a response declares (BOM, header, XML declaration or meta tag), if any."""
    for bom, bom_encoding in _BOMS:
        if body.startswith(bom):
            return bom_encoding
    if content_type:
        header = _HEADER_CHARSET.search(content_type)
        if header and (name := _normal_encoding(header.group(1))):
            return name
    head = body[:4096]
    for pattern in (_XML_ENCODING, _META_CHARSET):
        declared = pattern.search(head)
        if declared and (found := _normal_encoding(declared.group(1).decode("ascii", "ignore"))):
            return found
    return None


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """Bytes of a page or API response as text, whatever Chinese encoding it uses."""
    declared = declared_encoding(body, content_type)
    if declared:
        try:
            return body.decode(declared)
        except (UnicodeDecodeError, LookupError):
            pass  # a wrong declaration is common; fall through to detection
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("gb18030")
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace")


_UNITS = {
    "万": 10_000,
    "w": 10_000,
    "W": 10_000,
    "亿": 100_000_000,
    "千": 1_000,
    "k": 1_000,
    "K": 1_000,
}
_COUNT = re.compile(r"([0-9]{1,20}(?:\.[0-9]{1,20})?)\s*(万|亿|千|[wWkK])?")
# No platform counts more views than this (a trillion); anything above is a misread page.
MAX_COUNT = 10**12


def parse_count(value: Any) -> int | None:
    """An engagement number from an int, a float or text like ``"1234 万热度"``; None if absent,
    negative, not finite or beyond :data:`MAX_COUNT`."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value) if isinstance(value, float) else value
    else:
        text = str(value).replace(",", "").strip()
        match = _COUNT.search(text)
        if not match:
            return None
        number = float(match.group(1)) * _UNITS.get(match.group(2) or "", 1)
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return round(number) if 0 <= number <= MAX_COUNT else None


_LOCAL_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
)


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware UTC time from the shapes platforms use; None if absent or unreadable.

    Naive local formats are Beijing time, which is what Chinese platforms mean by them.
    """
    if value is None or isinstance(value, bool) or value == "":
        return None
    digits = isinstance(value, str) and value.strip().isascii() and value.strip().isdigit()
    if isinstance(value, int | float) or digits:
        try:
            number = float(value)
            if number > 1e11:  # milliseconds
                number /= 1000
            return datetime.fromtimestamp(number, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    for fmt in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=BEIJING).astimezone(UTC)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC)


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain_text(value: Any, limit: int = 4000) -> str:
    """Markup-free, whitespace-collapsed text, cut at ``limit`` characters; control characters
    and lone surrogates (``&#0;``, a cut emoji) repaired, as every stored text must be."""
    if value is None:
        return ""
    text = clean_text(html.unescape(_TAG.sub(" ", str(value))))
    return _SPACE.sub(" ", text).strip()[:limit]
