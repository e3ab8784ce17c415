// Building the page from data without markup: every value from the API becomes a text node
// (textContent), never HTML, so a post that says <img onerror=…> is shown as those characters.

/** h("div.card", {onclick}, child, "text", [more]) — an element with classes, props, children. */
export function h(spec, props, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (props && (typeof props !== "object" || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "text") el.textContent = String(value);
    else if (key in el && key !== "list") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const LEVELS = {
  I: { name: "特别重大", colour: "红", cls: "lv-I" },
  II: { name: "重大", colour: "橙", cls: "lv-II" },
  III: { name: "较大", colour: "黄", cls: "lv-III" },
  IV: { name: "一般", colour: "蓝", cls: "lv-IV" },
};

/** A level badge: 红色 I级 特别重大 — colour in words too, for screens and colour blindness. */
export function levelBadge(level) {
  const known = LEVELS[level];
  if (!known) return h("span.badge.lv-none", "未定级");
  return h(`span.badge.${known.cls}`, { title: `${level}级 ${known.name}` }, `${known.colour} ${level}级`);
}

export function drillBadge() {
  return h("span.badge.drill", "【演练】");
}

const STATUS_TEXT = {
  open: "已登记", reported: "已报告", awaiting_decision: "待研判", active: "响应中",
  evaluating: "评估中", closed: "已结束", dismissed: "已排除", expired: "已超时终止",
};
const STEP_TEXT = {
  report: "发现报告", triage: "初步研判", measures: "制定措施", implement: "组织实施",
  monitor: "监测降温", evaluate: "评估总结", close: "结束",
};
export const statusText = (s) => STATUS_TEXT[s] || s || "—";
export const stepText = (s) => STEP_TEXT[s] || s || "—";

// Platform ids as the API sends them (chalicelib/posts/models.py Platform and PLATFORM_LABELS;
// tests/functional/test_dashboard_files.py keeps the two equal).
export const PLATFORMS = {
  weibo: "微博", forum: "论坛", news: "新闻", video: "短视频", wechat: "微信",
  qa: "问答", gov: "政务网站", report: "人工上报", other: "其他",
};
export const platformName = (p) => PLATFORMS[p] || p || "—";

// Step Functions' execution status.
const EXECUTION_TEXT = {
  RUNNING: "运行中", SUCCEEDED: "已结束", FAILED: "失败", TIMED_OUT: "超时", ABORTED: "已中止",
  PENDING_REDRIVE: "待重试",
};
export const executionText = (s) => EXECUTION_TEXT[s] || s || "—";

// The plan's deadlines (levels[].deadlines_minutes) and the public ones the workflow waits for.
export const DEADLINE_TEXT = {
  report_hq: "报告指挥部", triage: "初步研判", authoritative_info: "发布权威信息",
  press_conference: "召开新闻发布会", public_response: "公开回应",
};
// Breaches on the incident (triage …) and on a task (ack, done).
const BREACH_TEXT = { ack: "任务确认超时", done: "任务完成超时" };
export const breachText = (kind) => BREACH_TEXT[kind] || (DEADLINE_TEXT[kind] ? `${DEADLINE_TEXT[kind]}超时` : kind);

const WAIT_TEXT = { decision: "指挥部研判", close: "结束响应", ack: "确认任务", done: "完成任务" };
/** "宣传组 确认任务", "指挥部研判", "宣传组 发布权威信息" for a wait's kind. */
export function waitText(kind, group, groupName) {
  const [head, rest] = String(kind || "").split("#");
  const what = head === "public" ? (DEADLINE_TEXT[rest] || rest) : (WAIT_TEXT[head] || kind);
  return group && head !== "decision" && head !== "close" ? `${groupName(group)} ${what}` : what;
}

/** 2026-11-25 14:03 in China time (the users' clock), from an ISO string. */
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString("zh-CN", {
    timeZone: "Asia/Shanghai", hour12: false, month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

/** "剩余 04:59" / "超时 00:12" — kept live by the ticker below. Green while there is time,
 * orange in the last 20 % of the wait (from `sinceIso`) or its last 10 plan minutes (10 real
 * minutes in production; 6 s in local mode, whose time scale is 0.01), red overdue. */
export function countdown(dueIso, sinceIso) {
  const el = h("span.countdown", { dataset: { due: dueIso || "", since: sinceIso || "" } });
  tickOne(el, Date.now());
  return el;
}

const SOON_PLAN_SECONDS = 600;
const SOON_SHARE = 0.2;
let timeScale = 1;

/** Real minutes per plan minute, from `/whoami`; anything else than a positive number is 1. */
export function setTimeScale(value) {
  timeScale = typeof value === "number" && value > 0 ? value : 1;
}

function tickOne(el, now) {
  const due = Date.parse(el.dataset.due);
  if (Number.isNaN(due)) { el.textContent = "—"; return; }
  const left = Math.round((due - now) / 1000);
  const abs = Math.abs(left);
  const hh = Math.floor(abs / 3600), mm = Math.floor((abs % 3600) / 60), ss = abs % 60;
  const text = (hh ? `${hh}:` : "") + `${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}`;
  el.textContent = left >= 0 ? `剩余 ${text}` : `超时 ${text}`;
  const since = Date.parse(el.dataset.since);
  const total = Number.isNaN(since) ? 0 : Math.max(0, (due - since) / 1000);
  const soon = Math.max(SOON_PLAN_SECONDS * timeScale, total * SOON_SHARE);
  el.classList.toggle("overdue", left < 0);
  el.classList.toggle("soon", left >= 0 && left <= soon);
  el.title = left < 0 ? "已超过时限" : left <= soon ? "时限将至" : "";
}

setInterval(() => {
  const now = Date.now();
  for (const el of document.querySelectorAll(".countdown")) tickOne(el, now);
}, 1000);

export function table(headers, rows) {
  return h("table",
    h("thead", h("tr", headers.map((t) => h("th", t)))),
    h("tbody", rows));
}

export function empty(text) {
  return h("p.empty", text);
}
