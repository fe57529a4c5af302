// The daemon's HTTP API as the page uses it. A daemon started with --token-file wants
// `Authorization: Bearer TOKEN` on every API request: the page asks for the token when the
// API answers 401, keeps it in this tab's sessionStorage and sends it as that header (never
// in a URL). The event stream is read with fetch (EventSource cannot send a header) and its
// frames parsed here.

const TOKEN_KEY = "rtscope-token";

/** An API refusal: its status and the daemon's message. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @type {() => void} */
let onUnauthorized = () => {};

/** Called when the API answers 401 (no token, or a wrong one). @param {() => void} fn */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/** @param {string} token */
export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** @returns {Record<string, string>} */
function authHeaders() {
  const t = sessionStorage.getItem(TOKEN_KEY);
  return t ? { authorization: `Bearer ${t}` } : {};
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {AbortSignal} [signal]
 * @returns {Promise<Response>}
 */
async function send(method, path, body, signal) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    credentials: "omit",
    cache: "no-store",
  });
  if (res.status === 401) onUnauthorized();
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const j = await res.json();
      if (j && typeof j.error === "string") message = j.error;
    } catch {
      // not JSON: the status line says enough
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

/**
 * A JSON API call; throws ApiError with the daemon's message on 4xx/5xx.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  return (await send(method, path, body)).json();
}

/**
 * Reads /api/stream until it ends or `signal` aborts; each frame goes to onEvent.
 * @param {(event: string, data: any) => void} onEvent
 * @param {AbortSignal} signal
 */
export async function readStream(onEvent, signal) {
  const res = await send("GET", "/api/stream", undefined, signal);
  if (res.body === null) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    for (let end = buf.indexOf("\n\n"); end >= 0; end = buf.indexOf("\n\n")) {
      const frame = parseFrame(buf.slice(0, end));
      buf = buf.slice(end + 2);
      if (frame !== null) onEvent(frame.event, frame.data);
    }
  }
}

/**
 * One server-sent event ("event: NAME\ndata: JSON"); comments and empty frames → null.
 * @param {string} text
 * @returns {{ event: string, data: any } | null}
 */
export function parseFrame(text) {
  let event = "message";
  const data = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  if (data.length === 0) return null;
  return { event, data: JSON.parse(data.join("\n")) };
}
