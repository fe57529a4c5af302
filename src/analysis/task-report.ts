// TaskState → the JSON report's task object (SPEC §2), and the report's task order.

import type { Diagnostics } from "../model/diagnostics.ts";
import { METRIC_KEYS, type MetricKey, type TaskReport, type Timestamp } from "../model/report.ts";
import { absoluteTs } from "../model/units.ts";
import type { WorstWindowProvider } from "./sample-observer.ts";
import { M_IRQ, M_TIMER, METRIC_COUNT, type TaskState } from "./task-state.ts";

const RT_POLICIES = new Set(["FIFO", "RR"]);
const NORMAL_POLICIES = new Set(["OTHER", "BATCH", "IDLE", "ISO"]);

/** The scheduling class of a kernel prio: "DEADLINE" (-1), "RT" (0..99), "normal" (100..139). */
function classOf(prio: number): "DEADLINE" | "RT" | "normal" {
  return prio < 0 ? "DEADLINE" : prio < 100 ? "RT" : "normal";
}

function classOfPolicy(policy: string): string {
  return RT_POLICIES.has(policy) ? "RT" : NORMAL_POLICIES.has(policy) ? "normal" : policy;
}

/**
 * What the report says of a thread's scheduling (SPEC §2 `policy`/`prio`). The kernel
 * prio the thread worked at comes from the events (sched events carry the effective prio,
 * never the policy); `policy` is what /proc said (live) when it agrees with that class,
 * else the class itself ("RT": FIFO or RR cannot be told apart, "normal", "DEADLINE").
 * `prio` is the user-visible priority: rtprio (99 − kernel prio, or /proc's rt_priority)
 * for RT, nice (kernel prio − 120, or /proc's nice) for normal, 0 for DEADLINE. A kernel
 * prio above the thread's own seen in the events is reported as `boostedKernelPrio`:
 * a priority-inheritance boost (or a policy change during the trace).
 */
export function schedulingOf(
  t: TaskState,
): Pick<TaskReport, "policy" | "prio" | "kernelPrio" | "boostedKernelPrio"> {
  const kp = reportedPrio(t);
  if (Number.isNaN(kp)) return { policy: t.policy, prio: -1, kernelPrio: -1 };
  const cls = classOf(kp);
  const fromProc = t.policy !== "" && classOfPolicy(t.policy) === cls;
  let prio = 0;
  let own = kp;
  if (cls === "RT") {
    prio = fromProc && t.rtPriority > 0 ? t.rtPriority : 99 - kp;
    own = 99 - prio;
  } else if (cls === "normal") {
    prio = fromProc && !Number.isNaN(t.nice) ? t.nice : kp - 120;
    own = 120 + prio;
  }
  const out: Pick<TaskReport, "policy" | "prio" | "kernelPrio" | "boostedKernelPrio"> = {
    policy: fromProc ? t.policy : cls,
    prio,
    kernelPrio: kp,
  };
  const top = Math.min(kp, t.minPrio);
  if (cls !== "DEADLINE" && top < own) out.boostedKernelPrio = top;
  return out;
}

/**
 * The prio the thread worked at: the one of its last measured wakeup (threads often start
 * and end with another policy, e.g. cyclictest's threads exit as SCHED_OTHER), else the
 * last one seen.
 */
export function reportedPrio(t: TaskState): number {
  return t.wakeups > 0 ? t.wakePrio : t.prio;
}

export function buildTaskReport(
  t: TaskState,
  tsBase: bigint,
  migrateEventsSeen: boolean,
  windows?: WorstWindowProvider,
): TaskReport {
  const r: TaskReport = {
    tid: t.tid,
    tgid: t.tgid,
    comm: t.comm,
    ...schedulingOf(t),
    counters: {
      wakeups: t.wakeups,
      voluntarySwitches: t.voluntary,
      involuntarySwitches: t.involuntary,
      migrations: migrateEventsSeen ? t.migrations : t.cpuChanges,
      runtime: Math.round(t.runtime),
      incomplete: t.incomplete,
    },
    metrics: {},
  };
  if (t.incomplete > 0)
    r.counters.cut = {
      lostEvents: t.cutLoss,
      cpuWithoutData: t.cutNoData,
      missedSwitch: t.cutMissedSwitch,
      missedRun: t.cutMissedRun,
    };
  if (t.irqCoalesced > 0) r.counters.irqCoalesced = t.irqCoalesced;
  if (!Number.isNaN(t.startTs)) r.start = absoluteTs(tsBase, t.startTs);
  if (!Number.isNaN(t.exitTs)) r.exited = absoluteTs(tsBase, t.exitTs);
  for (let m = 0; m < METRIC_COUNT; m++) {
    const s = t.metrics[m];
    if (s === null || s.count === 0) continue;
    const kind = m === M_TIMER ? "timer" : m === M_IRQ ? "irq" : "other";
    r.metrics[METRIC_KEYS[m]] = s.summary(tsBase, kind);
    if (s.worst !== null && s.worst.size > 0) {
      r.worstList ??= {};
      const list: { value: number; start: Timestamp; end: Timestamp; cpu: number }[] = [];
      for (let i = 0; i < s.worst.size; i++)
        list.push({
          value: Math.round(s.worst.values[i]),
          start: absoluteTs(tsBase, s.worst.starts[i]),
          end: absoluteTs(tsBase, s.worst.ends[i]),
          cpu: s.worst.cpus[i],
        });
      r.worstList[METRIC_KEYS[m]] = list;
    }
  }
  if (windows !== undefined) {
    for (const key of METRIC_KEYS) {
      if (r.metrics[key] === undefined) continue;
      const w = windows.worst(t.tid, key as MetricKey);
      // windows are kept by tid: one of an earlier or later thread with this tid is not this one's
      if (w !== undefined && withinLife(t, tsBase, w.start)) {
        r.worst ??= {};
        r.worst[key] = w;
      } else if (windows.dropped?.(t.tid, key as MetricKey).includes("max")) {
        r.notCaptured ??= {};
        r.notCaptured[key] = "memory bound";
      }
    }
  }
  return r;
}

/** Processes, then their threads: by tgid, the group leader first, then by tid. */
export function compareTasks(
  a: Pick<TaskReport, "tid" | "tgid">,
  b: Pick<TaskReport, "tid" | "tgid">,
): number {
  if (a.tgid !== b.tgid) return a.tgid - b.tgid;
  const al = a.tid === a.tgid ? 0 : 1;
  const bl = b.tid === b.tgid ? 0 : 1;
  if (al !== bl) return al - bl;
  return a.tid - b.tid;
}

/** Is an absolute timestamp inside the thread's life (from its start to its exit)? */
function withinLife(t: TaskState, tsBase: bigint, ts: Timestamp): boolean {
  const rel = Number(BigInt(ts) - tsBase);
  return !(rel < t.startTs || rel > t.exitTs);
}

/** One cause_analysis_failed occurrence per reported window whose cause analysis failed. */
export function causeFailures(tasks: readonly TaskReport[], d: Diagnostics): void {
  for (const t of tasks)
    for (const k of METRIC_KEYS) {
      const w = t.worst?.[k];
      if (w?.causeError !== undefined)
        d.add(
          "cause_analysis_failed",
          `${t.comm || "?"}:${t.tid} ${k} window at ${(Number(w.start) / 1e9).toFixed(6)} s: ${w.causeError}`,
        );
    }
}
