"""Chart images (PNG) for the reports, drawn with matplotlib's Agg backend.

matplotlib (with NumPy) is the heaviest thing in the Lambda bundle, so it is imported here, on
the first chart, and only the functions that render HTML or Word pay for it. Every text drawn
inside an image is ASCII (Lambda has no CJK font; a missing glyph would draw as a box): a label
that is not ASCII is replaced by its position (``#3``), and captions stay in the document.
"""

from __future__ import annotations

import io
import threading
from typing import Any

from chalicelib.briefings.models import Chart

WIDTH_IN, HEIGHT_IN, DPI = 7.0, 3.0, 110
_LOCK = threading.Lock()  # pyplot's state is global; local mode serves requests in threads


def ascii_label(text: str, index: int) -> str:
    return text if text.isascii() else f"#{index + 1}"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def png(chart: Chart) -> bytes:
    """The chart as PNG bytes; an empty chart still draws (a blank image says "no data")."""
    plt = _pyplot()
    labels = [ascii_label(label, i) for i, label in enumerate(chart.labels)]
    with _LOCK:
        fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
        try:
            positions = list(range(len(labels)))
            width = 0.8 / max(len(chart.bars), 1)
            for k, series in enumerate(chart.bars):
                shifted = [p + (k - (len(chart.bars) - 1) / 2) * width for p in positions]
                name = ascii_label(series.name, k)
                if chart.horizontal:
                    ax.barh(shifted, series.values, height=width, label=name, color=f"C{k}")
                else:
                    ax.bar(shifted, series.values, width=width, label=name, color=f"C{k}")
            if chart.horizontal:
                ax.set_yticks(positions, labels)
                ax.invert_yaxis()
                ax.set_xlabel(ascii_label(chart.y_label, 0))
            else:
                ax.set_xticks(positions, labels, fontsize=7)
                ax.set_ylabel(ascii_label(chart.y_label, 0))
            if chart.line is not None:
                twin = ax.twinx()
                twin.plot(
                    positions, chart.line.values, color="C3", marker=".", label=chart.line.name
                )
                twin.set_ylabel(ascii_label(chart.y2_label, 0))
                twin.set_ylim(bottom=0)
                handles = ax.get_legend_handles_labels()
                more = twin.get_legend_handles_labels()
                ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=7)
            elif len(chart.bars) > 1:
                ax.legend(loc="upper right", fontsize=7)
            if not any(v for s in chart.bars for v in s.values):
                ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", color="grey")
            fig.tight_layout()
            out = io.BytesIO()
            fig.savefig(out, format="png")
            return out.getvalue()
        finally:
            plt.close(fig)
