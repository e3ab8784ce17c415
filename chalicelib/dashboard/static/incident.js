// One incident: what is waiting for whom, the HQ's decision, tasks per group, statements,
// evidence, the timeline and the alerts sent. Buttons exist only for those who may press them;
// the API checks every action again.

import { ApiError, get, post } from "./api.js";
import {
  DEADLINE_TEXT, LEVELS, breachText, clear, countdown, drillBadge, empty, executionText, h, levelBadge,
  platformName, statusText, stepText, table, waitText, when,
} from "./dom.js";
import { drillReportButtons, excelButton, messagesTable, safeLink } from "./views.js";

const TASK_STATUS = { assigned: "已分派", acknowledged: "已确认", completed: "已完成", abandoned: "已放弃" };
const OPEN_NOW = new Set(["open", "reported", "awaiting_decision", "active", "evaluating"]);
const STATEMENT_STATUS = { draft: "草稿", approved: "已批准", released: "已发布", superseded: "已被修订稿替代" };

// The plan's sections, as a revision proposal names them (chalicelib/plan/validation.py TOP_LEVEL).
const PLAN_SECTIONS = {
  levels: "分级与时限", measures: "处置措施", groups: "工作组与联系人", escalation: "告警升级", subjects: "监测主体",
  sms_templates: "短信模板", alerting: "告警设置", workflow: "流程设置", briefing: "日报", organisation: "组织",
};

export async function incidentView(view, id, ctx) {
  const body = h("div.incident-page");
  view.append(body);
  const path = `/incidents/${encodeURIComponent(id)}`;
  let busy = false;
  let drill; // the drill this incident belongs to (GET /drills), looked up once

  async function act(button, what, fn) {
    if (busy) return;
    busy = true;
    if (button) button.disabled = true;
    try {
      await fn();
      ctx.notify(`${what}：已提交`);
      await load();
    } catch (err) {
      ctx.notify(`${what}失败：${err instanceof ApiError ? err.describe() : err.message}`, "error");
      if (button) button.disabled = false;
    } finally {
      busy = false;
    }
  }

  async function load() {
    const [inc, outbox] = await Promise.all([
      get(path),
      ctx.isHq() ? get(`/outbox?incident=${encodeURIComponent(id)}&limit=100`).catch(() => null) : null,
    ]);
    if (inc.drill && drill === undefined) {
      drill = await get("/drills").then((d) => d.drills.find((x) => (x.incidents || []).includes(id)) || null).catch(() => null);
    }
    const waiting = new Map((inc.waiting_for || []).map((w) => [w.kind, w]));
    // Element.append would print a null as "null": only the panels this person gets.
    const panels = [
      header(inc),
      waitingPanel(inc),
      ctx.isHq() && waiting.has("decision") ? decisionPanel(inc, waiting.get("decision")) : null,
      ctx.isHq() && waiting.has("close") ? closePanel() : null,
      assessmentPanel(inc),
      deadlinesPanel(inc),
      tasksPanel(inc, waiting),
      statementsPanel(inc),
      evidencePanel(inc),
      inc.evaluation ? revisionsPanel(inc) : null,
      timelinePanel(inc),
      outbox ? h("section.panel", h("h3", "本事件的告警消息"), messagesTable(outbox.messages, ctx)) : null,
    ];
    clear(body).append(...panels.filter(Boolean));
  }

  function header(inc) {
    const docs = h("div.downloads",
      h("button", { type: "button", onclick: (e) => ctx.fetchDocument(e.currentTarget, `${path}/report?format=html`, `舆情评估-${id}.html`, "评估报告") }, "评估报告（网页）"),
      h("button", { type: "button", onclick: (e) => ctx.fetchDocument(e.currentTarget, `${path}/report?format=docx`, `舆情评估-${id}.docx`, "评估报告") }, "评估报告（Word）"),
      drill ? drillReportButtons(drill, ctx) : null);
    return h("div.incident-head",
      h("div.card-head", levelBadge(inc.level), inc.drill ? drillBadge() : null,
        h("span.status", `${statusText(inc.status)} · ${stepText(inc.step)}`)),
      h("h2", { id: "incident-title" }, inc.title || id),
      h("p.meta", { id: "incident-meta" }, `编号 ${id} · 发现于 ${when(inc.opened_at)}${inc.execution ? ` · 流程${executionText(inc.execution.status)}` : ""}${drill ? ` · 演练 ${drill.name || drill.drill_id}` : ""}`),
      inc.workflow_error ? h("p.error", `流程异常，需人工跟进：${inc.workflow_error}`) : null,
      inc.summary ? h("p", inc.summary) : null,
      docs);
  }

  function waitingPanel(inc) {
    const waits = (inc.waiting_for || []).map((w) => ({ kind: w.kind, group: w.group, due: w.deadline_at, since: w.since }));
    const pub = inc.public_deadline;
    if (pub) waits.push({ kind: pub.kind, group: pub.group, due: pub.due_at, since: pub.since });
    waits.sort((a, b) => Date.parse(a.due) - Date.parse(b.due));
    const breaches = inc.breaches || [];
    return h("section.panel.waiting", h("h3", "正在等待"),
      waits.length
        ? h("ul", waits.map((w) => h("li", { dataset: { wait: w.kind } }, waitText(w.kind, w.group, (g) => ctx.groupName(g)), " ", countdown(w.due, w.since))))
        : empty(OPEN_NOW.has(inc.status) ? "流程当前不等待任何人" : "事件已结束，不再等待"),
      breaches.length ? h("p.breach-line", h("span.badge.breach", "违约"), ` ${breaches.map((b) => `${breachText(b.kind)}（${when(b.at)}）`).join("；")}`) : null);
  }

  /** The plan's deadlines for this incident: due, done, met or missed. */
  function deadlinesPanel(inc) {
    const entries = Object.entries(inc.deadlines || {}).filter(([, d]) => d && typeof d === "object")
      .sort(([, a], [, b]) => String(a.due_at).localeCompare(String(b.due_at)));
    if (!entries.length) return null;
    return h("section.panel", h("h3", "时限"), table(["事项", "时限", "完成", "结果"], entries.map(([kind, d]) => h("tr", { dataset: { deadline: kind } },
      h("td", DEADLINE_TEXT[kind] || kind),
      h("td", when(d.due_at)),
      h("td", d.done_at ? when(d.done_at) : "—"),
      h("td", d.met === true ? h("span.badge.ok", "按时") : d.met === false ? h("span.badge.breach", "超时") : "—")))));
  }

  function decisionPanel(inc, wait) {
    const suggested = (inc.assessment && inc.assessment.suggested_level) || inc.level || "IV";
    const level = h("select", { id: "decision-level" },
      Object.entries(LEVELS).map(([lv, info]) => h("option", { value: lv, selected: lv === (inc.level || suggested) }, `${info.colour} ${lv}级（${info.name}）`)));
    const note = h("input", { id: "decision-note", type: "text", maxLength: 2000, placeholder: "研判意见（可选）" });
    const activate = h("button.primary", { type: "button", id: "activate" }, "启动响应");
    const dismiss = h("button.danger", { type: "button", id: "dismiss" }, "排除（不启动）");
    activate.addEventListener("click", () => act(activate, "启动响应", () =>
      post(`${path}/decision`, { action: "activate", level: level.value, note: note.value })));
    dismiss.addEventListener("click", () => act(dismiss, "排除", () =>
      post(`${path}/decision`, { action: "dismiss", note: note.value })));
    return h("section.panel.decide", h("h3", "指挥部研判 ", countdown(wait.deadline_at, wait.since)),
      h("p.meta", `自动评估建议 ${suggested} 级`),
      h("div.row", h("label", "响应级别 ", level), note, activate, dismiss));
  }

  function closePanel() {
    const note = h("input", { type: "text", maxLength: 2000, placeholder: "结束说明（可选）" });
    const button = h("button.primary", { type: "button", id: "close-incident" }, "结束响应");
    button.addEventListener("click", () => act(button, "结束响应", () => post(`${path}/close`, { note: note.value })));
    return h("section.panel.decide", h("h3", "评估完成，待指挥部结束响应"), h("div.row", note, button));
  }

  function assessmentPanel(inc) {
    const a = inc.assessment || {};
    const reasons = a.evidence || inc.reasons || [];
    const measures = (a.suggested_measures || []).map((m) => ctx.measureName(m));
    return h("section.panel", h("h3", "研判依据"),
      a.suggested_level ? h("p", "建议级别：", levelBadge(a.suggested_level),
        measures.length ? `；建议措施：${measures.join("、")}` : "") : null,
      a.scope ? h("p.meta", `涉及 ${a.scope.posts ?? "—"} 条${(a.scope.platforms || []).length ? `，平台：${a.scope.platforms.map((x) => platformName(x)).join("、")}` : ""}`) : null,
      (a.nature || []).length ? h("p.meta", `涉及主体：${a.nature.map((x) => ctx.subjectName(x)).join("、")}`) : null,
      reasons.length ? h("ul.reasons", reasons.map((r) => h("li", r))) : empty("暂无自动评估"));
  }

  function tasksPanel(inc, waiting) {
    const tasks = inc.tasks || [];
    if (!tasks.length) return h("section.panel", h("h3", "各组任务"), empty("尚未分派任务"));
    return h("section.panel", h("h3", "各组任务"), table(["工作组", "措施", "状态", "时限", ""], tasks.map((t) => {
      const tid = t.task_id || t.id;
      const ack = waiting.get(`ack#${tid}`);
      const done = waiting.get(`done#${tid}`);
      const mine = ctx.mayActFor(t.group);
      const note = h("input", { type: "text", maxLength: 2000, placeholder: "说明（可选）", hidden: !(mine && (ack || done)) });
      const buttons = [];
      if (mine && ack) {
        const b = h("button", { type: "button", dataset: { action: "ack", task: tid } }, "确认收到");
        b.addEventListener("click", () => act(b, "确认任务", () => post(`${path}/tasks/${encodeURIComponent(tid)}`, { action: "ack", note: note.value })));
        buttons.push(b);
      }
      if (mine && done) {
        const b = h("button.primary", { type: "button", dataset: { action: "complete", task: tid } }, "完成任务");
        b.addEventListener("click", () => act(b, "完成任务", () => post(`${path}/tasks/${encodeURIComponent(tid)}`, { action: "complete", note: note.value })));
        buttons.push(b);
      }
      const wait = ack || done;
      return h("tr", { dataset: { task: tid, group: t.group } },
        h("td", ctx.groupName(t.group)),
        h("td", (t.measures || []).map((m) => h("div", { title: m.description || "" }, m.name || ctx.measureName(m.id)))),
        h("td", TASK_STATUS[t.status] || t.status,
          (t.breaches || []).length ? h("span.badge.breach", `违约 ${t.breaches.length}`) : null,
          t.note ? h("div.meta", t.note) : null),
        h("td", wait ? [h("div.meta", ack ? "确认时限" : "完成时限"), countdown(wait.deadline_at, wait.since)] : (t.done_at ? `完成于 ${when(t.done_at)}` : "—")),
        h("td", note, buttons));
    })));
  }

  function statementsPanel(inc) {
    const rows = (inc.statements || []).map((s) => {
      const sid = s.statement_id || s.id;
      const controls = [];
      if (s.status === "draft" && ctx.isHq()) {
        const b = h("button.primary", { type: "button" }, "批准");
        b.addEventListener("click", () => act(b, "批准口径", () => post(`${path}/statements/${encodeURIComponent(sid)}/approve`)));
        controls.push(b);
      }
      if (s.status === "approved" && ctx.mayWriteStatements()) {
        const channel = h("input", { type: "text", maxLength: 100, placeholder: "发布渠道，如 官方微博" });
        const link = h("input", { type: "url", placeholder: "链接（可选）" });
        const b = h("button", { type: "button" }, "登记发布");
        b.addEventListener("click", () => act(b, "发布口径", () => post(`${path}/statements/${encodeURIComponent(sid)}/release`,
          link.value ? { channel: channel.value, link: link.value } : { channel: channel.value })));
        controls.push(channel, link, b);
      }
      return h("tr",
        h("td", STATEMENT_STATUS[s.status] || s.status),
        h("td", h("p.statement", s.text), h("div.meta", `第 ${(s.versions || []).length} 稿 · ${when(s.updated_at)}${s.channel ? ` · 发布于 ${s.channel}` : ""}${s.revises ? ` · 修订自 ${s.revises}` : ""}`),
          s.link ? safeLink(s.link) : null),
        h("td", controls));
    });
    let form = null;
    if (ctx.mayWriteStatements()) {
      const text = h("textarea", { rows: 3, maxLength: 5000, placeholder: "口径草稿" });
      const b = h("button", { type: "button" }, "提交草稿");
      b.addEventListener("click", () => act(b, "提交口径", () => post(`${path}/statements`, { text: text.value })));
      form = h("div.row", text, b);
    }
    return h("section.panel", h("h3", "对外口径"), rows.length ? table(["状态", "内容", ""], rows) : empty("尚无口径"), form);
  }

  function evidencePanel(inc) {
    const items = inc.evidence || [];
    let form = null;
    if (ctx.atLeast("member")) {
      const url = h("input", { type: "url", placeholder: "要固定的网页地址 http(s)://…" });
      const b = h("button", { type: "button" }, "固定证据");
      b.addEventListener("click", () => act(b, "固定证据", () => post(`${path}/evidence`, { url: url.value })));
      form = h("div.row", url, b);
    }
    return h("section.panel", h("div.bar", h("h3", "证据固定"),
      items.length ? excelButton(ctx, () => `${path}/evidence?format=xlsx`, `证据清单-${id}`, "证据清单") : null),
      items.length ? table(["时间", "来源", "摘要"], items.map((e) => h("tr",
        h("td", when(e.captured_at || e.at || e.created_at)),
        h("td", safeLink(e.url, e.url || e.post_id || e.id)),
        h("td", e.sha256 ? `SHA-256 ${String(e.sha256).slice(0, 16)}…` : "", e.note ? h("div.meta", e.note) : null)))) : empty("尚无证据"),
      form);
  }

  // Plan revisions the evaluation proposes (预案修订建议): leads and the HQ write them; a plan
  // version that answers them is saved with PUT /plan {plan, reason, answers} and shown in the
  // evaluation report.
  function revisionsPanel(inc) {
    const items = inc.revisions || [];
    let form = null;
    if (ctx.atLeast("lead")) {
      const section = h("select", { name: "section" }, ...Object.entries(PLAN_SECTIONS).map(([k, v]) => h("option", { value: k }, v)));
      const text = h("textarea", { rows: 2, maxLength: 2000, placeholder: "对预案的修订建议（如：III 级研判时限缩短为 30 分钟）" });
      const b = h("button", { type: "button" }, "提出修订建议");
      b.addEventListener("click", () => act(b, "修订建议", () => post(`${path}/revisions`, { section: section.value, text: text.value })));
      form = h("div.row", section, text, b);
    }
    return h("section.panel", { id: "revisions" }, h("h3", "预案修订建议"),
      items.length ? table(["预案部分", "建议", "提出人", "时间"], items.map((r) => h("tr",
        h("td", PLAN_SECTIONS[r.section] || r.section), h("td", r.text), h("td", r.by), h("td", when(r.at))))) : empty("尚无修订建议"),
      form);
  }

  function timelinePanel(inc) {
    const entries = inc.timeline || [];
    return h("section.panel", h("h3", "处置时间线"),
      entries.length ? null : empty("暂无记录"),
      h("ol.timeline", { id: "timeline" }, entries.map((e) => {
        const { title, note } = timelineText(e, inc);
        return h("li", { dataset: { entry: e.id } },
          h("time", when(e.at)), h("span.step", stepText(e.step)), h("strong", title),
          note ? h("span.note", note) : null,
          // A report's note already names its reporter (上报人 …).
          e.data && e.data.by && !String(e.id || "").startsWith("report#") ? h("span.note", `（${e.data.by}）`) : null);
      })));
  }

  /** A timeline entry in the plan's words: entries that name groups or measures by id carry
   * them in `data` (older entries: the ids are read from the note or the task). */
  function timelineText(e, inc) {
    const data = e.data || {};
    const id = String(e.id || "");
    const group = (g) => ctx.groupName(g);
    let title = e.title || id;
    let note = e.note || "";
    if (id.startsWith("measures#")) {
      const groups = data.groups || (note && note !== "无新增任务" ? note.split("、") : []);
      const measures = (data.measures || []).map((m) => ctx.measureName(m));
      note = groups.length ? `分派给 ${groups.map(group).join("、")}${measures.length ? `；措施：${measures.join("、")}` : ""}` : "无新增任务";
    } else if (/^task#.+#(ack|complete)$/.test(id)) {
      const taskId = data.task || id.split("#")[1];
      const g = data.group || ((inc.tasks || []).find((t) => (t.task_id || t.id) === taskId) || {}).group;
      if (g) title = `${group(g)} ${id.endsWith("#ack") ? "确认任务" : "完成任务"}`;
    } else if (id.startsWith("breach#ack#") || id.startsWith("breach#done#")) {
      const g = data.group || (note && !/\s/.test(note) ? note : null);
      if (g) note = group(g);
    }
    return { title, note };
  }

  await load();
  ctx.every(4000, () => { if (!busy && !document.activeElement?.matches("input, textarea, select")) load().catch(() => {}); });
}
