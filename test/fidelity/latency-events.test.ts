// Acceptance: scheduling latency equals the difference of the two events' timestamps,
// exactly (SPEC §4), computed here by an independent scan of the raw stream; and a missing
// switch-in (this VM never records sched_switch out of idle on CPU 1) never makes a bogus
// sample: it is closed at the first event the task is seen running, flagged inferred.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  analyzeFile,
  CASES,
  type Engine,
  engineMissing,
  loadCase,
  loadEngine,
  scanFile,
  selectionOfTids,
  summarize,
  taskOf,
} from "./ground-truth.ts";

const skip = engineMissing();

describe("scheduling latency vs raw event timestamps", { skip: skip || false }, () => {
  let engine: Engine;
  test.before(async () => {
    engine = await loadEngine();
  });

  for (const name of CASES) {
    test(`${name}: count, inferred, min and max equal the raw events`, async (t) => {
      const c = loadCase(name);
      const file = join(c.dir, "trace.v7.dat");
      const tids = c.threads.map((x) => x.tid);
      const report = await analyzeFile(engine, file, selectionOfTids(tids));
      const scan = await scanFile(engine, file, tids);
      for (const th of c.threads) {
        const where = `${name} thread ${th.thread} (tid ${th.tid})`;
        const samples = scan.tasks.get(th.tid)!.latency;
        const ref = summarize(samples.map((s) => s.value));
        const refInferred = samples.filter((s) => s.inferred).length;
        const lat = taskOf(report, th.tid).metrics.latency;
        assert.ok(lat, `${where}: no latency metric in the report`);
        t.diagnostic(
          `${where}: raw events ${ref.count} samples (${refInferred} inferred), max ${ref.max} ns; rtscope ${lat.count} (${lat.inferred}), max ${lat.max} ns`,
        );
        assert.equal(lat.count, ref.count, `${where}: latency count`);
        assert.equal(lat.inferred, refInferred, `${where}: inferred samples`);
        assert.equal(lat.max, ref.max, `${where}: latency max`);
        assert.equal(lat.min, ref.min, `${where}: latency min`);
        const maxSample = samples.find((s) => s.value === ref.max)!;
        assert.equal(Number(lat.maxAt), maxSample.endTs, `${where}: maxAt`);
      }
    });
  }

  // A bogus sample would run from a wakeup past the missing switch-in into a later cycle. Every
  // latency sample whose wakeup falls inside one of the thread's timer cycles (expiry → return
  // from clock_nanosleep, from the raw events) must end inside that cycle.
  for (const name of CASES) {
    test(`${name}: no latency sample outlives its cycle (missing switch-ins)`, async (t) => {
      const c = loadCase(name);
      const file = join(c.dir, "trace.v7.dat");
      const tids = c.threads.map((x) => x.tid);
      const report = await analyzeFile(engine, file, selectionOfTids(tids), 100_000);
      const scan = await scanFile(engine, file, tids);
      for (const th of c.threads) {
        const where = `${name} thread ${th.thread} (tid ${th.tid}, CPU ${th.cpu})`;
        const cycles = scan.tasks.get(th.tid)!.timer;
        const list = taskOf(report, th.tid).worstList?.latency;
        assert.ok(list, `${where}: report has no worstList.latency (analyzeSource worstN)`);
        let inCycle = 0;
        let inCycleMax = 0;
        let inferred = 0;
        for (const s of list) {
          const start = Number(s.start);
          const end = Number(s.end);
          const cycle = cycles.find((x) => x.expires <= start && start <= x.exitTs);
          if (!cycle) continue;
          inCycle++;
          if (s.value > inCycleMax) inCycleMax = s.value;
          assert.ok(
            end <= cycle.exitTs,
            `${where}: latency sample ${start} → ${end} (${s.value} ns) outlives its cycle (sys_exit at ${cycle.exitTs})`,
          );
        }
        inferred = taskOf(report, th.tid).metrics.latency?.inferred ?? 0;
        t.diagnostic(
          `${where}: ${inCycle} samples inside timer cycles, max ${inCycleMax} ns; ${inferred} inferred`,
        );
        if (name === "idle")
          assert.ok(
            inCycleMax < c.intervalNs,
            `${where}: latency max inside cycles ${inCycleMax} ns is not below the ${c.intervalNs} ns period`,
          );
      }
    });
  }

  test("the fixtures exercise missing switch-ins (CPU 1 out of idle)", async () => {
    // fifo-hog: the FIFO hog sleeps, CPU 1 goes idle, and the switch back to cyclictest is not recorded
    const c = loadCase("fifo-hog");
    const th = c.threads.find((x) => x.cpu === 1)!;
    const scan = await scanFile(engine, join(c.dir, "trace.v7.dat"), [th.tid]);
    const inferred = scan.tasks.get(th.tid)!.latency.filter((s) => s.inferred).length;
    assert.ok(
      inferred >= 100,
      `fifo-hog CPU-1 thread: only ${inferred} switch-ins missing; re-record the fixture`,
    );
  });
});
