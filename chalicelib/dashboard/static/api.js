// The API with the signed-in bearer token. The token lives in sessionStorage: it survives a
// reload but not closing the tab, and is never put in a URL the server sees.

const KEY = "yuqing.token";

export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

// What an HTTP status means for the person reading it; the API's own message follows.
const STATUS_TEXT = {
  0: "无法连接服务器，请检查网络后重试",
  400: "提交的内容有误",
  401: "登录已失效",
  403: "无权执行此操作",
  404: "未找到",
  406: "服务器尚未提供此格式的文档",
  409: "状态已变化（可能已有他人处理），请刷新后再试",
  413: "内容过大",
  429: "请求过于频繁，请稍后再试",
  503: "服务暂不可用，请稍后再试",
};

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || (status ? `HTTP ${status}` : "network error"));
    this.status = status;
    this.body = body || {};
  }
  /** In Chinese what went wrong, then the API's message and each problem (they name fields). */
  describe() {
    const head = STATUS_TEXT[this.status] || (this.status >= 500 ? "服务器出错，请稍后再试" : `请求失败（${this.status}）`);
    const problems = (this.body.problems || []).map((p) => `${p.path}: ${p.message}`);
    const detail = this.body.message ? [this.body.message, ...problems].join("；") : problems.join("；");
    // A gateway may echo the Authorization header in its message: never put the token on screen.
    const t = token();
    const shown = t ? detail.split(t).join("***") : detail;
    return shown ? `${head}（${shown}）` : head;
  }
}

/** fetch, with a failure to connect as an ApiError of status 0 (described in Chinese). */
async function send(path, init) {
  try {
    return await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { message: err && err.message });
  }
}

async function call(method, path, body, extraHeaders) {
  const headers = { Accept: "application/json", ...(extraHeaders || {}) };
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await send(path, init);
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body === undefined ? {} : body);

/** The file name a Content-Disposition header gives (RFC 6266: filename* first), or null. */
export function dispositionName(header) {
  if (!header) return null;
  let name = "";
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header);
  if (star) {
    try { name = decodeURIComponent(star[2].trim().replace(/^"|"$/g, "")); } catch { name = ""; }
  }
  if (!name) {
    const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/i.exec(header);
    name = plain ? (plain[2] ?? plain[1]).trim() : "";
  }
  // Only a name: never a path the browser might be told to write into.
  return name ? name.replace(/[\\/]/g, "_") : null;
}

/** Download a document (briefing, report) with the token; saved under the server's file name
 * (Content-Disposition), else `fallback`. */
export async function download(path, fallback) {
  const response = await send(path, { headers: { Authorization: `Bearer ${token()}` }, cache: "no-store" });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(response.status, data);
  }
  // A route that answers JSON where a document was asked for has no such format (yet).
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json") && !/\.json$/i.test(fallback)) {
    throw new ApiError(406, { message: `format not served (${type.split(";")[0]})` });
  }
  const blob = await response.blob();
  const name = dispositionName(response.headers.get("Content-Disposition")) || fallback;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined && v !== false) search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : "";
}
