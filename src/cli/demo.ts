// `rtscope demo` (what `npm start` runs): shows what rtscope does with no set-up. It
// analyses a bundled trace recorded on the development VM (cyclictest, two SCHED_FIFO 80
// threads with a 1 ms period beside a CPU hog) and prints the text report. When live
// capture is both usable here and built in, the demo is meant to go live instead;
// `chooseDemoSource` is where that decision is made, and it always says why.

import { existsSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTextReport } from "../output/text-report.ts";
import { analyzeTrace, loadWindowRenderer } from "./analyze-trace.ts";
import { HELP_OPTIONS, parseCommandLine, parseSlo } from "./options.ts";

export const summary = "analyse a bundled sample trace (what `npm start` runs)";

/** The bundled recording (test/fixtures/trace-dat/cpu-load, see its README). */
export const DEMO_TRACE = fileURLToPath(
  new URL("../../test/fixtures/trace-dat/cpu-load/trace.v7.dat", import.meta.url),
);
const DEMO_SELECTION = "^cyclictest$";
const DEMO_SLO = "latency=100us,timer=200us";

export const help = `Usage: rtscope demo [--trace FILE]

Analyses a bundled sample trace and prints the report: cyclictest (two SCHED_FIFO 80
threads, 1 ms period, one per CPU) recorded beside 'stress-ng --cpu 2' on a 2-CPU VM.
It runs: rtscope report ${"<bundled trace>"} --comm '${DEMO_SELECTION}' --slo ${DEMO_SLO}
The demo always exits 0; 'rtscope report' would exit 3 when a bound is violated.

  --trace FILE   analyse FILE instead of the bundled trace
`;

export interface DemoSource {
  mode: "live" | "trace";
  /** trace file when mode is "trace" */
  path: string;
  /** one sentence for the user: what the demo shows and why */
  why: string;
}

/**
 * Live when tracefs is usable and this build has live capture; else the bundled trace,
 * saying why. (Live capture is not wired into the demo yet: that is the one change needed.)
 */
export async function chooseDemoSource(trace = DEMO_TRACE): Promise<DemoSource> {
  let liveWhy = "live capture is not part of the demo in this build";
  const usableModule = new URL("../tracefs/live-usable.ts", import.meta.url);
  if (existsSync(fileURLToPath(usableModule))) {
    try {
      const { liveUsable } = (await import(usableModule.href)) as {
        liveUsable: () => { ok: boolean; why: string };
      };
      const u = liveUsable();
      liveWhy = u.ok
        ? `${liveWhy} (tracefs is usable: ${u.why})`
        : `live capture is not usable here: ${u.why}`;
    } catch (e) {
      liveWhy = `live capture check failed: ${(e as Error).message}`;
    }
  }
  return { mode: "trace", path: trace, why: `${liveWhy}; analysing a bundled recording instead` };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine("demo", argv, { ...HELP_OPTIONS, trace: { type: "string" } } as const, {
    positionals: false,
  });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const src = await chooseDemoSource(values.trace ?? DEMO_TRACE);
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
    selection: {
      tids: [],
      tgids: [],
      comms: [new RegExp(DEMO_SELECTION)],
      rt: false,
      irqThreads: false,
      descendantsOf: [],
    },
    slo: parseSlo([DEMO_SLO], "demo"),
    worstN: 0,
    wakeupEvent: "wakeup",
  });
  const windowRenderer = await loadWindowRenderer();
  const width = process.stdout.isTTY ? process.stdout.columns : 100;
  process.stdout.write(formatTextReport(report, { width, windowRenderer }));
  process.stdout.write(
    "\nTry: npx rtscope report FILE --help   (your own trace.dat: trace-cmd record -e sched -e irq -e timer ...)\n",
  );
  return 0;
}
