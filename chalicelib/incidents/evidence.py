"""Evidence (证据固定, for 法律手段): content preserved as it was, with its SHA-256 and time.

Evidence is a post already crawled (by its id) or a URL fetched now through the crawler's
guarded fetcher (SSRF guard, size cap, timeouts — the same rules as every crawl): public
addresses only, and in local mode the demo site, never moto or anything else on loopback
(decision 68). The fetch happens inside an API request, so it has the API paths' deadline
(20 s, everything included): a slower page is a 422 ``timeout``, not API Gateway's bare 504
(decision 69). The stored bytes are hashed; the evidence id is derived from the incident and
the hash, and the item is written once and never updated, so preserving the same content twice
is one item and a record can never be altered through the API.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.auth.models import Principal
from chalicelib.core.clock import Clock, iso, utcnow
from chalicelib.core.errors import (
    NotFoundError,
    Problem,
    UnprocessableError,
    ValidationError,
)
from chalicelib.incidents.store import IncidentStore
from chalicelib.posts.store import PostStore
from chalicelib.sources.errors import BlockedUrlError, FetchError, FetchTimeoutError
from chalicelib.sources.fetcher import Fetcher
from chalicelib.sources.guard import Guard

MAX_URL = 2000
CONTENT_KEYS = ("content", "content_base64")  # served only by the evidence item itself
# DynamoDB items are at most 400 KB: the stored bytes are capped so that even base64 fits (the
# hash covers exactly the bytes stored, and the full size is recorded).
MAX_STORED = 200_000


class EvidenceService:
    def __init__(
        self,
        store: IncidentStore,
        posts: PostStore,
        fetcher: Fetcher,
        guard: Guard,
        clock: Clock = utcnow,
    ) -> None:
        self._store = store
        self._posts = posts
        self._fetcher = fetcher
        self._guard = guard
        self._clock = clock

    def preserve(self, incident_id: str, who: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
        post_id, url, note = _parse(body)
        self._store.require(incident_id)
        if post_id is not None:
            post = self._posts.get(post_id)
            if post is None:
                raise NotFoundError(f"no post {post_id}")
            keep = {
                k: post.get(k)
                for k in (
                    "title",
                    "text",
                    "url",
                    "author",
                    "published_at",
                    "fetched_at",
                    "platform",
                    "source_id",
                )
            }
            raw = json.dumps(keep, ensure_ascii=False, sort_keys=True).encode("utf-8")
            source: dict[str, Any] = {"kind": "post", "post_id": post_id, "url": post.get("url")}
            content_type = "application/json"
        else:
            url = str(url)
            try:
                fetched = self._fetcher.fetch(url, self._guard)
            except BlockedUrlError:
                raise
            except FetchTimeoutError as err:
                raise UnprocessableError(
                    "the page did not answer within the time an API request allows; try again,"
                    " or preserve the crawled post by its id",
                    details={"fetch_error": err.code},
                ) from err
            except FetchError as err:
                raise UnprocessableError(
                    f"could not fetch the evidence URL: {err.message}",
                    details={"fetch_error": err.code},
                ) from err
            raw = fetched.body
            source = {
                "kind": "url",
                "url": url,
                "final_url": fetched.url,
                "http_status": fetched.status,
            }
            content_type = str(fetched.headers.get("Content-Type", ""))[:200]
        stored = raw[:MAX_STORED]
        digest = hashlib.sha256(stored).hexdigest()
        evidence_id = "e" + hashlib.sha256(f"{incident_id}:{digest}".encode()).hexdigest()[:16]
        record = {
            "evidence_id": evidence_id,
            "sha256": digest,
            "size": len(raw),
            "stored_size": len(stored),
            **_content(stored),
            "content_type": content_type,
            "captured_at": iso(self._clock()),
            "by": who.name,
            "note": note,
            **source,
        }
        created = self._store.put_once(incident_id, f"EVID#{evidence_id}", record)
        if not created:
            existing = self._store.get(incident_id, f"EVID#{evidence_id}")
            return {**(existing or record), "created": False}
        return {**record, "created": True}

    def list(self, incident_id: str) -> list[dict[str, Any]]:
        self._store.require(incident_id)
        return [
            {k: v for k, v in i.items() if k not in {"pk", "sk", *CONTENT_KEYS}}
            for i in self._store.items(incident_id)
            if str(i["sk"]).startswith("EVID#")
        ]


def _content(stored: bytes) -> dict[str, str]:
    """The bytes as stored: UTF-8 text as is, anything else (GBK pages, PDFs) as base64, so the
    SHA-256 can always be checked against exactly what is kept."""
    try:
        return {"content": stored.decode("utf-8")}
    except UnicodeDecodeError:
        return {"content_base64": base64.b64encode(stored).decode("ascii")}


def _parse(body: Mapping[str, Any]) -> tuple[str | None, str | None, str]:
    problems: list[Problem] = []
    post_id = body.get("post_id")
    url = body.get("url")
    if (post_id is None) == (url is None):
        problems.append(Problem("", "give exactly one of post_id or url"))
    if post_id is not None and (not isinstance(post_id, str) or not 1 <= len(post_id) <= 64):
        problems.append(Problem("/post_id", "must be a post id"))
    if url is not None and (
        not isinstance(url, str)
        or len(url) > MAX_URL
        or not url.startswith(("http://", "https://"))
    ):
        problems.append(Problem("/url", "must be an http(s) URL"))
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > 2000:
        problems.append(Problem("/note", "must be text of at most 2000 characters"))
    unknown = set(body) - {"post_id", "url", "note"}
    problems.extend(Problem(f"/{k}", "unknown field") for k in sorted(unknown))
    if problems:
        raise ValidationError("invalid evidence", problems)
    return post_id, url, note
