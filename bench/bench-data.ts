// The offline benchmark's recordings, cached under bench/data/ (git-ignored, made on demand):
// per load, a trace.dat recorded through a private tracefs instance and `trace-cmd extract`
// (scripts/record-fixtures.sh --raw: `trace-cmd record` does not work on the development VM),
// and a `perf sched record` of the same load for `perf sched timehist`.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const BENCH_DIR = resolve(import.meta.dirname, "data");
const RECORD_SCRIPT = resolve(import.meta.dirname, "../scripts/record-fixtures.sh");

export interface BenchLoad {
  name: string;
  /** the command both recordings run */
  command: string[];
  /** tracepoints of the trace.dat: the scheduler's only, or every one rtscope reads (scripts/lib/rt-events.sh) */
  events: "sched" | "all";
  /** where its recordings live */
  dir: string;
  /** fewer events than this means the recording went wrong */
  minEvents: number;
}

export const LOADS: readonly BenchLoad[] = [
  {
    // 12 s of a context-switch storm: 4-7 M sched events here (fewer when the machine is busy)
    name: "switch",
    command: ["stress-ng", "--switch", "2", "--timeout", "12"],
    events: "sched",
    dir: BENCH_DIR,
    minEvents: 3_000_000,
  },
  {
    // a fixed amount of work (not a duration): 80 processes in 2 groups passing 5,000
    // 1000-byte messages each over pipes, with scheduler, IRQ, softirq and timer events. Over
    // sockets with 100-byte messages (hackbench's default) the senders rarely block on a quiet
    // machine: 1,000 messages gave 2.3 M events under load but 115 k on a quiet machine; over
    // pipes with larger messages every few messages switch, ~0.6 M context switches here
    name: "hackbench",
    command: ["hackbench", "--pipe", "-g", "2", "-l", "5000", "-s", "1000"],
    events: "all",
    dir: join(BENCH_DIR, "hackbench"),
    minEvents: 1_000_000,
  },
];

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

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

function recordTrace(load: BenchLoad): { events: number; lost: number } {
  const out = run(
    "bash",
    [
      RECORD_SCRIPT,
      "--raw",
      load.dir,
      "--buffer-kb",
      "393216",
      "--events",
      load.events,
      "--full-kallsyms",
      "--",
      ...load.command,
    ],
    "recording the trace.dat",
  );
  const events = Number(/^events (\d+)$/m.exec(out)?.[1] ?? Number.NaN);
  const lost = Number(/^lost (\d+)$/m.exec(out)?.[1] ?? Number.NaN);
  return { events, lost };
}

function recordPerf(load: BenchLoad, file: string): number {
  rmSync(file, { force: true });
  run("perf", ["sched", "record", "-o", file, "--", ...load.command], "perf sched record");
  const stats = run("perf", ["report", "-i", file, "--stats"], "perf report --stats");
  // the first "SAMPLE events:" line is the total over every event
  const n = Number(/SAMPLE events:\s+(\d+)/.exec(stats)?.[1] ?? Number.NaN);
  return n;
}

/** Cached recordings of `load`, or new ones (root and tracefs needed) when absent or `force`. */
export function ensureBenchData(load: BenchLoad, force: boolean, log: (s: string) => void): BenchData {
  const metaFile = join(load.dir, "meta.json");
  if (!force && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as BenchData;
    if (existsSync(meta.traceDat) && existsSync(meta.perfData)) return meta;
  }
  if (process.getuid?.() !== 0) throw new Error("recording the benchmark traces needs root (tracefs, perf)");
  mkdirSync(load.dir, { recursive: true });
  log(
    `recording ${load.command.join(" ")} with ${load.events} events (tracefs instance + trace-cmd extract)...`,
  );
  const traceDat = join(load.dir, "trace.v7.dat");
  rmSync(traceDat, { force: true });
  const { events, lost } = recordTrace(load);
  if (!(events >= load.minEvents))
    throw new Error(`only ${events} events recorded (want >= ${load.minEvents})`);
  if (lost !== 0) throw new Error(`${lost} events lost while recording (raise --buffer-kb)`);
  log(`  ${events} events, ${lost} lost`);
  log(`recording the same load with perf sched record...`);
  const perfData = join(load.dir, "perf.data");
  const perfEvents = recordPerf(load, perfData);
  log(`  ${perfEvents} perf samples`);
  const meta: BenchData = {
    traceDat,
    perfData,
    traceEvents: events,
    lostEvents: lost,
    perfEvents,
    load: load.command.join(" "),
    recordedAt: new Date().toISOString(),
    kernel: run("uname", ["-rv"], "uname").trim(),
  };
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
