// Payloads of the sleep syscalls (clock_nanosleep, nanosleep):
//   tracefs:          sys_clock_nanosleep(which_clock: 1, flags: 1, rqtp: 0x7f.., rmtp: 0)   /   sys_clock_nanosleep -> 0x0
//   trace-cmd / -N:   which_clock: 0x00000001, flags: 0x00000001, rqtp: ..., rmtp: ...       /   0x0
//   trace-cmd -R:     __syscall_nr=230 which_clock=0x00000001 flags=0x00000001 ...          /   __syscall_nr=230 ret=0x0
// nanosleep has no clock: sleepClock stays -1.

import type { EventRecord } from "../../model/event.ts";
import { ascii, type FieldScanner } from "./field-scanner.ts";

const K_WHICH_CLOCK = ascii("which_clock");
const K_FLAGS = ascii("flags");
const K_RET = ascii("ret=");

/** Value after `key: ` or `key=`; -1 if the key is absent. */
function valueAfter(sc: FieldScanner, key: Uint8Array, from: number): number {
  const k = sc.find(key, from);
  if (k < 0) return -1;
  let i = k + key.length;
  const c = sc.b[i];
  if (c !== 58 && c !== 61) return -1; // ':' or '='
  i = sc.skipSpaces(i + 1);
  return i;
}

export function parseSysEnterSleep(sc: FieldScanner, rec: EventRecord): boolean {
  const w = valueAfter(sc, K_WHICH_CLOCK, sc.start);
  if (w < 0) {
    rec.sleepClock = -1;
    rec.sleepFlags = 0;
    return true;
  }
  rec.sleepClock = sc.int(w);
  if (!sc.ok) return false;
  const f = valueAfter(sc, K_FLAGS, sc.pos);
  rec.sleepFlags = f >= 0 ? sc.int(f) : 0;
  return sc.ok;
}

export function parseSysExitSleep(sc: FieldScanner, rec: EventRecord): boolean {
  const r = sc.value(K_RET, sc.start);
  rec.sysRet = sc.int(r >= 0 ? r : sc.start);
  return sc.ok;
}
