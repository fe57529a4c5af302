// `rtscope demo` (what `npm start` runs): shows what rtscope does with no set-up. When
// live capture is usable (root, tracefs) and cyclictest is installed, it records ~5 s of
// cyclictest (two SCHED_FIFO 80 threads, 1 ms period) through `record`'s live path and
// prints the report. Otherwise it analyses a bundled trace recorded on the development VM
// (the same cyclictest beside a CPU hog). `chooseDemoSource` decides and always says why.
// rtscope ships no periodic workload of its own: a Node loop is not a real-time task, and
// a report on it would teach the wrong numbers.

import { existsSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../model/report.ts";
import { emptySelection, type Selection } from "../model/selection.ts";
import { formatTextReport } from "../output/text-report.ts";
import { DEFAULT_BUFFER_SIZE_KB } from "../sources/tracefs-live.ts";
import { analyzeTrace, loadWindowRenderer } from "./analyze-trace.ts";
import {
  DEFAULT_MARGIN_NS,
  DEFAULT_WINDOW_MEMORY_BYTES,
  HELP_OPTIONS,
  parseCommandLine,
  parseSlo,
} from "./options.ts";

export const summary = "a short live session on cyclictest, or a bundled trace (what `npm start` runs)";

/** The bundled recording (test/fixtures/trace-dat/cpu-load, see its README). */
export const DEMO_TRACE = fileURLToPath(
  new URL("../../test/fixtures/trace-dat/cpu-load/trace.v7.dat", import.meta.url),
);
const DEMO_SELECTION = "^cyclictest$";
const DEMO_SLO = "timer=200us,latency=100us";
export const CYCLICTEST = "/usr/bin/cyclictest";
/** 5 s of two SCHED_FIFO 80 threads waking every 1 ms; -q prints only its final summary */
export const DEMO_WORKLOAD = [CYCLICTEST, "-t2", "-p80", "-i1000", "-m", "-q", "-D5"];
/** backstop in case the workload does not end by itself */
const DEMO_MAX_DURATION_NS = 15e9;

export const help = `Usage: rtscope demo [--trace FILE | --no-live]

With root, tracefs and cyclictest installed: records about 5 s of cyclictest (two
SCHED_FIFO 80 threads, 1 ms period) live and prints the report, as
  rtscope record --comm '${DEMO_SELECTION}' --slo ${DEMO_SLO} -- ${DEMO_WORKLOAD.join(" ")}
would. Ctrl-C stops early (the report is still printed; the tracefs instance is removed).
Otherwise, or with --no-live / --trace: analyses a bundled sample trace, cyclictest recorded
beside 'stress-ng --cpu 2' on a 2-CPU VM, and says why it did not go live.
The demo always exits 0 when it could show a report; 'rtscope record/report' would exit 3
when a bound is violated.

  --trace FILE   analyse FILE instead of going live or of the bundled trace
  --no-live      analyse the bundled trace even where live capture is usable

Examples:
  npm start                        what 'npm start' runs: rtscope demo
  sudo npx rtscope demo            live, on cyclictest
  npx rtscope demo --no-live       the bundled trace
  npx rtscope demo --trace my.dat  your own trace.dat
`;

export interface DemoSource {
  mode: "live" | "trace";
  /** trace file when mode is "trace" */
  path: string;
  /** one sentence for the user: what the demo shows and why */
  why: string;
}

/** Live when tracefs is usable, we are root and cyclictest is installed; else the trace, saying why. */
export async function chooseDemoSource(
  trace = DEMO_TRACE,
  { live = true }: { live?: boolean } = {},
): Promise<DemoSource> {
  const fallback = (why: string): DemoSource => ({
    mode: "trace",
    path: trace,
    why: `${why}; analysing a bundled recording instead`,
  });
  if (!live) return fallback("live capture not asked for");
  let usable: { ok: boolean; why: string };
  try {
    const { liveUsable } = await import("../tracefs/live-usable.ts");
    usable = liveUsable();
  } catch (e) {
    return fallback(`live capture check failed: ${(e as Error).message}`);
  }
  if (!usable.ok) return fallback(`live capture is not usable here: ${usable.why}`);
  if (process.getuid?.() !== 0) return fallback("live capture needs root (try: sudo npm start)");
  if (!existsSync(CYCLICTEST))
    return fallback(
      `${CYCLICTEST} is not installed (rt-tests package), so there is no real-time workload to trace`,
    );
  return { mode: "live", path: "", why: `live capture is usable (${usable.why})` };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    "demo",
    argv,
    { ...HELP_OPTIONS, trace: { type: "string" }, "no-live": { type: "boolean" } } as const,
    { positionals: false },
  );
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const src = await chooseDemoSource(values.trace ?? DEMO_TRACE, {
    live: values.trace === undefined && values["no-live"] !== true,
  });
  const report = src.mode === "live" ? await liveReport(src) : await traceReport(src);
  const windowRenderer = await loadWindowRenderer();
  const width = process.stdout.isTTY ? process.stdout.columns : 100;
  process.stdout.write(formatTextReport(report, { width, windowRenderer }));
  process.stdout.write(
    "\nTry: npx rtscope report FILE --help   (your own trace.dat: trace-cmd record -e sched -e irq -e timer ...)\n",
  );
  return 0;
}

function demoSelection(): Selection {
  return { ...emptySelection(), comms: [new RegExp(DEMO_SELECTION)] };
}

/** ~5 s of cyclictest through record's live path (instance removed whatever happens). */
async function liveReport(src: DemoSource): Promise<Report> {
  process.stdout.write(
    `rtscope demo: ${src.why}: recording cyclictest for about 5 s (Ctrl-C stops early).\n` +
      `Equivalent command: rtscope record --comm '${DEMO_SELECTION}' --slo ${DEMO_SLO} -- ${DEMO_WORKLOAD.join(" ")}\n\n`,
  );
  const { captureAndAnalyze } = await import("./record.ts");
  const { report } = await captureAndAnalyze({
    selection: demoSelection(),
    slo: parseSlo([DEMO_SLO], "demo"),
    format: "text",
    worstN: 0,
    wakeupEvent: "wakeup",
    hist: { bucketNs: 1000, entries: 256, withZeros: false },
    live: { durationNs: DEMO_MAX_DURATION_NS, bufferSizeKb: DEFAULT_BUFFER_SIZE_KB, syscalls: true },
    command: DEMO_WORKLOAD,
    window: { marginNs: DEFAULT_MARGIN_NS, windowMemoryBytes: DEFAULT_WINDOW_MEMORY_BYTES },
  });
  process.stdout.write("\n");
  return report;
}

async function traceReport(src: DemoSource): Promise<Report> {
  if (!existsSync(src.path))
    throw new Error(`${src.path}: demo trace not found (is this a complete checkout?)`);
  // a path relative to where the user stands reads better, and is what they would type
  const rel = relative(process.cwd(), src.path);
  const shown = rel.startsWith("..") || isAbsolute(rel) ? src.path : rel;
  process.stdout.write(
    `rtscope demo: ${src.why}.\n` +
      `Equivalent command: rtscope report ${shown} --comm '${DEMO_SELECTION}' --slo ${DEMO_SLO}\n\n`,
  );
  const { report } = await analyzeTrace(shown, {
    selection: demoSelection(),
    slo: parseSlo([DEMO_SLO], "demo"),
    worstN: 0,
    wakeupEvent: "wakeup",
  });
  return report;
}
