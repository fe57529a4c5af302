// TaskState → the JSON report's task object (SPEC §2), and the report's task order.

import { METRIC_KEYS, type MetricKey, type TaskReport, type Timestamp } from "../model/report.ts";
import { absoluteTs } from "../model/units.ts";
import type { WorstWindowProvider } from "./sample-observer.ts";
import { M_IRQ, M_TIMER, METRIC_COUNT, type TaskState } from "./task-state.ts";

/**
 * Policy shown for a thread: the one /proc gave (live), else what the prio implies. Sched
 * events carry the prio but not the policy, so an RT prio without /proc says "RT" (FIFO or
 * RR cannot be told apart); prio -1 is SCHED_DEADLINE; 100..139 is "OTHER" (normal,
 * batch or idle).
 */
export function policyOf(t: TaskState): string {
  const prio = reportedPrio(t);
  // /proc read at another moment than the events show: believe the events
  const procRt = t.policy === "FIFO" || t.policy === "RR";
  const procNormal = t.policy === "OTHER" || t.policy === "BATCH" || t.policy === "IDLE";
  if (t.policy !== "" && !(procNormal && prio >= 0 && prio < 100) && !(procRt && prio >= 100))
    return t.policy;
  if (Number.isNaN(prio)) return "";
  if (prio < 0) return "DEADLINE";
  if (prio < 100) return "RT";
  return "OTHER";
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
    policy: policyOf(t),
    prio: Number.isNaN(reportedPrio(t)) ? -1 : reportedPrio(t),
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
      }
    }
  }
  return r;
}

/** Processes, then their threads: by tgid, the group leader first, then by tid. */
export function compareTasks(a: TaskReport, b: TaskReport): number {
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
