// One incident: what is waiting for whom, the HQ's decision, tasks per group, statements,
// evidence, the timeline and the alerts sent. Buttons exist only for those who may press them;
// the API checks every action again.

import { ApiError, download, get, post } from "./api.js";
import {
  LEVELS, clear, countdown, drillBadge, empty, h, levelBadge, statusText, stepText, table, waitText, when,
} from "./dom.js";
import { messagesTable, safeLink } from "./views.js";

const TASK_STATUS = { assigned: "已分派", acknowledged: "已确认", completed: "已完成", abandoned: "已放弃" };
const STATEMENT_STATUS = { draft: "草稿", approved: "已批准", released: "已发布" };

export async function incidentView(view, id, ctx) {
  const body = h("div.incident-page");
  view.append(body);
  const path = `/incidents/${encodeURIComponent(id)}`;
  let busy = false;

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
    const waiting = new Map((inc.waiting_for || []).map((w) => [w.kind, w]));
    // Element.append would print a null as "null": only the panels this person gets.
    const panels = [
      header(inc),
      waitingPanel(inc, ctx),
      ctx.isHq() && waiting.has("decision") ? decisionPanel(inc, waiting.get("decision")) : null,
      ctx.isHq() && waiting.has("close") ? closePanel() : null,
      assessmentPanel(inc),
      tasksPanel(inc, waiting),
      statementsPanel(inc),
      evidencePanel(inc),
      timelinePanel(inc),
      outbox ? h("section.panel", h("h3", "本事件的告警消息"), messagesTable(outbox.messages, ctx)) : null,
    ];
    clear(body).append(...panels.filter(Boolean));
  }

  function header(inc) {
    const docs = h("div.downloads",
      h("button", { type: "button", onclick: (e) => fetchDoc(e.currentTarget, "html") }, "评估报告（网页）"),
      h("button", { type: "button", onclick: (e) => fetchDoc(e.currentTarget, "docx") }, "评估报告（Word）"));
    return h("div.incident-head",
      h("div.card-head", levelBadge(inc.level), inc.drill ? drillBadge() : null,
        h("span.status", `${statusText(inc.status)} · ${stepText(inc.step)}`)),
      h("h2", { id: "incident-title" }, inc.title || id),
      h("p.meta", `编号 ${id} · 发现于 ${when(inc.opened_at)}${inc.execution ? ` · 流程 ${inc.execution.status}` : ""}`),
      inc.summary ? h("p", inc.summary) : null,
      docs);
  }

  async function fetchDoc(button, format) {
    button.disabled = true;
    try {
      await download(`${path}/report?format=${format}`, `舆情评估-${id}.${format}`);
    } catch (err) {
      ctx.notify(err instanceof ApiError && err.status === 403 && !err.body.message ? "暂无此报告" : `下载失败：${err instanceof ApiError ? err.describe() : err.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  function waitingPanel(inc) {
    const waits = inc.waiting_for || [];
    const breaches = inc.breaches || [];
    return h("section.panel.waiting", h("h3", "正在等待"),
      waits.length
        ? h("ul", waits.map((w) => h("li", { dataset: { wait: w.kind } }, waitText(w.kind, w.group, (g) => ctx.groupName(g)), " ", countdown(w.deadline_at))))
        : empty("流程当前不等待任何人"),
      breaches.length ? h("p.breach-line", h("span.badge.breach", "违约"), ` ${breaches.map((b) => `${b.kind}（${when(b.at)}）`).join("；")}`) : null);
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
    return h("section.panel.decide", h("h3", "指挥部研判 ", countdown(wait.deadline_at)),
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
    return h("section.panel", h("h3", "研判依据"),
      a.suggested_level ? h("p", "建议级别：", levelBadge(a.suggested_level),
        a.suggested_measures ? `；建议措施：${a.suggested_measures.join("、")}` : "") : null,
      a.scope ? h("p.meta", `涉及 ${a.scope.posts ?? "—"} 条，平台：${(a.scope.platforms || []).join("、") || "—"}`) : null,
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
      const due = ack ? ack.deadline_at : done ? done.deadline_at : null;
      return h("tr", { dataset: { task: tid, group: t.group } },
        h("td", ctx.groupName(t.group)),
        h("td", (t.measures || []).map((m) => h("div", { title: m.description || "" }, m.name || m.id))),
        h("td", TASK_STATUS[t.status] || t.status,
          (t.breaches || []).length ? h("span.badge.breach", `违约 ${t.breaches.length}`) : null,
          t.note ? h("div.meta", t.note) : null),
        h("td", due ? countdown(due) : (t.done_at ? `完成于 ${when(t.done_at)}` : "—")),
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
      if (s.status === "approved" && ctx.atLeast("member")) {
        const channel = h("input", { type: "text", maxLength: 100, placeholder: "发布渠道，如 官方微博" });
        const link = h("input", { type: "url", placeholder: "链接（可选）" });
        const b = h("button", { type: "button" }, "登记发布");
        b.addEventListener("click", () => act(b, "发布口径", () => post(`${path}/statements/${encodeURIComponent(sid)}/release`,
          link.value ? { channel: channel.value, link: link.value } : { channel: channel.value })));
        controls.push(channel, link, b);
      }
      return h("tr",
        h("td", STATEMENT_STATUS[s.status] || s.status),
        h("td", h("p.statement", s.text), h("div.meta", `第 ${(s.versions || []).length} 稿 · ${when(s.updated_at)}${s.channel ? ` · 发布于 ${s.channel}` : ""}`),
          s.link ? safeLink(s.link) : null),
        h("td", controls));
    });
    let form = null;
    if (ctx.atLeast("member")) {
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
    return h("section.panel", h("h3", "证据固定"),
      items.length ? table(["时间", "来源", "摘要"], items.map((e) => h("tr",
        h("td", when(e.captured_at || e.at || e.created_at)),
        h("td", safeLink(e.url, e.url || e.post_id || e.id)),
        h("td", e.sha256 ? `SHA-256 ${String(e.sha256).slice(0, 16)}…` : "", e.note ? h("div.meta", e.note) : null)))) : empty("尚无证据"),
      form);
  }

  function timelinePanel(inc) {
    const entries = inc.timeline || [];
    return h("section.panel", h("h3", "处置时间线"),
      h("ol.timeline", { id: "timeline" }, entries.map((e) => h("li", { dataset: { entry: e.id } },
        h("time", when(e.at)), h("span.step", stepText(e.step)), h("strong", e.title || e.id),
        e.note ? h("span.note", e.note) : null,
        e.data && e.data.by ? h("span.note", `（${e.data.by}）`) : null))));
  }

  await load();
  ctx.every(4000, () => { if (!busy && !document.activeElement?.matches("input, textarea, select")) load().catch(() => {}); });
}
