// Same-origin API access: the token (sessionStorage only, sent as a Bearer
// header, never in a URL), JSON errors, and retries after 429/503.
const KEY = "crimemap.token";

export const auth = {
  get token() {
    try { return sessionStorage.getItem(KEY) || ""; } catch { return ""; }
  },
  set(token) { try { sessionStorage.setItem(KEY, token); } catch { /* private mode */ } },
  clear() { try { sessionStorage.removeItem(KEY); } catch { /* private mode */ } },
};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

export const isAbort = (e) => e && (e.name === "AbortError" || (e.cause && e.cause.name === "AbortError"));

let retryHook = () => {};
/** onRetry(seconds) is told when a request waits for Retry-After. */
export function setRetryHook(fn) { retryHook = fn; }

export function retryAfterSeconds(h) {
  if (!h) return 2;
  const n = Number(h);
  if (Number.isFinite(n)) return Math.min(Math.max(n, 1), 60);
  const d = Date.parse(h);
  return Number.isFinite(d) ? Math.min(Math.max((d - Date.now()) / 1000, 1), 60) : 2;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    if (signal) signal.addEventListener("abort", () => { clearTimeout(t); reject(new DOMException("aborted", "AbortError")); }, { once: true });
  });
}

async function errorMessage(res) {
  try {
    const j = await res.json();
    const e = j && j.error;
    if (typeof e === "string") return e;
    if (e && typeof e.message === "string") return e.message;
    if (e) return JSON.stringify(e);
  } catch { /* not JSON */ }
  return `${res.status} ${res.statusText}`;
}

/**
 * earlyFetch takes over the response to path that boot.js requested before
 * this bundle ran, once, if it went with the same token; else null (also
 * when that request failed: api then asks again).
 */
async function earlyFetch(path, token) {
  const early = window.__crimemapEarly;
  const e = early && early[path];
  if (!e) return null;
  delete early[path];
  if (e.token !== token) return null;
  try { return await e.response; } catch { return null; }
}

/**
 * api fetches a same-origin path. as: "json" | "blob" | "text" | "response".
 * A 204 gives null. 429/503 wait Retry-After and retry (up to 4 times).
 */
export async function api(path, { signal, token = auth.token, as = "json", retries = 4 } = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = { Accept: as === "json" ? "application/json" : "*/*" };
    if (token) headers.Authorization = "Bearer " + token;
    const res = (attempt === 0 && as === "json" && !signal && (await earlyFetch(path, token))) ||
      (await fetch(path, { headers, signal, credentials: "same-origin" }));
    if ((res.status === 429 || res.status === 503) && attempt < retries) {
      const s = retryAfterSeconds(res.headers.get("Retry-After"));
      retryHook(Math.ceil(s), res.status);
      await sleep(s * 1000, signal);
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
    if (as === "response") return res;
    if (res.status === 204) return null;
    if (as === "blob") return res.blob();
    if (as === "text") return res.text();
    return res.json();
  }
}

/** saveBlob offers a Blob as a download under name. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}
