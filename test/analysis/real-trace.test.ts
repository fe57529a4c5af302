// The analysis on a real recording (stress-ng-cyclic.v7zstd.dat, see ../shared/traces/recorded/
// README.md): ground truth from outside rtscope — stress-ng's own latency percentiles for its
// cyclic thread, and `trace-cmd report`'s timestamps for the scheduling latency of every cycle.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { Analysis, defaultAnalysisOptions } from "../../src/analysis/analyze.ts";
import { Pipeline } from "../../src/analysis/analyzer.ts";
import type { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import { emptySelection } from "../../src/model/selection.ts";
import type { TraceSource } from "../../src/model/source.ts";
import { recordedTraces, repoRoot } from "../helpers/paths.ts";
import { reportLines } from "../helpers/report-lines.ts";
import { skipWithoutTraceCmd } from "../helpers/trace-cmd.ts";

const TRACE = resolve(recordedTraces, "stress-ng-cyclic.v7zstd.dat");
const STRESS_NG_OUT = resolve(recordedTraces, "stress-ng-cyclic.txt");
/** the stress-ng cyclic thread (SCHED_FIFO 70, kernel prio 29) */
const CYCLIC_TID = 18822;

async function open(path: string): Promise<TraceSource> {
  // openSource once it exists; the trace.dat reader directly until then
  const generic = resolve(repoRoot, "src/sources/open-source.ts");
  if (existsSync(generic)) {
    const m = (await import(generic)) as { openSource(p: string): Promise<TraceSource> };
    return m.openSource(path);
  }
  const m = (await import(resolve(repoRoot, "src/sources/trace-dat.ts"))) as {
    openTraceDat(p: string): Promise<TraceSource>;
  };
  return m.openTraceDat(path);
}

async function analyze(source: TraceSource): Promise<Analysis> {
  const analysis = new Analysis({
    ...defaultAnalysisOptions({ ...emptySelection(), tids: [CYCLIC_TID] }),
    symbols: source.symbols,
    initialComms: source.initialComms,
    cpus: source.info.cpus,
    validFromTs: source.info.validFromTs,
    tsBase: source.info.tsBase,
    worstN: 1_000_000, // every sample, to compare one by one
  });
  const pipeline = new Pipeline(analysis.analyzers);
  await source.run(pipeline);
  pipeline.finish();
  return analysis;
}

const skip = existsSync(TRACE) ? false : `${TRACE} not present`;

test("timer percentiles of the cyclic thread match stress-ng's own", { skip }, async () => {
  const source = await open(TRACE);
  try {
    const analysis = await analyze(source);
    const hist = analysis.histogram(CYCLIC_TID, "timer");
    assert.ok(hist, "timer samples");
    const timer = analysis.task(CYCLIC_TID)?.metrics.timer;
    assert.ok(timer);
    // stress-ng counted 3704 bogo ops (cycles); its thread also sleeps around them
    assert.ok(timer.count >= 3700 && timer.count <= 3710, `count ${timer.count}`);
    // "stress-ng: info:  [18820] cyclic:   99.00%:      60526 ns"
    const truth = [...readFileSync(STRESS_NG_OUT, "utf8").matchAll(/cyclic:\s+([\d.]+)%:\s+(\d+) ns/g)].map(
      (m) => [Number(m[1]), Number(m[2])] as const,
    );
    assert.equal(truth.length, 7);
    for (const [q, theirs] of truth) {
      const ours = Math.min(hist.getValueAtPercentile(q), timer.max);
      // stress-ng measures clock_gettime before clock_nanosleep → clock_gettime after, minus
      // the requested sleep: our interval (requested expiry → return to user space) plus
      // its own overhead (syscall entry before the timer is armed, exit, clock reads), which
      // is never negative: 1.3 us at the median on this VM, up to ~6 us in the tail where
      // the CPU hog's IRQs also hit the entry path. HDR buckets may round ours up by 0.1 %.
      const diff = theirs - ours;
      assert.ok(diff >= -theirs * 0.001, `p${q}: ours ${ours} above stress-ng's ${theirs}`);
      assert.ok(diff <= 10_000, `p${q}: ours ${ours} more than 10 us below stress-ng's ${theirs}`);
    }
    // the max (p99.99 of 3704 samples is the max) within SPEC's 2 %
    const p9999 = truth[truth.length - 1][1];
    assert.ok(Math.abs(p9999 - timer.max) <= p9999 * 0.02, `max ${timer.max} vs ${p9999}`);
  } finally {
    source.close();
  }
});

/**
 * Scheduling latencies found by scanning the raw records with the rule of SPEC §1, written
 * here independently of the analyzer: a wakeup of the thread after it went to sleep (or
 * the wakeup_new after its fork), ended
 * by its switch-in or by the first event it is the current task of.
 */
async function scanLatencies(source: TraceSource, validFrom: number): Promise<Map<number, number>> {
  const byWake = new Map<number, number>();
  let asleep = false;
  let pendingSince = Number.NaN;
  await source.run({
    handle(r: EventRecord): void {
      if (!Number.isNaN(pendingSince)) {
        const running =
          r.currentTid === CYCLIC_TID || (r.kind === EventKind.SchedSwitch && r.nextTid === CYCLIC_TID);
        if (running) {
          byWake.set(pendingSince, r.ts);
          pendingSince = Number.NaN;
        }
      }
      if (r.kind === EventKind.SchedSwitch && r.prevTid === CYCLIC_TID) asleep = r.prevState !== 0;
      if (r.kind === EventKind.SchedSwitch && r.nextTid === CYCLIC_TID) asleep = false;
      if (r.kind === EventKind.SchedProcessFork && r.tid === CYCLIC_TID) asleep = true;
      const wakeup = r.kind === EventKind.SchedWakeup || r.kind === EventKind.SchedWakeupNew;
      if (wakeup && r.tid === CYCLIC_TID && asleep && Number.isNaN(pendingSince)) {
        asleep = false;
        if (r.ts >= validFrom) pendingSince = r.ts;
      }
    },
  });
  return byWake;
}

test("every latency sample equals the difference of the two events' timestamps", { skip }, async () => {
  const source = await open(TRACE);
  let samples: { start: number | bigint; end: number | bigint; value: number }[];
  let base: bigint;
  let validFrom: number;
  try {
    const analysis = await analyze(source);
    base = source.info.tsBase;
    validFrom = source.info.validFromTs ?? 0;
    samples = analysis.task(CYCLIC_TID)?.worstList?.latency ?? [];
  } finally {
    source.close();
  }
  assert.ok(samples.length > 3600, `${samples.length} samples`);
  const rel = (t: number | bigint) => Number(BigInt(t) - base);
  for (const s of samples) assert.equal(s.value, rel(s.end) - rel(s.start));

  const again = await open(TRACE);
  let scanned: Map<number, number>;
  try {
    scanned = await scanLatencies(again, validFrom);
  } finally {
    again.close();
  }
  for (const s of samples) assert.equal(scanned.get(rel(s.start)), rel(s.end), `wakeup at ${s.start}`);
  assert.equal(samples.length, scanned.size);
});

test("latency samples agree with trace-cmd report's timestamps", {
  skip: skip || skipWithoutTraceCmd,
}, async () => {
  const text = execFileSync("trace-cmd", ["report", "-t", TRACE], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "ignore"],
  });
  const wakeups: bigint[] = [];
  const ends = new Map<bigint, bigint>();
  let pending: bigint | null = null;
  let asleep = false;
  for (const { ts, pid: current, event, body } of reportLines(text)) {
    if (
      pending !== null &&
      (current === CYCLIC_TID ||
        (event === "sched_switch" && body.includes(`==> stress-ng-cycli:${CYCLIC_TID} `)))
    ) {
      ends.set(pending, ts);
      pending = null;
    }
    if (event === "sched_switch" && body.startsWith(`stress-ng-cycli:${CYCLIC_TID} `))
      asleep = !/\] R\+? ==>/.test(body);
    if (event === "sched_process_fork" && body.endsWith(` child_pid=${CYCLIC_TID}`)) asleep = true;
    const wakeup = event === "sched_wakeup" || event === "sched_wakeup_new";
    if (wakeup && body.startsWith(`stress-ng-cycli:${CYCLIC_TID} `) && asleep && pending === null) {
      asleep = false;
      pending = ts;
      wakeups.push(ts);
    }
  }
  const source = await open(TRACE);
  try {
    const analysis = await analyze(source);
    const samples = analysis.task(CYCLIC_TID)?.worstList?.latency ?? [];
    assert.ok(samples.length > 3600);
    let checked = 0;
    for (const s of samples) {
      const end = ends.get(BigInt(s.start));
      assert.ok(end !== undefined, `trace-cmd shows no wakeup of ${CYCLIC_TID} at ${s.start}`);
      assert.equal(BigInt(s.end), end);
      assert.equal(BigInt(s.value), end - BigInt(s.start));
      checked++;
    }
    // every trace-cmd activation after the data is valid is a sample
    assert.ok(wakeups.length - checked <= 2, `${wakeups.length} wakeups, ${checked} samples`);
  } finally {
    source.close();
  }
});
