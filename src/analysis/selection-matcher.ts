// Decides whether a thread is tracked (SPEC §1 "selection"). Called when a thread is first
// seen and again when something the selection depends on changes (name, RT prio, tgid,
// parent) — never per event: the verdict is cached in TaskState.tracked.

import { type Selection, selectionIsEmpty } from "../model/selection.ts";
import type { TaskState } from "./task-state.ts";

const IRQ_THREAD = /^irq\/(\d+)-/;

/** N of an `irq/N-name` thread name, or -1. */
export function irqLineOf(comm: string): number {
  const m = IRQ_THREAD.exec(comm);
  return m ? Number(m[1]) : -1;
}

export class SelectionMatcher {
  private tids = new Set<number>();
  private tgids = new Set<number>();
  private ancestors = new Set<number>();
  private comms: RegExp[] = [];
  private rt = false;
  private irqThreads = false;
  private all = false;

  private readonly emptyMeansAll: boolean;

  /** `emptyMeansAll` false: an empty selection tracks nothing (a daemon adding tasks later). */
  constructor(sel: Selection, emptyMeansAll = true) {
    this.emptyMeansAll = emptyMeansAll;
    this.add(sel);
  }

  /** Widens the selection (live `ctl add`). */
  add(sel: Selection): void {
    for (const t of sel.tids) this.tids.add(t);
    for (const t of sel.tgids) this.tgids.add(t);
    for (const t of sel.descendantsOf) this.ancestors.add(t);
    // a global/sticky regex would make test() stateful: strip those flags
    for (const c of sel.comms) this.comms.push(new RegExp(c.source, c.flags.replace(/[gy]/g, "")));
    this.rt ||= sel.rt;
    this.irqThreads ||= sel.irqThreads;
    this.all = this.all || (this.emptyMeansAll && selectionIsEmpty(sel) && this.isEmpty());
  }

  /**
   * Narrows the selection (live `ctl del`, or a tracked process that exited: a new process
   * reusing its pid must not be selected by the old entry). Threads already tracked stay
   * tracked until the caller stops them.
   */
  remove(sel: Selection): void {
    for (const t of sel.tids) this.tids.delete(t);
    for (const t of sel.tgids) this.tgids.delete(t);
  }

  private isEmpty(): boolean {
    return (
      this.tids.size === 0 &&
      this.tgids.size === 0 &&
      this.ancestors.size === 0 &&
      this.comms.length === 0 &&
      !this.rt &&
      !this.irqThreads
    );
  }

  /** Whether names matter (comm regexes or irq threads): then renames are watched. */
  get usesNames(): boolean {
    return this.comms.length > 0 || this.irqThreads;
  }

  /** The verdict for a thread; `parentOf` walks the fork tree for descendantsOf. */
  matches(t: TaskState, parentOf: (tid: number) => number): boolean {
    if (t.tid === 0) return false; // the idle task is never a tracked task
    if (this.all) return true;
    if (this.tids.has(t.tid) || this.tgids.has(t.tgid)) return true;
    if (this.rt && t.everRt) return true;
    if (this.irqThreads && t.irqLine >= 0) return true;
    for (let i = 0; i < this.comms.length; i++) if (this.comms[i].test(t.comm)) return true;
    if (this.ancestors.size > 0) {
      if (this.ancestors.has(t.tgid)) return true;
      // bounded walk: pid reuse could in principle make a cycle
      let p = t.parentTid;
      for (let depth = 0; p > 0 && depth < 64; depth++) {
        if (this.ancestors.has(p)) return true;
        p = parentOf(p);
      }
    }
    return false;
  }
}
