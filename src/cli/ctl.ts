// `rtscope ctl`: steers a running `rtscope serve`, as the seed module's sysfs files did
// (add_pid [trace], del_pid, set_slo_*_bound), through its HTTP API on the unix socket
// (default) or a URL.

import { readFileSync, writeFileSync } from "node:fs";
import pkg from "../../package.json" with { type: "json" };
import { METRIC_KEYS, type MetricKey, type Report } from "../model/report.ts";
import { durationText, usCell } from "../output/table.ts";
import { formatTextReport } from "../output/text-report.ts";
import { formatWorstWindow } from "../output/window-text.ts";
import { type ApiResponse, callApi, DaemonUnreachable, type Endpoint } from "../server/client.ts";
import { defaultSocketPath } from "../server/socket.ts";
import type { TaskDetail, TaskSummary } from "../server/views.ts";
import { HELP_OPTIONS, parseCommandLine, UsageError } from "./options.ts";

export const summary = "control a running daemon (add/del tasks, SLO bounds, statistics)";

export const help = `Usage: rtscope ctl [--socket PATH | --url URL [--token-file PATH]] COMMAND

Commands (the seed module's control files):
  add PID [--trace] [--scope thread|process]
                          track PID (add_pid): the whole process when PID is a process id,
                          the thread alone when it is a thread id (--scope overrides);
                          --trace also captures worst-case windows ("add_pid PID trace")
  del PID                 stop tracking (del_pid): prints its final statistics and worst windows
  slo PID METRIC BOUND    set a bound (set_slo_*_bound): BOUND in ns or with a unit (50us);
                          METRIC: ${METRIC_KEYS.join(", ")}
  slo PID METRIC off      remove the bound
  list                    tracked tasks with their maxima, p99 and violations
  show PID                statistics of one task (exited tasks keep their final ones)
  worst PID METRIC [--format text|json|tracedat|perfetto] [-o FILE] [--window max|first|worst]
                          the worst-case window of a task added with --trace (tracedat needs -o)

Options:
  --socket PATH           the daemon's unix socket (default ${defaultSocketPath()})
  --url URL               talk HTTP to URL instead (e.g. http://127.0.0.1:9464)
  --token-file PATH       bearer token for --url (serve --token-file)
  --json                  print the API's JSON (list, show, del, add)

Examples:
  sudo rtscope ctl add $(pidof cyclictest) --trace
  sudo rtscope ctl slo $(pidof cyclictest) timer 100us
  sudo rtscope ctl list
  sudo rtscope ctl worst $(pidof cyclictest) timer --format tracedat -o worst.dat
  sudo rtscope ctl del $(pidof cyclictest)

Exit status: 0 ok, 1 usage error, 2 the daemon refused (unknown pid, bad bound...) or does not answer.
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  socket: { type: "string" },
  url: { type: "string" },
  "token-file": { type: "string" },
  json: { type: "boolean" },
  trace: { type: "boolean" },
  scope: { type: "string" },
  format: { type: "string", short: "f" },
  output: { type: "string", short: "o" },
  window: { type: "string" },
} as const;

const ARITY: Record<string, number[]> = { add: [1], del: [1], slo: [3], list: [0], show: [1], worst: [2] };

function pidArg(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text))
    throw new UsageError(`expected a process or thread id, got '${text}'`, "ctl");
  return Number(text);
}

function metricArg(text: string): MetricKey {
  if (!(METRIC_KEYS as readonly string[]).includes(text))
    throw new UsageError(`unknown metric '${text}'; metrics: ${METRIC_KEYS.join(", ")}`, "ctl");
  return text as MetricKey;
}

function endpointOf(v: { socket?: string; url?: string; "token-file"?: string }): Endpoint {
  if (v.socket !== undefined && v.url !== undefined)
    throw new UsageError("give --socket or --url, not both", "ctl");
  let token: string | undefined;
  if (v["token-file"] !== undefined) {
    try {
      token = readFileSync(v["token-file"], "utf8").trim();
    } catch (e) {
      throw new UsageError(`--token-file: ${(e as Error).message}`, "ctl");
    }
  }
  if (v.url !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(v.url))
      throw new UsageError(`--url expects http://HOST:PORT, got '${v.url}'`, "ctl");
    if (v.url.startsWith("https:"))
      throw new UsageError("--url: the daemon speaks plain HTTP (put a TLS proxy in front)", "ctl");
    return { url: v.url, token };
  }
  return { socket: v.socket ?? defaultSocketPath(), token };
}

/** The API's answer as JSON, or a readable error for anything but 2xx. */
function json<T>(r: ApiResponse): T {
  const text = r.body.toString("utf8");
  if (r.status < 200 || r.status >= 300) {
    let msg = text;
    try {
      msg = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: the raw text
    }
    throw new Error(`the daemon refused (${r.status}): ${msg}`);
  }
  return JSON.parse(text) as T;
}

/** A task's statistics as a text report (the same layout as record/report). */
export function detailAsReport(d: TaskDetail): Report {
  return {
    tool: "rtscope",
    version: pkg.version,
    source: {
      kind: "live",
      path: `${d.scope} ${d.comm} (pid ${d.pid}), tracked since ${d.addedAt}${d.exited ? `, exited ${d.exitedAt}` : ""}`,
      clock: d.capture.clock,
      cpus: d.capture.cpus,
      kernel: d.capture.kernel,
      events: d.capture.events,
      lostEvents: d.capture.lostEvents,
      format: "rtscope serve",
    },
    slo: d.slo,
    selection: `${d.scope === "process" ? "--tgid" : "--pid"} ${d.pid}`,
    tasks: d.tasks,
    diagnostics: [],
  };
}

function printDetail(d: TaskDetail): void {
  process.stdout.write(
    formatTextReport(detailAsReport(d), {
      width: process.stdout.isTTY ? process.stdout.columns : 100,
      windowRenderer: (w, task, metric) => formatWorstWindow(w, task, metric, { events: false }),
    }),
  );
}

function listText(tasks: TaskSummary[]): string {
  if (tasks.length === 0) return "no tasks tracked (rtscope ctl add PID)\n";
  const lines: string[] = [];
  for (const t of tasks) {
    const state = t.exited ? `exited ${t.exitedAt}` : "running";
    lines.push(
      `${t.pid}  ${t.comm}  ${t.scope}, ${t.threads} thread${t.threads === 1 ? "" : "s"}${t.trace ? ", trace" : ""}, ${state}`,
    );
    for (const key of METRIC_KEYS) {
      const m = t.metrics[key];
      if (m === undefined) continue;
      const bound = m.bound !== undefined ? `, ${m.violations} over ${durationText(m.bound)}` : "";
      lines.push(
        `    ${key.padEnd(8)} count ${m.count}, max ${usCell(m.max)} us, p99 ${usCell(m.p99)} us${bound}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("ctl", argv, OPTIONS);
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const [cmd, ...args] = positionals;
  if (cmd === undefined) throw new UsageError("no command (add, del, slo, list, show, worst)", "ctl");
  const arity = ARITY[cmd];
  if (arity === undefined)
    throw new UsageError(`unknown command '${cmd}' (add, del, slo, list, show, worst)`, "ctl");
  if (!arity.includes(args.length))
    throw new UsageError(
      `'ctl ${cmd}' takes ${arity[0]} argument${arity[0] === 1 ? "" : "s"}, got ${args.length}`,
      "ctl",
    );
  if (values.trace && cmd !== "add") throw new UsageError("--trace goes with add", "ctl");
  if (values.scope !== undefined && (cmd !== "add" || !["thread", "process"].includes(values.scope)))
    throw new UsageError("--scope thread|process goes with add", "ctl");
  if (
    (values.format !== undefined || values.output !== undefined || values.window !== undefined) &&
    cmd !== "worst"
  )
    throw new UsageError("--format, -o and --window go with worst", "ctl");
  const ep = endpointOf(values);
  try {
    return await dispatch(ep, cmd, args, values);
  } catch (e) {
    if (e instanceof DaemonUnreachable) {
      process.stderr.write(`rtscope ctl: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

async function dispatch(
  ep: Endpoint,
  cmd: string,
  args: string[],
  v: { json?: boolean; trace?: boolean; scope?: string; format?: string; output?: string; window?: string },
): Promise<number> {
  const out = (s: string) => process.stdout.write(s);
  switch (cmd) {
    case "add": {
      const body: Record<string, unknown> = { pid: pidArg(args[0]) };
      if (v.trace) body.trace = true;
      if (v.scope !== undefined) body.scope = v.scope;
      const d = json<TaskDetail>(await callApi(ep, "POST", "/api/tasks", body));
      if (v.json) out(`${JSON.stringify(d, null, 2)}\n`);
      else
        out(
          `tracking ${d.scope} ${d.comm} (pid ${d.pid}, ${d.threads} thread${d.threads === 1 ? "" : "s"} so far)${d.trace ? " with worst-case windows" : ""}\n`,
        );
      return 0;
    }
    case "del":
    case "show": {
      const pid = pidArg(args[0]);
      const d = json<TaskDetail>(await callApi(ep, cmd === "del" ? "DELETE" : "GET", `/api/tasks/${pid}`));
      if (v.json) out(`${JSON.stringify(d, null, 2)}\n`);
      else printDetail(d);
      return 0;
    }
    case "slo": {
      const pid = pidArg(args[0]);
      const metric = metricArg(args[1]);
      const path = `/api/tasks/${pid}/slo/${metric}`;
      if (args[2] === "off") {
        json<TaskSummary>(await callApi(ep, "DELETE", path));
        out(`pid ${pid}: no ${metric} bound\n`);
        return 0;
      }
      const bound: number | string = /^\d+$/.test(args[2]) ? Number(args[2]) : args[2];
      const s = json<TaskSummary>(await callApi(ep, "PUT", path, { bound }));
      out(`pid ${pid}: ${metric} bound ${durationText(s.slo[metric] ?? 0)} (violations counted from now)\n`);
      return 0;
    }
    case "list": {
      const r = json<{ tasks: TaskSummary[] }>(await callApi(ep, "GET", "/api/tasks"));
      out(v.json ? `${JSON.stringify(r, null, 2)}\n` : listText(r.tasks));
      return 0;
    }
    default: {
      const pid = pidArg(args[0]);
      const metric = metricArg(args[1]);
      const format = v.format ?? "text";
      if (!["text", "json", "tracedat", "perfetto"].includes(format))
        throw new UsageError(`--format: text, json, tracedat or perfetto, got '${format}'`, "ctl");
      if (format === "tracedat" && v.output === undefined)
        throw new UsageError("a trace.dat is binary: name the output file with -o FILE", "ctl");
      if (v.window !== undefined && !["max", "first", "worst"].includes(v.window))
        throw new UsageError(`--window: max, first or worst, got '${v.window}'`, "ctl");
      const q = new URLSearchParams({ format });
      if (v.window !== undefined) q.set("window", v.window);
      const r = await callApi(ep, "GET", `/api/tasks/${pid}/worst/${metric}?${q}`);
      if (r.status !== 200) json(r);
      if (v.output !== undefined) {
        writeFileSync(v.output, r.body);
        process.stderr.write(
          `rtscope ctl: wrote the ${metric} window of pid ${pid} to ${v.output} (${format})\n`,
        );
      } else out(r.body.toString("utf8"));
      return 0;
    }
  }
}
