"""A :class:`Document` as one self-contained HTML page (charts inlined as PNG data URIs).

Jinja2 with autoescape on: post titles and stories come from the internet and may carry
``<script>``; every text goes through the template's escaping, never through string formatting.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from chalicelib.briefings import charts
from chalicelib.briefings.models import Document


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("chalicelib.briefings", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(doc: Document, *, with_charts: bool = True) -> str:
    sections: list[dict[str, Any]] = []
    for section in doc.sections:
        images = []
        for chart in section.charts if with_charts else []:
            encoded = base64.b64encode(charts.png(chart)).decode("ascii")
            images.append(
                {
                    "src": f"data:image/png;base64,{encoded}",
                    "caption": chart.caption,
                    "width": charts.WIDTH,  # drawn at 2x: shown at its logical size
                }
            )
        sections.append({"section": section, "images": images})
    return _environment().get_template("report.html.j2").render(doc=doc, sections=sections)
