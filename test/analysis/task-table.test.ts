// TaskTable: tid → thread state, names and groups from the sources, the selection verdict, a
// reused tid starting a new thread, and the bounds on what dead threads keep. Threads and
// events are made by hand; each expectation follows from the calls made.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SelectionMatcher } from "../../src/analysis/selection-matcher.ts";
import { RunState } from "../../src/analysis/task-state.ts";
import { TaskTable } from "../../src/analysis/task-table.ts";
import { emptySelection, type Selection } from "../../src/model/selection.ts";

function table(p: Partial<Selection>, comms: [number, string][] = [], tgids?: [number, number][]): TaskTable {
  return new TaskTable(
    new SelectionMatcher({ ...emptySelection(), ...p }),
    2,
    new Map(comms),
    tgids ? new Map(tgids) : undefined,
  );
}

test("a thread seen first takes its name and group from what the source knew; a forked one does not", () => {
  const t = table({ comms: [/^rt-/] }, [[500, "rt-loop"]], [[500, 400]]);
  const a = t.getOrCreate(500);
  assert.equal(a.comm, "rt-loop");
  assert.equal(a.tgid, 400);
  assert.equal(a.tgidKnown, true);
  assert.equal(a.tracked, true);
  assert.equal(t.getOrCreate(500), a, "the same state on the next event");
  const b = t.getOrCreate(501);
  assert.equal(b.tgid, 501, "no group known: its own");
  assert.equal(b.tgidKnown, false);
  assert.equal(b.tracked, false);
  // a fork names its child: the source's names are those of threads alive at the start
  const c = t.forked(500, 1);
  assert.notEqual(c, a);
  assert.equal(c.state, RunState.Sleeping);
  assert.equal(c.parentTid, 1);
});

test("a tid above 65535 grows the table; tids past the kernel's limit are refused", () => {
  const t = table({});
  const big = t.getOrCreate(4_000_000);
  assert.equal(t.get(4_000_000), big);
  assert.equal(t.get(3_999_999), undefined);
  assert.throws(() => t.getOrCreate(4_194_304), /thread id/);
});

test("renames, RT prio, groups and thread creation re-judge untracked threads only", () => {
  const t = table({ comms: [/^worker$/], rt: true });
  const tracked: number[] = [];
  t.addListener({ taskTracked: (x) => tracked.push(x.tid) });
  const a = t.getOrCreate(10);
  t.setComm(a, "worker", 1);
  assert.equal(a.tracked, true);
  t.setComm(a, "renamed", 2);
  assert.equal(a.tracked, true, "once tracked, stays tracked");
  const b = t.getOrCreate(11);
  t.setPrio(b, 120);
  assert.equal(b.tracked, false);
  t.setPrio(b, 49);
  assert.equal(b.tracked, true);
  assert.equal(b.minPrio, 49);
  assert.equal(b.everRt, true);
  assert.deepEqual(tracked, [10, 11]);

  const g = table({ tgids: [70] });
  const leader = g.getOrCreate(70);
  const thread = g.forked(71, 70);
  assert.equal(thread.tracked, false);
  g.setThreadOf(thread, 70);
  assert.equal(thread.tgid, 70);
  assert.equal(thread.tracked, true);
  assert.equal(leader.tracked, true);
  assert.deepEqual([...g.knownTgids([70, 71, 99])], []);
  g.setTgid(leader, 70);
  assert.deepEqual([...g.knownTgids([70, 71, 99])], [[70, 70]]);
});

test("a reused tid: a tracked thread that ran is retired and kept; an untracked dead one gives its slot back", () => {
  const t = table({ tids: [30] });
  const first = t.getOrCreate(30);
  first.wakeups = 3;
  const second = t.create(30, 1);
  assert.notEqual(second, first);
  assert.deepEqual(t.retired, [first]);
  assert.deepEqual(
    t.trackedTasks().map((x) => x === first),
    [true, false],
  );
  const other = t.getOrCreate(31);
  other.comm = "short-lived";
  const slot = other.slot;
  t.release(other);
  assert.equal(t.get(31), undefined);
  assert.ok(t.releasedNames.has("short-lived"));
  assert.equal(t.getOrCreate(32).slot, slot, "the freed slot is reused first");
  t.release(second);
  assert.equal(t.get(30), second, "a tracked thread keeps its entry when it dies");
});

test("redecideAll applies a widened selection to threads already seen", () => {
  const t = table({ tids: [1] });
  const x = t.getOrCreate(5);
  assert.equal(x.tracked, false);
  t.matcher.add({ ...emptySelection(), tids: [5] });
  t.redecideAll();
  assert.equal(x.tracked, true);
});
