// What a live source can tell about a thread that the events do not (from /proc).

import type { TaskState } from "./task-state.ts";

export interface TaskInfo {
  tgid?: number;
  /** "FIFO" | "RR" | "DEADLINE" | "OTHER" | "BATCH" | "IDLE" */
  policy?: string;
  /** base priorities: rt_priority (1..99 for FIFO/RR, else 0) and nice (-20..19) */
  rtPriority?: number;
  nice?: number;
  comm?: string;
}

/** Called once per thread when it is first seen, and again when a report is built. */
export type TaskInfoLookup = (tid: number) => TaskInfo | undefined;

/** Takes the policy and base priority of `info` (what /proc says now). */
export function applyTaskInfo(t: TaskState, info: TaskInfo): void {
  if (info.policy) t.policy = info.policy;
  if (info.rtPriority !== undefined) t.rtPriority = info.rtPriority;
  if (info.nice !== undefined) t.nice = info.nice;
}
