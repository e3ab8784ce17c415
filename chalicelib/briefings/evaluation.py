"""The incident evaluation report (舆情评估) and the drill report's document. Pure.

The plan asks, once the response is over, to evaluate the incident, sum up the lessons learnt
and improve the plan (舆情应对结束后，对舆情进行评估，总结经验教训，完善应急预案). The report
gathers what the system recorded on the way: the incident and its assessment (研判), the HQ's
decision, each step against its deadline (the same rows as the drill report), breaches, the
tasks and measures, statements (口径), evidence, the spread curve of its cluster, the timeline,
and the workflow's Evaluate step (missed deadlines, breaches, questions for the lessons). An
incident not yet evaluated still gets a report, marked as interim (中期).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.briefings.models import Chart, Document, Section, Series, Table, china_time, short
from chalicelib.core.clock import CHINA
from chalicelib.drills.report import incident_steps
from chalicelib.incidents.names import status_name
from chalicelib.plan.models import DRILL_PREFIX, LEVEL_NAMES
from chalicelib.trends.models import ClusterPage

STEP_STATUS = {"met": "按时", "late": "超时完成", "missed": "未完成且已超时", "pending": "进行中"}
TASK_STATUS = {
    "assigned": "已分派",
    "acknowledged": "已确认",
    "completed": "已完成",
    "abandoned": "已放弃",
}
STATEMENT_STATUS = {
    "draft": "草稿",
    "approved": "已批准",
    "released": "已发布",
    "superseded": "已被修订稿替代",
}
HOURLY_SPAN = 72  # up to three days the curve is per hour, after that per day
PLAN_REVISION = "对照本次处置，预案的分级、时限、工作组职责和措施清单是否需要修订？"


def spread(pages: Iterable[ClusterPage]) -> list[dict[str, Any]]:
    """Posts of the cluster per hour (China time), or per day for a long story."""
    seen = sorted(
        datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(CHINA)
        for page in pages
        for s in page.seen
    )
    if not seen:
        return []
    hourly = (seen[-1] - seen[0]).total_seconds() <= HOURLY_SPAN * 3600
    fmt = "%m-%d %H:00" if hourly else "%m-%d"
    counts: dict[str, int] = {}
    for moment in seen:
        key = moment.strftime(fmt)
        counts[key] = counts.get(key, 0) + 1
    return [{"at": k, "posts": n} for k, n in counts.items()]


def build(
    incident_id: str,
    items: Sequence[Mapping[str, Any]],
    *,
    alerts: Sequence[Mapping[str, Any]],
    pages: Iterable[ClusterPage],
    now: datetime,
    time_scale: float,
    plan_revisions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The evaluation report as data (``?format=json``). ``plan_revisions`` are the metadata of
    the plan versions that answer this incident's evaluation (预案修订), in any order (the
    report lists them oldest first)."""
    meta = next(i for i in items if i.get("sk") == "META")

    def of(prefix: str) -> list[Mapping[str, Any]]:
        return sorted(
            (i for i in items if str(i.get("sk", "")).startswith(prefix)),
            key=lambda i: str(i.get("sk")),
        )

    tasks = of("TASK#")
    response = incident_steps(incident_id, meta, tasks, alerts, now, time_scale)
    evaluation = meta.get("evaluation")
    questions = list((evaluation or {}).get("questions") or [])
    return {
        "incident_id": incident_id,
        "title": meta.get("title") or "",
        "summary": meta.get("summary") or "",
        "reasons": list(meta.get("reasons") or []),
        "level": meta.get("level"),
        "status": meta.get("status"),
        "step": meta.get("step"),
        "drill": bool(meta.get("drill")),
        "plan_version": meta.get("plan_version"),
        "opened_at": meta.get("opened_at"),
        "activated_at": meta.get("activated_at"),
        "closed_at": meta.get("closed_at"),
        "cluster_id": meta.get("cluster_id"),
        "assessment": meta.get("assessment"),
        "decision": meta.get("decision"),
        "decided_at": meta.get("decided_at"),
        "evaluated": evaluation is not None,
        "evaluation": evaluation,
        "response": {
            "steps": response["steps"],
            "totals": response["totals"],
            "breaches": response["breaches"],
            "alerts": response["alerts"]["messages"],
        },
        "tasks": [
            {
                "task_id": t.get("task_id"),
                "group": t.get("group"),
                "status": t.get("status"),
                "measures": [str(m.get("name", "")) for m in t.get("measures") or []],
                "assigned_at": t.get("assigned_at"),
                "acked_at": t.get("acked_at"),
                "done_at": t.get("done_at"),
                "note": t.get("note") or "",
            }
            for t in tasks
        ],
        "statements": [
            {
                "id": str(s["sk"]).split("#", 1)[-1],
                "status": s.get("status"),
                "text": s.get("text") or "",
                "approved_at": s.get("approved_at"),
                "released_at": s.get("released_at"),
                "channel": s.get("channel"),
            }
            for s in of("STMT#")
        ],
        "evidence": [
            {
                "id": str(e["sk"]).split("#", 1)[-1],
                "kind": e.get("kind"),
                "sha256": e.get("sha256"),
                "captured_at": e.get("captured_at"),
                "url": e.get("url") or e.get("final_url"),
            }
            for e in of("EVID#")
        ],
        "timeline": sorted(
            (
                {
                    "at": e.get("at"),
                    "step": e.get("step"),
                    "title": e.get("title") or "",
                    "note": e.get("note") or "",
                }
                for e in of("TL#")
            ),
            key=lambda e: str(e["at"]),
        ),
        "spread": spread(pages),
        "lessons": [*questions, PLAN_REVISION],
        "revision_proposals": [
            {k: r.get(k) for k in ("revision_id", "section", "text", "by", "at")}
            for r in sorted(of("REV#"), key=lambda r: str(r.get("at", "")))
        ],
        "plan_revisions": [
            {
                "version": v["version"],
                "created_at": v["created_at"],
                "created_by": v["created_by"],
                "reason": v.get("reason") or "",
                "changes": str((v.get("summary") or {}).get("text") or ""),
            }
            for v in sorted(plan_revisions, key=lambda v: int(v["version"]))
        ],
        "built_at": now.astimezone(UTC).isoformat(),
    }


def document(data: Mapping[str, Any]) -> Document:
    level = data.get("level") or ""
    decision = data.get("decision") or {}
    facts = [
        f"事件：{data['title'] or data['incident_id']}（{data['incident_id']}）",
        f"级别：{level}级 {LEVEL_NAMES.get(level, '')}；状态：{status_name(str(data['status']))}",
        f"发现：{china_time(data['opened_at'])}；启动：{china_time(data['activated_at'])}；"
        f"结束：{china_time(data['closed_at'])}（北京时间）",
    ]
    if data["summary"]:
        facts.append(f"概要：{data['summary']}")
    facts += [f"研判依据：{r}" for r in data["reasons"]]
    if decision:
        facts.append(
            f"指挥部决定：{decision.get('action', '')} {decision.get('level') or ''}"
            + ("（超时自动启动）" if decision.get("auto") else "")
            + f"，{china_time(data.get('decided_at'))}"
        )
    steps = data["response"]["steps"]
    totals = data["response"]["totals"]
    sections = [
        Section("一、事件概况", paragraphs=facts),
        Section(
            "二、响应时效（对照预案时限）",
            paragraphs=[
                f"共 {len(steps)} 项：按时 {totals['met']}，超时完成 {totals['late']}，"
                f"未完成且已超时 {totals['missed']}，进行中 {totals['pending']}；"
                f"发出告警 {data['response']['alerts']} 条。"
            ],
            tables=[
                Table(
                    ["环节", "开始", "时限", "完成", "允许（分钟）", "用时（分钟）", "结果"],
                    [
                        [
                            s["title"] + (f"（{s['note']}）" if s.get("note") else ""),
                            china_time(s["started_at"]),
                            china_time(s["due_at"]),
                            china_time(s["done_at"]),
                            _num(s["allowed_minutes"]),
                            _num(s["taken_minutes"]),
                            STEP_STATUS.get(s["status"], s["status"]),
                        ]
                        for s in steps
                    ],
                )
            ],
        ),
        Section(
            "三、传播曲线",
            paragraphs=[] if data["spread"] else ["未记录到该事件簇的传播数据。"],
            charts=[
                Chart(
                    caption="图1 事件簇每小时（或每日）新增信息条数，北京时间",
                    labels=[p["at"] for p in data["spread"]] or ["-"],
                    bars=[Series("新增", [float(p["posts"]) for p in data["spread"]] or [0.0])],
                    y_label="新增信息（条）",
                )
            ],
        ),
        _measures(data),
        _breaches(data),
        Section(
            "六、处置时间线",
            tables=[
                Table(
                    ["时间", "环节", "事项", "说明"],
                    [
                        [
                            china_time(e["at"]),
                            str(e["step"] or ""),
                            e["title"],
                            short(e["note"], 80),
                        ]
                        for e in data["timeline"]
                    ],
                )
            ]
            if data["timeline"]
            else [],
        ),
        _lessons(data),
    ]
    banner = "" if data["evaluated"] else "中期报告：事件尚未进入评估阶段，数据截至生成时。"
    if data["drill"]:
        banner = f"{DRILL_PREFIX}本报告为预案演练，不计入统计。 {banner}".strip()
    return Document(
        title="舆情评估报告",
        subtitle=f"{data['title'] or data['incident_id']}　生成于 {china_time(data['built_at'])}",
        sections=sections,
        filename=f"舆情评估-{data['incident_id']}",
        banner=banner,
    )


def _lessons(data: Mapping[str, Any]) -> Section:
    """Lessons, the revisions proposed, and the plan versions that answered them since."""
    section = Section("七、经验教训与预案修订建议", paragraphs=[f"· {q}" for q in data["lessons"]])
    proposals = data.get("revision_proposals") or []
    if proposals:
        section.tables.append(
            Table(
                ["预案部分", "修订建议", "提出人", "时间"],
                [[p["section"], p["text"], p["by"], china_time(p["at"])] for p in proposals],
                caption="评估提出的预案修订建议",
            )
        )
    revisions = data.get("plan_revisions") or []
    if revisions:
        section.tables.append(
            Table(
                ["预案版本", "修订时间", "修订人", "修订理由", "修改内容"],
                [
                    [
                        f"第 {r['version']} 版",
                        china_time(r["created_at"]),
                        r["created_by"],
                        r["reason"],
                        r["changes"],
                    ]
                    for r in revisions
                ],
                caption="此后据此作出的预案修订",
            )
        )
    elif proposals:
        section.paragraphs.append("以上建议尚无预案版本作出修订。")
    return section


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:g}"


def _measures(data: Mapping[str, Any]) -> Section:
    section = Section("四、采取的措施")
    if data["tasks"]:
        section.tables.append(
            Table(
                ["任务", "工作组", "措施", "状态", "分派", "确认", "完成"],
                [
                    [
                        str(t["task_id"]),
                        str(t["group"]),
                        "、".join(t["measures"]),
                        TASK_STATUS.get(str(t["status"]), str(t["status"])),
                        china_time(t["assigned_at"]),
                        china_time(t["acked_at"]),
                        china_time(t["done_at"]),
                    ]
                    for t in data["tasks"]
                ],
            )
        )
    else:
        section.paragraphs.append("未分派任务。")
    for s in data["statements"]:
        section.paragraphs.append(
            f"口径 {s['id']}（{STATEMENT_STATUS.get(str(s['status']), s['status'])}"
            + (
                f"，{china_time(s['released_at'])} 发布于 {s['channel']}"
                if s["released_at"]
                else ""
            )
            + f"）：{short(s['text'], 200)}"
        )
    if data["evidence"]:
        section.paragraphs.append(f"留存证据 {len(data['evidence'])} 份（SHA-256 可核验）。")
    return section


def _breaches(data: Mapping[str, Any]) -> Section:
    breaches = data["response"]["breaches"]
    evaluation = data.get("evaluation") or {}
    missed = evaluation.get("missed") or []
    lines = [f"未达成的时限：{'、'.join(missed)}。"] if missed else []
    lines += [
        f"违约：{b.get('kind')}"
        + (f"（任务 {b['task']}）" if b.get("task") else "")
        + f"，{china_time(b.get('at'))}"
        for b in breaches
    ]
    return Section("五、违约与问题", paragraphs=lines or ["无违约记录。"])


def drill_document(report: Mapping[str, Any]) -> Document:
    """The drill report (演练评估) from ``GET /drills/{id}``'s JSON."""
    totals = report.get("totals") or {}
    rows = report.get("incidents") or []
    sections = [
        Section(
            "一、演练概况",
            paragraphs=[
                f"演练：{report.get('name') or ''}（{report.get('drill_id')}），开始于 "
                f"{china_time(report.get('started_at'))}，状态 {report.get('state') or ''}。",
                f"共 {totals.get('steps', 0)} 项：按时 {totals.get('met', 0)}，超时完成 "
                f"{totals.get('late', 0)}，未完成且已超时 {totals.get('missed', 0)}，"
                f"进行中 {totals.get('pending', 0)}；违约 {totals.get('breaches', 0)}；告警 "
                f"{totals.get('alerts', 0)} 条，其中标注【演练】"
                f"{totals.get('alerts_marked_drill', 0)} 条。",
                "演练事件不计入统计。" if report.get("excluded_from_statistics") else "",
            ],
            charts=[
                Chart(
                    caption="图1 各演练事件的环节结果（按时 / 超时完成 / 未完成 / 进行中）",
                    labels=[f"#{i}" for i in range(1, len(rows) + 1)] or ["-"],
                    bars=[
                        Series(
                            STEP_STATUS[status],
                            [float(r["totals"][status]) for r in rows] or [0.0],
                        )
                        for status in ("met", "late", "missed", "pending")
                    ],
                    y_label="环节（项）",
                )
            ],
        )
    ]
    for i, row in enumerate(rows, 1):
        sections.append(
            Section(
                f"#{i} {row.get('title') or row.get('incident_id')}（{row.get('level') or '—'}级）",
                tables=[
                    Table(
                        ["环节", "时限", "完成", "允许（分钟）", "用时（分钟）", "结果"],
                        [
                            [
                                s["title"] + (f"（{s['note']}）" if s.get("note") else ""),
                                china_time(s["due_at"]),
                                china_time(s["done_at"]),
                                _num(s["allowed_minutes"]),
                                _num(s["taken_minutes"]),
                                STEP_STATUS.get(s["status"], s["status"]),
                            ]
                            for s in row.get("steps") or []
                        ],
                    )
                ],
            )
        )
    return Document(
        title="预案演练评估报告",
        subtitle=f"{report.get('name') or ''}　{report.get('drill_id')}",
        sections=sections,
        filename=f"演练评估-{report.get('drill_id')}",
        banner=f"{DRILL_PREFIX}本报告为预案演练评估，不是真实事件。",
    )
