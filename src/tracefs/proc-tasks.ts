// The tasks that exist when a live capture starts, from /proc: thread names and thread
// groups. Events only name a thread when it does something, and a --tgid selection must
// know which existing threads belong to the process before any fork event.

import { readdirSync, readFileSync } from "node:fs";

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
