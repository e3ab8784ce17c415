"""Which files the dashboard serves, with which type and headers — a fixed whitelist.

The page is served by the same API it calls, so it works offline (local mode) and needs no
bucket or CDN; nothing outside :data:`ASSETS` can ever be read, whatever the path says. The
headers make the browser refuse anything but our own scripts and styles (CSP ``'self'``, no
inline code), so a post's text can only ever be text, even if a bug put it into markup.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"

# Everything our own origin; no inline script or style; images also from canvas exports.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

# URL name → file under static/. The page is ``/``; everything else is ``/assets/<name>``.
INDEX = "index.html"
ASSETS: dict[str, str] = {
    "app.js": "app.js",
    "api.js": "api.js",
    "dom.js": "dom.js",
    "views.js": "views.js",
    "incident.js": "incident.js",
    "charts.js": "charts.js",
    "style.css": "style.css",
    "favicon.svg": "favicon.svg",
    "echarts.min.js": "vendor/echarts.min.js",
    "echarts-LICENSE.txt": "vendor/echarts-LICENSE.txt",
}


@dataclass(frozen=True)
class Asset:
    body: str
    content_type: str
    etag: str

    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": self.content_type,
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            # Revalidate every time: a fixed dashboard reaches every screen at the next load.
            "Cache-Control": "no-cache",
            "ETag": self.etag,
        }


def load(name: str) -> Asset | None:
    """The whitelisted asset ``name`` (``index.html`` for the page), or None for anything else."""
    relative = INDEX if name == INDEX else ASSETS.get(name)
    return None if relative is None else _read(relative)


@functools.cache  # keyed by whitelisted paths only, so it never grows with what callers ask
def _read(relative: str) -> Asset:
    path = STATIC / relative
    body = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:20]
    return Asset(body=body, content_type=TYPES[path.suffix], etag=f'"{digest}"')
