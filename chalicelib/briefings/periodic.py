"""The weekly and monthly briefings (舆情周报, 舆情月报): their figures, summary and document. Pure.

A week or month (:mod:`periods`) is reported like a day (:mod:`daily`), at the scale the HQ
reviews it: volume and negative share per China day, platforms, the top clusters (事件簇) with
their key posts, the hot words against the span before it of the same length, every incident
opened in the span with its level, outcome (its status now) and deadlines met or missed, the
drills held (演练) and the sources' health at build time. The summary (≤ 200 characters) ends in
the span's risk conclusion (风险结论):

- 高 — an incident or a top cluster at level I or II in the span;
- 较高 — at level III;
- 关注 — at level IV, or a source down now;
- 平稳 — none of these.

Drill incidents and clusters are left out of the figures; the drills have their own section.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.briefings import daily
from chalicelib.briefings.models import (
    Chart,
    Document,
    Period,
    Section,
    Series,
    Table,
    china_time,
    percent,
    short,
)
from chalicelib.briefings.periods import WEEK, Span
from chalicelib.clusters.models import Cluster
from chalicelib.core.clock import CHINA, parse_instant
from chalicelib.incidents.names import status_name
from chalicelib.plan.defaults import rank
from chalicelib.plan.models import DEADLINE_LABELS, LEVEL_NAMES, LEVELS
from chalicelib.sources.store import SourceRecord
from chalicelib.trends.models import ClusterOfDay, HourCounts

TOP_CLUSTERS = 10
DRILL_STATES = {"running": "进行中", "injected": "已完成注入"}
_SPAN_WORD = {WEEK: "本周", "month": "本月"}
_BEFORE_WORD = {WEEK: "上周", "month": "上月"}


def _hour_start(h: HourCounts) -> datetime:
    return datetime.fromisoformat(h.day).replace(tzinfo=UTC) + timedelta(hours=h.hour)


def _china_day(moment: datetime) -> str:
    return moment.astimezone(CHINA).date().isoformat()


def build(
    *,
    span: Span,
    period: Period,
    now: datetime,
    organisation: str,
    plan_version: int,
    hours: Iterable[HourCounts],
    top: Sequence[ClusterOfDay],
    clusters: Mapping[str, Cluster | None],
    incidents: Iterable[Mapping[str, Any]],
    drills: Iterable[Mapping[str, Any]],
    sources: Iterable[SourceRecord],
    hot_words: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The week's or month's briefing as data: what is stored (once) and served as JSON.

    ``incidents`` are META items and ``drills`` drill records, read for the span's bounds; the
    ones outside ``period`` (the store's bounds include the end) and drill incidents are left
    out here."""
    days: dict[str, list[int]] = {}
    day = span.start
    while day < period.end:
        days[_china_day(day)] = [0, 0]
        day += timedelta(days=1)
    platforms: dict[str, int] = {}
    levels: dict[str, int] = {}
    for h in hours:
        start = _hour_start(h)
        if not period.start <= start < period.end:
            continue
        slot = days[_china_day(start)]
        slot[0] += h.posts
        slot[1] += h.negative
        platforms[h.platform] = platforms.get(h.platform, 0) + h.posts
        for level, n in h.levels.items():
            levels[level] = levels.get(level, 0) + n
    posts = sum(v[0] for v in days.values())
    negative = sum(v[1] for v in days.values())
    rows = [
        _incident(meta)
        for meta in incidents
        if not meta.get("drill") and _inside(period, meta.get("opened_at"))
    ]
    rows.sort(key=lambda i: (-rank(i["level"]), str(i["opened_at"])))
    held = [_drill(d) for d in drills if _inside(period, d.get("started_at"))]
    held.sort(key=lambda d: str(d["started_at"]))
    source_rows = [daily.source_entry(s) for s in sources]
    data: dict[str, Any] = {
        "kind": span.kind,
        "key": span.key,
        "title": span.title,
        "organisation": organisation,
        "plan_version": plan_version,
        "period": period.as_dict(),
        "provisional": period.provisional,
        "built_at": now.astimezone(UTC).isoformat(),
        "volume": {
            "posts": posts,
            "negative": negative,
            "negative_share": round(negative / posts, 4) if posts else 0.0,
            "levels": {lv: levels[lv] for lv in LEVELS if levels.get(lv)},
        },
        "daily": [
            {
                "date": d,
                "posts": n,
                "negative": neg,
                "negative_share": round(neg / n, 4) if n else 0.0,
            }
            for d, (n, neg) in sorted(days.items())
        ],
        "platforms": [
            {"platform": p, "posts": n, "share": round(n / posts, 4) if posts else 0.0}
            for p, n in sorted(platforms.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "top_clusters": [daily.cluster_entry(c, clusters.get(c.cluster_id)) for c in top],
        "hot_words": [dict(w) for w in hot_words],
        "incidents": rows,
        "deadlines": {
            k: sum(i["deadlines"][k] for i in rows) for k in ("met", "missed", "pending")
        },
        "drills": held,
        "sources": {
            "total": len(source_rows),
            "healthy": sum(1 for s in source_rows if s["healthy"]),
            "unhealthy": [s["id"] for s in source_rows if not s["healthy"]],
            "rows": source_rows,
        },
    }
    data["risk"] = risk(data)
    data["summary"] = summary(data)
    return data


def _inside(period: Period, value: Any) -> bool:
    return bool(value) and period.start <= parse_instant(str(value)) < period.end


def _incident(item: Mapping[str, Any]) -> dict[str, Any]:
    """One incident of the span: its level, its outcome (status now) and its deadlines — met
    (按时), missed (超时, the workflow's verdict) or not decided yet."""
    met: list[str] = []
    missed: list[str] = []
    pending: list[str] = []
    deadlines = item.get("deadlines")
    for kind, entry in sorted((deadlines if isinstance(deadlines, Mapping) else {}).items()):
        if not isinstance(entry, Mapping):
            continue
        verdict = entry.get("met")
        (met if verdict is True else missed if verdict is False else pending).append(str(kind))
    return {
        "incident_id": str(item.get("pk") or item.get("incident_id")),
        "title": str(item.get("title") or ""),
        "level": str(item.get("level") or ""),
        "status": str(item.get("status") or ""),
        "opened_at": item.get("opened_at"),
        "closed_at": item.get("closed_at"),
        "deadlines": {"met": len(met), "missed": len(missed), "pending": len(pending)},
        "missed": missed,
    }


def _drill(item: Mapping[str, Any]) -> dict[str, Any]:
    incidents = item.get("incidents") or ()
    return {
        "drill_id": str(item.get("drill_id") or str(item.get("pk", "")).removeprefix("drill#")),
        "name": str(item.get("name") or ""),
        "started_at": item.get("started_at"),
        "state": str(item.get("state") or ""),
        "incidents": len(incidents) if isinstance(incidents, list | set | tuple) else 0,
    }


def risk(data: Mapping[str, Any]) -> dict[str, str]:
    """The span's risk grade and its one-line conclusion (风险结论)."""
    word = _SPAN_WORD[data["kind"]]
    inc_levels = [i["level"] for i in data["incidents"]]
    top_levels = [c["level"] for c in data["top_clusters"] if c["level"]]
    down = len(data["sources"]["unhealthy"])
    severe = sum(1 for lv in inc_levels if lv in ("I", "II"))
    if severe or any(lv in ("I", "II") for lv in top_levels):
        grade = "high"
        why = f"{word}发生 {severe} 起 I/II 级事件" if severe else f"{word}出现 I/II 级热点事件簇"
        act = "请指挥部复盘处置情况，持续关注后续舆情"
    elif "III" in inc_levels or "III" in top_levels:
        grade, why, act = "elevated", f"{word}存在 III 级舆情", "请相关工作组跟进研判"
    elif "IV" in inc_levels or "IV" in top_levels or down:
        grade = "watch"
        iv = "IV" in inc_levels or "IV" in top_levels
        why = f"{word}存在 IV 级舆情" if iv else f"{word}舆情平稳"
        act = "保持监测"
    else:
        grade, why, act = "calm", f"{word}未发现需处置的舆情", "保持常态监测"
    missed = data["deadlines"]["missed"]
    if missed:
        act += f"；{missed} 项处置时限未按时完成"
    if down:
        act += f"；{down} 个信息源异常，监测可能不全"
    conclusion = f"风险结论：{daily.RISK_NAMES[grade]}。{why}，{act}。"
    return {"grade": grade, "name": daily.RISK_NAMES[grade], "conclusion": conclusion}


def summary(data: Mapping[str, Any]) -> str:
    """At most :data:`daily.SUMMARY_MAX` characters; the last line is the risk conclusion."""
    conclusion = str(data["risk"]["conclusion"])
    volume = data["volume"]
    days = data["daily"]
    span = f"{days[0]['date'][5:]}至{days[-1]['date'][5:]}" if days else ""
    parts = [
        f"{data['key']}（{span}）共监测信息{volume['posts']}条，"
        f"负面占比{percent(volume['negative_share'])}"
    ]
    if data["platforms"]:
        first = data["platforms"][0]
        parts.append(
            f"主要来自{daily.platform_name(first['platform'])}（{percent(first['share'])}）"
        )
    if data["top_clusters"]:
        top = data["top_clusters"][0]
        level = f"{top['level']}级，" if top["level"] else ""
        parts.append(
            f"热点{len(data['top_clusters'])}个，首位「{short(top['story'], 20)}」"
            f"（{level}{top['posts_in_period']}条）"
        )
    n = len(data["incidents"])
    if n:
        d = data["deadlines"]
        parts.append(f"发生事件{n}起，时限按时{d['met']}项、超时{d['missed']}项")
    else:
        parts.append("未发生舆情事件")
    if data["drills"]:
        parts.append(f"开展演练{len(data['drills'])}次")
    sources = data["sources"]
    if sources["total"]:
        parts.append(f"信息源{sources['healthy']}/{sources['total']}正常")
    body = "；".join(parts) + "。"
    room = daily.SUMMARY_MAX - len(conclusion) - 1
    return short(body, room) + "\n" + short(conclusion, daily.SUMMARY_MAX - 1)


def document(data: Mapping[str, Any]) -> Document:
    """The week's or month's briefing as a document for the HTML and Word renderers."""
    volume = data["volume"]
    days = data["daily"]
    before = _BEFORE_WORD[data["kind"]]
    sections = [
        Section("一、综述", paragraphs=str(data["summary"]).split("\n")),
        Section(
            "二、声量与情感走势",
            paragraphs=[
                f"共 {volume['posts']} 条，负面 {volume['negative']} 条"
                f"（{percent(volume['negative_share'])}）。"
                + (
                    "分级："
                    + "，".join(f"{lv}级 {n} 条" for lv, n in volume["levels"].items())
                    + "。"
                    if volume["levels"]
                    else ""
                )
            ],
            tables=[
                Table(
                    ["日期", "声量", "负面", "负面占比"],
                    [
                        [
                            d["date"],
                            str(d["posts"]),
                            str(d["negative"]),
                            percent(d["negative_share"]),
                        ]
                        for d in days
                    ],
                )
            ],
            charts=[
                Chart(
                    caption="图1 每日声量（柱，条）与负面占比（线，%），北京时间",
                    labels=[d["date"][5:] for d in days] or ["-"],
                    bars=[Series("声量", [float(d["posts"]) for d in days] or [0.0])],
                    line=Series(
                        "负面占比", [round(d["negative_share"] * 100, 1) for d in days] or [0.0]
                    ),
                    y_label="声量（条）",
                    y2_label="负面占比（%）",
                )
            ],
        ),
        _platforms_section(data["platforms"]),
        daily.clusters_section(data["top_clusters"], data.get("hot_words", []), baseline=before),
        _incidents_section(data["incidents"], data["deadlines"]),
        _drills_section(data["drills"]),
        daily.sources_section(data["sources"], heading="七、信息源状态"),
    ]
    provisional = bool(data.get("provisional"))
    return Document(
        title=f"{data['organisation']} {data['title']}",
        subtitle=f"{data['key']}　统计时段：{data['period']['label']}",
        sections=sections,
        filename=f"{data['title']}-{data['key']}" + ("-临时版" if provisional else ""),
        banner="临时版：统计时段尚未结束，数据可能变化。" if provisional else "",
    )


def _platforms_section(platforms: Sequence[Mapping[str, Any]]) -> Section:
    section = Section("三、平台分布")
    if not platforms:
        section.paragraphs.append("本时段无数据。")
        return section
    section.tables.append(
        Table(
            ["平台", "条数", "占比"],
            [
                [daily.platform_name(p["platform"]), str(p["posts"]), percent(p["share"])]
                for p in platforms
            ],
        )
    )
    section.charts.append(
        Chart(
            caption="图2 平台分布（条）",
            labels=[daily.platform_name(p["platform"]) for p in platforms],
            bars=[Series("条数", [float(p["posts"]) for p in platforms])],
            y_label="条数（条）",
            horizontal=True,
        )
    )
    return section


def _incidents_section(
    incidents: Sequence[Mapping[str, Any]], deadlines: Mapping[str, int]
) -> Section:
    section = Section("五、舆情事件及处置时限")
    if not incidents:
        section.paragraphs.append("本时段未发生舆情事件。")
        return section
    section.paragraphs.append(
        f"共 {len(incidents)} 起；处置时限按时 {deadlines['met']} 项，"
        f"超时 {deadlines['missed']} 项，未判定 {deadlines['pending']} 项。"
    )
    section.tables.append(
        Table(
            ["事件", "级别", "结果", "发现时间", "结束时间", "时限按时", "时限超时", "超时项"],
            [
                [
                    short(i["title"], 40) or i["incident_id"],
                    f"{i['level']}级 {LEVEL_NAMES.get(i['level'], '')}".strip(),
                    status_name(i["status"]),
                    china_time(i["opened_at"]),
                    china_time(i["closed_at"]),
                    str(i["deadlines"]["met"]),
                    str(i["deadlines"]["missed"]),
                    "、".join(DEADLINE_LABELS.get(k, k) for k in i["missed"]) or "—",
                ]
                for i in incidents
            ],
        )
    )
    return section


def _drills_section(drills: Sequence[Mapping[str, Any]]) -> Section:
    section = Section("六、演练")
    if not drills:
        section.paragraphs.append("本时段未开展演练。")
        return section
    section.tables.append(
        Table(
            ["演练", "开始时间", "状态", "演练事件"],
            [
                [
                    short(d["name"], 40) or d["drill_id"],
                    china_time(d["started_at"]),
                    DRILL_STATES.get(d["state"], d["state"]),
                    str(d["incidents"]),
                ]
                for d in drills
            ],
        )
    )
    return section
