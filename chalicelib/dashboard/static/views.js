// The tabs other than one incident: the board, the live feed, trends, sources and the outbox.
// Every value from the API goes in through h()/textContent, never as markup.

import { ApiError, get, post, qs } from "./api.js";
import {
  PLATFORMS, clear, countdown, drillBadge, empty, h, levelBadge, platformName, statusText, stepText,
  table, waitText, when,
} from "./dom.js";
import { barChart, lineChart, disposeCharts } from "./charts.js";

const OPEN = new Set(["open", "reported", "awaiting_decision", "active", "evaluating"]);
const LEVEL_ORDER = ["I", "II", "III", "IV"];
// A source's last crawl (chalicelib/sources/health.py Outcome).
const CRAWL_TEXT = { ok: "成功", not_modified: "无更新", failed: "失败", challenge: "遇到验证", skipped: "跳过" };
const crawlText = (o) => CRAWL_TEXT[o] || o || "";
// An outbox message (chalicelib/alerts/models.py Status), its channel and its event.
const MESSAGE_STATUS = { pending: "待发送", awaiting_ack: "待确认", acked: "已确认", sent: "已发送", expired: "未确认（已停止提醒）" };
const CHANNEL_TEXT = { sms: "短信", email: "邮件", voice: "电话", wechat: "微信" };
const EVENT_TEXT = {
  reported: "新事件报告", activated: "启动响应", task: "任务分派", overdue: "超时提醒", deadline: "公开时限已过",
  evaluation: "舆情评估", failed: "流程异常", escalated: "级别上升", notice: "通知",
};
const eventText = (e) => EVENT_TEXT[String(e || "").split("#")[0]] || e || "";

/** A link only for http(s) addresses: a javascript: URL in a post stays plain text. */
export function safeLink(url, text) {
  if (typeof url === "string" && /^https?:\/\//i.test(url)) {
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, text || url);
  }
  return text ? h("span", text) : null;
}

/** 「导出 Excel」: the list at `path()` (read when pressed, so with the filters shown then) as the
 * API's ?format=xlsx — the rows this person's JSON holds, Chinese headers, China time. */
export function excelButton(ctx, path, name, label) {
  return h("button", {
    type: "button", dataset: { export: name }, title: `下载${label}（Excel，时间为北京时间）`,
    onclick: (e) => ctx.fetchDocument(e.currentTarget, path(), `${name}.xlsx`, label),
  }, "导出 Excel");
}

// -- incident board ---------------------------------------------------------------------------
function incidentCard(row, ctx) {
  const next = row.next_deadline;
  return h("a.card.incident", { href: `#/incident/${encodeURIComponent(row.incident_id)}`, dataset: { incident: row.incident_id } },
    h("div.card-head", levelBadge(row.level), row.drill ? drillBadge() : null,
      row.breaches ? h("span.badge.breach", `违约 ${row.breaches}`) : null),
    h("div.title", row.title || row.incident_id),
    h("div.meta", `${statusText(row.status)} · ${stepText(row.step)} · 发现于 ${when(row.opened_at)}`),
    next ? h("div.next", { dataset: { kind: next.kind } }, `下一时限：${waitText(next.kind, next.group, (g) => ctx.groupName(g))} `, countdown(next.due_at, next.since)) : h("div.next.meta", "暂无待办时限"));
}

/** The latest drills, each with its report as Word and as a web page. */
export function drillReportButtons(drill, ctx) {
  const id = encodeURIComponent(drill.drill_id);
  return [
    h("button", { type: "button", dataset: { drillReport: "docx" },
      onclick: (e) => ctx.fetchDocument(e.currentTarget, `/drills/${id}?format=docx`, `演练报告-${drill.drill_id}.docx`, "演练报告") }, "演练报告（Word）"),
    h("button", { type: "button", dataset: { drillReport: "html" },
      onclick: (e) => ctx.fetchDocument(e.currentTarget, `/drills/${id}?format=html`, `演练报告-${drill.drill_id}.html`, "演练报告") }, "演练报告（网页）"),
  ];
}

function drillList(drills, ctx) {
  if (!drills.length) return null;
  return h("div.drill-reports", h("h4", "最近的演练"), table(["演练", "开始时间", "事件数", ""], drills.map((d) => h("tr", { dataset: { drill: d.drill_id } },
    h("td", d.name || d.drill_id, h("div.meta", d.drill_id)),
    h("td", when(d.started_at)),
    h("td.num", String((d.incidents || []).length)),
    h("td", drillReportButtons(d, ctx))))));
}

export async function boardView(view, ctx) {
  const body = h("div");
  view.append(h("div.bar", h("h2", "事件看板"), h("span.hint", "每 10 秒自动刷新"),
    excelButton(ctx, () => "/incidents?format=xlsx", "舆情事件台账", "事件台账")), body);
  async function load() {
    const [rows, recentDrills] = await Promise.all([
      get("/incidents").then((d) => d.incidents),
      get("/drills").then((d) => d.drills.slice(0, 5)).catch(() => []),
    ]);
    const drillReports = drillList(recentDrills, ctx);
    const real = rows.filter((r) => !r.drill && OPEN.has(r.status));
    const drills = rows.filter((r) => r.drill && OPEN.has(r.status));
    const ended = rows.filter((r) => !OPEN.has(r.status)).slice(0, 12);
    clear(body);
    const columns = LEVEL_ORDER.map((lv) => {
      const mine = real.filter((r) => r.level === lv);
      return h(`section.column.col-${lv}`, h("h3", levelBadge(lv), ` ${mine.length} 起`),
        mine.length ? mine.map((r) => incidentCard(r, ctx)) : empty("暂无"));
    });
    const unlevelled = real.filter((r) => !LEVEL_ORDER.includes(r.level));
    const late = real.filter((r) => r.breaches || (r.next_deadline && Date.parse(r.next_deadline.due_at) < Date.now())).length;
    body.append(h("p.summary", { id: "board-summary" }, real.length
      ? `进行中的事件 ${real.length} 起${late ? `，其中 ${late} 起已有超时` : "，均在时限内"}`
      : "当前没有进行中的舆情事件"));
    body.append(h("div.columns", columns));
    if (unlevelled.length) body.append(h("section", h("h3", "未定级"), unlevelled.map((r) => incidentCard(r, ctx))));
    body.append(h("section.drills", h("h3", drillBadge(), " 演练中的事件（不计入统计）"),
      drills.length ? h("div.cards", drills.map((r) => incidentCard(r, ctx))) : empty("无进行中的演练"),
      drillReports));
    body.append(h("section.ended", h("h3", "最近结束"),
      ended.length ? table(["级别", "事件", "状态", "发现时间"], ended.map((r) => h("tr",
        h("td", levelBadge(r.level), r.drill ? drillBadge() : null),
        h("td", h("a", { href: `#/incident/${encodeURIComponent(r.incident_id)}` }, r.title || r.incident_id)),
        h("td", statusText(r.status)), h("td", when(r.opened_at))))) : empty("近期没有结束的事件")));
  }
  await load();
  ctx.every(10000, () => load().catch(() => {}));
}

// -- live feed ---------------------------------------------------------------------------------
function postCard(p, ctx) {
  return h("article.card.post", { dataset: { post: p.post_id } },
    h("div.card-head", levelBadge(p.level), p.drill ? drillBadge() : null,
      h("span.platform", platformName(p.platform)),
      p.negative ? h("span.badge.negative", "负面") : null,
      h("span.meta", `风险 ${Number(p.risk || 0).toFixed(2)} · 情感 ${Number(p.sentiment || 0).toFixed(2)} · ${when(p.seen_at)}`)),
    h("div.title", safeLink(p.url, p.title || "（无标题）")),
    p.text && p.text !== p.title ? h("p.text", p.text) : null,
    (p.subjects || []).length ? h("div.meta", "主体：", p.subjects.map((s) => ctx.subjectName(s)).join("、")) : null,
    (p.matched || []).length ? h("div.meta.matched", "命中检索词：", p.matched.join("、")) : null,
    (p.reasons || []).length ? h("ul.reasons", p.reasons.map((r) => h("li", r))) : null);
}

function clusterRow(c, ctx) {
  return h("tr",
    h("td", levelBadge(c.level)),
    h("td", h("div.story", c.story), h("div.meta", (c.platforms || []).map(platformName).join("、"))),
    h("td.num", `${Number(c.growth || 0).toFixed(1)}×`),
    h("td.num", String(c.posts_in_window)),
    h("td.num", String(c.count)),
    h("td.num", Number(c.max_risk || 0).toFixed(2)));
}

/** A bad search rule (a 400's problem at /q): its message, and the rule with the character at
 * `position` (0-based, in code points as the API counts them) marked. */
export function ruleProblem(rule, problem) {
  const chars = Array.from(rule);
  const at = Math.max(0, Math.min(Number(problem.position) || 0, chars.length));
  return h("div.rule-problem", { id: "search-error" },
    h("p.error", `检索式有误（第 ${at + 1} 个字符处）：${problem.message}`),
    h("code.rule", chars.slice(0, at).join(""), h("mark", chars[at] ?? " "), chars.slice(at + 1).join("")));
}

export async function feedView(view, ctx) {
  const search = h("form.search", { role: "search", id: "search" },
    h("input", {
      type: "search", name: "q", maxLength: 500, size: 48, "aria-label": "检索式",
      placeholder: "检索式，如 (医院 OR 一院) AND 投诉 NOT 招聘、爆炸 NEAR/10 化工厂、\"食物中毒\"",
    }),
    h("label", "从 ", h("input", { type: "date", name: "from" })),
    h("label", "至 ", h("input", { type: "date", name: "to" })),
    h("button.primary", { type: "submit" }, "检索"),
    h("button", { type: "button", name: "clear" }, "清除"),
    h("span.hint", "检索最近 7 天（可选起止日期，最长 31 天）的已入库帖子"));
  const searchNote = h("div.search-note", { id: "search-note", hidden: true });
  const form = h("form.filters",
    h("label", "主体 ", h("select", { name: "subject" }, h("option", { value: "" }, "全部"),
      ctx.subjects().map((s) => h("option", { value: s.id }, s.name)))),
    h("label", "平台 ", h("select", { name: "platform" }, h("option", { value: "" }, "全部"),
      Object.entries(PLATFORMS).map(([v, t]) => h("option", { value: v }, t)))),
    h("label", "级别 ", h("select", { name: "level" }, h("option", { value: "" }, "全部"),
      LEVEL_ORDER.map((lv) => h("option", { value: lv }, `${lv}级`)))),
    h("label", h("input", { type: "checkbox", name: "negative" }), " 只看负面"),
    h("label", h("input", { type: "checkbox", name: "drill" }), " 演练数据"));
  const list = h("div.posts");
  const more = h("button", { type: "button", hidden: true }, "加载更多");
  const clusters = h("div");
  const hint = h("span.hint", "每 30 秒自动刷新");
  const listTitle = h("h3", "最新评分帖子");
  // The export is the first page of the same filters at the route's largest page (200 posts).
  const exportPosts = excelButton(ctx, () => `/posts${qs({ ...params(), limit: 200, format: "xlsx" })}`, "实时舆情", "实时舆情");
  const exportClusters = excelButton(ctx, () => `/clusters${qs({ limit: 50, drill: params().drill, format: "xlsx" })}`, "热点事件簇", "热点事件簇");
  view.append(h("div.bar", h("h2", "实时舆情"), hint, exportPosts), search, form, searchNote,
    h("div.split", h("section", listTitle, list, more),
      h("section", h("div.bar", h("h3", "增速最快的事件簇（24 小时）"), exportClusters), clusters)));
  let cursor = null;
  let extended = false; // older posts loaded: the 30 s refresh leaves the list alone
  let searching = null; // {q, from, to} of the search shown, as submitted; null: the live feed

  function params() {
    const data = new FormData(form);
    return {
      subject: data.get("subject"), platform: data.get("platform"), level: data.get("level"),
      negative: data.get("negative") ? "true" : "", drill: data.get("drill") ? "true" : "",
    };
  }
  async function load(append) {
    const page = await get(`/posts${qs({ ...params(), ...(searching || {}), limit: 30, cursor: append ? cursor : "" })}`);
    if (!append) clear(list);
    list.querySelector(".empty")?.remove();
    list.append(...page.posts.map((p) => postCard(p, ctx)));
    // A page may hold fewer posts than asked, even none, and still have older ones to read.
    cursor = page.next_cursor;
    extended = append;
    if (searching) showSearch(page, append);
    else hint.textContent = extended ? "已加载更早的帖子，自动刷新暂停（更改筛选即恢复）" : "每 30 秒自动刷新";
    const none = searching ? "没有符合检索式的帖子" : "没有符合条件的帖子";
    if (!list.firstChild) list.append(empty(cursor ? `已读的帖子中没有符合条件的，可点「${more.textContent}」继续向前查找` : none));
    more.hidden = !cursor;
  }
  // -- search (检索): GET /posts?q=…, within the API's read budget per page -------------------
  let found = 0;
  function showSearch(page, append) {
    found = (append ? found : 0) + page.posts.length;
    const reach = page.more
      ? `已检索至 ${when(page.searched_to)}${page.budget_spent ? "（本次读取已达上限）" : ""}，可点「继续检索」向前查找`
      : "已检索完整个时段";
    clear(searchNote).append(h("p.summary", `检索「${page.q}」：${when(page.from)} 至 ${when(page.to)}，已找到 ${found} 条；${reach}`));
    searchNote.hidden = false;
  }
  function setMode(query) {
    searching = query;
    listTitle.textContent = query ? "检索结果（新→旧）" : "最新评分帖子";
    more.textContent = query ? "继续检索" : "加载更多";
    hint.textContent = query ? "检索结果不自动刷新（清除检索即恢复）" : "每 30 秒自动刷新";
    if (!query) { clear(searchNote); searchNote.hidden = true; }
  }
  async function runSearch() {
    const data = new FormData(search);
    const q = String(data.get("q") || "").trim();
    setMode(q ? { q, from: data.get("from") || "", to: data.get("to") || "" } : null);
    try {
      await load(false);
    } catch (err) {
      const problem = err instanceof ApiError && err.status === 400 && (err.body.problems || []).find((p) => p.path === "/q");
      if (!searching || !(err instanceof ApiError) || err.status !== 400) throw err;
      clear(list);
      more.hidden = true;
      clear(searchNote).append(problem && Number.isInteger(problem.position)
        ? ruleProblem(searching.q, problem) : h("p.error", { id: "search-error" }, err.describe()));
      searchNote.hidden = false;
      if (problem && Number.isInteger(problem.position)) {
        const input = search.elements.q;
        const chars = Array.from(input.value);
        const start = chars.slice(0, problem.position).join("").length;
        input.focus();
        input.setSelectionRange(start, start + (chars[problem.position] || "").length);
      }
    }
  }
  search.addEventListener("submit", (event) => { event.preventDefault(); runSearch().catch(showError); });
  search.elements.clear.addEventListener("click", () => { search.reset(); runSearch().catch(showError); });
  async function loadClusters() {
    const drill = params().drill;
    const data = await get(`/clusters${qs({ limit: 10, drill })}`);
    clear(clusters).append(data.clusters.length
      ? table(["级别", "事件", "增速", "24h 帖数", "累计", "最高风险"], data.clusters.map((c) => clusterRow(c, ctx)))
      : empty("暂无事件簇"));
  }
  form.addEventListener("change", () => { (searching ? runSearch() : load(false)).catch(showError); loadClusters().catch(showError); });
  more.addEventListener("click", () => load(true).catch(showError));
  function showError(err) { ctx.notify(`加载失败：${err instanceof ApiError ? err.describe() : err.message}`, "error"); }
  await Promise.all([load(false), loadClusters()]);
  ctx.every(30000, () => { if (!extended && !searching) load(false).catch(() => {}); loadClusters().catch(() => {}); });
}

// -- trends --------------------------------------------------------------------------------------
export async function trendsView(view, ctx) {
  const hours = h("select", { name: "hours" },
    h("option", { value: "24" }, "最近 24 小时"), h("option", { value: "72" }, "最近 3 天"), h("option", { value: "168" }, "最近 7 天"));
  const summary = h("p.summary");
  const volume = h("div.chart", { id: "chart-volume" });
  const subjects = h("div.chart", { id: "chart-subjects" });
  const clusters = h("div");
  const words = h("div.chart", { id: "chart-words" });
  const noWords = h("div");
  view.append(h("div.bar", h("h2", "态势趋势"), h("label", "时间范围 ", hours)), summary,
    h("section", h("h3", "各平台声量与负面占比（每小时）"), volume),
    h("section", h("h3", "各监测主体声量（每小时）"), subjects),
    h("section", h("h3", "今日热词（使用条数较前 7 日占比上升最多）"), noWords, words),
    h("section", h("div.bar", h("h3", "增速最快的事件簇"),
      excelButton(ctx, () => `/clusters${qs({ hours: hours.value, limit: 50, format: "xlsx" })}`, "热点事件簇", "热点事件簇")), clusters));
  disposeCharts();

  let hot = null;
  let hotAt = 0;
  async function load() {
    const n = hours.value;
    // Hot words change by the ten minutes and cost a week of reads: fetched every 10 minutes.
    const fresh = hot === null || Date.now() - hotAt > 600000;
    const [data, top, words10] = await Promise.all([
      get(`/trends?hours=${n}`), get(`/clusters?hours=${n}&limit=10`), fresh ? get("/trends/words?limit=15") : hot]);
    if (fresh) { hot = words10; hotAt = Date.now(); }
    const labels = data.hours.map((x) => when(x).slice(0, 11));
    const share = data.posts.map((p, i) => (p ? Math.round((data.negative[i] / p) * 1000) / 10 : 0));
    const t = data.totals;
    summary.textContent = `共 ${t.posts} 条，负面 ${t.negative} 条（${(t.negative_share * 100).toFixed(1)}%）` +
      (Object.keys(t.levels || {}).length ? `；预警级别：${Object.entries(t.levels).map(([k, v]) => `${k}级 ${v}`).join("，")}` : "");
    lineChart(volume, labels,
      data.platforms.map((line) => ({ name: line.label || platformName(line.platform), type: "bar", stack: "posts", data: line.posts })),
      { name: "负面占比 %", type: "line", data: share });
    lineChart(subjects, labels,
      data.subjects.map((line) => ({ name: ctx.subjectName(line.subject), type: "line", data: line.posts })));
    clear(noWords);
    words.hidden = !hot.words.length;
    if (hot.words.length) {
      barChart(words, hot.words.map((w) => (w.new ? `${w.word}（新）` : w.word)), hot.words.map((w) => w.count), "条数");
    } else {
      noWords.append(empty("今日暂无明显上升的热词"));
    }
    clear(clusters).append(top.clusters.length
      ? table(["级别", "事件", "增速", "窗口内帖数", "累计", "最高风险"], top.clusters.map((c) => clusterRow(c, ctx)))
      : empty("暂无事件簇"));
  }
  hours.addEventListener("change", () => load().catch((e) => ctx.notify(`加载失败：${e instanceof ApiError ? e.describe() : e.message}`, "error")));
  await load();
  ctx.every(60000, () => load().catch(() => {}));
}

// -- sources -----------------------------------------------------------------------------------
export async function sourcesView(view, ctx) {
  const body = h("div");
  view.append(h("div.bar", h("h2", "监测来源"), h("span.hint", ctx.atLeast("lead") ? "组长及指挥部可立即抓取" : "")), body);
  async function crawl(id, button) {
    button.disabled = true;
    button.textContent = "抓取中…";
    try {
      const result = await post(`/sources/${encodeURIComponent(id)}/crawl`);
      const error = result.error ? `：${result.error.message || result.error.code}` : "";
      ctx.notify(`${id} 抓取${crawlText(result.outcome)}，${result.items ?? 0} 条，新 ${result.new ?? 0} 条${error}`, result.error ? "error" : "info");
      await load();
    } catch (err) {
      ctx.notify(err instanceof ApiError ? err.describe() : err.message, "error");
      button.disabled = false;
      button.textContent = "立即抓取";
    }
  }
  async function load() {
    const sources = (await get("/sources")).sources;
    if (!sources.length) { clear(body).append(empty("尚未配置监测来源")); return; }
    clear(body).append(table(["来源", "平台", "状态", "最近成功", "最近错误", "下次抓取", ""], sources.map((s) => {
      const health = s.health || {};
      const ok = health.healthy !== false;
      const button = ctx.atLeast("lead") && s.enabled
        ? h("button", { type: "button", onclick: (e) => crawl(s.id, e.currentTarget) }, "立即抓取") : null;
      return h("tr", { dataset: { source: s.id } },
        h("td", h("div", s.name || s.id), h("div.meta", `${s.id} · ${s.kind}${s.enabled ? "" : " · 已停用"}`)),
        h("td", platformName(s.platform)),
        h("td", h(ok ? "span.badge.ok" : "span.badge.down", ok ? "正常" : "异常"), " ", health.status ? `最近一次${crawlText(health.status)}` : "尚未抓取",
          health.consecutive_failures ? ` 连续失败 ${health.consecutive_failures} 次` : ""),
        h("td", when(health.last_success_at)),
        h("td.error-text", health.last_error || "—"),
        h("td", when(s.next_due_at)),
        h("td", button));
    })));
  }
  await load();
  ctx.every(30000, () => load().catch(() => {}));
}

// -- outbox --------------------------------------------------------------------------------------
export function messagesTable(messages, ctx) {
  if (!messages.length) return empty("没有消息");
  return table(["时间", "事件", "接收组", "状态", "短信内容", "接收人"], messages.map((m) => h("tr",
    h("td", when(m.sent_at || m.created_at)),
    h("td", levelBadge(m.level), m.drill ? drillBadge() : null, h("div.meta", { title: m.event || "" }, eventText(m.event)),
      m.incident_id ? h("div.meta", h("a", { href: `#/incident/${encodeURIComponent(m.incident_id)}` }, m.incident_id)) : null),
    h("td", ctx.groupName(m.group)),
    h("td", MESSAGE_STATUS[m.status] || m.status, m.repeats ? ` · 重复 ${m.repeats} 次` : "", m.escalation_step ? ` · 第 ${m.escalation_step} 级升级` : ""),
    h("td.sms", m.sms || m.email_subject || ""),
    h("td", h("ul.recipients", (m.recipients || []).map((r) =>
      h("li", `${r.name || r.member}（${ctx.groupName(r.group)}·${CHANNEL_TEXT[r.channel] || r.channel}）${r.contact || ""}`)))))));
}

export async function outboxView(view, ctx) {
  const body = h("div");
  view.append(h("div.bar", h("h2", "消息发件箱"), h("span.hint", "本地模式下不发短信和邮件：在这里查看每条告警及其接收人"),
    excelButton(ctx, () => "/outbox?limit=500&format=xlsx", "告警发送记录", "告警发送记录")), body);
  async function load() {
    const data = await get("/outbox?limit=200");
    clear(body).append(messagesTable(data.messages, ctx));
  }
  await load();
  ctx.every(15000, () => load().catch(() => {}));
}

// -- one briefing: the page the briefing e-mails link to -------------------------------------------
/** The API path of a briefing key: a week (YYYY-Www, 舆情周报), a month (YYYY-MM, 舆情月报), or a
 * day (YYYY-MM-DD, 舆情日报). */
export function briefingPath(key) {
  if (/^[0-9]{4}-W[0-9]{2}$/.test(key)) return `/briefings/week/${key}`;
  if (/^[0-9]{4}-[0-9]{2}$/.test(key)) return `/briefings/month/${key}`;
  return `/briefings/${encodeURIComponent(key)}`;
}

/** 舆情日报 of a day (#/briefing/YYYY-MM-DD), 周报 of a week (#/briefing/YYYY-Www) or 月报 of a
 * month (#/briefing/YYYY-MM): its summary and risk line, and the Word and HTML documents,
 * downloaded with this tab's token (a mail client cannot send one to the API). */
export async function briefingView(view, day, ctx) {
  const path = briefingPath(day);
  const data = await get(path);
  const key = data.key || data.date;
  const name = `${data.title}-${key}${data.provisional ? "-临时版" : ""}`;
  const button = (fmt, text) => h("button", {
    type: "button", id: `briefing-${fmt}`, dataset: { format: fmt },
    onclick: (e) => ctx.fetchDocument(e.currentTarget, `${path}?format=${fmt}`, `${name}.${fmt}`, data.title),
  }, text);
  view.append(
    h("div.bar", h("h2", `${data.title} ${key}`), h("span.hint", `统计时段：${data.period.label}`)),
    data.provisional ? h("p.banner", "临时版：统计时段尚未结束，数据可能变化。") : null,
    h(`p.risk.risk-${data.risk.grade}`, { id: "briefing-risk" }, data.risk.conclusion),
    h("section.briefing", { id: "briefing-summary" }, h("h3", "综述"),
      String(data.summary).split("\n").slice(0, -1).map((line) => h("p", line))),
    h("div.downloads", button("docx", "下载 Word 版"), button("html", "下载网页版")));
}
