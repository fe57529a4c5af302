// The admission rules on hand-made phase results: every verdict kind, the tolerance and its
// 1 µs floor, the newcomer's share from the causes that name its threads, fail-closed when
// nothing was measured with the newcomer; and the softirq time done on the newcomer's behalf,
// on an event script whose expected share is worked out by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { admissionVerdict, attribute, type WindowsOf } from "../../src/analysis/admission.ts";
import { Analysis, defaultAnalysisOptions } from "../../src/analysis/analyze.ts";
import { Pipeline } from "../../src/analysis/analyzer.ts";
import { softirqBehalf } from "../../src/analysis/softirq-behalf.ts";
import { createWindowCapture } from "../../src/analysis/worst-windows.ts";
import type { Cause, MetricSummary, TaskReport, WorstWindow } from "../../src/model/report.ts";
import { EventScript, pids, SCRIPT_SYMBOLS } from "./event-script.ts";

function metric(max: number, p99: number, count = 100, violations?: number, bound?: number): MetricSummary {
  return {
    count,
    min: 1,
    mean: p99 / 2,
    max,
    maxAt: 0,
    p50: p99 / 2,
    p90: p99,
    p99,
    p999: max,
    p9999: max,
    inferred: 0,
    ...(bound !== undefined
      ? { slo: { bound, violations: violations ?? 0, firstAt: null, worstAt: null } }
      : {}),
  };
}

function task(tid: number, metrics: TaskReport["metrics"]): TaskReport {
  return {
    tid,
    tgid: tid,
    comm: `t${tid}`,
    policy: "FIFO",
    prio: 80,
    kernelPrio: 19,
    counters: {
      wakeups: 0,
      voluntarySwitches: 0,
      involuntarySwitches: 0,
      migrations: 0,
      runtime: 0,
      incomplete: 0,
    },
    metrics,
  };
}

function window(value: number, causes: Cause[]): WorstWindow {
  return { start: 1000, end: 1000 + value, value, cpu: 0, wakeCpu: 0, causes, events: [] };
}

const noWindows: WindowsOf = () => [];

describe("admission verdict", () => {
  it("a bound violated with the newcomer rejects, whoever caused it", () => {
    const v = admissionVerdict(
      [task(1, { timer: metric(50_000, 20_000, 100, 0, 100_000) })],
      [task(1, { timer: metric(300_000, 20_000, 100, 2, 100_000) })],
      new Set([9]),
      { timer: 100_000 },
      noWindows,
    );
    assert.equal(v.rejected, true);
    assert.equal(v.admitted, false);
    assert.equal(v.metrics[0].verdict, "violated");
    assert.match(
      v.metrics[0].reason,
      /2 over the 100 us bound with the newcomer \(max 300 us, baseline 50\.0 us\)/,
    );
  });

  it("a regression rejects only when the newcomer took part in the worst case (or --strict)", () => {
    const base = [task(1, { latency: metric(10_000, 5_000) })];
    const next = [task(1, { latency: metric(20_000, 5_000) }), task(9, { latency: metric(1, 1) })];
    const withHog: WindowsOf = () => [
      {
        role: "max",
        window: window(20_000, [
          { kind: "thread", name: "hog:9", tid: 9, time: 15_000 },
          { kind: "irq", name: "timer", time: 5_000 },
        ]),
      },
    ];
    const byHog = admissionVerdict(base, next, new Set([9]), {}, withHog);
    assert.equal(byHog.metrics[0].verdict, "regressed");
    assert.equal(byHog.rejected, true);
    assert.equal(byHog.metrics[0].attributions[0].newcomerTime, 15_000);
    assert.equal(byHog.metrics[0].attributions[0].newcomerShare, 0.75);
    // the newcomer's own task is never judged as workload
    assert.ok(byHog.metrics.every((m) => m.tid !== 9));

    const notHog: WindowsOf = () => [
      { role: "max", window: window(20_000, [{ kind: "thread", name: "other:5", tid: 5, time: 20_000 }]) },
    ];
    const other = admissionVerdict(base, next, new Set([9]), {}, notHog);
    assert.equal(other.metrics[0].verdict, "worse-not-newcomer");
    assert.equal(other.admitted, true);
    const strict = admissionVerdict(base, next, new Set([9]), {}, notHog, {
      tolerance: 0.1,
      minDeltaNs: 1000,
      strict: true,
    });
    assert.equal(strict.metrics[0].verdict, "regressed");
  });

  it("worse within the tolerance, or by less than 1 us, is ok", () => {
    const v = admissionVerdict(
      [task(1, { latency: metric(10_000, 2_000), response: metric(5_000, 500) })],
      [task(1, { latency: metric(10_900, 2_150), response: metric(5_000, 1_400) })],
      new Set(),
      {},
      noWindows,
    );
    // latency +9 % (max), +7.5 % (p99); response p99 +900 ns: more than 10 % but under 1 us
    assert.deepEqual(
      v.metrics.map((m) => m.verdict),
      ["ok", "ok"],
    );
    assert.equal(v.admitted, true);
  });

  it("no sample with the newcomer is not a pass", () => {
    const v = admissionVerdict([task(1, { latency: metric(10_000, 2_000) })], [], new Set(), {}, noWindows);
    assert.equal(v.metrics[0].verdict, "no-data");
    assert.equal(v.measured, false);
    assert.equal(v.admitted, false);
    assert.equal(v.rejected, false);
  });

  it("attributes only interference, blocking and migration by the newcomer's threads", () => {
    const a = attribute(
      window(10_000, [
        { kind: "thread", name: "hog:9", tid: 9, time: 4_000 },
        { kind: "blocking", name: "hog-worker:10", tid: 10, time: 3_000 },
        { kind: "softirq", name: "NET_RX", tid: 9, time: 1_000 },
        { kind: "thread", name: "other:5", tid: 5, time: 2_000 },
      ]),
      "worst-violation",
      new Set([9, 10]),
    );
    assert.equal(a.newcomerTime, 7_000);
    assert.equal(a.newcomerShare, 0.7);
    assert.deepEqual(
      a.culprits.map((c) => c.tid),
      [9, 10],
    );
  });

  it("softirqs raised in the newcomer's context are its share; a device's are not", () => {
    // CPU 0. The newcomer N (SCHED_OTHER) runs; the workload thread W (RT) is woken at 4000
    // and waits until N is switched out at 6300: a latency of 2300 ns. Meanwhile:
    //   2000        N raises NET_TX in task context                      -> weight 1
    //   3000-3500   hard IRQ eth0, which raises NET_RX                   -> weight 0
    //   4100-5100   NET_TX runs (serves N's raise), with a hard IRQ at 4500-4600 inside it
    //   5100-5700   NET_RX runs (the device's); at 5300 it raises NET_TX -> weight 0
    //   5750        N raises NET_TX in task context                      -> weight 1
    //   5800-6200   NET_TX runs, serving the raise at 5300 and N's at 5750: half N's
    // By hand, W's 2300 ns: N blocking 4000-4100, 5700-5800, 6200-6300 = 300; NET_TX
    // 900 (1000 less the 100 of the hard IRQ) + 400 = 1300, of which N's 900 + 400/2 = 1100;
    // NET_RX 600 and the hard IRQ 100 are not N's. N's share: (300 + 1100) / 2300.
    const W = 100;
    const N = 200;
    const s = new EventScript(1);
    s.name(W, "workload").name(N, "newcomer");
    s.at(1000).cpu(0).switch({ prev: 0, next: N, prevState: "R" });
    s.at(2000).flags(0).softirqRaise(2);
    s.at(3000).irqEntry(30, "eth0");
    s.at(3200).flags(0x08).softirqRaise(3);
    s.at(3500).irqExit(30);
    s.at(4000).flags(0).wakeup({ tid: W, prio: 19 });
    s.at(4100).softirqEntry(2);
    s.at(4500).irqEntry(30, "eth0");
    s.at(4600).irqExit(30);
    s.at(5100).softirqExit(2);
    s.at(5100).softirqEntry(3);
    s.at(5300).flags(0x10).softirqRaise(2);
    s.at(5700).softirqExit(3);
    s.at(5750).flags(0).softirqRaise(2);
    s.at(5800).softirqEntry(2);
    s.at(6200).softirqExit(2);
    s.at(6300).switch({ prev: N, next: W, prevState: "R", nextPrio: 19 });
    s.at(9000).switch({ prev: W, next: N, prevPrio: 19 });

    const capture = createWindowCapture({ tsBase: 0n, symbols: SCRIPT_SYMBOLS });
    const analysis = new Analysis({
      ...defaultAnalysisOptions(pids(W)),
      symbols: SCRIPT_SYMBOLS,
      cpus: 1,
      validFromTs: 0,
      observer: capture.observer,
      windows: capture.windows,
    });
    const pipeline = new Pipeline([capture.recorder, ...analysis.analyzers]);
    for (const r of s.records) pipeline.handle(r);
    pipeline.finish();
    const c = capture.windows.captured(W, "latency", "max");
    assert.ok(c, "the latency window was captured");
    assert.equal(c.sample.value, 2300);

    const behalf = softirqBehalf(c.events, c.sample.start, c.sample.end, (t) => t === N);
    assert.deepEqual(Object.fromEntries(behalf), {
      2: { time: 1300, behalf: 1100 },
      3: { time: 600, behalf: 0 },
    });
    const a = attribute(capture.windows.render(c), "max", new Set([N]), behalf);
    assert.equal(a.newcomerTime, 1400);
    assert.equal(a.newcomerShare, 1400 / 2300);
    assert.deepEqual(a.culprits.map((x) => [x.kind, x.tid, x.vec, x.time]).sort(), [
      ["blocking", N, undefined, 300],
      ["softirq", undefined, 2, 1100],
    ]);
    // without the raises' owners nothing of the softirqs is the newcomer's
    const none = attribute(capture.windows.render(c), "max", new Set([N]));
    assert.equal(none.newcomerTime, 300);
  });
});
