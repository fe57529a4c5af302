// Thread and IRQ line names as the stream has shown them so far, for the worst windows'
// listings: a window is copied some time after its events, so a name keeps one change back
// with the time it was seen. Strings are read only when a name may be new (the first sight
// of a thread, or after `commRefreshNs` of trace time), not per event.
//
// Bound: the name of a thread that exited is kept for windows copied after its exit, then
// forgotten once MAX_EXITED_NAMES threads exited after it and it exited more than
// EXITED_NAME_KEEP_NS ago (far longer than the recorder's rings usually span under such
// churn, 2 s by default); a listing then shows such a thread by its tid alone, like a thread
// never named. Without the bound the table held every tid the capture ever saw.

import { type EventRecord, StrSlot } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";

/** Exited threads whose names are kept at least (see the header). */
export const MAX_EXITED_NAMES = 4096;
/** ...and for at least this long after their exit (trace ns). */
export const EXITED_NAME_KEEP_NS = 10e9;

interface CommEntry {
  comm: string;
  checkedTs: number;
  /** the name before the last change seen, and when the change was seen (windows are copied late) */
  prev: string;
  changedTs: number;
  /** sequence number of its last exit in `exited` (0: not exited since last seen forked) */
  exitSeq: number;
}

/**
 * Threads whose last name check is mirrored in a flat array (tid below this): `note` runs for
 * every switch and wakeup, and an array read answers "checked recently" in a few ns where
 * the Map lookup behind it took ~15 ns twice per switch (10 % of a report's CPU on a
 * trace.dat). Above it (pid_max can be 4 M), the Map alone.
 */
const DENSE_TIDS = 1 << 16;

export class ThreadNames {
  private readonly commRefreshNs: number;
  private readonly comms = new Map<number, CommEntry>();
  /**
   * checkedTs of comms' entry per tid below its length (-Infinity: none, or re-read at next
   * sight); grown to the highest tid seen, up to DENSE_TIDS (scratch recorders make many)
   */
  private checked = new Float64Array(256).fill(Number.NEGATIVE_INFINITY);
  private readonly irqNames = new Map<number, string>();
  /** exited threads in exit order from `exitedHead` on: tid, exit sequence number, exit ts */
  private exitedTid: number[] = [];
  private exitedSeq: number[] = [];
  private exitedTs: number[] = [];
  private exitedHead = 0;
  private exitSeq = 0;
  /** names of exited threads forgotten for the bound */
  forgotten = 0;

  /**
   * `commRefreshNs`: re-read a thread's name when it was last checked this long ago;
   * `initialComms`: names known before the first event (saved cmdlines).
   */
  constructor(commRefreshNs: number, initialComms?: ReadonlyMap<number, string>) {
    this.commRefreshNs = commRefreshNs;
    // saved cmdlines are checked at first sight (checkedTs -Infinity, as in `checked`)
    if (initialComms)
      for (const [t, c] of initialComms)
        this.comms.set(t, {
          comm: c,
          checkedTs: Number.NEGATIVE_INFINITY,
          prev: c,
          changedTs: Number.NEGATIVE_INFINITY,
          exitSeq: 0,
        });
    this.comms.set(0, {
      comm: "<idle>",
      checkedTs: Number.POSITIVE_INFINITY,
      prev: "<idle>",
      changedTs: Number.NEGATIVE_INFINITY,
      exitSeq: 0,
    });
  }

  /**
   * Thread name as last seen ("" when unknown); with `atTs`, as it was then if the last
   * change was seen after it (one change back).
   */
  comm(tid: number, atTs = Number.POSITIVE_INFINITY): string {
    const e = this.comms.get(tid);
    if (e === undefined) return "";
    return e.changedTs > atTs ? e.prev : e.comm;
  }

  /** IRQ line name ("" when unknown). */
  irqName(irq: number): string {
    return this.irqNames.get(irq) ?? "";
  }

  /** Keeps the name tables current; reads strings only when a name may be new. */
  note(rec: EventRecord): void {
    switch (rec.kind) {
      case EventKind.SchedSwitch:
        this.noteComm(rec.prevTid, rec, StrSlot.Comm);
        this.noteComm(rec.nextTid, rec, StrSlot.Comm2);
        break;
      case EventKind.SchedWakeup:
      case EventKind.SchedWaking:
      case EventKind.SchedWakeupNew:
        this.noteComm(rec.tid, rec, StrSlot.Comm);
        break;
      case EventKind.SchedProcessFork: {
        this.setComm(rec.tid, rec.str(StrSlot.Comm), rec.ts);
        // a new thread under a tid seen exit: its entry is no longer an exited thread's
        const e = this.comms.get(rec.tid);
        if (e !== undefined) e.exitSeq = 0;
        break;
      }
      case EventKind.SchedProcessExec:
      case EventKind.SchedProcessExit: {
        // the name changes at exec (and the tid may be reused after exit): re-read at next sight
        const e = this.comms.get(rec.tid);
        if (e !== undefined) {
          this.setChecked(rec.tid, e, Number.NEGATIVE_INFINITY);
          if (rec.kind === EventKind.SchedProcessExit && rec.tid !== 0) this.exited(rec.tid, e, rec.ts);
        }
        break;
      }
      case EventKind.IrqHandlerEntry:
        if (!this.irqNames.has(rec.irq)) this.irqNames.set(rec.irq, rec.str(StrSlot.IrqName));
        break;
    }
  }

  /** Number of names held (tests, benchmarks). */
  get size(): number {
    return this.comms.size;
  }

  private exited(tid: number, e: CommEntry, ts: number): void {
    e.exitSeq = ++this.exitSeq;
    this.exitedTid.push(tid);
    this.exitedSeq.push(e.exitSeq);
    this.exitedTs.push(ts);
    while (
      this.exitedTid.length - this.exitedHead > MAX_EXITED_NAMES &&
      ts - this.exitedTs[this.exitedHead] > EXITED_NAME_KEEP_NS
    ) {
      const h = this.exitedHead++;
      const old = this.comms.get(this.exitedTid[h]);
      // only if not seen forked again (or exited again) since
      if (old !== undefined && old.exitSeq === this.exitedSeq[h]) {
        this.comms.delete(this.exitedTid[h]);
        // and from the mirror, or a reused tid would skip its first look
        this.mirror(this.exitedTid[h], Number.NEGATIVE_INFINITY);
        this.forgotten++;
      }
    }
    if (this.exitedHead >= 1024 && this.exitedHead * 2 >= this.exitedTid.length) {
      this.exitedTid = this.exitedTid.slice(this.exitedHead);
      this.exitedSeq = this.exitedSeq.slice(this.exitedHead);
      this.exitedTs = this.exitedTs.slice(this.exitedHead);
      this.exitedHead = 0;
    }
  }

  private noteComm(tid: number, rec: EventRecord, slot: StrSlot): void {
    if (tid === 0) return;
    if (tid < this.checked.length && tid > 0 && rec.ts - this.checked[tid] <= this.commRefreshNs) return;
    const e = this.comms.get(tid);
    if (e === undefined || rec.ts - e.checkedTs > this.commRefreshNs) {
      // prctl(PR_SET_NAME) renames leave no event of their own: look again now and then
      const s = rec.str(slot);
      if (s) this.setComm(tid, s, rec.ts);
      else if (e !== undefined) this.setChecked(tid, e, rec.ts);
    }
  }

  private setChecked(tid: number, e: CommEntry, ts: number): void {
    e.checkedTs = ts;
    this.mirror(tid, ts);
  }

  private mirror(tid: number, ts: number): void {
    if (tid <= 0 || tid >= DENSE_TIDS) return;
    if (tid >= this.checked.length) {
      let n = this.checked.length * 2;
      while (n <= tid) n *= 2;
      const bigger = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
      bigger.set(this.checked);
      this.checked = bigger;
    }
    this.checked[tid] = ts;
  }

  private setComm(tid: number, comm: string, ts: number): void {
    const e = this.comms.get(tid);
    if (e === undefined) {
      this.comms.set(tid, {
        comm,
        checkedTs: ts,
        prev: comm,
        changedTs: Number.NEGATIVE_INFINITY,
        exitSeq: 0,
      });
      this.mirror(tid, ts);
      return;
    }
    if (e.comm !== comm) {
      e.prev = e.comm;
      e.changedTs = ts;
      e.comm = comm;
    }
    this.setChecked(tid, e, ts);
  }
}
