// Payloads of the sched events, in every printed form:
//   kernel / trace-cmd -N: prev_comm=bash prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=... next_pid=... next_prio=...
//   trace-cmd -R:          prev_comm=bash prev_pid=1 prev_prio=120 prev_state=1 next_comm=... (numbers, no ==>)
//   trace-cmd plugin:      bash:13559 [120] S ==> bash:13562 [120]   /   bash:13562 [120] [success=1] CPU:001
// Comms may contain spaces: a comm value runs up to the next known key, and plugin comms
// are read from the right (the pid is the digits after the last ':').

import type { EventRecord } from "../../model/event.ts";
import { StrSlot } from "../../model/event.ts";
import { ascii, type FieldScanner, indexOfBytes } from "./field-scanner.ts";
import {
  isOldTableValue,
  kernelLetterBits,
  pluginLetterBit,
  stateFromNewBits,
  stateFromOldBits,
} from "./prev-state.ts";
import type { TextContext } from "./text-context.ts";

const K_PREV_COMM = ascii("prev_comm=");
const K_PREV_PID = ascii("prev_pid=");
const K_PREV_PRIO = ascii("prev_prio=");
const K_PREV_STATE = ascii("prev_state=");
const K_NEXT_COMM = ascii("next_comm=");
const K_NEXT_PID = ascii("next_pid=");
const K_NEXT_PRIO = ascii("next_prio=");
const K_COMM = ascii("comm=");
const K_PID = ascii("pid=");
const K_PRIO = ascii("prio=");
const K_TARGET_CPU = ascii("target_cpu=");
const K_ORIG_CPU = ascii("orig_cpu=");
const K_DEST_CPU = ascii("dest_cpu=");
const K_PARENT_COMM = ascii("parent_comm=");
const K_PARENT_PID = ascii("parent_pid=");
const K_CHILD_COMM = ascii("child_comm=");
const K_CHILD_PID = ascii("child_pid=");
const K_FILENAME = ascii("filename=");
const K_OLD_PID = ascii("old_pid=");
const ARROW = ascii(" ==> ");

const SPACE = 32;
const COLON = 58;
const ZERO = 48;
const NINE = 57;
const LBRACK = 91;
const RBRACK = 93;

function startsWith(b: Uint8Array, at: number, end: number, key: Uint8Array): boolean {
  if (at + key.length > end) return false;
  for (let i = 0; i < key.length; i++) if (b[at + i] !== key[i]) return false;
  return true;
}

/** A numeric raw prev_state, with the table rule of prev-state.ts. */
function stateFromNumber(v: number, ctx: TextContext): number {
  if (ctx.stateTable === "new" && isOldTableValue(v)) {
    ctx.stateTable = "old";
    ctx.stateTableSwitched = true;
  }
  return ctx.stateTable === "old" ? stateFromOldBits(v) : stateFromNewBits(v);
}

/** Kernel letters `S`, `R+`, `D|K` at b[at..] up to a space. */
function stateFromLetters(b: Uint8Array, at: number, end: number, ctx: TextContext): number {
  let s = 0;
  for (let i = at; i < end && b[i] !== SPACE; i++) {
    const bits = kernelLetterBits(b[i]);
    if (bits < 0) {
      ctx.unknownStates++;
      return 0x2;
    }
    s |= bits;
  }
  return s;
}

/**
 * Stores the comm that runs from `v` up to `pidKey` in rec.text[slot] (comms may hold spaces,
 * so the pid key ends them); returns the index of the pid's digits, or -1 without the key.
 */
function commUpToPid(
  sc: FieldScanner,
  rec: EventRecord,
  ctx: TextContext,
  slot: number,
  v: number,
  pidKey: Uint8Array,
): number {
  const p = sc.find(pidKey, v);
  if (p < 0) return -1;
  rec.text[slot] = ctx.comm(sc.b, v, p - 1);
  return p + pidKey.length;
}

/** `comm=C pid=N [prio=P]` with C at `v` (wakeup, migrate, exit): comm, tid and prio if printed. */
function readTask(sc: FieldScanner, rec: EventRecord, ctx: TextContext, v: number): boolean {
  const p = commUpToPid(sc, rec, ctx, StrSlot.Comm, v, K_PID);
  if (p < 0) return false;
  rec.tid = sc.int(p);
  const pr = sc.value(K_PRIO, sc.pos);
  if (pr >= 0) rec.prio = sc.int(pr);
  return true;
}

export function parseSchedSwitch(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const b = sc.b;
  const s = sc.start;
  const e = sc.end;
  if (!startsWith(b, s, e, K_PREV_COMM)) return parseSwitchPlugin(sc, rec, ctx);
  const v = s + K_PREV_COMM.length;
  const pp = commUpToPid(sc, rec, ctx, StrSlot.Comm, v, K_PREV_PID);
  if (pp < 0) return false;
  rec.prevTid = sc.int(pp);
  const pr = sc.value(K_PREV_PRIO, sc.pos);
  if (pr < 0) return false;
  rec.prevPrio = sc.int(pr);
  const st = sc.value(K_PREV_STATE, sc.pos);
  if (st < 0) return false;
  const c = b[st];
  if (c >= ZERO && c <= NINE) rec.prevState = stateFromNumber(sc.int(st), ctx);
  else rec.prevState = stateFromLetters(b, st, e, ctx);
  const nc = sc.find(K_NEXT_COMM, st);
  if (nc < 0) return false;
  const np = commUpToPid(sc, rec, ctx, StrSlot.Comm2, nc + K_NEXT_COMM.length, K_NEXT_PID);
  if (np < 0) return false;
  rec.nextTid = sc.int(np);
  const npr = sc.value(K_NEXT_PRIO, sc.pos);
  if (npr < 0) return false;
  rec.nextPrio = sc.int(npr);
  return sc.ok;
}

/**
 * Reads `comm:pid [prio]` ending just before `end` (spaces trimmed) from the right; sets
 * sc.pos to the start of the comm and returns the index of its ':' (or -1).
 */
function taskFromRight(sc: FieldScanner, from: number, end: number): number {
  const b = sc.b;
  let k = end - 1;
  while (k >= from && b[k] === SPACE) k--;
  if (k < from || b[k] !== RBRACK) return -1;
  let o = k - 1;
  while (o >= from && b[o] !== LBRACK) o--;
  if (o < from) return -1;
  k = o - 1;
  while (k >= from && b[k] === SPACE) k--;
  const pidEnd = k + 1;
  while (k >= from && b[k] >= ZERO && b[k] <= NINE) k--;
  if (k < from || k === pidEnd - 1 || b[k] !== COLON) return -1;
  sc.pos = o + 1; // prio
  return k;
}

function parseSwitchPlugin(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const b = sc.b;
  const s = sc.start;
  const e = sc.end;
  const arrow = indexOfBytes(b, s, e, ARROW);
  if (arrow < 0) return false;
  // left: comm:pid [prio] STATE
  let st = arrow - 1;
  while (st >= s && b[st] !== SPACE) st--;
  if (st < s) return false;
  let bits = 0;
  for (let i = st + 1; i < arrow; i++) {
    const c = b[i];
    if (c === 124) continue; // |
    const bit = pluginLetterBit(c);
    if (bit < 0) {
      ctx.unknownStates++;
      bits |= 0x2;
    } else bits |= bit;
  }
  const pc = taskFromRight(sc, s, st);
  if (pc < 0) return false;
  rec.prevPrio = sc.int(sc.pos);
  rec.prevTid = sc.int(pc + 1);
  rec.text[StrSlot.Comm] = ctx.comm(b, s, pc);
  rec.prevState = ctx.stateTable === "old" ? stateFromOldBits(bits) : stateFromNewBits(bits);
  // right: comm:pid [prio]
  const r = arrow + ARROW.length;
  const nc = taskFromRight(sc, r, e);
  if (nc < 0) return false;
  rec.nextPrio = sc.int(sc.pos);
  rec.nextTid = sc.int(nc + 1);
  rec.text[StrSlot.Comm2] = ctx.comm(b, r, nc);
  return sc.ok;
}

/** sched_wakeup / sched_waking / sched_wakeup_new. */
export function parseSchedWakeup(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const b = sc.b;
  const s = sc.start;
  const e = sc.end;
  if (!startsWith(b, s, e, K_COMM)) return parseWakeupPlugin(sc, rec, ctx);
  if (!readTask(sc, rec, ctx, s + K_COMM.length)) return false;
  const t = sc.value(K_TARGET_CPU, sc.pos);
  rec.targetCpu = t >= 0 ? sc.int(t) : -1;
  return sc.ok;
}

function parseWakeupPlugin(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const b = sc.b;
  const s = sc.start;
  let e = sc.end;
  // `CPU:001` last, then optional ` success=1`
  let cpuAt = e - 1;
  while (cpuAt > s && !((b[cpuAt] === COLON && b[cpuAt - 1] === 85) /* U */)) cpuAt--;
  if (cpuAt - 3 >= s && b[cpuAt - 3] === 67 /* C */ && b[cpuAt - 2] === 80 /* P */) {
    rec.targetCpu = sc.int(cpuAt + 1);
    e = cpuAt - 3;
  } else rec.targetCpu = -1;
  // drop a trailing `success=N`
  let k = e - 1;
  while (k >= s && b[k] === SPACE) k--;
  let t = k;
  while (t >= s && b[t] !== SPACE) t--;
  if (b[k] !== RBRACK) e = t;
  const c = taskFromRight(sc, s, e);
  if (c < 0) return false;
  rec.prio = sc.int(sc.pos);
  rec.tid = sc.int(c + 1);
  rec.text[StrSlot.Comm] = ctx.comm(b, s, c);
  return sc.ok;
}

export function parseSchedMigrate(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const v = sc.value(K_COMM, sc.start);
  if (v < 0 || !readTask(sc, rec, ctx, v)) return false;
  const o = sc.value(K_ORIG_CPU, sc.pos);
  if (o < 0) return false;
  rec.origCpu = sc.int(o);
  const d = sc.value(K_DEST_CPU, sc.pos);
  if (d < 0) return false;
  rec.targetCpu = sc.int(d);
  return sc.ok;
}

/** Kernel text: `comm=.. pid=.. child_comm=.. child_pid=..`; raw 6.x fields: `parent_comm=.. parent_pid=..`. */
export function parseSchedFork(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  let v = sc.value(K_COMM, sc.start);
  let pidKey = K_PID;
  if (v < 0) {
    v = sc.value(K_PARENT_COMM, sc.start);
    pidKey = K_PARENT_PID;
  }
  if (v < 0) return false;
  const p = commUpToPid(sc, rec, ctx, StrSlot.Comm2, v, pidKey);
  if (p < 0) return false;
  rec.parentTid = sc.int(p);
  const cv = sc.value(K_CHILD_COMM, sc.pos);
  if (cv < 0) return false;
  const cp = commUpToPid(sc, rec, ctx, StrSlot.Comm, cv, K_CHILD_PID);
  if (cp < 0) return false;
  rec.tid = sc.int(cp);
  return sc.ok;
}

export function parseSchedExec(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const v = sc.value(K_FILENAME, sc.start);
  if (v < 0) return false;
  const p = commUpToPid(sc, rec, ctx, StrSlot.Comm, v, K_PID);
  if (p < 0) return false;
  rec.tid = sc.int(p);
  const o = sc.value(K_OLD_PID, sc.pos);
  rec.parentTid = o >= 0 ? sc.int(o) : rec.tid;
  return sc.ok;
}

const K_CLONE_FLAGS = ascii("clone_flags=");

/** task_newtask: `pid=28860 comm=cyclictest clone_flags=3d0f00 oom_score_adj=0` (flags in hex). */
export function parseTaskNewtask(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const v = sc.value(K_PID, sc.start);
  if (v < 0) return false;
  rec.tid = sc.int(v);
  if (!sc.ok) return false;
  const c = sc.value(K_COMM, sc.pos);
  const f = sc.value(K_CLONE_FLAGS, c < 0 ? sc.pos : c);
  if (f < 0) return false;
  if (c >= 0) rec.text[StrSlot.Comm] = ctx.comm(sc.b, c, f - K_CLONE_FLAGS.length - 1);
  rec.cloneFlags = sc.pointerKey(f) % 4294967296;
  return sc.ok;
}

export function parseSchedExit(sc: FieldScanner, rec: EventRecord, ctx: TextContext): boolean {
  const v = sc.value(K_COMM, sc.start);
  if (v < 0 || !readTask(sc, rec, ctx, v)) return false;
  return sc.ok;
}
