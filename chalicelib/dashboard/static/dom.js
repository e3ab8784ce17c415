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

const WAIT_TEXT = { decision: "指挥部研判", close: "结束响应", ack: "确认任务", done: "完成任务" };
export function waitText(kind, group, groupName) {
  const [head] = String(kind || "").split("#");
  const what = WAIT_TEXT[head] || kind;
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

/** "剩余 04:59" / "超时 00:12" — kept live by the ticker below. */
export function countdown(dueIso) {
  const el = h("span.countdown", { dataset: { due: dueIso || "" } });
  tickOne(el, Date.now());
  return el;
}

function tickOne(el, now) {
  const due = Date.parse(el.dataset.due);
  if (Number.isNaN(due)) { el.textContent = "—"; return; }
  const left = Math.round((due - now) / 1000);
  const abs = Math.abs(left);
  const hh = Math.floor(abs / 3600), mm = Math.floor((abs % 3600) / 60), ss = abs % 60;
  const text = (hh ? `${hh}:` : "") + `${String(mm).padStart(2, "0")}:${String(ss).padStart(2, "0")}`;
  el.textContent = left >= 0 ? `剩余 ${text}` : `超时 ${text}`;
  el.classList.toggle("overdue", left < 0);
  el.classList.toggle("soon", left >= 0 && left < 600);
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
