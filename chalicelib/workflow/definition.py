"""The response workflow's state machine (应对流程), built from a few rules instead of by hand.

``infra/statemachine/response.asl.json`` is generated from this module
(``python -m chalicelib.workflow.definition > infra/statemachine/response.asl.json``) and a test
keeps the two equal, so the file stays what is reviewed and deployed while every Task gets the
same Retry, Catch and timeout without copy and paste.

The shape follows the plan, step by step:

1. ``Report`` 发现/报告 — record the incident, alert the HQ.
2. ``Assess`` 初步研判 (automatic part), then ``AwaitDecision``: a task token the HQ answers
   through the API (activate with a level, or dismiss). ``States.Timeout`` → ``DecisionOverdue``
   escalates along the plan's policy and says what comes next (wait again, auto-activate for
   levels I–II after the last escalation, or expire). A rise in level while the HQ is waited
   on fails the wait's token with ``yuqing.LevelRose`` → ``TriageRise`` counts the 研判
   deadline at the new level and waits again (a Task's timeout cannot change once it runs).
3. ``Respond`` runs two branches side by side:
   - ``Measures`` 制定措施 → ``Implement`` 实施 (a Map: per group task, wait for ack then for
     completion, each with its deadline; a lapse records a breach and escalates) →
     ``Monitor`` 监测 loop: a rise in level goes back to ``Measures``; calm for the cool-down
     ends the branch.
   - public-response deadlines (authoritative information 5 h, press conference 24 h, public
     response 48 h): ``NextDeadline`` → wait until it → ``DeadlineDue`` checks for a released
     statement and alerts the HQ and 宣传组 if there is none → next. The wait is a token that a
     rise fails with ``yuqing.LevelRose`` → ``NextDeadline`` alerts the new level's groups at
     once and counts the new level's deadlines (the measures branch adds the new level's tasks
     when it next monitors).
4. ``Evaluate`` 评估 → ``AwaitClose`` (the HQ closes, or the plan's period passes) → ``Close``.

Every duration is data: the ``report`` step computes ``$.timers`` from the plan (times the
deployment's time scale) and token waits read ``TimeoutSecondsPath``, Wait states
``SecondsPath``. Every Lambda Task retries transient errors (a plain step also retries a crash
twice) and catches the rest into ``ReportFailure``, which alerts the HQ. Choices branch on one
field, ``$.next``, that the pure step code sets, so the decisions live in Python where they are
unit-tested.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from chalicelib.workflow.logic import LEVEL_ROSE

FUNCTION = "${WorkflowStepArn}"
TASK_TIMEOUT_SECONDS = 60
# Errors worth another attempt: Lambda's own transient failures (Lambda.Unknown: the sandbox died,
# out of memory or time) and our 503/429 errors.
TRANSIENT = [
    "Lambda.Unknown",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "UnavailableError",
    "ThrottledError",
]

State = dict[str, Any]


def _payload(step: str, *, token: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {"step": step, "state.$": "$", "execution.$": "$$.Execution.Name"}
    if token:
        payload["token.$"] = "$$.Task.Token"
    return payload


def _retry(*, attempts: int = 3) -> list[dict[str, Any]]:
    """Transient errors ``attempts`` times; then any other failure of the step — a crash (an
    exception of ours we did not expect, ``Lambda.Unknown`` for a killed sandbox) — twice more,
    so one bad invocation does not end the incident's workflow in ``ReportFailure``. Steps are
    safe to run again: timeline entries are written once, alerts deduplicated in the outbox."""
    return [
        {
            "ErrorEquals": [*TRANSIENT, "States.Timeout"],
            "IntervalSeconds": 1,
            "MaxAttempts": attempts,
            "BackoffRate": 2,
        },
        # States.TaskFailed: every error but States.Timeout (handled above). Only plain steps
        # get it: a wait's task may be failed on purpose (yuqing.LevelRose), which must be caught.
        {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2},
    ]


def step(
    name: str, comment: str, nxt: str | None, *, failure: str | None = "ReportFailure"
) -> State:
    """A Lambda Task that runs one step and continues with the state it returns.

    ``failure=None`` inside a Parallel branch: Catch cannot leave a branch, so the error fails
    the branch and the Parallel state's own Catch sends it to ``ReportFailure``.
    """
    state: State = {
        "Type": "Task",
        "Comment": comment,
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": FUNCTION, "Payload": _payload(name, token=False)},
        "OutputPath": "$.Payload",
        "TimeoutSeconds": TASK_TIMEOUT_SECONDS,
        "Retry": _retry(),
    }
    if failure:
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failure}]
    return _then(state, nxt)


def wait_for_people(
    name: str,
    comment: str,
    *,
    timeout_path: str,
    result_path: str,
    on_timeout: str,
    nxt: str,
    failure: str | None = "ReportFailure",
    interrupts: dict[str, str] | None = None,
) -> State:
    """A Task that hands a task token to the ``name`` step and waits for the API to answer it.

    The step stores the token and alerts whoever must act; their answer (SendTaskSuccess) lands
    at ``result_path``. No answer within the deadline raises ``States.Timeout``. ``interrupts``
    maps an error name that something may fail the token with (SendTaskFailure) to the state that
    handles it, at ``$.interrupt``: the way to change a wait whose timeout is already running.
    """
    catch = [
        {"ErrorEquals": [error], "ResultPath": "$.interrupt", "Next": target}
        for error, target in (interrupts or {}).items()
    ]
    catch.append({"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": on_timeout})
    if failure:
        catch.append({"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": failure})
    return {
        "Type": "Task",
        "Comment": comment,
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": FUNCTION, "Payload": _payload(name, token=True)},
        "TimeoutSecondsPath": timeout_path,
        "ResultPath": result_path,
        # Only the Lambda call is retried; a timeout is the deadline passing, not a fault.
        "Retry": [
            {"ErrorEquals": TRANSIENT, "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}
        ],
        "Catch": catch,
        "Next": nxt,
    }


def choose(comment: str, cases: dict[str, str], default: str) -> State:
    """Branch on ``$.next``, which the previous step set."""
    return {
        "Type": "Choice",
        "Comment": comment,
        "Choices": [
            {"Variable": "$.next", "StringEquals": value, "Next": target}
            for value, target in cases.items()
        ],
        "Default": default,
    }


def _then(state: State, nxt: str | None) -> State:
    if nxt is None:
        state["End"] = True
    else:
        state["Next"] = nxt
    return state


def _task_branch() -> State:
    """One group's task: acknowledge, then complete; each lapse is a breach and an escalation."""
    return {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "AwaitAck",
        "States": {
            "AwaitAck": wait_for_people(
                "await_ack",
                "等待工作组确认任务",
                timeout_path="$.task.ack_seconds",
                result_path="$.ack",
                on_timeout="AckOverdue",
                nxt="Acked",
                failure=None,
            ),
            # A token wait's own output is discarded: this step resets the reminder rounds
            # and times the completion wait to the deadline the group was given.
            "Acked": step("acked", "已确认: 按原定完成时限等待", "AwaitDone", failure=None),
            "AckOverdue": step("ack_overdue", "确认超时: 记录并升级", "AckChoice", failure=None),
            "AckChoice": choose("继续等待确认或放弃", {"wait": "AwaitAck"}, "TaskEnded"),
            "AwaitDone": wait_for_people(
                "await_done",
                "等待工作组完成任务",
                timeout_path="$.task.done_seconds",
                result_path="$.done",
                on_timeout="DoneOverdue",
                nxt="TaskEnded",
                failure=None,
            ),
            "DoneOverdue": step(
                "done_overdue", "完成超时: 记录违约并升级", "DoneChoice", failure=None
            ),
            "DoneChoice": choose("继续等待完成或放弃", {"wait": "AwaitDone"}, "TaskEnded"),
            "TaskEnded": {"Type": "Pass", "End": True},
        },
    }


def _measures_branch() -> State:
    return {
        "StartAt": "Measures",
        "States": {
            "Measures": step(
                "measures",
                "制定措施: 按级别和措施目录为各工作组生成任务",
                "Implement",
                failure=None,
            ),
            "Implement": {
                "Type": "Map",
                "Comment": "实施: 每个工作组一个任务",
                "ItemsPath": "$.new_tasks",
                "ItemSelector": {
                    "task.$": "$$.Map.Item.Value",
                    "incident_id.$": "$.incident_id",
                    "drill.$": "$.drill",
                },
                "ItemProcessor": _task_branch(),
                "ResultPath": None,
                "Next": "MonitorWait",
            },
            "MonitorWait": {
                "Type": "Wait",
                "Comment": "监测间隔",
                "SecondsPath": "$.timers.monitor_seconds",
                "Next": "Monitor",
            },
            "Monitor": step(
                "monitor",
                "监测: 级别上升则追加措施, 持续低于阈值则降温结束",
                "MonitorChoice",
                failure=None,
            ),
            "MonitorChoice": choose(
                "上升 / 降温 / 继续监测",
                {"rise": "Measures", "calm": "MeasuresEnded"},
                "MonitorWait",
            ),
            "MeasuresEnded": {"Type": "Pass", "End": True},
        },
    }


def _deadlines_branch() -> State:
    return {
        "StartAt": "NextDeadline",
        "States": {
            "NextDeadline": step(
                "next_deadline",
                "下一个对外时限; 级别上升则立即通知新级别各组",
                "DeadlineChoice",
                failure=None,
            ),
            "DeadlineChoice": choose(
                "等待下一个时限或结束", {"wait": "DeadlineWait"}, "DeadlinesEnded"
            ),
            # A timer that a rise can cut short: a token nobody answers, failed with
            # LEVEL_ROSE when the incident rises (a Wait state could not be interrupted).
            "DeadlineWait": wait_for_people(
                "await_deadline",
                "等到时限; 级别上升则立即通知新级别各组并按新级别重算时限",
                timeout_path="$.deadline_seconds",
                result_path="$.deadline_wait",
                on_timeout="DeadlineDue",
                nxt="DeadlineDue",
                failure=None,
                interrupts={LEVEL_ROSE: "NextDeadline"},
            ),
            "DeadlineDue": step(
                "deadline_due",
                "时限已到: 未发布口径则提醒指挥部和宣传组",
                "NextDeadline",
                failure=None,
            ),
            "DeadlinesEnded": {"Type": "Pass", "End": True},
        },
    }


def definition() -> dict[str, Any]:
    """The response workflow as an ASL document (JSONPath only: moto has no JSONata)."""
    states: dict[str, State] = {
        "Report": step("report", "发现 / 报告指挥部", "Assess"),
        "Assess": step("assess", "初步研判: 自动评估性质、范围、风险和建议措施", "AwaitDecision"),
        "AwaitDecision": wait_for_people(
            "await_decision",
            "指挥部研判决定: 启动(定级) 或 排除",
            timeout_path="$.timers.decision_seconds",
            result_path="$.decision",
            on_timeout="DecisionOverdue",
            nxt="Decided",
            interrupts={LEVEL_ROSE: "TriageRise"},
        ),
        "TriageRise": step(
            "triage_rise",
            "研判等待中级别上升: 研判时限按新级别重算, 继续等待",
            "AwaitDecision",
        ),
        "DecisionOverdue": step(
            "decision_overdue",
            "研判超时: 按升级策略通知; I–II级在最后一次升级后自动启动",
            "OverdueChoice",
        ),
        "OverdueChoice": choose(
            "继续等待 / 自动启动 / 过期",
            {"wait": "AwaitDecision", "decided": "Decided"},
            "Expire",
        ),
        "Expire": step("expire", "无人研判, 按预案结束", "Close"),
        "Decided": step("decided", "记录指挥部决定", "DecisionChoice"),
        "DecisionChoice": choose("启动或排除", {"activate": "Respond"}, "Dismiss"),
        "Dismiss": step("dismiss", "排除: 误报或不构成舆情", "Close"),
        "Respond": {
            "Type": "Parallel",
            "Comment": "措施与实施、监测, 同时计时对外发布时限",
            "Branches": [_measures_branch(), _deadlines_branch()],
            "ResultPath": None,
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "ReportFailure"}
            ],
            "Next": "Evaluate",
        },
        "Evaluate": step(
            "evaluate", "舆情评估: 时间线、时限达成、传播曲线、经验教训", "AwaitClose"
        ),
        "AwaitClose": wait_for_people(
            "await_close",
            "等待指挥部结束事件",
            timeout_path="$.timers.close_seconds",
            result_path="$.closing",
            on_timeout="Close",
            nxt="Close",
        ),
        "Close": step("close", "结束", "Closed"),
        "Closed": {"Type": "Succeed"},
        "ReportFailure": {
            **step("failed", "流程异常: 通知指挥部", "WorkflowFailed", failure="WorkflowFailed"),
            "Retry": _retry(attempts=5),
        },
        "WorkflowFailed": {
            "Type": "Fail",
            "Error": "WorkflowFailed",
            "Cause": "a workflow step failed after its retries; the HQ was alerted",
        },
    }
    return {
        "Comment": (
            "舆情应对流程: 报告 → 初步研判 → 制定措施 → 实施 → 监测降温 → 评估 → 结束. "
            "Generated by chalicelib/workflow/definition.py; one execution per incident."
        ),
        "StartAt": "Report",
        "States": states,
    }


def render() -> str:
    return json.dumps(definition(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
