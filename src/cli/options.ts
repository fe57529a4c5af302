// Command-line options shared by every command (report, record, top, hist...): one parser
// (node:util parseArgs, strict) and one place that turns option values into the model's
// Selection, SLO bounds, output format and histogram settings. Mistakes become a
// UsageError (exit 1) that names the offending option and what it accepts.

import { type ParseArgsConfig, parseArgs } from "node:util";
import { METRIC_KEYS, type MetricKey, type SloBounds } from "../model/report.ts";
import { emptySelection, type Selection } from "../model/selection.ts";
import { parseDuration } from "../model/units.ts";
import { inputOverwrittenBy } from "../output/output-file.ts";
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
  samples: { type: "string" },
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
    parsed = parseArgs({ args: negativeValues(own, options), allowPositionals: true, options, strict: true });
  } catch (e) {
    throw new UsageError(describeParseError(e), command);
  }
  if (!positionals && parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`, command);
  return { values: parsed.values as ParsedCommandLine<T>["values"], positionals: parsed.positionals, rest };
}

/**
 * `--pid -1`, `-o -5`: a value that reads as a negative number is the option's value (as
 * `--pid=-1`), so that the option's own check says what is wrong with it; parseArgs would
 * take it for an option and answer with its own wording.
 */
function negativeValues(args: readonly string[], options: OptionsConfig): string[] {
  const takesValue = (a: string): string | undefined => {
    for (const [name, o] of Object.entries(options)) {
      if (o.type !== "string") continue;
      if (a === `--${name}` || (o.short !== undefined && a === `-${o.short}`)) return name;
    }
    return undefined;
  };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = takesValue(args[i]);
    if (name !== undefined && i + 1 < args.length && /^-\d/.test(args[i + 1])) {
      out.push(`--${name}=${args[i + 1]}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/** parseArgs' messages are long and mention JavaScript; keep what names the option. */
function describeParseError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  // "-o, --output <value>" → "-o, --output"
  const opt = (/'([^']+)'/.exec(msg)?.[1] ?? "").replace(/ <value>$/, "");
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${opt}'`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      if (/argument missing/.test(msg)) return `option '${opt}' needs a value`;
      if (/ambiguous/.test(msg)) {
        // parseArgs' own hint names the long form: "use '--output=-XYZ' or '-o-XYZ'"
        const long = /'(--[\w-]+)=-XYZ'/.exec(msg)?.[1] ?? opt;
        return `option '${opt}' needs a value, and what follows it is an option (write ${long}=VALUE for a value that starts with '-')`;
      }
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
      const text = part.slice(eq + 1);
      // a bare number is ambiguous (ns? us?): a bound always carries its unit
      if (/^\s*\d+(\.\d+)?\s*$/.test(text))
        throw new UsageError(
          `--slo ${key}=${text.trim()}: the bound needs a unit (ns, us, ms, s), e.g. ${key}=${text.trim()}us`,
          command,
        );
      let bound: number;
      try {
        bound = parseDuration(text, `--slo ${key} bound`);
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

/** Refuses an output file that is one of the inputs (a recording must never be overwritten). */
export function refuseOutputOverInput(
  output: string | undefined,
  inputs: readonly string[],
  command = "",
): void {
  if (output === undefined) return;
  const input = inputOverwrittenBy(output, inputs);
  if (input !== undefined)
    throw new UsageError(
      `-o ${output} is the input file ${input}: refusing to overwrite it (choose another output file)`,
      command,
    );
}

export const REPORT_FORMATS = ["text", "json", "junit", "hist"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * Which worst-case windows a report (report, record) shows, so that they must be captured:
 * JSON all of them (unless --windows none); text all with --windows all, or those of SLO
 * violations when some bound is set (without a bound nothing is a violation); hist and JUnit
 * none. Capturing runs the flight recorder over every event: a text report of every thread
 * without bounds skips it (switch bench trace: 6.2 instead of 8.6 CPU s), and one that shows
 * violations only does not copy the windows of maxima within their bound (most of them).
 */
export function capturedWindows(o: {
  format: ReportFormat;
  windows: WindowChoice;
  slo: SloBounds;
}): false | "all" | "violations" {
  if (o.windows === "none") return false;
  if (o.format === "json") return "all";
  if (o.format !== "text") return false;
  if (o.windows === "all") return "all";
  return Object.values(o.slo).some((b) => b !== undefined) ? "violations" : false;
}

/** Whether a report shows any worst-case window (capturedWindows). */
export function showsWindows(o: { format: ReportFormat; windows: WindowChoice; slo: SloBounds }): boolean {
  return capturedWindows(o) !== false;
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
/** below this a window holds hardly an event (a window event takes ~70 bytes) */
export const MIN_WINDOW_MEMORY_BYTES = 1024;

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
  if (windowMemoryBytes < MIN_WINDOW_MEMORY_BYTES)
    throw new UsageError(
      `--window-memory ${v["window-memory"]} is too small to hold a window: at least ${MIN_WINDOW_MEMORY_BYTES / 1024}KiB` +
        (command === "report" ? " (--windows none captures no windows)" : ""),
      command,
    );
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
                         (offline: as far as the trace says: task:task_newtask events, a
                         TGID column (record-tgid), exec; it warns about tasks it cannot place)
  --comm REGEX           every thread whose name matches (JavaScript regex), now or later
  --rt                   every SCHED_FIFO / SCHED_RR / SCHED_DEADLINE thread
  --irq-threads          every threaded-IRQ thread (irq/N-name)`;

export const SLO_HELP = `SLO bounds:
  --slo METRIC=BOUND[,METRIC=BOUND...]
                         a sample greater than BOUND is a violation; exit status 3 if any.
                         BOUND has a unit: ns, us, ms, s (e.g. --slo latency=50us,response=2ms)
                         METRIC: ${METRIC_KEYS.join(", ")}`;

export const STRICT_HELP = `  --strict               a corrupt sub-buffer or an event with an impossible thread id or CPU
                         is an error (exit 2); by default it is skipped, counted as lost
                         events (activations across it are cut), and a warning is printed`;

export const THREADS_HELP = `  --threads N            trace.dat: worker threads that read and decompress the pages while
                         the main thread decodes and analyses them (default 0: none; 1 is
                         enough, and pays off where a core is free for it); same output`;

/** --threads N: decode workers for a trace.dat (undefined: the reader's default). */
export function parseThreads(value: string | undefined, command = ""): number | undefined {
  if (value === undefined) return undefined;
  return parseCount(value, "--threads", 0, { min: 0, max: 64 }, command);
}

export const ANALYSIS_HELP = `Analysis:
  --wakeup-event E       what starts an activation: 'wakeup' (sched_wakeup, default) or
                         'waking' (sched_waking, earlier: includes the wakeup path itself)`;

export const WINDOW_HELP = `Worst-case windows:
  --margin T             time kept before the wakeup in each window (default 100us)
  --window-memory SIZE   bound on the memory of all captured windows (default 64MiB; e.g. 512KiB);
                         up to a quarter more holds events for the causes of long windows
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

export const SAMPLES_HELP = `  --samples FILE         also write every sample to FILE as CSV, streamed while the trace is
                         read (bounded memory), one row per sample with the columns
                         tid,tgid,comm,metric,start,end,value,irq,thread,hardirq,wakeup,handling,inferred,cut:
                         start/end absolute trace ns (timer: from the expiry), value ns; irq and
                         thread the parts of a timer sample, hardirq, wakeup and handling those
                         of an irq sample; inferred 1 when the switch-in was not recorded; rows
                         with metric 'activation' and a cut reason (loss, cpu-without-data,
                         missed-switch, missed-run) are activations that gave no sample`;

/** The exit-status section of a gating command's help (record, hist: with a launched command). */
export function exitHelp(launches: boolean): string {
  return `Exit status (for CI):
  0  ok: every bound held (or none was set)
  1  usage error (the message names the option)
  2  runtime error (bad or missing file, tracefs or permission problem)
  3  an SLO bound was violated
  4  a bound was set but not checked: its metric has no sample in the whole selection
     (a --comm typo, an empty buffer...), or part of the run was not seen (a live capture
     gap, or lost events that cut a selected thread's activations: the violation may be
     among them); 3 wins over 4, the message says both${
       launches
         ? `
  5  the launched command (-- CMD ARGS) exited non-zero or was killed (wins over 3 and 4;
     --ignore-command-status gates on the measurements alone); one that cannot be
     started is a runtime error (2) with no report`
         : ""
     }`;
}
