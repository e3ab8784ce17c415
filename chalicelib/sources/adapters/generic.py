"""Generic JSON (JMESPath) and HTML (CSS selectors): a forum or a government portal without code.

JSON mapping: ``items`` is a JMESPath expression from the response to the list of entries; each
other field (``title`` required; ``url``, ``text``, ``author``, ``published``, ``id``, ``heat``,
``views``, ``likes``, ``comments``, ``reposts``) is an expression evaluated on one entry.

HTML mapping: ``item`` is a CSS selector for one entry; each field is a CSS selector inside it,
optionally ending in ``@attr`` to read an attribute (``a@href``) instead of the text. An empty
selector before ``@`` reads the entry element itself (``@data-id``).

Both are validated when the source is defined (:func:`check_json_mapping`,
:func:`check_html_mapping`), so a typo is a 400 then, not a failed crawl at night.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from chalicelib.core.errors import Problem
from chalicelib.posts.models import ENGAGEMENT_KEYS, Item
from chalicelib.sources.adapters import ParseContext, collect, load_json, make_item
from chalicelib.sources.errors import SourceParseError
from chalicelib.sources.text import decode_body, parse_time

FIELDS = ("title", "url", "text", "author", "published", "id", *ENGAGEMENT_KEYS)
JSON_KEYS = frozenset({"items", *FIELDS})
HTML_KEYS = frozenset({"item", *FIELDS})
_PROBE = LexborHTMLParser("<html><body><p>probe</p></body></html>")


def check_json_mapping(mapping: Mapping[str, Any], path: str) -> list[Problem]:
    problems = _check_keys(mapping, path, JSON_KEYS, required=("items", "title"))
    for key, expression in mapping.items():
        if key in JSON_KEYS and isinstance(expression, str) and expression:
            try:
                jmespath.compile(expression)
            except JMESPathError as err:
                problems.append(Problem(f"{path}/{key}", f"not a JMESPath expression: {err}"))
    return problems


def check_html_mapping(mapping: Mapping[str, Any], path: str) -> list[Problem]:
    problems = _check_keys(mapping, path, HTML_KEYS, required=("item", "title"))
    for key, selector in mapping.items():
        if key not in HTML_KEYS or not isinstance(selector, str) or not selector:
            continue
        css, _, attr = selector.partition("@") if key != "item" else (selector, "", "")
        if key == "item" and "@" in selector:
            problems.append(Problem(f"{path}/{key}", "the item selector cannot read an attribute"))
            continue
        if css.strip():
            try:
                _PROBE.css(css)
            except SelectolaxError:
                problems.append(Problem(f"{path}/{key}", f"not a CSS selector: {css!r}"))
        if "@" in selector and not attr.strip():
            problems.append(Problem(f"{path}/{key}", "an attribute name must follow '@'"))
    return problems


def _check_keys(
    mapping: Mapping[str, Any], path: str, allowed: frozenset[str], required: tuple[str, ...]
) -> list[Problem]:
    problems = [
        Problem(f"{path}/{key}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
        for key in mapping
        if key not in allowed
    ]
    problems += [
        Problem(f"{path}/{key}", "required")
        for key in required
        if not isinstance(mapping.get(key), str) or not mapping.get(key)
    ]
    problems += [
        Problem(f"{path}/{key}", "must be a non-empty string of at most 500 characters")
        for key, value in mapping.items()
        if key in allowed and (not isinstance(value, str) or not value or len(value) > 500)
    ]
    return problems


def parse_json(body: bytes, ctx: ParseContext) -> list[Item]:
    data = load_json(body, ctx)
    mapping = ctx.mapping
    try:
        entries = jmespath.search(mapping["items"], data)
    except JMESPathError as err:
        raise SourceParseError(f"items expression failed: {err}") from None
    if not isinstance(entries, list):
        raise SourceParseError(f"items expression {mapping['items']!r} did not give a list")
    compiled = {key: jmespath.compile(expr) for key, expr in mapping.items() if key in FIELDS}
    items = []
    for rank, entry in enumerate(entries, start=1):
        values: dict[str, Any] = {}
        for key, expression in compiled.items():
            try:
                values[key] = expression.search(entry)
            except JMESPathError:
                values[key] = None
        items.append(_from_values(ctx, values, rank))
    return collect(items)


def _from_values(ctx: ParseContext, values: Mapping[str, Any], rank: int) -> Item | None:
    return make_item(
        ctx,
        title=values.get("title"),
        url=values.get("url"),
        text=values.get("text") or "",
        author=values.get("author"),
        published=parse_time(values.get("published")),
        engagement={key: values.get(key) for key in ENGAGEMENT_KEYS},
        rank=rank,
        external_id=values.get("id"),
    )


def _select(node: LexborNode, selector: str) -> str | None:
    css, _, attr = selector.partition("@")
    target = node.css_first(css) if css.strip() else node
    if target is None:
        return None
    if attr:
        value = target.attributes.get(attr.strip())
        return value if isinstance(value, str) else None
    return target.text(strip=True)


def parse_html(body: bytes, ctx: ParseContext) -> list[Item]:
    tree = LexborHTMLParser(decode_body(body, ctx.content_type))
    mapping = ctx.mapping
    try:
        nodes = tree.css(mapping["item"])
    except SelectolaxError as err:
        raise SourceParseError(f"item selector failed: {err}") from None
    items = []
    for rank, node in enumerate(nodes, start=1):
        values = {key: _select(node, sel) for key, sel in mapping.items() if key in FIELDS}
        items.append(_from_values(ctx, values, rank))
    return collect(items)
