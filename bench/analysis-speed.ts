// Events per second of the analysis alone (no decoding) on a synthetic stream of sched,
// timer and syscall events: N periodic threads on C CPUs, each cycle = sys_enter →
// hrtimer_start → switch out (S) → expire_entry → waking → wakeup → expire_exit → switch in
// → sys_exit, plus preemptions by untracked noise threads. The stream is generated into
// typed-array columns first, then replayed through ONE reused EventRecord, as a source does.
//
//   npx node bench/analysis-speed.ts [events=5000000]
//   npx node bench/analysis-speed.ts --trace FILE   (real data: FILE is decoded once into
//   flight-recorder columns, then replayed: analysis alone, + recorder, + worst windows)
//
// Times are CPU time of this process, best of three runs after a warm-up.

import { build } from "hdr-histogram-js";
import { Analysis, defaultAnalysisOptions, sourceAnalysisOptions } from "../src/analysis/analyze.ts";
import { Pipeline } from "../src/analysis/analyzer.ts";
import { createWindowCapture } from "../src/analysis/worst-windows.ts";
import { EventRecord, StrSlot } from "../src/model/event.ts";
import { EventColumns } from "../src/model/event-columns.ts";
import { EventKind } from "../src/model/event-kind.ts";
import { emptySelection, type Selection } from "../src/model/selection.ts";
import type { SymbolTable } from "../src/model/source.ts";
import { openSource } from "../src/sources/open-source.ts";

const TRACE_FILE = process.argv[2] === "--trace" ? process.argv[3] : undefined;
const TOTAL = TRACE_FILE ? 0 : Number(process.argv[2] ?? 5_000_000);
const CPUS = 4;
const THREADS = 64;
const WAKEUP_FN = 0x1000;
const SYMBOLS: SymbolTable = { hrtimerWakeupKey: WAKEUP_FN, name: () => "" };

/** Columns of the synthetic stream. */
const kind = new Uint8Array(TOTAL);
const cpuCol = new Uint8Array(TOTAL);
const ts = new Float64Array(TOTAL);
const cur = new Int32Array(TOTAL);
const a = new Int32Array(TOTAL); // tid / prevTid / timer key
const b = new Int32Array(TOTAL); // nextTid / prevState
const c = new Float64Array(TOTAL); // expires / now

function generate(): void {
  let n = 0;
  let t = 1000;
  const push = (k: number, cpu: number, current: number, x: number, y: number, z: number) => {
    if (n >= TOTAL) return;
    kind[n] = k;
    cpuCol[n] = cpu;
    ts[n] = t;
    cur[n] = current;
    a[n] = x;
    b[n] = y;
    c[n] = z;
    n++;
    t += 37 + (n % 13);
  };
  // per CPU, the thread running now goes to sleep on its timer and the next one of that
  // CPU's threads (asleep since its own timer sleep) is woken by its timer and runs
  const perCpu = THREADS / CPUS;
  const running = new Int32Array(CPUS).fill(-1);
  let cycle = 0;
  while (n < TOTAL) {
    const cpu = cycle % CPUS;
    const round = Math.floor(cycle / CPUS);
    const next = 1000 + cpu + CPUS * (round % perCpu);
    const prev = running[cpu];
    if (prev >= 0) {
      push(EventKind.SysEnterSleep, cpu, prev, 0, 0, 0);
      push(EventKind.HrtimerStart, cpu, prev, 0x10000 + prev, 0, t + 5000);
      push(EventKind.SchedSwitch, cpu, prev, prev, 1, 0); // prev S → idle
    }
    const key = 0x10000 + next;
    push(EventKind.HrtimerExpireEntry, cpu, 0, key, 0, t + 5);
    push(EventKind.SchedWaking, cpu, 0, next, 0, 0);
    push(EventKind.SchedWakeup, cpu, 0, next, 0, 0);
    push(EventKind.HrtimerExpireExit, cpu, 0, key, 0, 0);
    if (cycle % 7 === 0) {
      // a noise thread runs first and is preempted
      push(EventKind.SchedSwitch, cpu, 0, 0, 0, 9000 + cpu);
      push(EventKind.SchedSwitch, cpu, 9000 + cpu, 9000 + cpu, 0, next);
    } else {
      push(EventKind.SchedSwitch, cpu, 0, 0, 0, next);
    }
    push(EventKind.SysExitSleep, cpu, next, 0, 0, 0);
    running[cpu] = next;
    cycle++;
  }
}

function replay(
  sel: Selection,
  windows = false,
): { eventsPerSec: number; ms: number; analysis: Analysis; note: string } {
  // worst windows as `report` wires them: the flight recorder first, then the metrics
  const capture = windows ? createWindowCapture({ symbols: SYMBOLS }) : undefined;
  const analysis = new Analysis({
    ...defaultAnalysisOptions(sel),
    symbols: SYMBOLS,
    cpus: CPUS,
    validFromTs: 0,
    slo: { latency: 100_000 },
    observer: capture?.observer,
    windows: capture?.windows,
  });
  const pipeline = new Pipeline(capture ? [capture.recorder, ...analysis.analyzers] : analysis.analyzers);
  const rec = new EventRecord();
  const t0 = cpuMs();
  for (let i = 0; i < TOTAL; i++) {
    rec.clear();
    const k = kind[i];
    rec.kind = k as EventRecord["kind"];
    rec.cpu = cpuCol[i];
    rec.ts = ts[i];
    rec.currentTid = cur[i];
    rec.flags = 0;
    switch (k) {
      case EventKind.SchedSwitch:
        rec.prevTid = a[i];
        rec.prevState = b[i] === 1 ? 1 : 0;
        rec.prevPrio = 120;
        rec.nextTid = b[i] === 1 ? 0 : c[i];
        rec.nextPrio = 120;
        rec.text[0] = "bench";
        rec.text[1] = "bench";
        break;
      case EventKind.SchedWaking:
      case EventKind.SchedWakeup:
        rec.tid = a[i];
        rec.prio = 120;
        rec.targetCpu = cpuCol[i];
        rec.text[0] = "bench";
        break;
      case EventKind.HrtimerStart:
        rec.timerKey = a[i];
        rec.timerFn = WAKEUP_FN;
        rec.expires = c[i];
        rec.softExpires = c[i];
        break;
      case EventKind.HrtimerExpireEntry:
        rec.timerKey = a[i];
        rec.timerFn = WAKEUP_FN;
        rec.now = c[i];
        break;
      default:
        break;
    }
    pipeline.handle(rec);
  }
  pipeline.finish();
  const ms = cpuMs() - t0;
  const st = capture?.windows.stats();
  const note = st ? `; windows: ${st.captured} taken, ${st.copied} copied, ${st.windows} held` : "";
  return { eventsPerSec: TOTAL / (ms / 1000), ms, analysis, note };
}

/** CPU time of this process (ms): the machine is shared, wall time would measure the others. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function histogramSpeed(bucket: "packed" | 32): number {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10e9,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: bucket,
    autoResize: false,
    useWebAssembly: false,
  });
  const n = 2_000_000;
  let best = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = cpuMs();
    // latency-like values: mostly 2..60 us, a tail to ms
    for (let i = 0; i < n; i++)
      h.recordValue(i % 97 === 0 ? 100_000 + ((i * 7919) % 5_000_000) : 2000 + ((i * 7919) % 58_000));
    best = Math.min(best, cpuMs() - t0);
  }
  return n / (best / 1000);
}

const fmt = (v: number) => `${(v / 1e6).toFixed(2)} M/s`;
if (TRACE_FILE !== undefined) {
  await replayTrace(TRACE_FILE);
  process.exit(0);
}
generate();
const cases: [string, Selection, boolean][] = [
  ["one thread (--pid)", { ...emptySelection(), tids: [1000] }, false],
  [`all ${THREADS} threads`, emptySelection(), false],
  [`all ${THREADS} threads + flight recorder and worst windows`, emptySelection(), true],
];
for (const [name, sel, windows] of cases) {
  // warm-up run, then the best of three (the machine is shared)
  replay(sel, windows);
  let r = replay(sel, windows);
  for (let i = 0; i < 2; i++) {
    const again = replay(sel, windows);
    if (again.ms < r.ms) r = again;
  }
  const samples = r.analysis.snapshot().reduce((s, t) => s + (t.metrics.latency?.count ?? 0), 0);
  console.log(
    `${name}: ${TOTAL} events in ${r.ms.toFixed(0)} ms = ${fmt(r.eventsPerSec)} (${samples} latency samples${r.note})`,
  );
}
for (const bucket of ["packed", 32] as const) {
  const h = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10e9,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: bucket,
  });
  h.recordValue(12_345);
  console.log(
    `hdr recordValue, ${bucket} buckets: ${fmt(histogramSpeed(bucket))}; footprint with one value ${h.estimatedFootprintInBytes} B`,
  );
}

/**
 * Real data: decodes FILE once into columns (thread names kept as strings), then replays it
 * through one reused EventRecord: analysis of all tasks alone, with the flight recorder in
 * front, and with worst-window capture. Best of three after a warm-up, CPU time.
 */
async function replayTrace(file: string): Promise<void> {
  const source = await openSource(file);
  let cols = new EventColumns(1 << 16);
  const comm: (string | null)[] = [];
  const comm2: (string | null)[] = [];
  await source.run({
    handle(rec: EventRecord) {
      if (cols.length === cols.capacity) {
        const bigger = new EventColumns(cols.capacity * 2);
        bigger.copyRange(0, cols, 0, cols.length);
        bigger.length = cols.length;
        cols = bigger;
      }
      const i = cols.length++;
      cols.put(i, rec);
      const k = rec.kind;
      const named =
        k === EventKind.SchedSwitch ||
        k === EventKind.SchedWakeup ||
        k === EventKind.SchedWaking ||
        k === EventKind.SchedWakeupNew ||
        k === EventKind.SchedProcessFork ||
        k === EventKind.SchedProcessExec;
      comm[i] = named ? rec.str(StrSlot.Comm) : null;
      comm2[i] = k === EventKind.SchedSwitch ? rec.str(StrSlot.Comm2) : null;
    },
  });
  const n = cols.length;
  const once = (mode: number): number => {
    const capture = mode !== 0 ? createWindowCapture({ symbols: source.symbols }) : undefined;
    const analysis = new Analysis({
      ...defaultAnalysisOptions(emptySelection()),
      ...sourceAnalysisOptions(source),
      observer: mode === 2 ? capture?.observer : undefined,
      windows: mode === 2 ? capture?.windows : undefined,
    });
    const pipeline = new Pipeline(capture ? [capture.recorder, ...analysis.analyzers] : analysis.analyzers);
    const rec = new EventRecord();
    const t0 = cpuMs();
    for (let i = 0; i < n; i++) {
      cols.toRecord(i, rec);
      rec.text[0] = comm[i];
      rec.text[1] = comm2[i];
      pipeline.handle(rec);
    }
    pipeline.finish();
    return cpuMs() - t0;
  };
  const names = ["analysis, all tasks", "+ flight recorder", "+ flight recorder + worst windows"];
  for (let mode = 0; mode < 3; mode++) {
    once(mode);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) best = Math.min(best, once(mode));
    console.log(`${names[mode]}: ${n} events in ${best.toFixed(0)} ms = ${fmt(n / (best / 1000))}`);
  }
  source.close();
}
