"""Closing (评估与结束): the evaluation, the wait for the HQ to close, and the failure report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from chalicelib.core.clock import iso
from chalicelib.plan.models import DEADLINE_LABELS, HQ_GROUP
from chalicelib.workflow.logic.effects import (
    ExpireToken,
    KeepToken,
    Notify,
    Outcome,
    Record,
    StepContext,
    UpdateIncident,
)
from chalicelib.workflow.logic.reading import _token


def evaluate(ctx: StepContext) -> Outcome:
    """舆情评估: deadlines met or missed, breaches, measures, questions for lessons learnt."""
    deadlines = dict(ctx.incident.get("deadlines") or {})
    missed = [k for k, d in deadlines.items() if isinstance(d, Mapping) and d.get("met") is False]
    breaches = [
        {
            "task": t.get("sk", ""),
            "group": t.get("group"),
            "kinds": [b["kind"] for b in t.get("breaches", [])],
        }
        for t in ctx.tasks
        if t.get("breaches")
    ]
    questions = [f"{DEADLINE_LABELS.get(k, k)}为何超时？" for k in missed]
    questions += [f"{b['group']} 的任务为何超时？" for b in breaches]
    evaluation = {
        "built_at": iso(ctx.now),
        "level": ctx.state.get("level"),
        "deadlines": deadlines,
        "missed": missed,
        "breaches": breaches,
        "measures": [m for t in ctx.tasks for m in t.get("measures", [])],
        "questions": questions or ["本次处置中哪些做法值得写入预案修订？"],
    }
    return Outcome(
        dict(ctx.state),
        [
            UpdateIncident({"status": "evaluating", "step": "evaluate", "evaluation": evaluation}),
            Record("evaluate", "evaluate", "舆情评估", f"{len(missed)} 项时限未达成"),
            Notify(
                key="evaluation",
                groups=(HQ_GROUP,),
                level=ctx.state.get("level"),
                template="notice",
                variables={"text": f"舆情评估已生成：{ctx.incident.get('title', '')}"[:50]},
                subject=f"【舆情评估】{ctx.incident.get('title', '')}",
                body="评估报告已生成，请指挥部审阅并结束事件。",
            ),
        ],
    )


def await_close(ctx: StepContext) -> Outcome:
    token = _token(ctx)
    deadline = ctx.now + timedelta(seconds=int(ctx.state["timers"]["close_seconds"]))
    return Outcome(dict(ctx.state), [KeepToken("close", token, iso(deadline), group=HQ_GROUP)])


def close(ctx: StepContext) -> Outcome:
    closing = ctx.state.get("closing") or {}
    note = str(closing.get("note", "")) if isinstance(closing, Mapping) else ""
    auto = "timeout" in ctx.state and not closing
    # A dismissed or expired incident keeps saying so; only the time it ended is added.
    ended = ctx.incident.get("status")
    status = ended if ended in ("dismissed", "expired") else "closed"
    return Outcome(
        dict(ctx.state),
        [
            ExpireToken("close"),
            UpdateIncident({"status": status, "step": "close", "closed_at": iso(ctx.now)}),
            Record("close", "close", "结束", "到期自动结束" if auto else note),
        ],
    )


def failed(ctx: StepContext) -> Outcome:
    error = ctx.state.get("error") or {}
    note = f"{error.get('Error', 'Error')}: {str(error.get('Cause', ''))[:500]}"
    return Outcome(
        dict(ctx.state),
        [
            # Nothing will check the public deadline any more: the board must not count it
            # down as if the workflow were still watching it.
            UpdateIncident({"workflow_error": note, "public_deadline": None}),
            Record("failed", "failed", "流程异常", note),
            Notify(
                key="failed",
                groups=(HQ_GROUP,),
                level=ctx.state.get("level"),
                template="notice",
                variables={
                    "text": f"舆情流程异常，请人工跟进：{ctx.incident.get('title', '')}"[:50]
                },
                subject=f"【流程异常】{ctx.incident.get('title', '')}",
                body=f"应对流程出现异常，已停止自动推进，请人工跟进。\n{note}",
            ),
        ],
    )
