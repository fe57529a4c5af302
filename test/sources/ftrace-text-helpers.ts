// Shared by the ftrace text tests: run a text source and copy every record (records are
// reused, so each one is snapshotted), plus an independent line regex used as the oracle.

import { readFileSync } from "node:fs";
import type { EventRecord } from "../../src/model/event.ts";
import type { TraceSource } from "../../src/model/source.ts";
import { type FtraceTextOptions, openFtraceText } from "../../src/sources/ftrace-text.ts";

export interface Ev {
  kind: number;
  cpu: number;
  ts: number;
  currentTid: number;
  flags: number;
  preemptCount: number;
  tid: number;
  prio: number;
  targetCpu: number;
  origCpu: number;
  parentTid: number;
  prevTid: number;
  prevPrio: number;
  prevState: number;
  nextTid: number;
  nextPrio: number;
  irq: number;
  irqRet: number;
  vec: number;
  timerKey: number;
  timerFn: string;
  expires: number;
  softExpires: number;
  now: number;
  timerMode: number;
  sleepClock: number;
  sleepFlags: number;
  sysRet: number;
  lostCount: number;
  comm: string;
  comm2: string;
  irqName: string;
  name: string;
}

export function snapshot(r: EventRecord, src: TraceSource): Ev {
  return {
    kind: r.kind,
    cpu: r.cpu,
    ts: r.ts,
    currentTid: r.currentTid,
    flags: r.flags,
    preemptCount: r.preemptCount,
    tid: r.tid,
    prio: r.prio,
    targetCpu: r.targetCpu,
    origCpu: r.origCpu,
    parentTid: r.parentTid,
    prevTid: r.prevTid,
    prevPrio: r.prevPrio,
    prevState: r.prevState,
    nextTid: r.nextTid,
    nextPrio: r.nextPrio,
    irq: r.irq,
    irqRet: r.irqRet,
    vec: r.vec,
    timerKey: r.timerKey,
    timerFn: src.symbols.name(r.timerFn),
    expires: r.expires,
    softExpires: r.softExpires,
    now: r.now,
    timerMode: r.timerMode,
    sleepClock: r.sleepClock,
    sleepFlags: r.sleepFlags,
    sysRet: r.sysRet,
    lostCount: r.lostCount,
    comm: r.str(0),
    comm2: r.str(1),
    irqName: r.str(2),
    name: r.str(3),
  };
}

export async function collect(
  path: string,
  opts?: FtraceTextOptions,
): Promise<{ src: TraceSource; events: Ev[] }> {
  const src = await openFtraceText(path, opts);
  const events: Ev[] = [];
  try {
    await src.run({ handle: (r) => events.push(snapshot(r, src)) });
  } finally {
    src.close();
  }
  return { src, events };
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) {
    const k = key(t);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** One event line as an independent regex reads it (the oracle for the parser). */
export interface OracleLine {
  pid: number;
  cpu: number;
  /** absolute timestamp digits: seconds and fraction as printed */
  sec: string;
  frac: string;
  event: string;
  payload: string;
}

// comm-pid, optional (tgid), [cpu] or -l's bare cpu, optional flags, sec.frac: event: payload
const LINE =
  /^(?:\S+: )?\s*.*?-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?(?:\[(\d+)\]\s+(?:[.a-zA-Z0-9]{1,6}\s+)?|(\d+)[.a-zA-Z][.a-zA-Z0-9]{0,5}\s+)(\d+)(?:\.(\d+))?: ([\w]+)(?::|\(| ->)\s*(.*)$/;

export function oracleLines(text: string): OracleLine[] {
  const out: OracleLine[] = [];
  for (const l of text.split("\n")) {
    const m = LINE.exec(l);
    if (!m) continue;
    out.push({
      pid: Number(m[1]),
      cpu: Number(m[2] ?? m[3]),
      sec: m[4],
      frac: m[5] ?? "",
      event: m[6],
      payload: m[7],
    });
  }
  return out;
}

export function readText(path: string): string {
  return readFileSync(path, "latin1");
}

/** Absolute ns of an oracle timestamp (BigInt, from the digits). */
export function oracleNs(l: OracleLine): bigint {
  if (l.frac === "") return BigInt(l.sec);
  return BigInt(l.sec) * 1_000_000_000n + BigInt(l.frac.padEnd(9, "0"));
}
