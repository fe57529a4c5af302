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
  WINDOW_EVENT_ROWS,
  type WindowEvent,
  WindowEventRow,
  type WindowEventRows,
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

/**
 * `keys` first in that order, then any other keys the object has (forward compatible).
 * A key in `lazy` is written from the whole object, without reading its own value.
 */
function ordered(
  obj: object,
  keys: readonly string[],
  map: Record<string, (v: unknown) => Json> = {},
  lazy: Record<string, (obj: object) => Json> = {},
): JsonObject {
  const src = obj as Record<string, unknown>;
  const out: JsonObject = {};
  for (const k of keys) {
    if (lazy[k]) {
      if (k in src) out[k] = lazy[k](obj);
      continue;
    }
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
  "written",
  "ownCpu",
  "format",
  "start",
  "end",
  "perCpu",
];
const COMMAND_KEYS = ["argv", "pid", "ended", "exitCode", "signal", "stoppedByUser"];
const TASK_KEYS = [
  "tid",
  "tgid",
  "comm",
  "policy",
  "prio",
  "kernelPrio",
  "boostedKernelPrio",
  "start",
  "exited",
  "counters",
  "metrics",
  "worst",
  "notCaptured",
  "worstList",
];
const COUNTER_KEYS = [
  "wakeups",
  "voluntarySwitches",
  "involuntarySwitches",
  "migrations",
  "runtime",
  "incomplete",
  "cut",
  "irqCoalesced",
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
const WINDOW_KEYS = [
  "start",
  "end",
  "value",
  "cpu",
  "wakeCpu",
  "ontoCpu",
  "waker",
  "migrations",
  "incomplete",
  "forgotten",
  "memoryOmitted",
  "causeError",
  "causes",
  "events",
];
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
type EventsJson = (w: WorstWindow) => Json;

const eventsAsObjects: EventsJson = (w) =>
  w.events.map((e) => ordered(e, EVENT_KEYS, { fields: (f) => ({ ...(f as object) }) as Json }));

function windowJson(w: WorstWindow, events: EventsJson): JsonObject {
  return ordered(
    w,
    WINDOW_KEYS,
    {
      causes: (cs) =>
        (cs as object[]).map((c) =>
          ordered(c, CAUSE_KEYS, { time: int, percent: (p) => Math.round((p as number) * 10) / 10 }),
        ),
    },
    { events: (x) => events(x as WorstWindow) },
  );
}

function taskJson(t: TaskReport, events: EventsJson): JsonObject {
  return ordered(t, TASK_KEYS, {
    counters: (c) => ordered(c as object, COUNTER_KEYS, { runtime: int }),
    metrics: byMetric((m) => metricJson(m as MetricSummary)),
    worst: byMetric((w) => windowJson(w as WorstWindow, events)),
    notCaptured: byMetric((v) => v as Json),
    worstList: byMetric((l) => (l as object[]).map((x) => ordered(x, ["value", "start", "end", "cpu"]))),
  });
}

/** The report as a JSON object with the schema's key order (values unchanged). */
export function reportToJsonObject(r: Report, events: EventsJson = eventsAsObjects): JsonObject {
  return ordered(
    r,
    ["tool", "version", "source", "slo", "selection", "command", "tasks", "irqLines", "diagnostics"],
    {
      command: (c) => ordered(c as object, COMMAND_KEYS),
      source: (s) => ordered(s as ReportSource, SOURCE_KEYS),
      slo: byMetric((b) => b as Json),
      tasks: (ts) => (ts as TaskReport[]).map((t) => taskJson(t, events)),
      irqLines: (ls) =>
        (ls as object[]).map((l) =>
          ordered(l, ["irq", "name", "hardirq"], { hardirq: (m) => metricJson(m as MetricSummary) }),
        ),
      diagnostics: (ds) =>
        (ds as object[]).map((d) =>
          ordered(d, ["key", "severity", "cpu", "count", "message", "details", "remedy"]),
        ),
    },
  );
}

/** A number as JSON.stringify writes it (NaN and infinities as null). */
const num = (v: number): string => (Number.isFinite(v) ? String(v) : "null");

/** Field values repeat (thread names, callbacks): their JSON text, cached per report. */
class JsonStrings {
  private readonly cache = new Map<string, string>();
  of(s: string): string {
    let j = this.cache.get(s);
    if (j === undefined) {
      j = JSON.stringify(s);
      if (this.cache.size < 65536) this.cache.set(s, j);
    }
    return j;
  }
}

function fieldText(key: string, v: string | number, strings: JsonStrings): string {
  return `${strings.of(key)}:${typeof v === "number" ? num(v) : strings.of(v)}`;
}

/** One window event as a line of compact JSON, keys in EVENT_KEYS order (as JSON.stringify writes it). */
function eventLine(r: WindowEventRow, strings: JsonStrings): string {
  // a template per field count: a line built with += is a deep rope, slow to flatten when
  // it is encoded
  const keys = r.keys;
  const values = r.values;
  const head = `{"ts":${r.ts},"rel":${num(r.rel)},"cpu":${num(r.cpu)},"event":${strings.of(r.event)},"currentTid":${num(r.currentTid)},"fields":{`;
  switch (r.n) {
    case 0:
      return `${head}}}`;
    case 1:
      return `${head}${fieldText(keys[0], values[0], strings)}}}`;
    case 2:
      return `${head}${fieldText(keys[0], values[0], strings)},${fieldText(keys[1], values[1], strings)}}}`;
    case 3:
      return `${head}${fieldText(keys[0], values[0], strings)},${fieldText(keys[1], values[1], strings)},${fieldText(keys[2], values[2], strings)}}}`;
    case 4:
      return `${head}${fieldText(keys[0], values[0], strings)},${fieldText(keys[1], values[1], strings)},${fieldText(keys[2], values[2], strings)},${fieldText(keys[3], values[3], strings)}}}`;
    default: {
      const parts: string[] = [];
      for (let k = 0; k < r.n; k++) parts.push(fieldText(keys[k], values[k], strings));
      return `${head}${parts.join(",")}}}`;
    }
  }
}

/**
 * Output bytes in 1 MiB chunks, filled by UTF-8 encoding pieces of text as they come: a
 * report built as one string keeps every line alive until it is joined, then flattens and
 * encodes the whole text again to write it (bench/README.md has the figures).
 */
class ByteChunks {
  private static readonly SIZE = 1 << 20;
  private readonly chunks: Buffer[] = [];
  private buf = Buffer.allocUnsafe(ByteChunks.SIZE);
  private pos = 0;

  write(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit
    if (this.pos + s.length * 3 > this.buf.length) {
      this.chunks.push(this.buf.subarray(0, this.pos));
      this.buf = Buffer.allocUnsafe(Math.max(ByteChunks.SIZE, s.length * 3));
      this.pos = 0;
    }
    this.pos += this.buf.write(s, this.pos);
  }

  bytes(): Buffer {
    this.chunks.push(this.buf.subarray(0, this.pos));
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
  }
}

/** Fills `row` with a listed event (a window whose listing was read, or a report read back). */
function rowOf(e: WindowEvent, row: WindowEventRow): WindowEventRow {
  row.ts = e.ts;
  row.rel = e.rel;
  row.cpu = e.cpu;
  row.event = e.event;
  row.currentTid = e.currentTid;
  row.n = 0;
  for (const k of Object.keys(e.fields)) row.field(k, e.fields[k]);
  return row;
}

/** A window's events, one compact line each, separated by `sep`: from its rows when it has them. */
function writeEventLines(out: ByteChunks, w: WorstWindow, sep: string, strings: JsonStrings): void {
  const rows = (w as { [WINDOW_EVENT_ROWS]?: WindowEventRows })[WINDOW_EVENT_ROWS];
  const count = rows !== undefined ? rows.count : w.events.length;
  const row = new WindowEventRow();
  // lines go to the encoder ~32 KiB at a time: one native call per line cost more than the line
  let batch = "";
  for (let i = 0; i < count; i++) {
    const line = eventLine(rows !== undefined ? rows.fill(i, row) : rowOf(w.events[i], row), strings);
    batch = i ? `${batch}${sep}${line}` : line;
    if (batch.length >= 32768) {
      out.write(batch);
      batch = "";
    }
  }
  out.write(batch);
}

/** Spaces at `from` in `text`. */
function countSpaces(text: string, from: number): number {
  let i = from;
  while (text.charCodeAt(i) === 32) i++;
  return i - from;
}

/**
 * The value `build` returns as indented JSON (UTF-8, with a final newline) in which each
 * window's events are listed one per line: the value is stringified with a placeholder
 * string for each list, and the lists are encoded where the placeholders stand.
 */
function encodeReports(build: (events: EventsJson) => unknown): Buffer {
  const windows: WorstWindow[] = [];
  // NUL cannot occur in kernel strings; the nonce guards against any other text
  const tag = `\u0000${Math.random().toString(36).slice(2)}:`;
  const text = stringifyJson(
    build((w) => {
      const rows = (w as { [WINDOW_EVENT_ROWS]?: WindowEventRows })[WINDOW_EVENT_ROWS];
      if ((rows?.count ?? w.events.length) === 0) return [];
      windows.push(w);
      return `${tag}${windows.length - 1}`;
    }),
  );
  const out = new ByteChunks();
  // each placeholder stands as `"events": "<tag><n>"` on a line of its own
  const quoted = JSON.stringify(tag).slice(0, -1);
  const strings = new JsonStrings();
  let last = 0;
  for (let at = text.indexOf(quoted); at >= 0 && windows.length; at = text.indexOf(quoted, last)) {
    const close = text.indexOf('"', at + quoted.length);
    const w = windows[Number(text.slice(at + quoted.length, close))];
    const indent = " ".repeat(countSpaces(text, text.lastIndexOf("\n", at) + 1));
    const inner = `\n${indent}  `;
    out.write(text.slice(last, at));
    out.write(`[${inner}`);
    writeEventLines(out, w, `,${inner}`, strings);
    out.write(`\n${indent}]`);
    last = close + 1;
  }
  out.write(text.slice(last));
  out.write("\n");
  return out.bytes();
}

/** One report → JSON (UTF-8 bytes, with a final newline): what `--format json` writes. */
export function encodeJsonReport(r: Report): Buffer {
  return encodeReports((events) => reportToJsonObject(r, events));
}

/** Several reports (one per input file) → a JSON array, as UTF-8 bytes. */
export function encodeJsonReports(rs: readonly Report[]): Buffer {
  return encodeReports((events) => rs.map((r) => reportToJsonObject(r, events)));
}

/** One report → JSON text (with a final newline). */
export function formatJsonReport(r: Report): string {
  return encodeJsonReport(r).toString("utf8");
}

/** Several reports (one per input file) → a JSON array. */
export function formatJsonReports(rs: readonly Report[]): string {
  return encodeJsonReports(rs).toString("utf8");
}

/** A task's worst windows (by metric) as JSON bytes, events one compact line each (the store keeps them so). */
export function encodeWorstWindows(worst: Partial<Record<string, WorstWindow>>): Buffer {
  return encodeReports((events) => byMetric((w) => windowJson(w as WorstWindow, events))(worst));
}

/** JSON.parse that keeps integers past 2^53 (timestamps) exact as bigints, as the report writes them. */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, (_k, v, ctx?: { source?: string }) =>
    typeof v === "number" && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source)
      ? BigInt(ctx.source)
      : v,
  );
}
