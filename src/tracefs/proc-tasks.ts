// The tasks that exist when a live capture starts, from /proc: thread names and thread
// groups. Events only name a thread when it does something, and a --tgid selection must
// know which existing threads belong to the process before any fork event.

import { readdirSync, readFileSync } from "node:fs";
import type { TaskInfo } from "../analysis/task-info.ts";

export interface TaskSnapshot {
  comms: Map<number, string>;
  tgids: Map<number, number>;
}

export function snapshotTasks(proc = "/proc"): TaskSnapshot {
  const comms = new Map<number, string>();
  const tgids = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync(proc);
  } catch {
    return { comms, tgids };
  }
  for (const p of pids) {
    if (!/^\d+$/.test(p)) continue;
    const tgid = Number(p);
    let tids: string[];
    try {
      tids = readdirSync(`${proc}/${p}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const t of tids) {
      const tid = Number(t);
      if (!Number.isInteger(tid)) continue;
      tgids.set(tid, tgid);
      try {
        comms.set(tid, readFileSync(`${proc}/${p}/task/${t}/comm`, "utf8").replace(/\n$/, ""));
      } catch {
        // exited meanwhile
      }
    }
  }
  return { comms, tgids };
}

const POLICY_NAMES = ["OTHER", "FIFO", "RR", "BATCH", "ISO", "IDLE", "DEADLINE"];

/**
 * What /proc says about a live thread: tgid, scheduling policy and base priority, name.
 * Called when the analysis first sees a thread and when it builds a report (never per
 * event); undefined when the thread is gone.
 */
export function procTaskInfo(tid: number, proc = "/proc"): TaskInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`${proc}/${tid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: fields start after the last ')'
  const close = stat.lastIndexOf(")");
  const open = stat.indexOf("(");
  const comm = open >= 0 && close > open ? stat.slice(open + 1, close) : undefined;
  const fields = stat.slice(close + 2).split(" ");
  // fields[0] is field 3 (state); nice is field 19, rt_priority 40, policy 41 (proc(5))
  const policyNum = Number(fields[41 - 3]);
  const policy = Number.isInteger(policyNum) ? POLICY_NAMES[policyNum] : undefined;
  const nice = Number(fields[19 - 3]);
  const rtPriority = Number(fields[40 - 3]);
  let tgid: number | undefined;
  try {
    const m = /^Tgid:\s*(\d+)/m.exec(readFileSync(`${proc}/${tid}/status`, "utf8"));
    if (m) tgid = Number(m[1]);
  } catch {
    // exited meanwhile
  }
  return {
    tgid,
    policy,
    comm,
    nice: Number.isInteger(nice) ? nice : undefined,
    rtPriority: Number.isInteger(rtPriority) ? rtPriority : undefined,
  };
}

/** Who a live pid is: its thread group, its start time (clock ticks since boot) and name. */
export interface ProcIdentity {
  tgid: number;
  /** /proc/PID/stat field 22: with the pid, it names one task for its whole life (pids are reused) */
  startTime: number;
  comm: string;
}

/** The identity of a live thread or process, or undefined when no such pid exists. */
export function procIdentity(pid: number, proc = "/proc"): ProcIdentity | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`${proc}/${pid}/stat`, "utf8");
    status = readFileSync(`${proc}/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(")");
  const open = stat.indexOf("(");
  const fields = stat.slice(close + 2).split(" ");
  const startTime = Number(fields[22 - 3]);
  const tgid = Number(/^Tgid:\s*(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  if (!Number.isFinite(startTime) || !Number.isFinite(tgid)) return undefined;
  return { tgid, startTime, comm: open >= 0 && close > open ? stat.slice(open + 1, close) : "" };
}

/** The threads of this process (/proc/self/task): rtscope's own reader, V8 and libuv workers. */
export function ownThreads(proc = "/proc"): number[] {
  try {
    return readdirSync(`${proc}/self/task`)
      .map(Number)
      .filter((t) => Number.isInteger(t));
  } catch {
    return [];
  }
}
