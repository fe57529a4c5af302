// The offline benchmark's recordings, cached under bench/data/ (git-ignored): a trace.dat of
// a context-switch storm recorded through a private tracefs instance and `trace-cmd extract`
// (scripts/record-fixtures.sh --raw: `trace-cmd record` does not work on the development VM),
// and a `perf sched record` of the same load for `perf sched timehist`.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const BENCH_DIR = resolve(import.meta.dirname, "data");
const RECORD_SCRIPT = resolve(import.meta.dirname, "../scripts/record-fixtures.sh");

/** The load both recordings run; 12 s of stress-ng --switch gives 4-7 M sched events here (fewer when the machine is busy). */
export const LOAD = ["stress-ng", "--switch", "2", "--timeout", "12"];
export const MIN_EVENTS = 3_000_000;

export interface BenchData {
  traceDat: string;
  perfData: string;
  /** events in the trace.dat (ring-buffer entries of the instance) */
  traceEvents: number;
  lostEvents: number;
  /** samples in perf.data (every event) */
  perfEvents: number;
  load: string;
  recordedAt: string;
  kernel: string;
}

const META = join(BENCH_DIR, "meta.json");

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function recordTrace(dir: string): { events: number; lost: number } {
  const out = run(
    "bash",
    [
      RECORD_SCRIPT,
      "--raw",
      dir,
      "--buffer-kb",
      "393216",
      "--events",
      "sched",
      "--full-kallsyms",
      "--",
      ...LOAD,
    ],
    "recording the trace.dat",
  );
  const events = Number(/^events (\d+)$/m.exec(out)?.[1] ?? Number.NaN);
  const lost = Number(/^lost (\d+)$/m.exec(out)?.[1] ?? Number.NaN);
  return { events, lost };
}

function recordPerf(file: string): number {
  rmSync(file, { force: true });
  run("perf", ["sched", "record", "-o", file, "--", ...LOAD], "perf sched record");
  const stats = run("perf", ["report", "-i", file, "--stats"], "perf report --stats");
  // the first "SAMPLE events:" line is the total over every event
  const n = Number(/SAMPLE events:\s+(\d+)/.exec(stats)?.[1] ?? Number.NaN);
  return n;
}

/** Cached recordings, or new ones (root and tracefs needed) when absent or `force`. */
export function ensureBenchData(force: boolean, log: (s: string) => void): BenchData {
  if (!force && existsSync(META)) {
    const meta = JSON.parse(readFileSync(META, "utf8")) as BenchData;
    if (existsSync(meta.traceDat) && existsSync(meta.perfData)) return meta;
  }
  if (process.getuid?.() !== 0) throw new Error("recording the benchmark traces needs root (tracefs, perf)");
  mkdirSync(BENCH_DIR, { recursive: true });
  log(`recording ${LOAD.join(" ")} with sched events (tracefs instance + trace-cmd extract)...`);
  const traceDat = join(BENCH_DIR, "trace.v7.dat");
  rmSync(traceDat, { force: true });
  const { events, lost } = recordTrace(BENCH_DIR);
  if (!(events >= MIN_EVENTS)) throw new Error(`only ${events} events recorded (want >= ${MIN_EVENTS})`);
  log(`  ${events} events, ${lost} lost`);
  log(`recording the same load with perf sched record...`);
  const perfData = join(BENCH_DIR, "perf.data");
  const perfEvents = recordPerf(perfData);
  log(`  ${perfEvents} perf samples`);
  const meta: BenchData = {
    traceDat,
    perfData,
    traceEvents: events,
    lostEvents: lost,
    perfEvents,
    load: LOAD.join(" "),
    recordedAt: new Date().toISOString(),
    kernel: run("uname", ["-rv"], "uname").trim(),
  };
  writeFileSync(META, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
