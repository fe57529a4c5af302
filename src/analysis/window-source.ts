// Where the events of a worst-case window come from. Live (and for a text trace) that is a
// flight recorder fed by the stream, whose rings forget; for a seekable trace.dat it can be
// the file itself, read back after the fact. Window capture (worst-windows.ts) sees only
// this interface: it notes samples as they are reported, asks the source to call it back
// before the events it needs are gone, and then copies each window once.

import type { Analyzer } from "./analyzer.ts";
import type { WindowCopy, WindowLimit } from "./flight-recorder.ts";

export type { WindowCopy, WindowLimit } from "./flight-recorder.ts";

/** The capture side of the hook: copies every pending window out of the source now. */
export interface PendingWindows {
  copyPending(): void;
}

export interface WindowSource {
  /**
   * What must see each event of the stream before the metrics do (a flight recorder; a file
   * source may track names or nothing): the pipeline places the sample producers after it,
   * so that when a sample is reported, the window's last event is already held. None: the
   * source needs nothing from the stream.
   */
  readonly analyzer?: Analyzer;

  /** Who copies pending windows (one capture per source; null detaches). */
  setPendingWindows(pending: PendingWindows | null): void;
  /**
   * A window is pending: call `copyPending()` once the stream reaches `copyByTs`, and before
   * any event at or after `keepFromTs` (or the last event before it on a CPU) is forgotten.
   * Successive holds keep the earliest of each; relative ns.
   */
  holdPending(keepFromTs: number, copyByTs: number): void;
  /** Every pending window was copied: no more callbacks until the next hold. */
  releasePending(): void;

  /**
   * The events of `cpus` (ascending, distinct) with fromTs <= ts <= toTs merged in (ts, cpu)
   * order, plus per CPU the last event before fromTs; with `limit`, a long window keeps what
   * explains the metric (WindowLimit) and counts the rest in `omitted`. `cut` when events of
   * the span are missing (overwritten, or lost events inside it).
   */
  copyWindow(cpus: readonly number[], fromTs: number, toTs: number, limit?: WindowLimit): WindowCopy;
  /** The CPU holding the last sched_waking of `tid` in [fromTs, toTs] (-1: none). */
  wakingCpu(tid: number, fromTs: number, toTs: number): number;
  /** A thread's name as known at `atTs` ("" unknown): one rename back is enough. */
  comm(tid: number, atTs: number): string;
  /** An IRQ line's name ("" unknown). */
  irqName(irq: number): string;
}
