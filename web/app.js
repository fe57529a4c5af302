// The dashboard: the live task table (from /api/stream's `stats`, once a second), the
// selected task's charts, SLO bounds and worst windows (GET /api/tasks/PID), and a worst
// window's timeline (GET /api/tasks/PID/worst/METRIC). Every change goes through the API
// and the page shows the API's own message when it refuses one.

import { ApiError, api, readStream, setToken, whenUnauthorized } from "./api.js";
import { histogramChart, percentileChart, sumHistograms } from "./charts.js";
import { byId, h, replace } from "./dom.js";
import { dur, METRICS, us } from "./format.js";
import { causesPanel, layoutTimeline, legend, timelineSvg } from "./timeline.js";

/**
 * @typedef {{ count: number, max: number, p99: number, violations: number, bound?: number }} MetricRow
 * @typedef {{ pid: number, comm: string, scope: string, trace: boolean, exited: boolean, threads: number,
 *   slo: Record<string, number>, metrics: Record<string, MetricRow> }} TaskSummary
 */

const state = {
  /** @type {TaskSummary[]} */
  tasks: [],
  /** @type {number | null} */
  selected: null,
  /** @type {any} */
  detail: null,
  /** what the detail was drawn from (its summary), to redraw only when it changed */
  drawn: "",
  detailBusy: false,
  /** @type {{ pid: number, metric: string, role: string, w: any, tid: number, comm: string, cpus: number } | null} */
  window: null,
  /** @type {AbortController | null} */
  stream: null,
  needToken: false,
};

const ROLES = /** @type {const} */ ([
  ["max", "max"],
  ["first", "first violation"],
  ["worst", "worst violation"],
]);

function showTokenForm() {
  state.needToken = true;
  state.stream?.abort();
  byId("token-box").hidden = false;
  setConn("token needed", "bad");
  byId("token").focus();
}

/** @param {string} text @param {string} cls */
function setConn(text, cls) {
  const el = byId("conn");
  el.textContent = text;
  el.className = `conn ${cls}`;
}

async function start() {
  try {
    const [health, list] = await Promise.all([api("GET", "/api/health"), api("GET", "/api/tasks")]);
    renderHealth(health);
    state.tasks = list.tasks;
    renderTable();
    connect();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) setConn(`daemon unreachable: ${message(e)}`, "bad");
  }
}

/** The event stream, reconnected after a break (not while a token is missing). */
function connect() {
  const ctl = new AbortController();
  state.stream = ctl;
  setConn("live", "ok");
  readStream(onEvent, ctl.signal)
    .catch((e) => {
      if (!ctl.signal.aborted) setConn(`stream: ${message(e)}; reconnecting`, "bad");
    })
    .finally(() => {
      if (ctl.signal.aborted || state.needToken) return;
      setConn("stream ended; reconnecting", "bad");
      setTimeout(connect, 2000);
    });
}

/** @param {string} event @param {any} data */
function onEvent(event, data) {
  if (event === "stats") {
    renderHealth(data);
    state.tasks = data.tasks;
    renderTable();
    if (state.selected !== null) refreshDetail();
  } else if (event === "violation") {
    const box = byId("violation-log");
    box.prepend(
      h("div", { class: "violation" }, [
        `${data.comm} (${data.tid}, pid ${data.pid}) ${data.metric} ${dur(data.value)} > bound ${dur(data.bound)}`,
      ]),
    );
    while (box.childElementCount > 8) box.lastElementChild?.remove();
  } else if (event === "tracefs") {
    setConn(`tracefs: ${data.message}`, "bad");
  }
}

/** @param {any} d health or stats */
function renderHealth(d) {
  const parts = [
    `${d.eventsPerSec} events/s`,
    `${d.lostEvents} lost`,
    `rtscope CPU ${d.cpuPercent} %`,
    `up ${d.uptime} s`,
  ];
  if (d.violationsNotStreamed) parts.push(`${d.violationsNotStreamed} violations not streamed`);
  byId("health").textContent = parts.join(" · ");
}

function renderTable() {
  const body = /** @type {HTMLTableSectionElement} */ (byId("tasks").querySelector("tbody"));
  const rows = [];
  for (const t of state.tasks) {
    const metrics = METRICS.filter(([k]) => t.metrics[k] !== undefined);
    const span = Math.max(1, metrics.length);
    const selected = t.pid === state.selected ? " selected" : "";
    const head = [
      h("td", { rowspan: span, class: "pid" }, [String(t.pid)]),
      h("td", { rowspan: span, class: "comm" }, [t.comm]),
      h("td", { rowspan: span, class: "threads num" }, [String(t.threads)]),
      h("td", { rowspan: span, class: "state" }, [
        `${t.exited ? "exited" : "live"} · ${t.scope}${t.trace ? " · trace" : ""}`,
      ]),
    ];
    if (metrics.length === 0)
      rows.push(
        h("tr", { class: `task${selected}`, "data-pid": t.pid }, [
          ...head,
          h("td", { colspan: 6, class: "note" }, ["no samples yet"]),
        ]),
      );
    metrics.forEach(([k], i) => {
      const m = t.metrics[k];
      const over = m.violations > 0 ? " over" : "";
      rows.push(
        h("tr", { class: `task${selected}`, "data-pid": t.pid, "data-metric": k }, [
          ...(i === 0 ? head : []),
          h("td", { class: "metric" }, [k]),
          h("td", { class: "count num", "data-value": m.count }, [String(m.count)]),
          h("td", { class: "p99 num", "data-value": m.p99 }, [us(m.p99)]),
          h("td", { class: "max num", "data-value": m.max }, [us(m.max)]),
          h("td", { class: "bound num", "data-value": m.bound ?? "" }, [
            m.bound === undefined ? "–" : us(m.bound),
          ]),
          h("td", { class: `violations num${over}`, "data-value": m.violations }, [String(m.violations)]),
        ]),
      );
    });
  }
  replace(body, rows);
  byId("no-tasks").hidden = state.tasks.length > 0;
}

/** @param {number} pid */
function select(pid) {
  if (state.selected !== pid) {
    state.selected = pid;
    state.drawn = "";
    state.detail = null;
    byId("window").hidden = true;
    byId("slo-error").textContent = "";
    byId("detail-status").textContent = "";
    renderSloEditor();
  }
  byId("detail").hidden = false;
  renderTable();
  refreshDetail();
}

async function refreshDetail() {
  const pid = state.selected;
  if (pid === null || state.detailBusy) return;
  const summary = state.tasks.find((t) => t.pid === pid);
  const key = JSON.stringify(summary ?? null);
  if (key === state.drawn && state.detail !== null) return;
  state.detailBusy = true;
  try {
    const d = await api("GET", `/api/tasks/${pid}`);
    if (state.selected !== pid) return;
    state.detail = d;
    state.drawn = key;
    renderDetail();
  } catch (e) {
    if (state.selected === pid) byId("detail-status").textContent = message(e);
  } finally {
    state.detailBusy = false;
  }
}

function renderDetail() {
  const d = state.detail;
  byId("detail-title").textContent =
    `${d.comm} — pid ${d.pid} (${d.scope}, ${d.threads} thread${d.threads === 1 ? "" : "s"}${d.exited ? ", exited" : ""})`;
  for (const row of byId("slo").querySelectorAll("tr[data-metric]")) {
    const k = row.getAttribute("data-metric") ?? "";
    const cur = /** @type {HTMLElement} */ (row.querySelector(".current"));
    cur.textContent = d.slo[k] === undefined ? "none" : dur(d.slo[k]);
    cur.setAttribute("data-value", d.slo[k] === undefined ? "" : String(d.slo[k]));
  }
  renderCharts(d);
  renderWorstList(d);
}

/** @param {any} d */
function renderCharts(d) {
  const cards = [];
  for (const [k, what] of METRICS) {
    const threads = d.tasks.filter((/** @type {any} */ t) => t.metrics[k] !== undefined);
    if (threads.length === 0) continue;
    const hist = sumHistograms(
      threads
        .map((/** @type {any} */ t) => d.histograms[t.tid]?.[k])
        .filter((/** @type {any} */ x) => x !== undefined),
    );
    const bound = d.slo[k];
    cards.push(
      h("div", { class: "card", "data-metric": k }, [
        h("h3", {}, [what]),
        h("div", { class: "pair" }, [
          hist === null ? null : histogramChart(hist, bound),
          percentileChart(
            threads.map((/** @type {any} */ t) => ({ tid: t.tid, comm: t.comm, values: t.metrics[k] })),
            bound,
          ),
        ]),
      ]),
    );
  }
  replace(byId("charts"), cards.length ? cards : [h("p", { class: "note" }, ["no samples yet"])]);
}

function renderSloEditor() {
  const body = /** @type {HTMLTableSectionElement} */ (byId("slo").querySelector("tbody"));
  replace(
    body,
    METRICS.map(([k, what]) => {
      const input = h("input", {
        name: `bound-${k}`,
        placeholder: "e.g. 50us",
        size: 9,
        "aria-label": `${k} bound`,
      });
      const set = h("button", { type: "button", class: "set" }, ["set"]);
      const clear = h("button", { type: "button", class: "clear" }, ["clear"]);
      set.addEventListener("click", () => changeSlo(k, input.value.trim()));
      input.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") changeSlo(k, input.value.trim());
      });
      clear.addEventListener("click", () => changeSlo(k, null));
      return h("tr", { "data-metric": k, title: what }, [
        h("th", {}, [k]),
        h("td", { class: "current" }, ["…"]),
        h("td", {}, [input]),
        h("td", {}, [set, clear]),
      ]);
    }),
  );
}

/**
 * PUT (a bound as typed: digits are ns, else a duration like "50us") or DELETE.
 * @param {string} metric
 * @param {string | null} text
 */
async function changeSlo(metric, text) {
  const pid = state.selected;
  if (pid === null) return;
  const err = byId("slo-error");
  err.textContent = "";
  try {
    if (text === null) await api("DELETE", `/api/tasks/${pid}/slo/${metric}`);
    else
      await api("PUT", `/api/tasks/${pid}/slo/${metric}`, {
        bound: /^\d+$/.test(text) ? Number(text) : text,
      });
    byId("detail-status").textContent = text === null ? `${metric} bound removed` : `${metric} bound set`;
    state.drawn = "";
    const list = await api("GET", "/api/tasks");
    state.tasks = list.tasks;
    renderTable();
    await refreshDetail();
  } catch (e) {
    err.textContent = message(e);
  }
}

/** @param {any} d */
function renderWorstList(d) {
  const box = byId("worst");
  if (!d.trace) {
    replace(box, [
      h("p", { class: "note" }, ["added without worst-case windows (add it with them to get timelines)"]),
    ]);
    return;
  }
  const rows = [];
  for (const [k] of METRICS) {
    /** @type {any} */
    let best = null;
    let violations = 0;
    for (const t of d.tasks) {
      const w = t.worst?.[k];
      violations += t.metrics[k]?.slo?.violations ?? 0;
      if (w !== undefined && (best === null || w.value > best.w.value))
        best = { w, tid: t.tid, comm: t.comm };
    }
    if (best === null) continue;
    const top = best.w.causes[0];
    const buttons = ROLES.filter(([role]) => role === "max" || violations > 0).map(([role, label]) => {
      const b = h("button", { type: "button", "data-role": role }, [label]);
      b.addEventListener("click", () => loadWindow(d.pid, k, role, d.capture.cpus));
      return b;
    });
    rows.push(
      h("tr", { "data-metric": k }, [
        h("th", {}, [k]),
        h("td", { class: "num" }, [dur(best.w.value)]),
        h("td", {}, [`${best.comm} (${best.tid}) on CPU ${best.w.cpu}`]),
        h("td", { class: "top-cause" }, [
          top ? `${top.kind} ${top.name} ${top.percent?.toFixed(0) ?? "?"} %` : "",
        ]),
        h("td", {}, buttons),
      ]),
    );
  }
  replace(
    box,
    rows.length
      ? [h("table", { class: "worst" }, [h("tbody", {}, rows)])]
      : [h("p", { class: "note" }, ["no window yet (one is captured at each new maximum)"])],
  );
}

/**
 * @param {number} pid
 * @param {string} metric
 * @param {string} role
 * @param {number} cpus
 */
async function loadWindow(pid, metric, role, cpus) {
  const status = byId("detail-status");
  try {
    const j = await api("GET", `/api/tasks/${pid}/worst/${metric}?window=${role}`);
    const x = j.windows[0];
    state.window = { pid, metric, role, w: x.window, tid: x.tid, comm: x.comm, cpus };
    drawWindow();
    byId("window").hidden = false;
    byId("window").scrollIntoView({ block: "nearest" });
  } catch (e) {
    status.textContent = message(e);
  }
}

/** @param {{ t0: number, t1: number }} [range] */
function drawWindow(range) {
  const cur = state.window;
  if (cur === null) return;
  const { w } = cur;
  const role = ROLES.find(([r]) => r === cur.role)?.[1] ?? cur.role;
  byId("window-title").textContent =
    `${cur.comm} (${cur.tid}) ${cur.metric}: ${dur(w.value)} — ${role} window, ${w.events.length} events`;
  const layout = layoutTimeline(w, cur.cpus, range);
  replace(byId("timeline"), [timelineSvg(layout, cur.tid), legend(layout, cur.tid)]);
  replace(byId("causes"), [causesPanel(w, cur.metric)]);
}

/** @param {unknown} e */
function message(e) {
  return e instanceof Error ? e.message : String(e);
}

function init() {
  whenUnauthorized(showTokenForm);
  byId("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = /** @type {HTMLInputElement} */ (byId("token"));
    setToken(input.value.trim());
    input.value = "";
    byId("token-box").hidden = true;
    state.needToken = false;
    start();
  });
  byId("add-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = byId("add-error");
    err.textContent = "";
    const pidText = /** @type {HTMLInputElement} */ (byId("add-pid")).value.trim();
    const scope = /** @type {HTMLSelectElement} */ (byId("add-scope")).value;
    /** @type {Record<string, unknown>} */
    const body = { pid: Number(pidText), trace: /** @type {HTMLInputElement} */ (byId("add-trace")).checked };
    if (scope !== "") body.scope = scope;
    try {
      const added = await api("POST", "/api/tasks", body);
      state.tasks = (await api("GET", "/api/tasks")).tasks;
      select(added.pid);
    } catch (e) {
      err.textContent = message(e);
    }
  });
  byId("tasks").addEventListener("click", (ev) => {
    const row = /** @type {Element} */ (ev.target).closest("tr[data-pid]");
    if (row !== null) select(Number(row.getAttribute("data-pid")));
  });
  byId("remove").addEventListener("click", async () => {
    const pid = state.selected;
    if (pid === null) return;
    try {
      const final = await api("DELETE", `/api/tasks/${pid}`);
      state.selected = null;
      byId("detail").hidden = true;
      byId("window").hidden = true;
      state.tasks = (await api("GET", "/api/tasks")).tasks;
      renderTable();
      byId("tasks-status").textContent = `pid ${final.pid} (${final.comm}) is no longer tracked`;
    } catch (e) {
      byId("detail-status").textContent = message(e);
    }
  });
  byId("zoom-all").addEventListener("click", () => drawWindow());
  byId("zoom-latency").addEventListener("click", () => {
    const w = state.window?.w;
    if (w?.wakeTs === undefined || w.switchInTs === undefined) return;
    const pad = Math.max(1000, (w.switchInTs - w.wakeTs) * 0.05);
    drawWindow({ t0: w.wakeTs - pad, t1: w.switchInTs + pad });
  });
  start();
}

init();
