// What each tracked task costs in memory, and what the bound on exited tasks keeps
// (`node --expose-gc bench/task-memory.ts [TASKS=20000] [ACTIVATIONS=200] [MAX_EXITED]`).
// A synthetic stream of short-lived threads, as a loaded machine makes them (hackbench, a
// build): each is forked, woken, runs ACTIVATIONS sleep/wakeup cycles with latencies spread
// over 2-60 µs (enough for each to get a latency and a response histogram), exits and dies.
// Everything is tracked (record/top with no selection). After every 10 % of the tasks: heap
// used + array buffers after a full GC, the tasks the table holds and those it dropped.
//
// No flight recorder and no windows: their memory is bounded by --window-memory and the
// rings, not by the number of tasks.

import { Analysis, defaultAnalysisOptions } from "../src/analysis/analyze.ts";
import { Pipeline } from "../src/analysis/analyzer.ts";
import { EventRecord } from "../src/model/event.ts";
import { EventKind } from "../src/model/event-kind.ts";
import { emptySelection } from "../src/model/selection.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const TASKS = Number(process.argv[2] ?? 20_000);
const ACTIVATIONS = Number(process.argv[3] ?? 200);
const MAX_EXITED = process.argv[4] === undefined ? undefined : Number(process.argv[4]);

const analysis = new Analysis({ ...defaultAnalysisOptions(emptySelection()), cpus: 2, validFromTs: 0 });
if (MAX_EXITED !== undefined) analysis.table.maxExited = MAX_EXITED;
const pipeline = new Pipeline(analysis.analyzers);
const rec = new EventRecord();
let ts = 1000;

function emit(kind: EventKind, fill: (r: EventRecord) => void): void {
  rec.clear();
  rec.kind = kind;
  rec.cpu = 0;
  rec.ts = ts;
  rec.flags = 0;
  fill(rec);
  pipeline.handle(rec);
  ts += 500;
}

function switchTo(prev: number, prevState: number, next: number): void {
  emit(EventKind.SchedSwitch, (r) => {
    r.currentTid = prev;
    r.prevTid = prev;
    r.prevState = prevState;
    r.prevPrio = 120;
    r.nextTid = next;
    r.nextPrio = 120;
    r.text[0] = prev === 0 ? "swapper/0" : "worker";
    r.text[1] = next === 0 ? "swapper/0" : "worker";
  });
}

function wake(tid: number, kind: EventKind): void {
  emit(kind, (r) => {
    r.tid = tid;
    r.prio = 120;
    r.targetCpu = 0;
    r.text[0] = "worker";
  });
}

function used(): number {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const base = used();
const step = Math.max(1, Math.floor(TASKS / 10));
console.log(
  `${TASKS} short-lived tasks, ${ACTIVATIONS} activations each, max exited ${analysis.table.maxExited}`,
);
console.log("tasks      MiB  bytes/task  held  dropped");
for (let i = 0; i < TASKS; i++) {
  const tid = 1000 + (i % 4_000_000);
  emit(EventKind.SchedProcessFork, (r) => {
    r.currentTid = 1;
    r.tid = tid;
    r.parentTid = 1;
    r.text[0] = "worker";
  });
  wake(tid, EventKind.SchedWakeupNew);
  switchTo(0, 0, tid);
  for (let a = 0; a < ACTIVATIONS; a++) {
    switchTo(tid, 1, 0);
    wake(tid, EventKind.SchedWakeup);
    ts += 2000 + ((a * 7919 + i * 104729) % 58_000);
    switchTo(0, 0, tid);
  }
  emit(EventKind.SchedProcessExit, (r) => {
    r.currentTid = tid;
    r.tid = tid;
    r.text[0] = "worker";
  });
  switchTo(tid, 0x10, 0);
  if ((i + 1) % step === 0) {
    const b = used() - base;
    const held = analysis.table.trackedTasks().length;
    console.log(
      `${String(i + 1).padStart(5)}  ${(b / 2 ** 20).toFixed(1).padStart(7)}  ${String(Math.round(b / (i + 1))).padStart(10)}  ${String(held).padStart(4)}  ${analysis.table.exitedDropped}`,
    );
  }
}
