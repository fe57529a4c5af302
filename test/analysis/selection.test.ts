// Selection of tracked threads (SPEC §1): by tid, tgid, comm (now or after a rename), RT,
// IRQ threads and descendants; and the run-time changes live mode needs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { emptySelection, type Selection } from "../../src/model/selection.ts";
import { analyzeScript, EventScript, pids } from "./event-script.ts";

/** Each listed thread runs once on CPU 0 (switch in, sleep) so that it is seen. */
function runEach(s: EventScript, tids: number[], from: number, prio = 120): number {
  let ts = from;
  for (const tid of tids) {
    s.at(ts).cpu(0).switch({ prev: 0, next: tid, prevState: "R", nextPrio: prio });
    s.at(ts + 10)
      .cpu(0)
      .switch({ prev: tid, next: 0, prevState: "S", prevPrio: prio });
    ts += 100;
  }
  return ts;
}

function tracked(s: EventScript, sel: Partial<Selection>, extra = {}): number[] {
  const { report } = analyzeScript(s, { selection: { ...emptySelection(), ...sel }, ...extra });
  return report.tasks.map((t) => t.tid).sort((a, b) => a - b);
}

test("--pid selects one thread; the idle task is never tracked", () => {
  const s = new EventScript(1);
  runEach(s, [10, 11, 12], 0);
  assert.deepEqual(tracked(s, { tids: [11] }), [11]);
  assert.deepEqual(tracked(s, { tids: [0] }), []);
  assert.deepEqual(tracked(s, {}), [10, 11, 12], "empty selection = all tasks");
});

test("--tgid selects every thread of the group known from saved tgids, and an exec'd leader", () => {
  const s = new EventScript(1);
  runEach(s, [100, 101, 102, 200], 0);
  const initialTgids = new Map([
    [100, 100],
    [101, 100],
    [102, 100],
    [200, 200],
  ]);
  assert.deepEqual(tracked(s, { tgids: [100] }, { initialTgids }), [100, 101, 102]);
  // without tgid data each thread is its own process
  assert.deepEqual(tracked(s, { tgids: [100] }), [100]);
  // live: taskInfo gives tgids of threads created later
  const s2 = new EventScript(1);
  runEach(s2, [100], 0);
  s2.at(500).cpu(0).as(100).fork({ parent: 100, child: 103 });
  runEach(s2, [103], 600);
  assert.deepEqual(
    tracked(s2, { tgids: [100] }, { taskInfo: (tid: number) => ({ tgid: tid === 103 ? 100 : tid }) }),
    [100, 103],
  );
});

test("--comm matches names now or after a rename by exec", () => {
  const s = new EventScript(1);
  s.name(10, "bash").name(11, "cyclictest").name(12, "bash");
  runEach(s, [10, 11, 12], 0);
  s.at(1000).cpu(0).as(12).exec({ tid: 12, file: "/usr/bin/cyclictest" });
  runEach(s, [12], 1100);
  const { report } = analyzeScript(s, { selection: { ...emptySelection(), comms: [/^cyclic/] } });
  assert.deepEqual(
    report.tasks.map((t) => [t.tid, t.comm]),
    [
      [11, "cyclictest"],
      [12, "cyclictest"],
    ],
  );
});

test("--comm notices a rename seen in later events (prctl), re-reading names at most every 100 ms", () => {
  const s = new EventScript(1);
  s.name(10, "stress-ng");
  runEach(s, [10], 0);
  s.name(10, "stress-ng-cyclic");
  runEach(s, [10], 50e6); // too soon: name not re-read
  assert.deepEqual(tracked(s, { comms: [/cyclic/] }), []);
  runEach(s, [10], 200e6);
  assert.deepEqual(tracked(s, { comms: [/cyclic/] }), [10]);
});

test("--rt selects threads seen with an RT prio", () => {
  const s = new EventScript(1);
  runEach(s, [10], 0, 120);
  runEach(s, [11], 200, 29);
  runEach(s, [12], 400, 139);
  s.at(1000).cpu(0).wakeup({ tid: 13, prio: 0 });
  assert.deepEqual(tracked(s, { rt: true }), [11, 13]);
});

test("--irq-threads selects irq/N-name threads", () => {
  const s = new EventScript(1);
  s.name(50, "irq/9-acpi").name(51, "ksoftirqd/0").name(52, "irq/122-nvme0q1");
  runEach(s, [50, 51, 52], 0);
  assert.deepEqual(tracked(s, { irqThreads: true }), [50, 52]);
});

test("descendantsOf follows the fork tree, grandchildren included", () => {
  const s = new EventScript(1);
  runEach(s, [100], 0);
  s.at(200).cpu(0).as(100).fork({ parent: 100, child: 101 });
  s.at(300).cpu(0).as(1).fork({ parent: 1, child: 300 });
  runEach(s, [101], 400);
  s.at(600).cpu(0).as(101).fork({ parent: 101, child: 102 });
  runEach(s, [102, 300], 700);
  assert.deepEqual(tracked(s, { descendantsOf: [100] }), [100, 101, 102]);
});

test("tasks are sorted by process, leader first, then threads", () => {
  const s = new EventScript(1);
  runEach(s, [205, 200, 100, 101], 0);
  const initialTgids = new Map([
    [205, 200],
    [200, 200],
    [100, 100],
    [101, 100],
  ]);
  const { report } = analyzeScript(s, { selection: emptySelection(), initialTgids });
  assert.deepEqual(
    report.tasks.map((t) => t.tid),
    [100, 101, 200, 205],
  );
});

test("live: addSelection, setSlo and removeTask at run time keep the stats of tracked threads", () => {
  const s = new EventScript(1);
  runEach(s, [42, 43], 0);
  const wake = (tid: number, at: number, lat: number) => {
    s.at(at).cpu(0).wakeup({ tid });
    s.at(at + lat)
      .cpu(0)
      .switch({ prev: 0, next: tid, prevState: "R" });
    s.at(at + lat + 10)
      .cpu(0)
      .switch({ prev: tid, next: 0, prevState: "S" });
  };
  wake(42, 1000, 500);
  wake(43, 2000, 700);
  const { analysis } = analyzeScript(s, { selection: pids(42) });
  assert.deepEqual(
    analysis.snapshot().map((t) => t.tid),
    [42],
  );
  analysis.addSelection(pids(43));
  const snap = analysis.snapshot();
  assert.deepEqual(
    snap.map((t) => t.tid),
    [42, 43],
  );
  assert.equal(snap[0].metrics.latency?.count, 1, "42 kept its stats");
  analysis.setSlo("latency", 400);
  assert.equal(analysis.task(42)?.metrics.latency?.slo?.bound, 400);
  analysis.setSlo("latency", 100, 42);
  assert.equal(analysis.task(42)?.metrics.latency?.slo?.bound, 100);
  const final = analysis.removeTask(42);
  assert.equal(final?.metrics.latency?.max, 500);
  const after = analysis.snapshot();
  assert.deepEqual(
    after.map((t) => t.tid),
    [43],
    "42 removed",
  );
  assert.deepEqual(after[0].metrics, {}, "43 was added after its only activation");
});

test("emptyMeansAll false: an empty selection tracks nothing until tasks are added", () => {
  const s = new EventScript(1);
  runEach(s, [10, 11], 0);
  const { analysis } = analyzeScript(s, { selection: emptySelection(), emptyMeansAll: false });
  assert.deepEqual(analysis.snapshot(), []);
  analysis.addSelection(pids(11));
  assert.deepEqual(
    analysis.snapshot().map((t) => t.tid),
    [11],
  );
});

test("untracked threads that die give their slot back: a long run with churn stays bounded", () => {
  const s = new EventScript(1);
  runEach(s, [42], 0);
  for (let i = 0; i < 5000; i++) {
    const tid = 1000 + i;
    s.at(1000 + i * 100)
      .cpu(0)
      .switch({ prev: 0, next: tid, prevState: "R" });
    s.at(1000 + i * 100 + 50)
      .cpu(0)
      .switch({ prev: tid, next: 0, prevState: "X" });
  }
  const { analysis } = analyzeScript(s, { selection: pids(42) });
  assert.ok(analysis.table.tasks.length < 10, `${analysis.table.tasks.length} slots`);
  assert.deepEqual(
    analysis.snapshot().map((t) => t.tid),
    [42],
  );
});
