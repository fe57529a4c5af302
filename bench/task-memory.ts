// What each tracked task costs in memory, and what the bound on exited tasks keeps
// (`node --expose-gc bench/task-memory.ts [TASKS=20000] [ACTIVATIONS=200] [MAX_EXITED] [windows]`).
// A synthetic stream of short-lived threads, as a loaded machine makes them (hackbench, a
// build): each is forked, woken, runs ACTIVATIONS sleep/wakeup cycles with latencies spread
// over 2-60 µs (enough for each to get a latency and a response histogram), exits and dies.
// Everything is tracked (record/top with no selection). After every 10 % of the tasks: heap
// used + array buffers after a full GC, the tasks the table holds and those it dropped.
//
// Without `windows`: no flight recorder and no windows (top), whose event memory is bounded
// by --window-memory and the rings. With it, as record runs: the recorder, the worst windows
// of every thread, and their per-thread slots and thread names, which must not grow with
// the number of threads either. The last columns: V8's committed heap, the brk heap
// (glibc's main malloc arena: ArrayBuffer backing stores) and RSS.

import { Pipeline } from "../src/analysis/analyzer.ts";
import { createAnalysis } from "../src/analysis/pipeline.ts";
import { EventRecord } from "../src/model/event.ts";
import { EventKind } from "../src/model/event-kind.ts";
import { emptySelection } from "../src/model/selection.ts";
import { memorySample } from "./mem-probe.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const TASKS = Number(process.argv[2] ?? 20_000);
const ACTIVATIONS = Number(process.argv[3] ?? 200);
const MAX_EXITED =
  process.argv[4] === undefined || process.argv[4] === "-" ? undefined : Number(process.argv[4]);
const WINDOWS = process.argv[5] === "windows";

const { analysis, capture } = createAnalysis({
  selection: emptySelection(),
  cpus: 2,
  validFromTs: 0,
  windows: WINDOWS && {},
});
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
console.log(
  `tasks      MiB  bytes/task  held  dropped  heap_total_MiB  brk_MiB  rss_MiB${WINDOWS ? "  windows  windows_MiB" : ""}`,
);
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
    const m = memorySample() as { heapTotalMiB: number; brkHeapKiB: number; rssKiB: number };
    const w = capture?.windows.stats();
    console.log(
      `${String(i + 1).padStart(5)}  ${(b / 2 ** 20).toFixed(1).padStart(7)}  ${String(Math.round(b / (i + 1))).padStart(10)}  ${String(held).padStart(4)}  ${String(analysis.table.exitedDropped).padStart(7)}  ${String(m.heapTotalMiB).padStart(14)}  ${String(Math.round(m.brkHeapKiB / 1024)).padStart(7)}  ${String(Math.round(m.rssKiB / 1024)).padStart(7)}${w ? `  ${String(w.windows).padStart(7)}  ${(w.bytes / 2 ** 20).toFixed(1).padStart(11)}` : ""}`,
    );
  }
}
