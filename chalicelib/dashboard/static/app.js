// The dashboard shell: sign-in, the signed-in person, tabs and hash routes.
//
// Local mode prints a URL ending in #token=…: the fragment never reaches the server; this page
// moves the token into sessionStorage and removes it from the address bar at once.
// A route opened without a session (the briefing e-mail's #/briefing/<date>) asks for the token
// first and then shows that route: signing in keeps the address's fragment.

import { ApiError, download, get, setToken, token } from "./api.js";
import { clear, h, setTimeScale, when } from "./dom.js";
import { boardView, briefingView, feedView, outboxView, sourcesView, trendsView } from "./views.js";
import { incidentView } from "./incident.js";

const RANK = { viewer: 0, reporter: 1, member: 2, lead: 3, hq: 4 };
const ROLE_TEXT = { viewer: "只读", reporter: "上报员", member: "工作组成员", lead: "组长", hq: "指挥部" };

const state = { me: null, plan: null, publicity: null, stop: null };

/** What a view needs to know about the person and the plan. */
const ctx = {
  get me() { return state.me; },
  atLeast(role) { return state.me && RANK[state.me.role] >= RANK[role]; },
  isHq() { return state.me && state.me.role === "hq"; },
  /** May this person acknowledge/complete a task of `group`? (the API checks again) */
  mayActFor(group) {
    return this.isHq() || (this.atLeast("member") && state.me.group === group);
  },
  /** May this person draft, edit and release statements (口径)? The HQ and the plan's
   * publicity group (GET /plan's `publicity_group`); the API checks again. */
  mayWriteStatements() {
    return this.isHq() || (state.publicity !== null && this.mayActFor(state.publicity));
  },
  groupName(id) {
    const g = ((state.plan && state.plan.groups) || []).find((x) => x.id === id);
    return g ? g.name : id;
  },
  /** The plan's name of a measure (信息发布 for "release"), else the id. */
  measureName(id) {
    const m = ((state.plan && state.plan.measures) || []).find((x) => x.id === id);
    return m && m.name ? m.name : id;
  },
  subjects() { return (state.plan && state.plan.subjects) || []; },
  subjectName(id) {
    const s = this.subjects().find((x) => x.id === id);
    return s ? s.name : id;
  },
  notify,
  fetchDocument,
  /** Refresh `fn` every `ms` while this view is shown. */
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    const previous = state.stop;
    state.stop = () => { clearInterval(timer); if (previous) previous(); };
  },
};

let noticeTimer = null;
export function notify(text, kind = "info") {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 10000 : 4000);
}

/** Download `path` (a briefing or report) with the token; every failure is a notice in Chinese
 * that says which document and why — a document not produced yet is a 404, never a blank. */
async function fetchDocument(button, path, fallback, label) {
  if (button) button.disabled = true;
  try {
    const name = await download(path, fallback);
    notify(`${label}已下载：${name}`);
  } catch (err) {
    // A route the API does not have is answered by the gateway (API Gateway, Chalice local), not
    // by us: a 403 without our `error` code, whose message may even echo the Authorization header.
    const missing = err instanceof ApiError && (err.status === 404 || (err.status === 403 && !err.body.error));
    const why = missing ? "暂无此文档：可能尚未生成，或服务器尚未提供此功能"
      : err instanceof ApiError ? err.describe() : err.message;
    notify(`${label}下载失败：${why}`, "error");
  } finally {
    if (button) button.disabled = false;
  }
}

/** Today's date in China time (the briefing's day): YYYY-MM-DD. */
export function chinaToday(now = new Date()) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** The last finished ISO week (舆情周报) in China time: YYYY-Www. */
export function chinaLastWeek(now = new Date()) {
  const [y, m, d] = chinaToday(now).split("-").map(Number);
  const day = new Date(Date.UTC(y, m - 1, d - 7));
  // The Thursday of that week names its ISO year and number.
  const thursday = new Date(day.getTime() + (3 - ((day.getUTCDay() + 6) % 7)) * 86400000);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / 86400000 / 7) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** The last finished month (舆情月报) in China time: YYYY-MM. */
export function chinaLastMonth(now = new Date()) {
  const [y, m] = chinaToday(now).split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

function takeTokenFromFragment() {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return;
  setToken(decodeURIComponent(match[1]));
  history.replaceState(null, "", `${location.pathname}${location.search}#/board`);
}

function showSignin(message) {
  state.me = null;
  clearInterval(healthTimer);
  document.getElementById("health").hidden = true;
  document.getElementById("tabs").hidden = true;
  clear(document.getElementById("who"));
  clear(document.getElementById("view"));
  document.getElementById("signin").hidden = false;
  const error = document.getElementById("signin-error");
  error.hidden = !message;
  error.textContent = message || "";
  document.getElementById("token").focus();
}

async function signIn() {
  if (!token()) { showSignin(); return false; }
  try {
    state.me = await get("/whoami");
    setTimeScale(state.me.time_scale);
  } catch (err) {
    setToken(null);
    showSignin(err instanceof ApiError && err.status === 401 ? "令牌无效或已过期，请重新输入。" : `登录失败：${err instanceof ApiError ? err.describe() : err.message}`);
    return false;
  }
  try {
    const current = await get("/plan");
    state.plan = current.plan;
    state.publicity = current.publicity_group || null;
  } catch {
    state.plan = null; // names fall back to ids
    state.publicity = null;
  }
  document.getElementById("signin").hidden = true;
  const tabs = document.getElementById("tabs");
  tabs.hidden = false;
  for (const link of tabs.querySelectorAll("[data-role]")) link.hidden = !ctx.atLeast(link.dataset.role);
  const who = clear(document.getElementById("who"));
  const me = state.me;
  // Element.append would print a null as "null": only the buttons this person gets.
  who.append(...[
    ctx.atLeast("lead") ? h("button", {
      type: "button", id: "briefing-today", title: "下载今日舆情日报（Word）",
      onclick: (e) => {
        const day = chinaToday();
        fetchDocument(e.currentTarget, `/briefings/${day}?format=docx`, `舆情日报-${day}.docx`, "今日日报");
      },
    }, "今日日报") : null,
    ctx.atLeast("lead") ? h("button", {
      type: "button", id: "briefing-latest", title: "下载最近24小时的即时简报（Word，不等日报时间）",
      onclick: (e) => {
        fetchDocument(e.currentTarget, "/briefings/latest?format=docx", `舆情日报-${chinaToday()}-临时版.docx`, "即时简报");
      },
    }, "即时简报") : null,
    ctx.atLeast("lead") ? h("button", {
      type: "button", id: "briefing-week", title: "下载上周舆情周报（Word）",
      onclick: (e) => {
        const week = chinaLastWeek();
        fetchDocument(e.currentTarget, `/briefings/week/${week}?format=docx`, `舆情周报-${week}.docx`, "上周周报");
      },
    }, "上周周报") : null,
    ctx.atLeast("lead") ? h("button", {
      type: "button", id: "briefing-month", title: "下载上月舆情月报（Word）",
      onclick: (e) => {
        const month = chinaLastMonth();
        fetchDocument(e.currentTarget, `/briefings/month/${month}?format=docx`, `舆情月报-${month}.docx`, "上月月报");
      },
    }, "上月月报") : null,
    h("span.me", { id: "me" }, `${me.name}（${ROLE_TEXT[me.role] || me.role}${me.group ? " · " + ctx.groupName(me.group) : ""}）`),
    h("button.link", { type: "button", onclick: signOut }, "退出"),
  ].filter(Boolean));
  watchHealth();
  return true;
}

// -- health, in the header of every page: alerts that have not gone out -----------------------
// The HQ must see it here, not by SMS: when SNS is down, no alarm about SNS arrives by SMS.

const HEALTH_EVERY_MS = 30000; // the server checks at most every 30 s anyway
let healthTimer = null;

/** What the header says about /health's details: {kind: ok|warn|bad|unknown, text}. */
export function healthSummary(body) {
  if (!body || !body.status) return { kind: "unknown", text: "系统状态未知" };
  const alerts = body.alerts || {};
  const down = (body.components || []).filter((c) => !c.ok).map((c) => c.name);
  const pending = alerts.pending || 0;
  if (alerts.error) return { kind: "bad", text: "告警发件箱无法读取：告警可能未发出" };
  if (alerts.ok === false) {
    const minutes = Math.floor((alerts.oldest_age_seconds || 0) / 60);
    return { kind: "bad", text: `告警积压：${pending} 条未发出，最早一条已等 ${minutes} 分钟（短信/邮件可能未送达，请电话通知）` };
  }
  if (down.length) return { kind: "bad", text: `系统组件异常：${down.join("、")}` };
  if (pending) return { kind: "warn", text: `告警发送中：${pending} 条待发送` };
  return { kind: "ok", text: "告警通道正常" };
}

async function showHealth() {
  let body = null;
  let why = "";
  try {
    body = await get("/health");
  } catch (err) {
    // 503 is an answer: degraded, with the details of what is wrong.
    if (err instanceof ApiError && err.status === 503 && err.body && err.body.status) body = err.body;
    else why = err instanceof ApiError ? err.describe() : err.message;
  }
  const box = document.getElementById("health");
  if (!state.me) { box.hidden = true; return; }
  const summary = healthSummary(body);
  box.className = `health ${summary.kind}`;
  box.dataset.kind = summary.kind;
  box.textContent = summary.text;
  box.title = body ? `检查于 ${when(body.checked_at)}` : why;
  box.hidden = false;
}

function watchHealth() {
  clearInterval(healthTimer);
  showHealth();
  healthTimer = setInterval(showHealth, HEALTH_EVERY_MS);
}

function signOut() {
  clearInterval(healthTimer);
  document.getElementById("health").hidden = true;
  setToken(null);
  document.getElementById("notice").hidden = true;
  location.hash = "";
  showSignin();
}

async function route() {
  if (state.stop) { state.stop(); state.stop = null; }
  if (!state.me) return;
  const view = clear(document.getElementById("view"));
  const [, name, arg] = (location.hash || "#/board").split("/");
  for (const link of document.querySelectorAll("#tabs a")) {
    link.classList.toggle("active", link.dataset.tab === name || (name === "incident" && link.dataset.tab === "board"));
  }
  const views = { board: boardView, feed: feedView, trends: trendsView, sources: sourcesView, outbox: outboxView };
  try {
    if (name === "incident" && arg) await incidentView(view, decodeURIComponent(arg), ctx);
    else if (name === "briefing" && arg) await briefingView(view, decodeURIComponent(arg), ctx);
    else await (views[name] || boardView)(view, ctx);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) { setToken(null); showSignin("登录已失效，请重新输入令牌。"); return; }
    view.append(h("p.error", { id: "view-error" }, `加载失败：${err instanceof ApiError ? err.describe() : err.message}`,
      " ", h("button", { type: "button", onclick: () => route() }, "重试")));
  }
}

document.getElementById("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("token");
  setToken(input.value.trim());
  input.value = "";
  if (await signIn()) {
    if (!location.hash.startsWith("#/")) location.hash = "#/board";
    else route();
  }
});

window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#token=")) { takeTokenFromFragment(); signIn().then((ok) => ok && route()); return; }
  route();
});

takeTokenFromFragment();
signIn().then((ok) => { if (ok) route(); });
