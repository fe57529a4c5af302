// Acceptance (SPEC §4 "Fidelity"): rtscope's `timer` metric against cyclictest's own per-cycle
// latencies, on the recorded fixtures. Per-sample values come from the report's worstList
// (worstN larger than the cycle count, so every sample is listed with its end timestamp).
//
// cyclictest reads the clock in user space after clock_nanosleep returns; rtscope (like any
// trace reader) sees up to sys_exit_clock_nanosleep. On this VM the vCPU sometimes stalls for
// tens of µs between the two, invisible to every tracepoint. So each cycle is checked twice:
//  1. rtscope equals the raw events' expiry → sys_exit (independent scan), on EVERY cycle;
//  2. rtscope is within 5 µs of cyclictest on every cycle where the raw events account for
//     cyclictest's value (within 5 µs); the other cycles are counted and printed, and must be
//     a minority (a shifted cycle mapping would make most cycles disagree).

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
  taskOf,
} from "./ground-truth.ts";

const TOLERANCE_NS = 5000;
const MAX_RELATIVE = 0.02;
const skip = engineMissing();

describe("timer metric vs cyclictest -v", { skip: skip || false }, () => {
  let engine: Engine;
  test.before(async () => {
    engine = await loadEngine();
  });

  for (const name of CASES) {
    test(`${name}: every cycle, and the max`, async (t) => {
      const c = loadCase(name);
      const file = join(c.dir, "trace.v7.dat");
      const tids = c.threads.map((x) => x.tid);
      const report = await analyzeFile(engine, file, selectionOfTids(tids), 100_000);
      const scan = await scanFile(engine, file, tids);

      for (const th of c.threads) {
        const ct = th.latencies;
        const ref = scan.tasks.get(th.tid)!.timer;
        const where = `${name} thread ${th.thread} (tid ${th.tid})`;
        assert.ok(ct.length > 0, `${where}: cyclictest printed no cycle`);
        // the raw events hold every cycle cyclictest printed (it may stop printing early)
        assert.ok(
          ref.length >= ct.length,
          `${where}: ${ref.length} clock_nanosleep cycles in the trace < ${ct.length} printed by cyclictest`,
        );

        const task = taskOf(report, th.tid);
        const timer = task.metrics.timer;
        assert.ok(timer, `${where}: no timer metric in the report`);
        assert.equal(
          timer.count,
          ref.length,
          `${where}: timer count vs clock_nanosleep cycles in the raw events`,
        );

        const list = task.worstList?.timer;
        assert.ok(list, `${where}: report has no worstList.timer (analyzeSource worstN)`);
        assert.equal(list.length, timer.count, `${where}: worstList.timer does not list every sample`);
        const byEnd = new Map<number, number>();
        for (const s of list) byEnd.set(Number(s.end), s.value);

        let explained = 0;
        let explainedCtMax = 0;
        let explainedRtMax = 0;
        let refMax = 0;
        const unexplained: string[] = [];
        for (let k = 0; k < ref.length; k++) {
          const r = ref[k];
          if (r.value > refMax) refMax = r.value;
          const v = byEnd.get(r.exitTs);
          assert.ok(
            v !== undefined,
            `${where}: cycle ${k}: no rtscope timer sample ending at sys_exit ${r.exitTs}`,
          );
          assert.ok(
            Math.abs(v - r.value) <= 1,
            `${where}: cycle ${k}: rtscope ${v} ns, raw events (expiry ${r.expires} → sys_exit ${r.exitTs}) ${r.value} ns`,
          );
          if (k >= ct.length) continue;
          // the trace never shows more than cyclictest measured (its clock read comes later)
          assert.ok(
            r.value <= ct[k] + TOLERANCE_NS,
            `${where}: cycle ${k}: trace ${r.value} ns > cyclictest ${ct[k]} ns`,
          );
          if (Math.abs(ct[k] - r.value) <= TOLERANCE_NS) {
            explained++;
            assert.ok(
              Math.abs(v - ct[k]) <= TOLERANCE_NS,
              `${where}: cycle ${k}: rtscope ${v} ns vs cyclictest ${ct[k]} ns (> 5 µs apart)`,
            );
            if (ct[k] > explainedCtMax) explainedCtMax = ct[k];
            if (v > explainedRtMax) explainedRtMax = v;
          } else if (unexplained.length < 5) {
            unexplained.push(`cycle ${k}: cyclictest ${ct[k]} ns, sys_exit ${r.value} ns`);
          }
        }
        const ctMax = Math.max(...ct);
        t.diagnostic(
          `${where}: ${ct.length} cycles, ${explained} within 5 µs of the raw events; ` +
            `max cyclictest ${ctMax} ns, rtscope ${timer.max} ns` +
            (unexplained.length ? `; not seen by the trace: ${unexplained.join("; ")}` : ""),
        );
        assert.ok(
          explained >= ct.length / 2,
          `${where}: only ${explained}/${ct.length} cycles agree with cyclictest`,
        );
        assert.ok(
          Math.abs(timer.max - refMax) <= 1,
          `${where}: rtscope max ${timer.max} ns, raw events ${refMax} ns`,
        );
        assert.ok(
          Math.abs(explainedRtMax - explainedCtMax) <= MAX_RELATIVE * explainedCtMax,
          `${where}: max over matched cycles: rtscope ${explainedRtMax} ns vs cyclictest ${explainedCtMax} ns (> 2 %)`,
        );
      }
    });
  }
});
