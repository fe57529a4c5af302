// SelectionMatcher: which threads a selection tracks (SPEC §1 "selection"), on threads built
// by hand; each verdict follows from the selection's rule as the SPEC states it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { irqLineOf, SelectionMatcher } from "../../src/analysis/selection-matcher.ts";
import { TaskState } from "../../src/analysis/task-state.ts";
import { emptySelection, type Selection } from "../../src/model/selection.ts";

function task(
  tid: number,
  p: Partial<Pick<TaskState, "tgid" | "comm" | "everRt" | "parentTid">> = {},
): TaskState {
  const t = new TaskState(tid, 0, 1);
  Object.assign(t, p);
  t.irqLine = irqLineOf(t.comm);
  return t;
}

function sel(p: Partial<Selection>): Selection {
  return { ...emptySelection(), ...p };
}

const noParents = () => -1;

test("irqLineOf reads N of irq/N-name, nothing else", () => {
  assert.equal(irqLineOf("irq/129-eth0"), 129);
  assert.equal(irqLineOf("irq/9-acpi"), 9);
  assert.equal(irqLineOf("irq/x-eth0"), -1);
  assert.equal(irqLineOf("myirq/12-a"), -1);
  assert.equal(irqLineOf("irq/12"), -1);
});

test("an empty selection tracks every thread but the idle task, unless told it means none", () => {
  const all = new SelectionMatcher(emptySelection());
  assert.equal(all.matches(task(42), noParents), true);
  assert.equal(all.matches(task(0), noParents), false);
  const none = new SelectionMatcher(emptySelection(), false);
  assert.equal(none.matches(task(42), noParents), false);
  none.add(sel({ tids: [42] }));
  assert.equal(none.matches(task(42), noParents), true);
  assert.equal(none.matches(task(43), noParents), false, "widened by one tid, not to everything");
});

test("tids, thread groups, RT, irq threads and names each select on their own", () => {
  const m = new SelectionMatcher(sel({ tids: [10], tgids: [20] }));
  assert.equal(m.matches(task(10), noParents), true);
  assert.equal(m.matches(task(21, { tgid: 20 }), noParents), true, "a thread of group 20");
  assert.equal(m.matches(task(20, { tgid: 20 }), noParents), true);
  assert.equal(m.matches(task(11, { tgid: 11 }), noParents), false);

  const rt = new SelectionMatcher(sel({ rt: true }));
  assert.equal(rt.matches(task(5, { everRt: true }), noParents), true);
  assert.equal(rt.matches(task(6), noParents), false);

  const irq = new SelectionMatcher(sel({ irqThreads: true }));
  assert.equal(irq.matches(task(7, { comm: "irq/31-ahci" }), noParents), true);
  assert.equal(irq.matches(task(8, { comm: "kworker/0:1" }), noParents), false);
  assert.equal(irq.usesNames, true);
  assert.equal(m.usesNames, false);
});

test("name patterns lose the g and y flags, so that matching one thread does not change the next verdict", () => {
  const m = new SelectionMatcher(sel({ comms: [/^cyclic/g] }));
  // with the g flag kept, RegExp.test would resume at lastIndex and miss the second thread
  assert.equal(m.matches(task(1, { comm: "cyclictest" }), noParents), true);
  assert.equal(m.matches(task(2, { comm: "cyclictest" }), noParents), true);
  assert.equal(m.matches(task(3, { comm: "bash" }), noParents), false);
});

test("descendants: the launched command's group and anything forked under it, up the fork tree", () => {
  // fork tree: 100 (launched) → 101 → 102 → 103; 200 is unrelated
  const parents = new Map([
    [101, 100],
    [102, 101],
    [103, 102],
  ]);
  const parentOf = (t: number) => parents.get(t) ?? -1;
  const m = new SelectionMatcher(sel({ descendantsOf: [100] }));
  assert.equal(m.matches(task(103, { parentTid: 102, tgid: 103 }), parentOf), true);
  assert.equal(m.matches(task(104, { tgid: 100 }), parentOf), true, "a thread of the launched process");
  assert.equal(m.matches(task(200, { parentTid: 1, tgid: 200 }), parentOf), false);
  // a cycle in the tree (pid reuse) ends the walk instead of looping
  const loop = (t: number) => (t === 300 ? 301 : 300);
  assert.equal(m.matches(task(302, { parentTid: 300, tgid: 302 }), loop), false);
});

test("remove narrows tids and groups; an everything selection stays everything", () => {
  const m = new SelectionMatcher(sel({ tids: [10], tgids: [20] }));
  m.remove(sel({ tids: [10], tgids: [20] }));
  assert.equal(m.matches(task(10), noParents), false);
  assert.equal(m.matches(task(21, { tgid: 20 }), noParents), false);
  const narrowed = new SelectionMatcher(sel({ tids: [10] }));
  narrowed.add(emptySelection());
  assert.equal(
    narrowed.matches(task(99), noParents),
    false,
    "adding an empty selection to a narrow one keeps it narrow",
  );
});
