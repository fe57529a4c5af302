// sched_switch prev_state as text traces print it, normalised to TaskState bits
// (modern encoding: S D T t X Z P I = 0x1..0x80, 0 = runnable/preempted).
//
// Three printed forms (FORMATS §4.2, §5.3):
// - letters from the kernel print fmt (tracefs, trace-cmd -N): `S`, `R+`, `D|K`, `I`;
// - numbers (trace-cmd -R): the raw field, whose meaning depends on the kernel:
//     new table (>= 4.14): S=0x1 D=0x2 T=0x4 t=0x8 X=0x10 Z=0x20 P=0x40 I=0x80, preempted = 0x100;
//     old table (< 4.14):  S=1 D=2 T=4 t=8 Z=16 X=32 x=64 K=128 W=256 P=512 N=1024 n=2048,
//                          preempted = TASK_STATE_MAX alone (1024, 2048 or 4096 by kernel);
// - trace-cmd's sched_switch plugin letters: bit i of the raw value printed as "SDTtZXxW"[i]
//   (bits 0..7 only; so `R` also for a preempted task), whatever the kernel.
//
// Rule for numbers: the new table, unless a value with a bit at or above 0x200 is seen
// (impossible in the new table, which ends at 0x100); then the old table. The source probes
// the start of the file for such values before streaming and switches if one shows up later.
// The trace-cmd header (`version = 6`) is the trace.dat version and says nothing about the
// kernel, so it is not used. Both tables agree on what matters for the analysis (runnable vs
// sleeping) except for 0x100, which is "preempted" in the new table and TASK_WAKING (never
// seen in a switch) in the old one.

import { TaskState } from "../../model/event-kind.ts";

const S = TaskState.Interruptible;
const D = TaskState.Uninterruptible;
const X = TaskState.Dead;
const Z = TaskState.Zombie;

/** Raw value → normalised state, new table (>= 4.14). */
export function stateFromNewBits(v: number): number {
  return v & 0xff;
}

/** Raw value → normalised state, old table (< 4.14). */
export function stateFromOldBits(v: number): number {
  if (v !== 0 && (v & 0x3ff) === 0) return 0; // TASK_STATE_MAX alone: preempted
  let s = v & 0xf; // S D T t: same bits in both tables
  if (v & 16) s |= Z;
  if (v & (32 | 64)) s |= X; // EXIT_DEAD, TASK_DEAD
  if (v & (128 | 256 | 1024 | 2048)) s |= D; // wakekill, waking, noload, new: treat as blocked
  if (v & 512) s |= TaskState.Parked;
  return s;
}

/** Does a raw value prove the old table? */
export function isOldTableValue(v: number): boolean {
  return v >= 0x200;
}

/** Plugin letters ("SDTtZXxW") → the raw bits they stand for; -1 for an unknown letter. */
export function pluginLetterBit(c: number): number {
  switch (c) {
    case 83: // S
      return 0x1;
    case 68: // D
      return 0x2;
    case 84: // T
      return 0x4;
    case 116: // t
      return 0x8;
    case 90: // Z
      return 0x10;
    case 88: // X
      return 0x20;
    case 120: // x
      return 0x40;
    case 87: // W
      return 0x80;
    case 82: // R
      return 0;
    default:
      return -1;
  }
}

/**
 * Kernel print-fmt letters → normalised state bits; -1 for an unknown letter. Old-kernel
 * letters: `x` (TASK_DEAD) counts as dead, `K`/`W`/`N`/`n` as blocked.
 */
export function kernelLetterBits(c: number): number {
  switch (c) {
    case 82: // R
    case 43: // +
    case 124: // |
      return 0;
    case 83: // S
      return S;
    case 68: // D
      return D;
    case 84: // T
      return TaskState.Stopped;
    case 116: // t
      return TaskState.Traced;
    case 88: // X
    case 120: // x
      return X;
    case 90: // Z
      return Z;
    case 80: // P
      return TaskState.Parked;
    case 73: // I
      return TaskState.Idle;
    case 75: // K
    case 87: // W
    case 78: // N
    case 110: // n
      return D;
    default:
      return -1;
  }
}
