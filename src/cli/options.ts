// Command-line options shared by every command (report, record, top, hist...): one parser
// (node:util parseArgs, strict) and one place that turns option values into the model's
// Selection, SLO bounds, output format and histogram settings. Mistakes become a
// UsageError (exit 1) that names the offending option and what it accepts.

import { type ParseArgsConfig, parseArgs } from "node:util";
import { METRIC_KEYS, type MetricKey, type SloBounds } from "../model/report.ts";
import { emptySelection, type Selection } from "../model/selection.ts";
import { parseDuration } from "../model/units.ts";
import type { WindowChoice } from "../output/text-report.ts";

/** A mistake on the command line: exit status 1, message printed with a pointer to --help. */
export class UsageError extends Error {
  /** the command whose help the user should read ("" for the top level) */
  readonly command: string;
  constructor(message: string, command = "") {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

export const HELP_OPTIONS = {
  help: { type: "boolean", short: "h" },
} as const satisfies OptionsConfig;

export const SELECTION_OPTIONS = {
  pid: { type: "string", multiple: true },
  tgid: { type: "string", multiple: true },
  comm: { type: "string", multiple: true },
  rt: { type: "boolean" },
  "irq-threads": { type: "boolean" },
} as const satisfies OptionsConfig;

export const SLO_OPTIONS = {
  slo: { type: "string", multiple: true },
} as const satisfies OptionsConfig;

export const ANALYSIS_OPTIONS = {
  "wakeup-event": { type: "string" },
} as const satisfies OptionsConfig;

export const OUTPUT_OPTIONS = {
  format: { type: "string", short: "f" },
  output: { type: "string", short: "o" },
  worst: { type: "string" },
} as const satisfies OptionsConfig;

export const WINDOW_OPTIONS = {
  margin: { type: "string" },
  "window-memory": { type: "string" },
} as const satisfies OptionsConfig;

export const HIST_OPTIONS = {
  bucket: { type: "string" },
  entries: { type: "string" },
  "with-zeros": { type: "boolean" },
} as const satisfies OptionsConfig;

export interface ParsedCommandLine<T extends OptionsConfig> {
  values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true; strict: true }>>["values"];
  positionals: string[];
  /** arguments after a bare `--` (a command to launch), [] when none */
  rest: string[];
}

/**
 * Strict parse of `argv` against `options`. Unknown options, missing values and stray
 * values become a UsageError naming the option; `--` ends options (what follows is `rest`).
 */
export function parseCommandLine<T extends OptionsConfig>(
  command: string,
  argv: string[],
  options: T,
  { positionals = true }: { positionals?: boolean } = {},
): ParsedCommandLine<T> {
  const dash = argv.indexOf("--");
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const rest = dash >= 0 ? argv.slice(dash + 1) : [];
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: own, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(describeParseError(e), command);
  }
  if (!positionals && parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`, command);
  return { values: parsed.values as ParsedCommandLine<T>["values"], positionals: parsed.positionals, rest };
}

/** parseArgs' messages are long and mention JavaScript; keep what names the option. */
function describeParseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const opt = /'([^']+)'/.exec(msg)?.[1] ?? "";
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${opt}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/argument missing/.test(msg)) return `option '${opt.split(" ")[0]}' needs a value`;
      if (/does not take an argument/.test(msg)) return `option '${opt}' does not take a value`;
      return msg;
    default:
      return msg;
  }
}

// ---------------------------------------------------------------- selection

/** Parses "42", "42,43" (repeatable) into positive integers. */
export function parseIdList(values: readonly string[] | undefined, option: string, command = ""): number[] {
  const out: number[] = [];
  for (const v of values ?? []) {
    for (const part of v.split(",")) {
      const t = part.trim();
      if (!/^\d+$/.test(t) || Number(t) <= 0 || Number(t) > 0x3fffffff)
        throw new UsageError(`${option} expects a positive thread/process id, got '${part}'`, command);
      out.push(Number(t));
    }
  }
  return out;
}

export interface SelectionValues {
  pid?: string[];
  tgid?: string[];
  comm?: string[];
  rt?: boolean;
  "irq-threads"?: boolean;
}

export function selectionFromValues(v: SelectionValues, command = ""): Selection {
  const s = emptySelection();
  s.tids = parseIdList(v.pid, "--pid", command);
  s.tgids = parseIdList(v.tgid, "--tgid", command);
  for (const c of v.comm ?? []) {
    try {
      s.comms.push(new RegExp(c));
    } catch (e) {
      throw new UsageError(`--comm: invalid regular expression '${c}': ${(e as Error).message}`, command);
    }
  }
  s.rt = v.rt === true;
  s.irqThreads = v["irq-threads"] === true;
  return s;
}

// ---------------------------------------------------------------- SLO bounds

/** Parses "latency=50us,response=2ms" (repeatable) into bounds in ns. */
export function parseSlo(values: readonly string[] | undefined, command = ""): SloBounds {
  const slo: SloBounds = {};
  for (const v of values ?? []) {
    for (const part of v.split(",")) {
      if (part.trim() === "") continue;
      const eq = part.indexOf("=");
      if (eq < 0)
        throw new UsageError(
          `--slo expects METRIC=BOUND pairs (e.g. latency=50us), got '${part}'; metrics: ${METRIC_KEYS.join(", ")}`,
          command,
        );
      const key = part.slice(0, eq).trim();
      if (!(METRIC_KEYS as readonly string[]).includes(key))
        throw new UsageError(
          `--slo: unknown metric '${key}'; valid metrics: ${METRIC_KEYS.join(", ")}`,
          command,
        );
      let bound: number;
      try {
        bound = parseDuration(part.slice(eq + 1), `--slo ${key} bound`);
      } catch (e) {
        throw new UsageError((e as Error).message, command);
      }
      slo[key as MetricKey] = bound;
    }
  }
  return slo;
}

/** Parses "latency,timer" (repeatable) into metric keys, in the canonical order. */
export function parseMetricList(
  values: readonly string[] | undefined,
  option: string,
  command = "",
): MetricKey[] {
  const picked = new Set<string>();
  for (const v of values ?? [])
    for (const part of v.split(",")) {
      const key = part.trim();
      if (key === "") continue;
      if (!(METRIC_KEYS as readonly string[]).includes(key))
        throw new UsageError(
          `${option}: unknown metric '${key}'; valid metrics: ${METRIC_KEYS.join(", ")}`,
          command,
        );
      picked.add(key);
    }
  return METRIC_KEYS.filter((k) => picked.has(k));
}

// ---------------------------------------------------------------- output

export const REPORT_FORMATS = ["text", "json", "junit", "hist"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * Whether a report (report, record) shows worst-case windows, so that they must be
 * captured: JSON always (unless --windows none); text with --windows all, or violations
 * when some SLO bound is set (without a bound nothing is a violation); hist and JUnit
 * never. Capturing runs the flight recorder over every event: a text report of every
 * thread without bounds skips it (bench trace: 1.6-2.2 instead of 3.3 CPU s).
 */
export function showsWindows(o: { format: ReportFormat; windows: WindowChoice; slo: SloBounds }): boolean {
  if (o.windows === "none") return false;
  if (o.format === "json") return true;
  if (o.format !== "text") return false;
  return o.windows === "all" || Object.values(o.slo).some((b) => b !== undefined);
}

export function parseFormat<F extends string>(
  value: string | undefined,
  allowed: readonly F[],
  fallback: F,
  command = "",
  option = "--format",
): F {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    const what = option === "--format" ? "format" : "value";
    throw new UsageError(
      `${option}: unknown ${what} '${value}'; valid ${what}s: ${allowed.join(", ")}`,
      command,
    );
  }
  return value as F;
}

/** Parses a positive integer option ("--worst 5"). */
export function parseCount(
  value: string | undefined,
  option: string,
  fallback: number,
  { min = 1, max = 1_000_000 }: { min?: number; max?: number } = {},
  command = "",
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max)
    throw new UsageError(`${option} expects an integer from ${min} to ${max}, got '${value}'`, command);
  return n;
}

export function parseWakeupEvent(value: string | undefined, command = ""): "wakeup" | "waking" {
  if (value === undefined || value === "wakeup") return "wakeup";
  if (value === "waking") return "waking";
  throw new UsageError(`--wakeup-event expects 'wakeup' or 'waking', got '${value}'`, command);
}

/** "64MiB", "512KiB", "1MB", "1048576" → bytes (k/m/g are binary, as in --buffer-size). */
export function parseSize(text: string, option: string, command = ""): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!m)
    throw new UsageError(
      `invalid ${option} '${text}': expected a size like 64MiB, 512KiB or 1048576`,
      command,
    );
  const unit = (m[2] ?? "b").toLowerCase();
  const mult = unit.startsWith("k")
    ? 1024
    : unit.startsWith("m")
      ? 1024 ** 2
      : unit.startsWith("g")
        ? 1024 ** 3
        : 1;
  return Math.floor(Number(m[1]) * mult);
}

export const DEFAULT_MARGIN_NS = 100_000;
export const DEFAULT_WINDOW_MEMORY_BYTES = 64 * 1024 * 1024;

/** What createWindowCapture takes from the command line. */
export interface WindowSettings {
  marginNs: number;
  windowMemoryBytes: number;
}

export function parseWindowSettings(
  v: { margin?: string; "window-memory"?: string },
  command = "",
): WindowSettings {
  let marginNs = DEFAULT_MARGIN_NS;
  if (v.margin !== undefined) {
    try {
      marginNs = parseDuration(v.margin, "--margin");
    } catch (e) {
      throw new UsageError((e as Error).message, command);
    }
  }
  const windowMemoryBytes =
    v["window-memory"] !== undefined
      ? parseSize(v["window-memory"], "--window-memory", command)
      : DEFAULT_WINDOW_MEMORY_BYTES;
  return { marginNs, windowMemoryBytes };
}

export interface HistSettings {
  bucketNs: number;
  entries: number;
  withZeros: boolean;
}

export function parseHistSettings(
  v: { bucket?: string; entries?: string; "with-zeros"?: boolean },
  command = "",
): HistSettings {
  let bucketNs = 1000;
  if (v.bucket !== undefined) {
    try {
      bucketNs = parseDuration(v.bucket, "--bucket");
    } catch (e) {
      throw new UsageError((e as Error).message, command);
    }
    if (bucketNs < 1) throw new UsageError(`--bucket must be at least 1ns, got '${v.bucket}'`, command);
  }
  const entries = parseCount(v.entries, "--entries", 256, { min: 1, max: 1_000_000 }, command);
  return { bucketNs, entries, withZeros: v["with-zeros"] === true };
}

// ---------------------------------------------------------------- help text

export const SELECTION_HELP = `Selection (which threads are tracked; several options add up; none = every thread):
  --pid TID[,TID...]     one thread (repeatable)
  --tgid PID[,PID...]    every thread of a process, including threads created later
  --comm REGEX           every thread whose name matches (JavaScript regex), now or later
  --rt                   every SCHED_FIFO / SCHED_RR / SCHED_DEADLINE thread
  --irq-threads          every threaded-IRQ thread (irq/N-name)`;

export const SLO_HELP = `SLO bounds:
  --slo METRIC=BOUND[,METRIC=BOUND...]
                         a sample greater than BOUND is a violation; exit status 3 if any.
                         BOUND has a unit: ns, us, ms, s (e.g. --slo latency=50us,response=2ms)
                         METRIC: ${METRIC_KEYS.join(", ")}`;

export const ANALYSIS_HELP = `Analysis:
  --wakeup-event E       what starts an activation: 'wakeup' (sched_wakeup, default) or
                         'waking' (sched_waking, earlier: includes the wakeup path itself)`;

export const WINDOW_HELP = `Worst-case windows:
  --margin T             time kept before the wakeup in each window (default 100us)
  --window-memory SIZE   bound on the memory of all captured windows (default 64MiB; e.g. 512KiB)
  Each window says who woke the thread (sched_waking's context), on which CPU, onto which CPU
  (target_cpu), where it ran, and splits the time into causes on the CPU it was queued on: IRQ,
  softirq, thread (higher priority), blocking (equal/lower), idle exit, fair server, migration
  (a pull after the wakeup placed it), unknown (no event tells what that CPU ran).`;

export const METRICS_HELP = `Metrics (per thread, in microseconds in text output):
  latency   scheduling latency: wakeup -> the thread switched in (first sched_switch to it)
  response  response time: wakeup -> the thread goes to sleep voluntarily (S, D, I...);
            preemptions in between stay inside it
  relief    relief time: a timer wakeup -> the next timer sleep (one control-loop cycle)
  timer     timer latency: the thread's hrtimer expiry -> the thread running (what
            cyclictest reports); split into IRQ latency and thread latency
  irq       IRQ handling delay: hard IRQ entry -> its irq/N thread is done (threaded IRQs)
  'inferred' counts samples whose switch-in was not recorded and was taken from the first
  event where the thread was seen running.`;

export const EXIT_HELP = `Exit status: 0 ok, 1 usage error, 2 runtime error (bad file...), 3 an SLO bound was violated.`;
