"""Canonical URLs: the same page reached through different links is the same post.

Scheme and host are lower-cased, default ports and the fragment dropped, and tracking parameters
(``utm_*``, ``spm``, ``from`` and their like) removed, because :attr:`Item.post_id` is derived from
the canonical URL and a repost through a tracking link must not become a second post.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that say how a link was reached, not what it points to.
TRACKING_PARAMS = frozenset(
    {
        "spm",
        "from",
        "fromsource",
        "share_source",
        "share_medium",
        "share_from",
        "share_token",
        "scene",
        "srcid",
        "ref",
        "ref_src",
        "ref_url",
        "fbclid",
        "gclid",
        "mc_cid",
        "mc_eid",
        "vd_source",
        "timestamp",
        "wfr",
        "isappinstalled",
        "refer_flag",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The canonical form of ``url`` (resolved against ``base``), or None if it is not HTTP(S)."""
    text = (url or "").strip()
    if not text:
        return None
    try:
        return _canonical(text, base)
    except ValueError:  # "http://[broken": urllib cannot take it apart
        return None


def _canonical(text: str, base: str | None) -> str | None:
    if base:
        text = urljoin(base, text)
    if text.startswith("//"):
        text = "https:" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def host_key(url: str) -> str:
    """``host[:port]`` of a URL: the unit of politeness (rate limit, dispatcher spacing)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host
