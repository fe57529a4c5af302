// A map from thread id to a 32-bit integer, emptied in constant time, for the passes over a
// worst window's events (thread names, priorities): thousands of lookups of a few dozen
// thread ids per window, where a Map's hashing cost more than the work it served. Values sit
// in a typed array indexed by thread id and count only when their stamp is the current
// generation, so `clear()` is one increment and the arrays are reused from window to window.

import { PID_LIMIT } from "../model/id-limits.ts";

/** What `get` returns for a thread id without a value (no priority or count is this). */
export const NO_VALUE = -0x80000000;

export class TidValues {
  private stamps = new Int32Array(1024);
  private values = new Int32Array(1024);
  private gen = 1;

  /** Forgets every value. */
  clear(): void {
    if (++this.gen === 0x7fffffff) {
      this.stamps.fill(0);
      this.gen = 1;
    }
  }

  has(tid: number): boolean {
    return tid >= 0 && tid < this.stamps.length && this.stamps[tid] === this.gen;
  }

  /** The value of `tid`, NO_VALUE when it has none. */
  get(tid: number): number {
    return tid >= 0 && tid < this.stamps.length && this.stamps[tid] === this.gen
      ? this.values[tid]
      : NO_VALUE;
  }

  /**
   * Sets the value of `tid`. Ids outside the kernel's range are ignored: sources drop such
   * events (sources/id-check.ts), and one must never size these arrays (4 M entries at most).
   */
  set(tid: number, v: number): void {
    if (tid >= this.stamps.length) {
      if (tid >= PID_LIMIT) return;
      this.grow(tid);
    } else if (tid < 0) return;
    this.stamps[tid] = this.gen;
    this.values[tid] = v;
  }

  private grow(tid: number): void {
    let n = this.stamps.length;
    while (n <= tid) n *= 2;
    n = Math.min(n, PID_LIMIT);
    const s = new Int32Array(n);
    s.set(this.stamps);
    const v = new Int32Array(n);
    v.set(this.values);
    this.stamps = s;
    this.values = v;
  }
}
