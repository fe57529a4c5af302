// Flight recorder: per-CPU rings of the recent events (sched, IRQ, softirq, timer,
// syscalls, lost events), so that when a metric reaches a new worst case its window can
// be copied out after the fact. Columns are typed arrays; recording an event writes a
// dozen numbers into preallocated slots and allocates nothing. Strings never enter the
// rings: thread names go to a tid → comm table that is read from the record only when a
// thread is first seen, exec'd, forked, or its name has not been checked for a while;
// IRQ names go to an irq → name table once per line.
//
// A ring is sized by time and memory: it starts small and doubles while it holds less
// than `keepNs` of history and stays under `maxBytesPerCpu`; after that it overwrites
// its oldest events, and remembers that it did so (a window reaching further back is cut).

import type { EventRecord } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import type { Analyzer } from "./analyzer.ts";
import { ThreadNames } from "./thread-names.ts";
import type { PendingWindows, WindowSource } from "./window-source.ts";

/** Bytes one event takes in the columns (ts, cpu, kind, currentTid, flags, preempt, 5 ints, 4 doubles). */
export const BYTES_PER_EVENT = 8 + 2 + 1 + 4 + 2 + 2 + 5 * 4 + 4 * 8;

/**
 * Events as typed-array columns. Which generic column holds which field depends on the kind:
 *
 * | kind | a | b | c | d | e | f | g | h | k |
 * |---|---|---|---|---|---|---|---|---|---|
 * | SchedSwitch | prevTid | prevPrio | prevState | nextTid | nextPrio | | | | |
 * | SchedWakeup/Waking/WakeupNew | tid | prio | targetCpu | | | | | | |
 * | SchedMigrateTask | tid | prio | targetCpu (dest) | origCpu | | | | | |
 * | SchedProcessFork | tid (child) | | | parentTid | | | | | |
 * | SchedProcessExec | tid | | | parentTid (old pid) | | | | | |
 * | SchedProcessExit | tid | prio | | | | | | | |
 * | IrqHandlerEntry/Exit | irq | irqRet | | | | | | | |
 * | Softirq* | vec | | | | | | | | |
 * | HrtimerStart | timerMode | | | | | timerKey | timerFn | expires | softExpires |
 * | HrtimerExpireEntry | | | | | | timerKey | timerFn | now | |
 * | HrtimerExpireExit/Cancel | | | | | | timerKey | | | |
 * | SysEnterSleep | sleepClock | sleepFlags | | | | | | | |
 * | SysExitSleep | sysRet | | | | | | | | |
 * | LostEvents | lostCount | | | | | | | | |
 * | Other | id | | | | | | | | |
 */
export class EventColumns {
  capacity: number;
  length = 0;
  ts: Float64Array;
  cpu: Uint16Array;
  kind: Uint8Array;
  currentTid: Int32Array;
  flags: Int16Array;
  preemptCount: Int16Array;
  a: Int32Array;
  b: Int32Array;
  c: Int32Array;
  d: Int32Array;
  e: Int32Array;
  f: Float64Array;
  g: Float64Array;
  h: Float64Array;
  k: Float64Array;

  constructor(capacity: number) {
    this.capacity = capacity;
    // one backing store per column set (windows are many and small): widest columns
    // first, so that every view is naturally aligned
    const n = capacity;
    const buf = new ArrayBuffer(n * BYTES_PER_EVENT);
    let off = 0;
    const f64 = () => {
      const a = new Float64Array(buf, off, n);
      off += n * 8;
      return a;
    };
    const i32 = () => {
      const a = new Int32Array(buf, off, n);
      off += n * 4;
      return a;
    };
    const i16 = () => {
      const a = new Int16Array(buf, off, n);
      off += n * 2;
      return a;
    };
    this.ts = f64();
    this.f = f64();
    this.g = f64();
    this.h = f64();
    this.k = f64();
    this.currentTid = i32();
    this.a = i32();
    this.b = i32();
    this.c = i32();
    this.d = i32();
    this.e = i32();
    this.flags = i16();
    this.preemptCount = i16();
    this.cpu = new Uint16Array(buf, off, n);
    off += n * 2;
    this.kind = new Uint8Array(buf, off, n);
  }

  get bytes(): number {
    return this.capacity * BYTES_PER_EVENT;
  }

  /**
   * Writes `rec` into slot `i` (no allocation). Only the columns the kind uses are
   * written: the others keep stale values that nothing reads for this kind.
   */
  put(i: number, rec: EventRecord): void {
    const kind = rec.kind;
    this.ts[i] = rec.ts;
    this.cpu[i] = rec.cpu;
    this.kind[i] = kind;
    this.currentTid[i] = rec.currentTid;
    this.flags[i] = rec.flags;
    this.preemptCount[i] = rec.preemptCount;
    switch (kind) {
      case EventKind.SchedSwitch:
        this.a[i] = rec.prevTid;
        this.b[i] = rec.prevPrio;
        this.c[i] = rec.prevState;
        this.d[i] = rec.nextTid;
        this.e[i] = rec.nextPrio;
        break;
      case EventKind.SchedWakeup:
      case EventKind.SchedWaking:
      case EventKind.SchedWakeupNew:
        this.a[i] = rec.tid;
        this.b[i] = rec.prio;
        this.c[i] = rec.targetCpu;
        break;
      case EventKind.SchedMigrateTask:
        this.a[i] = rec.tid;
        this.b[i] = rec.prio;
        this.c[i] = rec.targetCpu;
        this.d[i] = rec.origCpu;
        break;
      case EventKind.SchedProcessFork:
      case EventKind.SchedProcessExec:
        this.a[i] = rec.tid;
        this.d[i] = rec.parentTid;
        break;
      case EventKind.SchedProcessExit:
        this.a[i] = rec.tid;
        this.b[i] = rec.prio;
        break;
      case EventKind.IrqHandlerEntry:
      case EventKind.IrqHandlerExit:
        this.a[i] = rec.irq;
        this.b[i] = rec.irqRet;
        break;
      case EventKind.SoftirqEntry:
      case EventKind.SoftirqExit:
      case EventKind.SoftirqRaise:
        this.a[i] = rec.vec;
        break;
      case EventKind.HrtimerStart:
        this.a[i] = rec.timerMode;
        this.f[i] = rec.timerKey;
        this.g[i] = rec.timerFn;
        this.h[i] = rec.expires;
        this.k[i] = rec.softExpires;
        break;
      case EventKind.HrtimerExpireEntry:
        this.f[i] = rec.timerKey;
        this.g[i] = rec.timerFn;
        this.h[i] = rec.now;
        break;
      case EventKind.HrtimerExpireExit:
      case EventKind.HrtimerCancel:
        this.f[i] = rec.timerKey;
        break;
      case EventKind.SysEnterSleep:
        this.a[i] = rec.sleepClock;
        this.b[i] = rec.sleepFlags;
        break;
      case EventKind.SysExitSleep:
        this.a[i] = rec.sysRet;
        break;
      case EventKind.LostEvents:
        this.a[i] = rec.lostCount;
        break;
      default:
        this.a[i] = rec.id;
    }
  }

  /** Copies slot `i` of `src` into slot `j` of this. */
  copyFrom(j: number, src: EventColumns, i: number): void {
    this.ts[j] = src.ts[i];
    this.cpu[j] = src.cpu[i];
    this.kind[j] = src.kind[i];
    this.currentTid[j] = src.currentTid[i];
    this.flags[j] = src.flags[i];
    this.preemptCount[j] = src.preemptCount[i];
    this.a[j] = src.a[i];
    this.b[j] = src.b[i];
    this.c[j] = src.c[i];
    this.d[j] = src.d[i];
    this.e[j] = src.e[i];
    this.f[j] = src.f[i];
    this.g[j] = src.g[i];
    this.h[j] = src.h[i];
    this.k[j] = src.k[i];
  }

  /** Copies events [from, from + n) of `src` to slot `at` onward, whole columns at a time. */
  copyRange(at: number, src: EventColumns, from: number, n: number): void {
    if (n <= 0) return;
    const end = from + n;
    this.ts.set(src.ts.subarray(from, end), at);
    this.cpu.set(src.cpu.subarray(from, end), at);
    this.kind.set(src.kind.subarray(from, end), at);
    this.currentTid.set(src.currentTid.subarray(from, end), at);
    this.flags.set(src.flags.subarray(from, end), at);
    this.preemptCount.set(src.preemptCount.subarray(from, end), at);
    this.a.set(src.a.subarray(from, end), at);
    this.b.set(src.b.subarray(from, end), at);
    this.c.set(src.c.subarray(from, end), at);
    this.d.set(src.d.subarray(from, end), at);
    this.e.set(src.e.subarray(from, end), at);
    this.f.set(src.f.subarray(from, end), at);
    this.g.set(src.g.subarray(from, end), at);
    this.h.set(src.h.subarray(from, end), at);
    this.k.set(src.k.subarray(from, end), at);
  }

  /** A copy holding exactly `length` events (windows keep no slack). */
  trimmed(): EventColumns {
    const out = new EventColumns(this.length);
    out.copyRange(0, this, 0, this.length);
    out.length = this.length;
    return out;
  }

  /** Fills `rec` with event `i` (for writers that speak EventRecord). Strings are not set. */
  toRecord(i: number, rec: EventRecord): void {
    rec.clear();
    const kind = this.kind[i] as EventKind;
    rec.kind = kind;
    rec.ts = this.ts[i];
    rec.cpu = this.cpu[i];
    rec.currentTid = this.currentTid[i];
    rec.flags = this.flags[i];
    rec.preemptCount = this.preemptCount[i];
    const a = this.a[i];
    const b = this.b[i];
    const c = this.c[i];
    const d = this.d[i];
    switch (kind) {
      case EventKind.SchedSwitch:
        rec.prevTid = a;
        rec.prevPrio = b;
        rec.prevState = c;
        rec.nextTid = d;
        rec.nextPrio = this.e[i];
        break;
      case EventKind.SchedWakeup:
      case EventKind.SchedWaking:
      case EventKind.SchedWakeupNew:
        rec.tid = a;
        rec.prio = b;
        rec.targetCpu = c;
        break;
      case EventKind.SchedMigrateTask:
        rec.tid = a;
        rec.prio = b;
        rec.targetCpu = c;
        rec.origCpu = d;
        break;
      case EventKind.SchedProcessFork:
      case EventKind.SchedProcessExec:
        rec.tid = a;
        rec.parentTid = d;
        break;
      case EventKind.SchedProcessExit:
        rec.tid = a;
        rec.prio = b;
        break;
      case EventKind.IrqHandlerEntry:
      case EventKind.IrqHandlerExit:
        rec.irq = a;
        rec.irqRet = b;
        break;
      case EventKind.SoftirqEntry:
      case EventKind.SoftirqExit:
      case EventKind.SoftirqRaise:
        rec.vec = a;
        break;
      case EventKind.HrtimerStart:
        rec.timerMode = a;
        rec.timerKey = this.f[i];
        rec.timerFn = this.g[i];
        rec.expires = this.h[i];
        rec.softExpires = this.k[i];
        break;
      case EventKind.HrtimerExpireEntry:
        rec.timerKey = this.f[i];
        rec.timerFn = this.g[i];
        rec.now = this.h[i];
        break;
      case EventKind.HrtimerExpireExit:
      case EventKind.HrtimerCancel:
        rec.timerKey = this.f[i];
        break;
      case EventKind.SysEnterSleep:
        rec.sleepClock = a;
        rec.sleepFlags = b;
        break;
      case EventKind.SysExitSleep:
        rec.sysRet = a;
        break;
      case EventKind.LostEvents:
        rec.lostCount = a;
        break;
      default:
        rec.id = a;
    }
  }
}

/** Bit per generic column (a..k) that a kind uses: what identifies an event beyond ts/cpu/kind/currentTid. */
export function columnsOf(kind: number): number {
  switch (kind) {
    case EventKind.SchedSwitch:
      return 0b11111;
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
      return 0b00111;
    case EventKind.SchedMigrateTask:
      return 0b01111;
    case EventKind.SchedProcessFork:
    case EventKind.SchedProcessExec:
      return 0b01001;
    case EventKind.SchedProcessExit:
    case EventKind.IrqHandlerEntry:
    case EventKind.IrqHandlerExit:
    case EventKind.SysEnterSleep:
      return 0b00011;
    case EventKind.HrtimerStart:
      return 0b111100001;
    case EventKind.HrtimerExpireEntry:
      return 0b011100000;
    case EventKind.HrtimerExpireExit:
    case EventKind.HrtimerCancel:
      return 0b000100000;
    default:
      return 0b00001;
  }
}

/** Same event in two column sets (only the columns its kind uses are compared). */
export function sameEvent(x: EventColumns, i: number, y: EventColumns, j: number): boolean {
  if (
    x.ts[i] !== y.ts[j] ||
    x.cpu[i] !== y.cpu[j] ||
    x.kind[i] !== y.kind[j] ||
    x.currentTid[i] !== y.currentTid[j]
  )
    return false;
  const m = columnsOf(x.kind[i]);
  return (
    (!(m & 1) || x.a[i] === y.a[j]) &&
    (!(m & 2) || x.b[i] === y.b[j]) &&
    (!(m & 4) || x.c[i] === y.c[j]) &&
    (!(m & 8) || x.d[i] === y.d[j]) &&
    (!(m & 16) || x.e[i] === y.e[j]) &&
    (!(m & 32) || x.f[i] === y.f[j]) &&
    (!(m & 64) || x.g[i] === y.g[j]) &&
    (!(m & 128) || x.h[i] === y.h[j]) &&
    (!(m & 256) || x.k[i] === y.k[j])
  );
}

/** One CPU's ring. */
class CpuRing {
  cols: EventColumns;
  /** index of the oldest event */
  head = 0;
  count = 0;
  /** the ring has dropped events (older history is gone) */
  overwritten = false;
  /** timestamp of the newest dropped event (history before it is incomplete) */
  droppedUpToTs = Number.NEGATIVE_INFINITY;
  /** timestamps of the latest lost-events records (rare): a limited copy does not read every event */
  lostTs: number[] = [];

  constructor(capacity: number) {
    this.cols = new EventColumns(capacity);
  }
}

export interface FlightRecorderOptions {
  /** history each ring tries to keep, ns (default 2 s) */
  keepNs?: number;
  /** memory cap per CPU ring, bytes (default 16 MiB) */
  maxBytesPerCpu?: number;
  /** memory cap of all rings together, bytes (default 256 MiB): a ring stops growing when it would pass it */
  maxBytesTotal?: number;
  /** initial events per ring (power of two, default 4096) */
  initialEvents?: number;
  /** re-read a thread's name from the trace when it was last checked this long ago (default 1 s) */
  commRefreshNs?: number;
  /** thread names known before the first event (saved cmdlines) */
  initialComms?: ReadonlyMap<number, string>;
}

/** What a window copy returns. */
export interface WindowCopy {
  events: EventColumns;
  /** a ring had overwritten part of [fromTs, toTs], or lost events are inside it */
  cut: boolean;
  /** events of the window left out by the limit */
  omitted: number;
  /**
   * When the full part (margin + scheduling latency) itself was cut, and is at most
   * CAUSES_FULL_FACTOR × maxEvents: all of it followed by the kept rest, for the cause
   * analysis (the kept events alone would give the time before the first kept event to
   * whoever ran then)
   */
  forCauses?: EventColumns;
}

/** How much longer than the window the full part may be for its causes to be computed from all of it. */
export const CAUSES_FULL_FACTOR = 16;

/** What a window keeps when it is long (a response or relief cycle can span seconds). */
export interface WindowLimit {
  /** at most this many events */
  maxEvents: number;
  /** every event up to this ts (relative ns) matters: the margin and the scheduling latency */
  fullUntilTs: number;
  /** the task, and the CPU it ran on at the end */
  tid: number;
  runCpu: number;
}

export class FlightRecorder implements Analyzer, WindowSource {
  readonly keepNs: number;
  readonly maxBytesPerCpu: number;
  readonly maxBytesTotal: number;
  private readonly initialEvents: number;
  private totalBytes = 0;
  private readonly rings: CpuRing[] = [];
  private readonly names: ThreadNames;
  /** events recorded (all CPUs) */
  events = 0;
  /**
   * Deferred window copies (WindowSource hook): `pending` copies when an event reaches
   * `flushAtTs`, or before a ring overwrites the last event before `flushGuardTs` (the
   * event that tells who ran when the oldest pending window opens).
   */
  private pending: PendingWindows | null = null;
  private flushAtTs = Number.POSITIVE_INFINITY;
  private flushGuardTs = Number.POSITIVE_INFINITY;
  // copyWindow scratch, reused: the rings of a copy and their cursors
  private readonly usedScratch: CpuRing[] = [];
  private posScratch = new Int32Array(16);
  private endScratch = new Int32Array(16);

  constructor(opts: FlightRecorderOptions = {}) {
    this.keepNs = opts.keepNs ?? 2e9;
    this.maxBytesPerCpu = opts.maxBytesPerCpu ?? 16 * 1024 * 1024;
    this.maxBytesTotal = opts.maxBytesTotal ?? 256 * 1024 * 1024;
    let n = 16;
    while (n < (opts.initialEvents ?? 4096)) n *= 2;
    this.initialEvents = n;
    this.names = new ThreadNames(opts.commRefreshNs ?? 1e9, opts.initialComms);
  }

  handle(rec: EventRecord): void {
    if (rec.ts >= this.flushAtTs && this.pending !== null) this.pending.copyPending();
    const cpu = rec.cpu;
    let ring = this.rings[cpu];
    if (ring === undefined) ring = this.addRing(cpu);
    const cols = ring.cols;
    if (ring.count === cols.capacity) {
      const oldestTs = cols.ts[ring.head];
      if (
        rec.ts - oldestTs < this.keepNs &&
        cols.bytes * 2 <= this.maxBytesPerCpu &&
        this.totalBytes + cols.bytes <= this.maxBytesTotal
      )
        this.grow(ring);
    }
    const c2 = ring.cols;
    const cap = c2.capacity;
    let slot: number;
    if (ring.count < cap) {
      slot = (ring.head + ring.count) & (cap - 1);
      ring.count++;
    } else {
      slot = ring.head;
      if (c2.ts[(slot + 1) & (cap - 1)] >= this.flushGuardTs && this.pending !== null)
        this.pending.copyPending();
      ring.droppedUpToTs = c2.ts[slot];
      ring.overwritten = true;
      ring.head = (ring.head + 1) & (cap - 1);
    }
    c2.put(slot, rec);
    if (rec.kind === EventKind.LostEvents) {
      if (ring.lostTs.length >= 64) ring.lostTs.shift();
      ring.lostTs.push(rec.ts);
    }
    this.events++;
    this.names.note(rec);
  }

  finish(_endTs: number): void {}

  // --- WindowSource: the recorder is its own stream analyzer -------------------------------

  get analyzer(): Analyzer {
    return this;
  }

  setPendingWindows(pending: PendingWindows | null): void {
    this.pending = pending;
  }

  holdPending(keepFromTs: number, copyByTs: number): void {
    if (copyByTs < this.flushAtTs) this.flushAtTs = copyByTs;
    if (keepFromTs < this.flushGuardTs) this.flushGuardTs = keepFromTs;
  }

  releasePending(): void {
    this.flushAtTs = Number.POSITIVE_INFINITY;
    this.flushGuardTs = Number.POSITIVE_INFINITY;
  }

  /**
   * Thread name as last seen ("" when unknown); with `atTs`, as it was then if the last
   * change was seen after it (one change back).
   */
  comm(tid: number, atTs = Number.POSITIVE_INFINITY): string {
    return this.names.comm(tid, atTs);
  }

  /** IRQ line name ("" when unknown). */
  irqName(irq: number): string {
    return this.names.irqName(irq);
  }

  /** Total bytes held by the rings. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Per-CPU ring state, for diagnostics and tests. */
  ringInfo(
    cpu: number,
  ): { capacity: number; count: number; overwritten: boolean; oldestTs: number } | undefined {
    const r = this.rings[cpu];
    if (!r) return undefined;
    return {
      capacity: r.cols.capacity,
      count: r.count,
      overwritten: r.overwritten,
      oldestTs: r.count ? r.cols.ts[r.head] : Number.NaN,
    };
  }

  /**
   * The CPU whose ring holds the last sched_waking of `tid` in [fromTs, toTs] (-1: none): the
   * waker's CPU, which a remote wakeup (sched_wakeup written on the target CPU) does not name.
   * Reads the rings' events in that span only; for window captures, not per event.
   */
  wakingCpu(tid: number, fromTs: number, toTs: number): number {
    let best = -1;
    let bestTs = Number.NEGATIVE_INFINITY;
    for (let cpu = 0; cpu < this.rings.length; cpu++) {
      const r = this.rings[cpu];
      if (r === undefined || r.count === 0) continue;
      const c = r.cols;
      const mask = c.capacity - 1;
      for (let p = this.lowerBound(r, fromTs); p < r.count; p++) {
        const i = (r.head + p) & mask;
        if (c.ts[i] > toTs) break;
        if (c.kind[i] === EventKind.SchedWaking && c.a[i] === tid && c.ts[i] >= bestTs) {
          best = cpu;
          bestTs = c.ts[i];
        }
      }
    }
    return best;
  }

  /**
   * Copies the events of `cpus` with fromTs <= ts <= toTs, merged in (ts, cpu) order —
   * the order trace-cmd uses for equal timestamps — plus, per CPU, the last event before
   * fromTs: it tells who was running there when the window opens (a quiet or idle CPU may
   * have no event inside the margin). With a `limit`, a window longer than
   * `limit.maxEvents` keeps what explains the metric (see WindowLimit) and counts the rest
   * in `omitted`.
   */
  copyWindow(cpus: readonly number[], fromTs: number, toTs: number, limit?: WindowLimit): WindowCopy {
    let cut = false;
    const used = this.usedScratch;
    used.length = 0;
    if (this.posScratch.length < cpus.length) {
      this.posScratch = new Int32Array(cpus.length);
      this.endScratch = new Int32Array(cpus.length);
    }
    let total = 0;
    for (const cpu of cpus) {
      const r = this.rings[cpu];
      if (!r || r.count === 0) continue;
      if (used.includes(r)) continue;
      if (r.overwritten && r.droppedUpToTs >= fromTs) cut = true;
      const first = this.lowerBound(r, fromTs);
      const lo = first > 0 ? first - 1 : 0;
      const hi = this.lowerBound(r, nextUp(toTs));
      if (hi <= lo) continue;
      this.posScratch[used.length] = lo;
      this.endScratch[used.length] = hi;
      used.push(r);
      total += hi - lo;
    }
    if (limit !== undefined && total > limit.maxEvents)
      return this.copyLimited(fromTs, toTs, total, cut, limit);
    const out = new EventColumns(total);
    out.length = this.mergeInto(out, this.posScratch, this.endScratch);
    // lost events inside the window cut it
    for (let j = 0; j < out.length; j++)
      if (out.kind[j] === EventKind.LostEvents && out.ts[j] >= fromTs) cut = true;
    used.length = 0;
    return { events: out, cut, omitted: 0 };
  }

  /**
   * Of the used rings, the one whose event at `pos[q]` (ring position) comes first in (ts,
   * cpu) order, among those with pos[q] < end[q]; -1 when none is left.
   */
  private earliest(pos: Int32Array, end: Int32Array): number {
    const used = this.usedScratch;
    let best = -1;
    let bestTs = 0;
    let bestCpu = 0;
    for (let q = 0; q < used.length; q++) {
      if (pos[q] >= end[q]) continue;
      const c = used[q].cols;
      const idx = (used[q].head + pos[q]) & (c.capacity - 1);
      const t = c.ts[idx];
      const cp = c.cpu[idx];
      if (best < 0 || t < bestTs || (t === bestTs && cp < bestCpu)) {
        best = q;
        bestTs = t;
        bestCpu = cp;
      }
    }
    return best;
  }

  /**
   * Going backward: the ring whose event just before `back[q]` comes last in (ts, cpu)
   * order, among those with back[q] > floor[q]; -1 when none is left.
   */
  private latest(back: Int32Array, floor: Int32Array): number {
    const used = this.usedScratch;
    let best = -1;
    let bestTs = 0;
    let bestCpu = 0;
    for (let q = 0; q < used.length; q++) {
      if (back[q] <= floor[q]) continue;
      const c = used[q].cols;
      const idx = (used[q].head + back[q] - 1) & (c.capacity - 1);
      const t = c.ts[idx];
      const cp = c.cpu[idx];
      if (best < 0 || t > bestTs || (t === bestTs && cp > bestCpu)) {
        best = q;
        bestTs = t;
        bestCpu = cp;
      }
    }
    return best;
  }

  /**
   * The whole full part of a limited window (ring positions lo..mid of each used ring,
   * `nA` events, merged) followed by the `nB` kept events after it (`out` from `from`): what
   * the causes are computed from when the window itself keeps only the newest of the full
   * part. Kept apart from copyLimited: it runs for few windows, and as a cold branch inside
   * it deoptimized the whole copy on each first use.
   */
  private fullPartThen(
    lo: Int32Array,
    mid: Int32Array,
    nA: number,
    out: EventColumns,
    from: number,
    nB: number,
  ): EventColumns {
    const forCauses = new EventColumns(nA + nB);
    const f = this.mergeInto(forCauses, lo.slice(), mid);
    forCauses.copyRange(f, out, from, nB);
    forCauses.length = f + nB;
    return forCauses;
  }

  /** Copies the used rings' events from pos[q] up to end[q], merged, into `out` from 0; returns the count. */
  private mergeInto(out: EventColumns, pos: Int32Array, end: Int32Array): number {
    const used = this.usedScratch;
    let f = 0;
    for (;;) {
      const best = this.earliest(pos, end);
      if (best < 0) return f;
      const c = used[best].cols;
      out.copyFrom(f++, c, (used[best].head + pos[best]) & (c.capacity - 1));
      pos[best]++;
    }
  }

  /**
   * A window longer than `limit.maxEvents`, read from its ends only (a response can span
   * the whole ring: merging all of it for each copy cost more than the analysis). Up to
   * `fullUntilTs` every event is kept, the newest ones if they alone pass half the budget;
   * after it, only the task's own scheduling events, lost events, and the switches, IRQs
   * and softirqs of the CPU the task is on: the first ones (merging forward) and the last
   * ones (merging backward from the end).
   */
  private copyLimited(
    fromTs: number,
    toTs: number,
    total: number,
    cut: boolean,
    limit: WindowLimit,
  ): WindowCopy {
    const used = this.usedScratch;
    const nq = used.length;
    const lo = this.posScratch.slice(0, nq);
    const hi = this.endScratch.slice(0, nq);
    const mid = new Int32Array(nq);
    const tid = limit.tid;
    const max = limit.maxEvents;
    let nA = 0;
    let onCpu = limit.runCpu;
    for (let q = 0; q < nq; q++) {
      const r = used[q];
      for (const l of r.lostTs) if (l >= fromTs && l <= toTs) cut = true;
      const m = Math.min(hi[q], Math.max(lo[q], this.lowerBound(r, nextUp(limit.fullUntilTs))));
      mid[q] = m;
      nA += m - lo[q];
      // the switch-in that ends the full part tells where the task runs
      if (m > lo[q]) {
        const c = r.cols;
        const i = (r.head + m - 1) & (c.capacity - 1);
        if (c.kind[i] === EventKind.SchedSwitch && c.d[i] === tid) onCpu = c.cpu[i];
      }
    }
    const shareB = max - Math.min(nA, max >> 1);
    // forward over the rest: the first eligible events
    const fq = new Uint16Array(shareB);
    const fi = new Int32Array(shareB);
    const pos = mid.slice();
    let nF = 0;
    const headCut = new Int32Array(nq);
    let head = shareB;
    let exhausted = true;
    for (;;) {
      const best = this.earliest(pos, hi);
      if (best < 0) break;
      const c = used[best].cols;
      const idx = (used[best].head + pos[best]) & (c.capacity - 1);
      pos[best]++;
      if (c.kind[idx] === EventKind.SchedSwitch && c.d[idx] === tid) onCpu = c.cpu[idx];
      // a waiting task moved to another CPU's queue waits on that CPU now
      else if (c.kind[idx] === EventKind.SchedMigrateTask && c.a[idx] === tid) onCpu = c.c[idx];
      if (!eligible(c, idx, tid, onCpu)) continue;
      fq[nF] = best;
      fi[nF] = idx;
      nF++;
      if (nF === shareB) {
        exhausted = false;
        break;
      }
      if (nF === (shareB + 1) >> 1) headCut.set(pos);
    }
    let nB = nF;
    let bq = new Uint16Array(0);
    let bi = new Int32Array(0);
    let nT = 0;
    if (!exhausted) {
      // more eligible events than the share: keep the first half, then the last ones
      head = (shareB + 1) >> 1;
      if (head === shareB) headCut.set(pos);
      const tail = shareB - head;
      bq = new Uint16Array(tail);
      bi = new Int32Array(tail);
      const back = hi.slice();
      let cpuNow = limit.runCpu;
      while (nT < tail) {
        const best = this.latest(back, headCut);
        if (best < 0) break;
        back[best]--;
        const c = used[best].cols;
        const idx = (used[best].head + back[best]) & (c.capacity - 1);
        const keep = eligible(c, idx, tid, cpuNow);
        // going back in time: before a switch-out the task ran on that CPU, before a move
        // it was on the CPU it left
        if (c.kind[idx] === EventKind.SchedSwitch && (c.a[idx] === tid || c.d[idx] === tid))
          cpuNow = c.cpu[idx];
        else if (c.kind[idx] === EventKind.SchedMigrateTask && c.a[idx] === tid) cpuNow = c.d[idx];
        if (!keep) continue;
        bq[nT] = best;
        bi[nT] = idx;
        nT++;
      }
      nB = head + nT;
    }
    // the full part: its newest events, merging backward from its end
    const budgetA = Math.min(nA, max - nB);
    const aq = new Uint16Array(budgetA);
    const ai = new Int32Array(budgetA);
    const back = mid.slice();
    for (let j = 0; j < budgetA; j++) {
      const best = this.latest(back, lo);
      back[best]--;
      aq[j] = best;
      ai[j] = (used[best].head + back[best]) & (used[best].cols.capacity - 1);
    }
    const n = budgetA + nB;
    const out = new EventColumns(n);
    let o = 0;
    for (let j = budgetA - 1; j >= 0; j--) out.copyFrom(o++, used[aq[j]].cols, ai[j]);
    const nHead = exhausted ? nF : head;
    for (let j = 0; j < nHead; j++) out.copyFrom(o++, used[fq[j]].cols, fi[j]);
    for (let j = nT - 1; j >= 0; j--) out.copyFrom(o++, used[bq[j]].cols, bi[j]);
    out.length = n;
    const forCauses =
      budgetA < nA && nA <= CAUSES_FULL_FACTOR * max
        ? this.fullPartThen(lo, mid, nA, out, budgetA, nB)
        : undefined;
    used.length = 0;
    return { events: out, cut, omitted: total - n, forCauses };
  }

  /** Position (0 = oldest) of the first event with ts >= t. */
  private lowerBound(r: CpuRing, t: number): number {
    const cols = r.cols;
    const mask = cols.capacity - 1;
    let lo = 0;
    let hi = r.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cols.ts[(r.head + mid) & mask] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private addRing(cpu: number): CpuRing {
    const cap = Math.max(16, Math.min(this.initialEvents, floorPow2(this.maxBytesPerCpu / BYTES_PER_EVENT)));
    const r = new CpuRing(cap);
    this.rings[cpu] = r;
    this.totalBytes += r.cols.bytes;
    return r;
  }

  /** Doubles a full ring, unrolling it so that the oldest event is at 0. */
  private grow(r: CpuRing): void {
    const old = r.cols;
    const next = new EventColumns(old.capacity * 2);
    // the ring is full when it grows: [head, capacity) then [0, head), column by column
    const tail = old.capacity - r.head;
    next.copyRange(0, old, r.head, tail);
    next.copyRange(tail, old, 0, r.head);
    this.totalBytes += next.bytes - old.bytes;
    r.cols = next;
    r.head = 0;
  }
}

/** Whether a limited window keeps event `i` after its full part (see copyLimited). */
function eligible(c: EventColumns, i: number, tid: number, onCpu: number): boolean {
  switch (c.kind[i]) {
    case EventKind.SchedSwitch:
      return c.cpu[i] === onCpu || c.a[i] === tid || c.d[i] === tid;
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
    case EventKind.SchedMigrateTask:
      return c.a[i] === tid;
    case EventKind.IrqHandlerEntry:
    case EventKind.IrqHandlerExit:
    case EventKind.SoftirqEntry:
    case EventKind.SoftirqExit:
      return c.cpu[i] === onCpu;
    case EventKind.SysEnterSleep:
    case EventKind.SysExitSleep:
      return c.currentTid[i] === tid;
    case EventKind.LostEvents:
      return true;
    default:
      return false;
  }
}

function floorPow2(v: number): number {
  let n = 1;
  while (n * 2 <= v) n *= 2;
  return n;
}

/** Smallest double greater than `t` (so that an inclusive upper bound can use lowerBound). */
function nextUp(t: number): number {
  if (!Number.isFinite(t)) return t;
  return t + Math.max(Number.EPSILON * Math.abs(t), Number.MIN_VALUE);
}
