"""The daily briefing (舆情日报) as Word: time to the first .docx in a fresh process, and warm.

Run: ``.venv/bin/python -m bench.briefing``. Builds one full day's briefing data (24 hours,
every platform, five clusters, open incidents, sources) and renders it to .docx in fresh
interpreters, as a cold Lambda would: the figure includes importing python-docx and the chart
renderer (and, for Pillow, loading the CJK font). When matplotlib is importable (the renderer
the Pillow one replaced, kept out of the Lambda bundle), the same run times it too, so both
figures come from one machine and one moment. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from chalicelib.posts.models import Platform

PROJECT = Path(__file__).resolve().parents[1]
RENDERERS = ("pillow", "matplotlib")


def sample() -> dict[str, Any]:
    """A busy day: every hour has posts, every platform appears, five clusters, two incidents."""
    hourly: list[dict[str, Any]] = [
        {
            "start": f"2026-11-24T{(h + 0) % 24:02d}:00:00+00:00",
            "hour": f"{(h + 8) % 24:02d}:00",
            "posts": 40 + (h * 37) % 180,
            "negative": 5 + (h * 13) % 40,
            "negative_share": round((5 + (h * 13) % 40) / (40 + (h * 37) % 180), 4),
        }
        for h in range(24)
    ]
    posts = sum(h["posts"] for h in hourly)
    platforms = [
        {"platform": p.value, "posts": 900 - 90 * i, "share": round((900 - 90 * i) / posts, 4)}
        for i, p in enumerate(Platform)
    ]
    clusters = [
        {
            "cluster_id": f"c-{i}",
            "story": f"滨江区第{i}号事件：居民反映小区供水中断超过十二小时，物业回应称正在抢修",
            "posts_in_period": 300 - 40 * i,
            "count": 900 - 100 * i,
            "growth": 2.5 - 0.3 * i,
            "level": ["II", "III", "IV", "IV", ""][i],
            "max_risk": 0.9 - 0.1 * i,
            "platforms": ["weibo", "news"],
            "key_posts": [
                {
                    "post_id": f"p-{i}-{k}",
                    "title": "停水一整天了，有没有人管一管？",
                    "platform": "weibo",
                    "risk": 0.8,
                    "url": f"https://example.org/{i}/{k}",
                }
                for k in range(3)
            ],
        }
        for i in range(5)
    ]
    incidents = [
        {
            "incident_id": f"i-{i}",
            "title": "滨江区供水中断",
            "level": "III",
            "status": "active",
            "step": "respond",
            "opened_at": "2026-11-24T03:00:00+00:00",
            "next_deadline": None,
            "breaches": 0,
        }
        for i in range(2)
    ]
    return {
        "date": "2026-11-25",
        "title": "舆情日报",
        "organisation": "滨江区委宣传部",
        "plan_version": 1,
        "period": {"label": "2026-11-24 08:00 至 2026-11-25 08:00（北京时间）"},
        "provisional": False,
        "volume": {
            "posts": posts,
            "negative": sum(h["negative"] for h in hourly),
            "negative_share": 0.12,
            "levels": {"III": 2, "IV": 5},
        },
        "summary": "共 3000 条。\n风险结论：较高。",
        "hourly": hourly,
        "platforms": platforms,
        "top_clusters": clusters,
        "incidents": incidents,
        "sources": {"total": 2, "healthy": 2, "unhealthy": [], "rows": []},
    }


def _matplotlib_png(chart: Any) -> bytes:
    """The renderer the Pillow one replaced (decision 45), kept here only to compare timings."""
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")
    plt = importlib.import_module("matplotlib.pyplot")
    fig, ax = plt.subplots(figsize=(7.0, 3.0), dpi=110)
    positions = list(range(len(chart.labels)))
    width = 0.8 / max(len(chart.bars), 1)
    for k, series in enumerate(chart.bars):
        shifted = [p + (k - (len(chart.bars) - 1) / 2) * width for p in positions]
        draw = ax.barh if chart.horizontal else ax.bar
        draw(shifted, series.values, width, label=f"s{k}", color=f"C{k}")
    if chart.line is not None:
        twin = ax.twinx()
        twin.plot(positions, chart.line.values, color="C3", marker=".")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def child(data_file: Path, renderer: str) -> None:
    """One cold render in this (fresh) process; prints JSON timings."""
    start = time.perf_counter()
    from chalicelib.briefings import charts, daily, render_docx

    if renderer == "matplotlib":
        charts.png = _matplotlib_png
    data = json.loads(data_file.read_text(encoding="utf-8"))
    first = render_docx.render(daily.document(data))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    render_docx.render(daily.document(data))
    warm = time.perf_counter() - start
    print(json.dumps({"cold": cold, "warm": warm, "bytes": len(first)}))


def available(renderer: str) -> bool:
    if renderer == "pillow":
        return True
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per renderer")
    parser.add_argument("--child", choices=RENDERERS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.data, args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        data_file = Path(tmp) / "briefing.json"
        data_file.write_text(json.dumps(sample(), ensure_ascii=False), encoding="utf-8")
        renderers = [r for r in RENDERERS if available(r)]
        runs: dict[str, list[dict[str, Any]]] = {r: [] for r in renderers}
        # Interleaved, so that both renderers see the same load on a shared machine.
        for _ in range(args.runs):
            for renderer in renderers:
                command = [sys.executable, "-m", "bench.briefing", "--child", renderer]
                out = subprocess.run(
                    [*command, "--data", str(data_file)],
                    cwd=PROJECT,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[renderer].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for renderer in RENDERERS:
            if renderer not in runs:
                print(f"{renderer:<10} not installed; skipped")
                continue
            cold = statistics.median(r["cold"] for r in runs[renderer])
            warm = statistics.median(r["warm"] for r in runs[renderer])
            print(
                f"{renderer:<10} daily briefing .docx: cold {cold * 1000:.0f} ms (median of "
                f"{args.runs} fresh processes), warm {warm * 1000:.0f} ms, "
                f"{runs[renderer][0]['bytes'] / 1000:.0f} kB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
