// A hand-made Report for the formatter tests: two threads of one process, one with a
// timer metric and an SLO violation, one with no samples at all; a timestamp past 2^53.
import type { Report } from "../../src/model/report.ts";

/** 2^53 + 5 ns: not representable as a double, must stay exact in JSON. */
export const BIG_TS = 9007199254740997n;

export function sampleReport(): Report {
  return {
    tool: "rtscope",
    version: "0.1.0",
    source: {
      kind: "trace.dat",
      path: "/tmp/cyclic.dat",
      clock: "mono",
      cpus: 2,
      kernel: "6.18.44 #1 SMP",
      events: 669509,
      lostEvents: 0,
      format: "trace.dat v7 zstd",
      start: 9985259000000,
      end: 9985261500000,
    },
    slo: { latency: 50000 },
    selection: "--comm ^cyclictest$",
    tasks: [
      {
        tid: 4028,
        tgid: 4026,
        comm: "cyclictest",
        policy: "FIFO",
        prio: 19,
        counters: {
          wakeups: 2000,
          voluntarySwitches: 2000,
          involuntarySwitches: 3,
          migrations: 1,
          runtime: 1234567,
          incomplete: 0,
        },
        metrics: {
          latency: {
            count: 2000,
            min: 812,
            mean: 2400.4,
            max: 60912,
            maxAt: BIG_TS,
            p50: 2100,
            p90: 3000,
            p99: 9000,
            p999: 20000,
            p9999: 60912,
            inferred: 1994,
            slo: { bound: 50000, violations: 2, firstAt: 9985260000000, worstAt: BIG_TS },
          },
          timer: {
            count: 1999,
            min: 25100,
            mean: 68500,
            max: 1961500,
            maxAt: 9985261234567,
            p50: 60000,
            p90: 80000,
            p99: 300000,
            p999: 1500000,
            p9999: 1961500,
            inferred: 0,
            irq: { max: 1234, worst: 1000 },
            thread: { max: 1960000, worst: 1960500 },
          },
        },
        worst: {
          latency: {
            start: 9985261213655,
            end: 9985261274567,
            value: 60912,
            cpu: 1,
            wakeCpu: 0,
            causes: [
              { kind: "irq", name: "IRQ 11 virtio0", time: 40000, percent: 65.67 },
              { kind: "thread", name: "stress-ng", tid: 777, prio: 120, time: 20912 },
            ],
            events: [],
          },
        },
      },
      {
        tid: 4029,
        tgid: 4026,
        comm: "cyclictest",
        policy: "OTHER",
        prio: 120,
        counters: {
          wakeups: 0,
          voluntarySwitches: 1,
          involuntarySwitches: 0,
          migrations: 0,
          runtime: 5000,
          incomplete: 0,
        },
        metrics: {},
      },
    ],
    diagnostics: [
      {
        key: "inferred_switch_in",
        severity: "warning",
        cpu: 1,
        count: 1994,
        message: "switch-ins not recorded on this CPU were inferred",
        details: [],
        remedy: "",
      },
      {
        key: "lost_events",
        severity: "data-loss",
        cpu: 0,
        count: -1,
        message: "events were lost",
        details: ["page at offset 4096"],
        remedy: "use a bigger buffer",
      },
    ],
  };
}
