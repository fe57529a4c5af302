// The JSON report (SPEC §2): stable key order, 2-space indent, integer nanoseconds, and
// timestamps past 2^53 written as JSON integers (a bigint never becomes a string or a
// rounded float): JSON.stringify with a replacer that passes bigints through JSON.rawJSON.

import {
  METRIC_KEYS,
  type MetricSummary,
  type Report,
  type ReportSource,
  type TaskReport,
  type WorstWindow,
} from "../model/report.ts";

type Json = null | boolean | number | bigint | string | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json | undefined;
}

/** JSON.stringify(v, null, indent) with bigints written as JSON integers (JSON.rawJSON: Node >= 21). */
export function stringifyJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, bigintAsInteger, indent);
}

const rawJson = (JSON as unknown as { rawJSON: (text: string) => unknown }).rawJSON;

function bigintAsInteger(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? rawJson(v.toString()) : v;
}

/** `keys` first in that order, then any other keys the object has (forward compatible). */
function ordered(
  obj: object,
  keys: readonly string[],
  map: Record<string, (v: unknown) => Json> = {},
): JsonObject {
  const src = obj as Record<string, unknown>;
  const out: JsonObject = {};
  for (const k of keys) {
    if (src[k] === undefined) continue;
    out[k] = map[k] ? map[k](src[k]) : (src[k] as Json);
  }
  for (const k of Object.keys(src)) {
    if (k in out || keys.includes(k) || src[k] === undefined) continue;
    out[k] = map[k] ? map[k](src[k]) : (src[k] as Json);
  }
  return out;
}

const SOURCE_KEYS = [
  "kind",
  "path",
  "clock",
  "cpus",
  "kernel",
  "events",
  "lostEvents",
  "format",
  "start",
  "end",
];
const TASK_KEYS = ["tid", "tgid", "comm", "policy", "prio", "counters", "metrics", "worst", "worstList"];
const COUNTER_KEYS = [
  "wakeups",
  "voluntarySwitches",
  "involuntarySwitches",
  "migrations",
  "runtime",
  "incomplete",
];
const METRIC_FIELD_KEYS = [
  "count",
  "min",
  "mean",
  "max",
  "maxAt",
  "p50",
  "p90",
  "p99",
  "p999",
  "p9999",
  "inferred",
  "slo",
  "irq",
  "thread",
  "hardirq",
  "wakeup",
  "handling",
];
const SLO_KEYS = ["bound", "violations", "firstAt", "worstAt"];
const WINDOW_KEYS = ["start", "end", "value", "cpu", "wakeCpu", "incomplete", "causes", "events"];
const CAUSE_KEYS = ["kind", "name", "tid", "prio", "cpu", "time", "percent"];
const EVENT_KEYS = ["ts", "rel", "cpu", "event", "currentTid", "fields"];

const int = (v: unknown): Json => (typeof v === "number" ? Math.round(v) : (v as Json));
const byMetric =
  (f: (v: unknown) => Json) =>
  (v: unknown): Json => {
    const src = v as Record<string, unknown>;
    const out: JsonObject = {};
    for (const k of METRIC_KEYS) if (src[k] !== undefined) out[k] = f(src[k]);
    for (const k of Object.keys(src)) if (!(k in out) && src[k] !== undefined) out[k] = f(src[k]);
    return out;
  };

function metricJson(m: MetricSummary): JsonObject {
  return ordered(m, METRIC_FIELD_KEYS, {
    mean: int,
    slo: (s) => (s === null ? null : ordered(s as object, SLO_KEYS)),
  });
}

function windowJson(w: WorstWindow): JsonObject {
  return ordered(w, WINDOW_KEYS, {
    causes: (cs) =>
      (cs as object[]).map((c) =>
        ordered(c, CAUSE_KEYS, { time: int, percent: (p) => Math.round((p as number) * 10) / 10 }),
      ),
    events: (es) =>
      (es as object[]).map((e) => ordered(e, EVENT_KEYS, { fields: (f) => ({ ...(f as object) }) as Json })),
  });
}

function taskJson(t: TaskReport): JsonObject {
  return ordered(t, TASK_KEYS, {
    counters: (c) => ordered(c as object, COUNTER_KEYS, { runtime: int }),
    metrics: byMetric((m) => metricJson(m as MetricSummary)),
    worst: byMetric((w) => windowJson(w as WorstWindow)),
    worstList: byMetric((l) => (l as object[]).map((x) => ordered(x, ["value", "start", "end", "cpu"]))),
  });
}

/** The report as a JSON object with the schema's key order (values unchanged). */
export function reportToJsonObject(r: Report): JsonObject {
  return ordered(r, ["tool", "version", "source", "slo", "selection", "tasks", "irqLines", "diagnostics"], {
    source: (s) => ordered(s as ReportSource, SOURCE_KEYS),
    slo: byMetric((b) => b as Json),
    tasks: (ts) => (ts as TaskReport[]).map(taskJson),
    irqLines: (ls) =>
      (ls as object[]).map((l) =>
        ordered(l, ["irq", "name", "hardirq"], { hardirq: (m) => metricJson(m as MetricSummary) }),
      ),
    diagnostics: (ds) =>
      (ds as object[]).map((d) => ordered(d, ["key", "severity", "cpu", "count", "message"])),
  });
}

/** One report → JSON text (with a final newline). */
export function formatJsonReport(r: Report): string {
  return `${stringifyJson(reportToJsonObject(r))}\n`;
}

/** Several reports (one per input file) → a JSON array. */
export function formatJsonReports(rs: readonly Report[]): string {
  return `${stringifyJson(rs.map(reportToJsonObject))}\n`;
}
