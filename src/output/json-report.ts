// The JSON report (SPEC §2): stable key order, 2-space indent, integer nanoseconds, and
// timestamps past 2^53 written as JSON integers (a bigint never becomes a string or a
// rounded float): JSON.stringify with a replacer that passes bigints through JSON.rawJSON.
// The events of a worst window are written one per line (compact): indented, they were
// 450 bytes each, 53 MB and 2.5 CPU s for the 120 k events of the bench trace's windows.

import {
  METRIC_KEYS,
  type MetricSummary,
  type Report,
  type ReportSource,
  type TaskReport,
  type WindowEvent,
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

/** What to put in place of a window's event list (the list itself, or a placeholder). */
type EventsJson = (events: WindowEvent[]) => Json;

const eventsAsObjects: EventsJson = (es) =>
  es.map((e) => ordered(e, EVENT_KEYS, { fields: (f) => ({ ...(f as object) }) as Json }));

function windowJson(w: WorstWindow, events: EventsJson): JsonObject {
  return ordered(w, WINDOW_KEYS, {
    causes: (cs) =>
      (cs as object[]).map((c) =>
        ordered(c, CAUSE_KEYS, { time: int, percent: (p) => Math.round((p as number) * 10) / 10 }),
      ),
    events: (es) => events(es as WindowEvent[]),
  });
}

function taskJson(t: TaskReport, events: EventsJson): JsonObject {
  return ordered(t, TASK_KEYS, {
    counters: (c) => ordered(c as object, COUNTER_KEYS, { runtime: int }),
    metrics: byMetric((m) => metricJson(m as MetricSummary)),
    worst: byMetric((w) => windowJson(w as WorstWindow, events)),
    worstList: byMetric((l) => (l as object[]).map((x) => ordered(x, ["value", "start", "end", "cpu"]))),
  });
}

/** The report as a JSON object with the schema's key order (values unchanged). */
export function reportToJsonObject(r: Report, events: EventsJson = eventsAsObjects): JsonObject {
  return ordered(r, ["tool", "version", "source", "slo", "selection", "tasks", "irqLines", "diagnostics"], {
    source: (s) => ordered(s as ReportSource, SOURCE_KEYS),
    slo: byMetric((b) => b as Json),
    tasks: (ts) => (ts as TaskReport[]).map((t) => taskJson(t, events)),
    irqLines: (ls) =>
      (ls as object[]).map((l) =>
        ordered(l, ["irq", "name", "hardirq"], { hardirq: (m) => metricJson(m as MetricSummary) }),
      ),
    diagnostics: (ds) =>
      (ds as object[]).map((d) => ordered(d, ["key", "severity", "cpu", "count", "message"])),
  });
}

/** A number as JSON.stringify writes it (NaN and infinities as null). */
const num = (v: number): string => (Number.isFinite(v) ? String(v) : "null");

/** One window event as a line of compact JSON, keys in EVENT_KEYS order. */
function eventLine(e: WindowEvent): string {
  return `{"ts":${e.ts},"rel":${num(e.rel)},"cpu":${num(e.cpu)},"event":${JSON.stringify(e.event)},"currentTid":${num(e.currentTid)},"fields":${JSON.stringify(e.fields)}}`;
}

/**
 * `value` as indented JSON text in which each window's events are listed one per line:
 * the lists are stringified apart and spliced in where a placeholder string stands.
 */
function stringifyReports(build: (events: EventsJson) => unknown): string {
  const lists: WindowEvent[][] = [];
  // NUL cannot occur in kernel strings; the nonce guards against any other text
  const tag = `\u0000${Math.random().toString(36).slice(2)}:`;
  const text = stringifyJson(
    build((es) => {
      if (es.length === 0) return [];
      lists.push(es);
      return `${tag}${lists.length - 1}`;
    }),
  );
  if (lists.length === 0) return text;
  const escaped = JSON.stringify(tag).slice(1, -1).replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  const slot = new RegExp(`^( *)("events": )"${escaped}(\\d+)"`, "gm");
  return text.replace(slot, (_m, indent: string, key: string, n: string) => {
    const inner = `\n${indent}  `;
    return `${indent}${key}[${inner}${lists[Number(n)].map(eventLine).join(`,${inner}`)}\n${indent}]`;
  });
}

/** One report → JSON text (with a final newline). */
export function formatJsonReport(r: Report): string {
  return `${stringifyReports((events) => reportToJsonObject(r, events))}\n`;
}

/** Several reports (one per input file) → a JSON array. */
export function formatJsonReports(rs: readonly Report[]): string {
  return `${stringifyReports((events) => rs.map((r) => reportToJsonObject(r, events)))}\n`;
}
