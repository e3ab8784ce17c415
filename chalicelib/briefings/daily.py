"""The daily briefing (舆情日报): its figures, its ≤ 200-character summary and its document. Pure.

The briefing of a date covers the 24 hours before that date's briefing time (the plan's
``briefing.time``, 08:00 China time by default): volume and negative share per hour, platforms,
the top clusters (事件簇) of the period with their key posts, the open incidents and their state,
and the health of the sources. The summary ends in one line of risk conclusion (风险结论) that
a reader can act on without reading further:

- 高 — an open incident or a top cluster at level I or II;
- 较高 — at level III;
- 关注 — at level IV, or a source down (monitoring may be missing something);
- 平稳 — none of these.

Drill incidents and clusters are left out (drills are excluded from statistics).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

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
from chalicelib.clusters.models import Cluster
from chalicelib.core.clock import CHINA, parse_instant
from chalicelib.incidents.names import status_name, wait_name
from chalicelib.plan.defaults import rank
from chalicelib.plan.models import LEVEL_NAMES, LEVELS
from chalicelib.posts.models import PLATFORM_LABELS
from chalicelib.sources.store import SourceRecord
from chalicelib.trends.models import ClusterOfDay, ClusterPage, HourCounts, clusters_of_day
from chalicelib.trends.models import top_clusters as rank_clusters

SUMMARY_MAX = 200
TOP_CLUSTERS = 5
KEY_POSTS = 3
RISK_NAMES = {"high": "高", "elevated": "较高", "watch": "关注", "calm": "平稳"}
_PLATFORM_NAMES = {p.value: label for p, label in PLATFORM_LABELS.items()}


def platform_name(platform: str) -> str:
    """A platform id as the HQ reads it (``weibo`` → 微博); an unknown id stays as it is."""
    return _PLATFORM_NAMES.get(platform, platform)


def clusters_in_period(pages: Iterable[ClusterPage], period: Period) -> list[ClusterOfDay]:
    """Every non-drill cluster that gained posts in the period, folded from its pages."""
    inside = []
    for page in pages:
        keep = [i for i, seen in enumerate(page.seen) if period.contains(seen)]
        if not keep or page.drill:
            continue
        inside.append(
            ClusterPage(
                day=page.day,
                cluster_id=page.cluster_id,
                post_ids=tuple(page.post_ids[i] for i in keep),
                seen=tuple(page.seen[i] for i in keep),
                risks=tuple(page.risks[i] for i in keep if i < len(page.risks)),
                count=page.count,
                growth=page.growth,
                level=page.level,
                max_risk=page.max_risk,
            )
        )
    return clusters_of_day(inside)


def top_clusters(clusters: Iterable[ClusterOfDay]) -> list[ClusterOfDay]:
    """The period's top clusters: highest risk first, then the most posts."""
    return rank_clusters(clusters, by="risk", limit=TOP_CLUSTERS)


def _hour_start(h: HourCounts) -> datetime:
    return datetime.fromisoformat(h.day).replace(tzinfo=UTC) + timedelta(hours=h.hour)


def build(
    *,
    day: date,
    period: Period,
    now: datetime,
    organisation: str,
    plan_version: int,
    hours: Iterable[HourCounts],
    top: Sequence[ClusterOfDay],
    clusters: Mapping[str, Cluster | None],
    incidents: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    sources: Iterable[SourceRecord],
    group_name: Callable[[str], str] = str,
    hot_words: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The briefing as data: what is stored (once per date) and served as JSON.

    ``incidents`` are (META item, ``board_facts`` of its items) pairs: the next deadline and the
    breach count come from the function the board uses, so the document and the board agree."""
    in_period = [h for h in hours if period.start <= _hour_start(h) < period.end]
    per_hour = {start: [0, 0] for start in period.hours()}
    platforms: dict[str, int] = {}
    levels: dict[str, int] = {}
    for h in in_period:
        slot = per_hour[_hour_start(h)]
        slot[0] += h.posts
        slot[1] += h.negative
        platforms[h.platform] = platforms.get(h.platform, 0) + h.posts
        for level, n in h.levels.items():
            levels[level] = levels.get(level, 0) + n
    posts = sum(v[0] for v in per_hour.values())
    negative = sum(v[1] for v in per_hour.values())
    hourly = [
        {
            "start": start.isoformat(),
            "hour": start.astimezone(CHINA).strftime("%H:00"),
            "posts": n,
            "negative": neg,
            "negative_share": round(neg / n, 4) if n else 0.0,
        }
        for start, (n, neg) in sorted(per_hour.items())
    ]
    open_incidents = [
        _incident(meta, facts, now, group_name)
        for meta, facts in incidents
        if not meta.get("drill")
    ]
    open_incidents.sort(key=lambda i: -rank(i["level"]))
    source_rows = [source_entry(s) for s in sources]
    data: dict[str, Any] = {
        "date": day.isoformat(),
        "title": "舆情日报",
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
        "hourly": hourly,
        "platforms": [
            {"platform": p, "posts": n, "share": round(n / posts, 4) if posts else 0.0}
            for p, n in sorted(platforms.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "top_clusters": [cluster_entry(c, clusters.get(c.cluster_id)) for c in top],
        "hot_words": [dict(w) for w in hot_words],
        "incidents": open_incidents,
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


def cluster_entry(c: ClusterOfDay, cluster: Cluster | None) -> dict[str, Any]:
    return {
        "cluster_id": c.cluster_id,
        "story": cluster.story if cluster else "",
        "posts_in_period": c.posts_today,
        "count": c.count,
        "growth": round(c.growth, 2),
        "level": c.level,
        "max_risk": round(c.max_risk, 3),
        "platforms": list(cluster.platforms) if cluster else [],
        "key_posts": [
            {
                "post_id": p.post_id,
                "title": p.title,
                "platform": p.platform,
                "risk": round(p.risk, 3),
                "url": p.url,
            }
            for p in (cluster.top_posts[:KEY_POSTS] if cluster else ())
        ],
    }


def _incident(
    item: Mapping[str, Any],
    facts: Mapping[str, Any],
    now: datetime,
    group_name: Callable[[str], str],
) -> dict[str, Any]:
    nxt = facts.get("next_deadline")
    return {
        "incident_id": str(item.get("pk") or item.get("incident_id")),
        "title": str(item.get("title") or ""),
        "level": str(item.get("level") or ""),
        "status": str(item.get("status") or ""),
        "step": str(item.get("step") or ""),
        "opened_at": item.get("opened_at"),
        "next_deadline": (
            {
                "kind": str(nxt["kind"]),
                "label": wait_name(str(nxt["kind"]), nxt.get("group"), group_name),
                "due_at": str(nxt["due_at"]),
                "overdue": parse_instant(str(nxt["due_at"])) < now,
            }
            if nxt
            else None
        ),
        "breaches": int(facts.get("breaches") or 0),
    }


def source_entry(record: SourceRecord) -> dict[str, Any]:
    d, h = record.definition, record.health
    return {
        "id": d.id,
        "name": d.name,
        "platform": d.platform.value,
        "enabled": d.enabled,
        "healthy": h.healthy,
        "status": h.status,
        "last_success_at": h.last_success_at,
        "consecutive_failures": h.consecutive_failures,
        "reason": h.unhealthy_reason or h.last_error or "",
    }


def risk(data: Mapping[str, Any]) -> dict[str, str]:
    """The period's risk grade and its one-line conclusion (风险结论)."""
    inc_levels = [i["level"] for i in data["incidents"]]
    top_levels = [c["level"] for c in data["top_clusters"] if c["level"]]
    down = len(data["sources"]["unhealthy"])
    severe = sum(1 for lv in inc_levels if lv in ("I", "II"))
    if severe or any(lv in ("I", "II") for lv in top_levels):
        grade = "high"
        why = f"{severe} 起 I/II 级事件在办" if severe else "出现 I/II 级热点事件簇"
        act = "请指挥部重点关注，按预案时限处置"
    elif "III" in inc_levels or "III" in top_levels:
        grade, why, act = "elevated", "存在 III 级舆情", "请相关工作组跟进研判"
    elif "IV" in inc_levels or "IV" in top_levels or down:
        grade = "watch"
        why = "存在 IV 级舆情" if ("IV" in inc_levels or "IV" in top_levels) else "舆情平稳"
        act = "保持监测"
    else:
        grade, why, act = "calm", "未发现需处置的舆情", "保持常态监测"
    if down:
        act += f"；{down} 个信息源异常，监测可能不全"
    conclusion = f"风险结论：{RISK_NAMES[grade]}。{why}，{act}。"
    return {"grade": grade, "name": RISK_NAMES[grade], "conclusion": conclusion}


def summary(data: Mapping[str, Any]) -> str:
    """At most :data:`SUMMARY_MAX` characters; the last line is the risk conclusion."""
    conclusion = str(data["risk"]["conclusion"])
    volume = data["volume"]
    parts = [
        f"{data['period']['label'][:16]}起24小时共监测信息{volume['posts']}条，"
        f"负面占比{percent(volume['negative_share'])}"
    ]
    if data["platforms"]:
        first = data["platforms"][0]
        parts.append(f"主要来自{platform_name(first['platform'])}（{percent(first['share'])}）")
    if data["top_clusters"]:
        top = data["top_clusters"][0]
        level = f"{top['level']}级，" if top["level"] else ""
        parts.append(
            f"热点{len(data['top_clusters'])}个，首位「{short(top['story'], 24)}」"
            f"（{level}{top['posts_in_period']}条）"
        )
    n = len(data["incidents"])
    parts.append(f"在办事件{n}起" if n else "无在办事件")
    sources = data["sources"]
    if sources["total"]:
        parts.append(f"信息源{sources['healthy']}/{sources['total']}正常")
    body = "；".join(parts) + "。"
    room = SUMMARY_MAX - len(conclusion) - 1
    return short(body, room) + "\n" + short(conclusion, SUMMARY_MAX - 1)


def document(data: Mapping[str, Any]) -> Document:
    """The briefing as a document for the HTML and Word renderers."""
    volume = data["volume"]
    hourly = data["hourly"]
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
            charts=[
                Chart(
                    caption="图1 每小时声量（柱，条）与负面占比（线，%），北京时间",
                    labels=[h["hour"][:2] for h in hourly],
                    bars=[Series("声量", [float(h["posts"]) for h in hourly])],
                    line=Series("负面占比", [round(h["negative_share"] * 100, 1) for h in hourly]),
                    y_label="声量（条）",
                    y2_label="负面占比（%）",
                )
            ],
        ),
        Section(
            "三、平台分布",
            tables=[
                Table(
                    ["平台", "条数", "占比"],
                    [
                        [platform_name(p["platform"]), str(p["posts"]), percent(p["share"])]
                        for p in data["platforms"]
                    ],
                )
            ]
            if data["platforms"]
            else [],
            paragraphs=[] if data["platforms"] else ["本时段无数据。"],
            charts=[
                Chart(
                    caption="图2 平台分布（条）",
                    labels=[platform_name(p["platform"]) for p in data["platforms"]] or ["-"],
                    bars=[Series("条数", [float(p["posts"]) for p in data["platforms"]] or [0.0])],
                    y_label="条数（条）",
                    horizontal=True,
                )
            ],
        ),
        clusters_section(data["top_clusters"], data.get("hot_words", [])),
        _incidents_section(data["incidents"]),
        sources_section(data["sources"]),
    ]
    return Document(
        title=f"{data['organisation']} 舆情日报",
        subtitle=f"{data['date']}　统计时段：{data['period']['label']}",
        sections=sections,
        filename=f"舆情日报-{data['date']}" + ("-临时版" if data.get("provisional") else ""),
        banner="临时版：统计时段尚未结束，数据可能变化。" if data.get("provisional") else "",
    )


def clusters_section(
    top: Sequence[Mapping[str, Any]],
    hot_words: Sequence[Mapping[str, Any]],
    heading: str = "四、热点事件簇及重点信息",
    baseline: str = "前 7 日",
) -> Section:
    """The top clusters with their key posts, and the hot words against ``baseline``."""
    section = Section(heading)
    if hot_words:
        section.tables.append(
            Table(
                ["热词", "本时段条数", f"按{baseline.replace(' ', '')}占比应有", "上升倍数"],
                [
                    [
                        str(w["word"]),
                        str(w["count"]),
                        "新出现" if w["new"] else f"{w['expected']:.1f}",
                        f"{w['rise']:.1f}",
                    ]
                    for w in hot_words
                ],
                caption=f"热词：本时段使用条数较{baseline}占比上升最多的词",
            )
        )
    if not top:
        section.paragraphs.append("本时段无热点事件簇。")
        return section
    section.tables.append(
        Table(
            ["序号", "事件", "级别", "本时段条数", "累计", "增速", "最高风险"],
            [
                [
                    str(i),
                    short(c["story"], 60) or c["cluster_id"],
                    c["level"] or "—",
                    str(c["posts_in_period"]),
                    str(c["count"]),
                    f"{c['growth']:.1f}",
                    f"{c['max_risk']:.2f}",
                ]
                for i, c in enumerate(top, 1)
            ],
        )
    )
    section.charts.append(
        Chart(
            caption="图3 热点事件簇本时段新增信息条数",
            labels=[f"{i}. {c['story'] or c['cluster_id']}" for i, c in enumerate(top, 1)],
            bars=[Series("本时段条数", [float(c["posts_in_period"]) for c in top])],
            y_label="本时段条数（条）",
            horizontal=True,
        )
    )
    for i, c in enumerate(top, 1):
        for p in c["key_posts"]:
            section.paragraphs.append(
                f"[{i}] {platform_name(p['platform'])}："
                f"{short(p['title'], 80)}（风险 {p['risk']:.2f}）"
                + (f" {p['url']}" if p.get("url") else "")
            )
    return section


def _incidents_section(incidents: Sequence[Mapping[str, Any]]) -> Section:
    section = Section("五、在办舆情事件")
    if not incidents:
        section.paragraphs.append("当前无在办事件。")
        return section
    rows = []
    for i in incidents:
        nxt = i["next_deadline"]
        due = "—"
        if nxt:
            due = f"{nxt['label']} {china_time(nxt['due_at'])}" + (
                "（已超时）" if nxt["overdue"] else ""
            )
        rows.append(
            [
                short(i["title"], 40) or i["incident_id"],
                f"{i['level']}级 {LEVEL_NAMES.get(i['level'], '')}".strip(),
                status_name(i["status"]),
                china_time(i["opened_at"]),
                due,
                str(i["breaches"]),
            ]
        )
    section.tables.append(Table(["事件", "级别", "状态", "发现时间", "下一时限", "违约"], rows))
    return section


def sources_section(sources: Mapping[str, Any], heading: str = "六、信息源状态") -> Section:
    section = Section(
        heading,
        paragraphs=[f"共 {sources['total']} 个信息源，{sources['healthy']} 个正常。"],
    )
    if sources["rows"]:
        section.tables.append(
            Table(
                ["信息源", "平台", "状态", "最近成功", "说明"],
                [
                    [
                        s["name"],
                        platform_name(s["platform"]),
                        "正常" if s["healthy"] else "异常",
                        china_time(s["last_success_at"]),
                        short(s["reason"], 60) if not s["healthy"] else "",
                    ]
                    for s in sources["rows"]
                ],
            )
        )
    return section
