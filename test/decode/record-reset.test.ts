// The binary sources reuse one EventRecord and reset it with clearDecoded, which leaves out the
// fields only text sources set: a record must never carry a value of an earlier record of
// another kind.
// Checked on every record of real traces with sched, IRQ, softirq, timer and syscall events,
// against the reset values written out here for each kind.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import type { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import { openSource } from "../../src/sources/open-source.ts";
import { fixturesDir, recordedTraces, skipWithoutShared } from "../helpers/paths.ts";

const TASK = new Set<number>([
  EventKind.SchedWakeup,
  EventKind.SchedWaking,
  EventKind.SchedWakeupNew,
  EventKind.SchedMigrateTask,
  EventKind.SchedProcessExit,
  EventKind.SchedProcessFork,
  EventKind.SchedProcessExec,
  EventKind.TaskNewtask,
]);
const IRQ = new Set<number>([EventKind.IrqHandlerEntry, EventKind.IrqHandlerExit]);
const SOFTIRQ = new Set<number>([EventKind.SoftirqEntry, EventKind.SoftirqExit, EventKind.SoftirqRaise]);

/** The fields a record of `rec.kind` does not set, with their reset values, that differ. */
function stale(rec: EventRecord): string[] {
  const bad: string[] = [];
  const k = rec.kind;
  if (k === EventKind.LostEvents) return bad;
  if (!TASK.has(k)) {
    if (rec.tid !== 0) bad.push(`tid ${rec.tid}`);
    if (rec.prio !== 0) bad.push(`prio ${rec.prio}`);
    if (rec.targetCpu !== -1) bad.push(`targetCpu ${rec.targetCpu}`);
    if (rec.origCpu !== -1) bad.push(`origCpu ${rec.origCpu}`);
  }
  if (k !== EventKind.SchedProcessFork && k !== EventKind.SchedProcessExec && rec.parentTid !== 0)
    bad.push(`parentTid ${rec.parentTid}`);
  if (!IRQ.has(k) && rec.irq !== -1) bad.push(`irq ${rec.irq}`);
  if (!SOFTIRQ.has(k) && rec.vec !== -1) bad.push(`vec ${rec.vec}`);
  if (rec.lostCount !== 0) bad.push(`lostCount ${rec.lostCount}`);
  if (rec.lostUntil !== 0) bad.push(`lostUntil ${rec.lostUntil}`);
  if (rec.currentTgid !== -1) bad.push(`currentTgid ${rec.currentTgid}`);
  return bad;
}

async function check(path: string): Promise<Map<number, number>> {
  const source = await openSource(path);
  const kinds = new Map<number, number>();
  try {
    await source.run({
      handle(rec: EventRecord) {
        kinds.set(rec.kind, (kinds.get(rec.kind) ?? 0) + 1);
        const bad = stale(rec);
        if (bad.length > 0) assert.fail(`${path}: kind ${rec.kind} at ${rec.ts} carries ${bad.join(", ")}`);
      },
    });
  } finally {
    source.close();
  }
  return kinds;
}

test("no record carries a field of an earlier record (fixtures)", async () => {
  const seen = new Set<number>();
  for (const dir of readdirSync(resolve(fixturesDir, "trace-dat"))) {
    for (const kind of (await check(resolve(fixturesDir, "trace-dat", dir, "trace.v7.dat"))).keys())
      seen.add(kind);
  }
  // the fixtures hold every group: task, IRQ and softirq kinds, and switches between them
  for (const k of [
    EventKind.SchedSwitch,
    EventKind.SchedWakeup,
    EventKind.IrqHandlerEntry,
    EventKind.SoftirqEntry,
  ])
    assert.ok(seen.has(k), `kind ${k} in the fixtures`);
});

test("no record carries a field of an earlier record (recorded trace)", {
  skip: skipWithoutShared,
}, async () => {
  const kinds = await check(resolve(recordedTraces, "stress-ng-cyclic.v7zstd.dat"));
  assert.ok((kinds.get(EventKind.SchedSwitch) ?? 0) > 1000);
});
