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
import { BYTES_PER_EVENT, EventColumns, PID_COLUMNS } from "../model/event-columns.ts";
import { EVENT_TABLE, EventKind, LongWindow } from "../model/event-kind.ts";
import type { Analyzer } from "./analyzer.ts";
import { ThreadNames } from "./thread-names.ts";
import type { PendingWindows, WindowSource } from "./window-source.ts";

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
  /** follow thread and IRQ names (default true; a scratch that only copies windows does not) */
  trackNames?: boolean;
}

/** What a window copy returns. */
export interface WindowCopy {
  events: EventColumns;
  /** a ring had overwritten part of [fromTs, toTs], or lost events are inside it */
  cut: boolean;
  /** cut only because a ring had overwritten part of the window (its memory), no lost event in what it held */
  forgotten?: boolean;
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

/** What the recorder holds (for memory accounting and tests). */
export interface FlightRecorderData {
  /** events recorded (all CPUs) */
  readonly events: number;
  /** bytes held by the rings */
  readonly bytes: number;
}

export class FlightRecorder implements Analyzer<FlightRecorderData>, WindowSource {
  readonly name = "flight recorder";
  readonly dependsOn: readonly Analyzer[] = [];
  readonly keepNs: number;
  readonly maxBytesPerCpu: number;
  readonly maxBytesTotal: number;
  private readonly initialEvents: number;
  private totalBytes = 0;
  private readonly rings: CpuRing[] = [];
  private readonly names: ThreadNames;
  private readonly trackNames: boolean;
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
  /**
   * Of the last copyWindow: whether it was limited, and the latest and earliest timestamps its
   * forward and backward walks over the rest of the window read. The trace.dat read-back
   * loads a long window's two ends only, with `gapEvents` standing for the middle, and uses
   * the copy when neither walk reached into the middle.
   */
  lastCopyLimited = false;
  walkForwardMaxTs = Number.NEGATIVE_INFINITY;
  walkBackwardMinTs = Number.POSITIVE_INFINITY;
  /** the earliest timestamp the walk over the newest events of the full part read */
  walkFullMinTs = Number.POSITIVE_INFINITY;
  /** the last limited copy had lost events inside the window */
  private lostInLimited = false;
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
    this.trackNames = opts.trackNames ?? true;
  }

  /** Forgets every event, keeping the rings' memory (a scratch reused window after window). */
  reset(): void {
    for (const r of this.rings) {
      if (r === undefined) continue;
      r.head = 0;
      r.count = 0;
      r.overwritten = false;
      r.droppedUpToTs = Number.NEGATIVE_INFINITY;
      r.lostTs.length = 0;
    }
    this.events = 0;
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
    if (this.trackNames) this.names.note(rec);
  }

  data(): FlightRecorderData {
    return this;
  }

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
   * Whether every one of `cpus` has its events from before `fromTs` on still in its ring (the
   * oldest one held is earlier), so a window opening at fromTs copies whole from here.
   */
  holdsFrom(cpus: readonly number[], fromTs: number): boolean {
    for (const cpu of cpus) {
      const r = this.rings[cpu];
      if (r === undefined || r.count === 0 || !(r.cols.ts[r.head] < fromTs)) return false;
    }
    return true;
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
  copyWindow(
    cpus: readonly number[],
    fromTs: number,
    toTs: number,
    limit?: WindowLimit,
    gapEvents = 0,
    gapInFullPart = false,
  ): WindowCopy {
    let cut = false;
    let forgotten = false;
    this.lastCopyLimited = false;
    this.walkForwardMaxTs = Number.NEGATIVE_INFINITY;
    this.walkBackwardMinTs = Number.POSITIVE_INFINITY;
    this.walkFullMinTs = Number.POSITIVE_INFINITY;
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
      if (r.overwritten && r.droppedUpToTs >= fromTs) {
        cut = true;
        forgotten = true;
      }
      const first = this.lowerBound(r, fromTs);
      const lo = first > 0 ? first - 1 : 0;
      const hi = this.lowerBound(r, nextUp(toTs));
      if (hi <= lo) continue;
      this.posScratch[used.length] = lo;
      this.endScratch[used.length] = hi;
      used.push(r);
      total += hi - lo;
    }
    total += gapEvents;
    if (limit !== undefined && total > limit.maxEvents) {
      this.lastCopyLimited = true;
      const copy = this.copyLimited(fromTs, toTs, total, cut, limit, gapInFullPart ? gapEvents : 0);
      if (forgotten && !this.lostInLimited) copy.forgotten = true;
      return copy;
    }
    const out = new EventColumns(total);
    out.length = this.mergeInto(out, this.posScratch, this.endScratch);
    // lost events inside the window cut it
    let lost = false;
    for (let j = 0; j < out.length; j++)
      if (out.kind[j] === EventKind.LostEvents && out.ts[j] >= fromTs) lost = true;
    used.length = 0;
    return forgotten && !lost
      ? { events: out, cut: true, omitted: 0, forgotten: true }
      : { events: out, cut: cut || lost, omitted: 0 };
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
    gapInFullPart: number,
  ): WindowCopy {
    const used = this.usedScratch;
    const nq = used.length;
    this.lostInLimited = false;
    const lo = this.posScratch.slice(0, nq);
    const hi = this.endScratch.slice(0, nq);
    const mid = new Int32Array(nq);
    const tid = limit.tid;
    const max = limit.maxEvents;
    let nA = 0;
    let onCpu = limit.runCpu;
    for (let q = 0; q < nq; q++) {
      const r = used[q];
      for (const l of r.lostTs)
        if (l >= fromTs && l <= toTs) {
          cut = true;
          this.lostInLimited = true;
        }
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
    // events of the full part that a read-back from the window's two ends did not load
    nA += gapInFullPart;
    const shareB = max - Math.min(nA, max >> 1);
    // forward over the rest: the first eligible events
    const fq = new Uint16Array(shareB);
    const fi = new Int32Array(shareB);
    const pos = mid.slice();
    let nF = 0;
    const headCut = new Int32Array(nq);
    let head = shareB;
    let exhausted = true;
    let fwdMax = Number.NEGATIVE_INFINITY;
    for (;;) {
      const best = this.earliest(pos, hi);
      if (best < 0) break;
      const c = used[best].cols;
      const idx = (used[best].head + pos[best]) & (c.capacity - 1);
      pos[best]++;
      if (c.ts[idx] > fwdMax) fwdMax = c.ts[idx];
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
        if (c.ts[idx] < this.walkBackwardMinTs) this.walkBackwardMinTs = c.ts[idx];
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
    this.walkForwardMaxTs = fwdMax;
    // the full part: its newest events, merging backward from its end
    const budgetA = Math.min(nA, max - nB);
    const aq = new Uint16Array(budgetA);
    const ai = new Int32Array(budgetA);
    const back = mid.slice();
    let fullMin = Number.POSITIVE_INFINITY;
    for (let j = 0; j < budgetA; j++) {
      const best = this.latest(back, lo);
      if (best < 0) {
        // only with events of the full part not loaded (gapInFullPart): the copy is not used
        fullMin = Number.NEGATIVE_INFINITY;
        aq.fill(aq[j - 1] ?? 0, j);
        ai.fill(ai[j - 1] ?? 0, j);
        break;
      }
      back[best]--;
      aq[j] = best;
      const idx = (used[best].head + back[best]) & (used[best].cols.capacity - 1);
      ai[j] = idx;
      const t = used[best].cols.ts[idx];
      if (t < fullMin) fullMin = t;
    }
    this.walkFullMinTs = fullMin;
    const n = budgetA + nB;
    const out = new EventColumns(n);
    let o = 0;
    for (let j = budgetA - 1; j >= 0; j--) out.copyFrom(o++, used[aq[j]].cols, ai[j]);
    const nHead = exhausted ? nF : head;
    for (let j = 0; j < nHead; j++) out.copyFrom(o++, used[fq[j]].cols, fi[j]);
    for (let j = nT - 1; j >= 0; j--) out.copyFrom(o++, used[bq[j]].cols, bi[j]);
    out.length = n;
    let forCauses: EventColumns | undefined;
    if (budgetA < nA && nA <= CAUSES_FULL_FACTOR * max) {
      // the whole full part is needed, and part of it was not loaded: the copy is not used
      if (gapInFullPart > 0) this.walkFullMinTs = Number.NEGATIVE_INFINITY;
      else forCauses = this.fullPartThen(lo, mid, nA, out, budgetA, nB);
    }
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

/** Per kind, what a limited window keeps after its full part (EVENT_TABLE's longWindow). */
const LONG_WINDOW = Uint8Array.from(EVENT_TABLE, (k) => k.longWindow);

/** Whether a limited window keeps event `i` after its full part (see copyLimited). */
function eligible(c: EventColumns, i: number, tid: number, onCpu: number): boolean {
  const kind = c.kind[i];
  switch (LONG_WINDOW[kind]) {
    case LongWindow.Always:
      return true;
    case LongWindow.OnCpu:
      return c.cpu[i] === onCpu;
    case LongWindow.Task:
      return namesTask(c, i, PID_COLUMNS[kind], tid);
    case LongWindow.TaskOrCpu:
      return c.cpu[i] === onCpu || namesTask(c, i, PID_COLUMNS[kind], tid);
    case LongWindow.CurrentTask:
      return c.currentTid[i] === tid;
    default:
      return false;
  }
}

/** Whether one of the thread-id columns in `mask` of event `i` holds `tid`. */
function namesTask(c: EventColumns, i: number, mask: number, tid: number): boolean {
  return (
    ((mask & 1) !== 0 && c.a[i] === tid) ||
    ((mask & 2) !== 0 && c.b[i] === tid) ||
    ((mask & 4) !== 0 && c.c[i] === tid) ||
    ((mask & 8) !== 0 && c.d[i] === tid) ||
    ((mask & 16) !== 0 && c.e[i] === tid)
  );
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
