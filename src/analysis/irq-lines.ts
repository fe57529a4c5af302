// Hard IRQs per line: the handler interval (irq_handler_entry → irq_handler_exit on one CPU),
// the hard-IRQ duration statistics per line (non-threaded IRQs get only this, SPEC §1), and
// the last completed handler of each line, which the activation analyzer ties to the
// wakeup of the line's `irq/N-name` thread for the `irq` metric.

import { type EventRecord, StrSlot } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import type { Analyzer } from "./analyzer.ts";
import { MetricStats } from "./metric-stats.ts";
import type { TaskState } from "./task-state.ts";

export class IrqLine {
  readonly irq: number;
  name = "";
  /** last handler of this line: entry and exit ts (relative ns); NaN = none */
  lastEntryTs = Number.NaN;
  lastExitTs = Number.NaN;
  lastCpu = -1;
  /** the tracked irq/N thread last tied to this line (runs in progress count arriving IRQs) */
  thread: TaskState | null = null;
  stats: MetricStats | null = null;
  constructor(irq: number) {
    this.irq = irq;
  }
}

/** What IrqLines gives the report: every line seen, and the exits it could not match. */
export interface IrqLinesData {
  readonly lines: readonly (IrqLine | undefined)[];
  readonly unmatchedExits: number;
}

export class IrqLines implements Analyzer<IrqLinesData> {
  readonly name = "irq lines";
  readonly dependsOn: readonly Analyzer[] = [];
  /** line objects indexed by IRQ number (created at first sight) */
  readonly lines: (IrqLine | undefined)[] = [];
  /** per CPU: IRQ in progress (-1 none) and its entry ts */
  private cpuIrq: Int32Array;
  private cpuEntryTs: Float64Array;
  /** keep per-line duration statistics (else only the last handler per line) */
  collect: boolean;
  /** handler exits with no entry seen on that CPU (events lost or trace began inside a handler) */
  unmatchedExits = 0;

  constructor(cpus: number, collect: boolean) {
    this.cpuIrq = new Int32Array(Math.max(1, cpus)).fill(-1);
    this.cpuEntryTs = new Float64Array(Math.max(1, cpus));
    this.collect = collect;
  }

  line(irq: number): IrqLine | undefined {
    return irq >= 0 ? this.lines[irq] : undefined;
  }

  /** The IRQ whose hard handler is running on `cpu` (-1 none): a wakeup there comes from it. */
  inIrq(cpu: number): number {
    return cpu < this.cpuIrq.length ? this.cpuIrq[cpu] : -1;
  }

  /** irq_handler_entry ts of the handler running on `cpu` (valid when inIrq(cpu) >= 0). */
  inIrqEntryTs(cpu: number): number {
    return this.cpuEntryTs[cpu];
  }

  handle(rec: EventRecord): void {
    const kind = rec.kind;
    if (kind === EventKind.IrqHandlerEntry) {
      const cpu = rec.cpu;
      if (cpu >= this.cpuIrq.length) this.grow(cpu + 1);
      this.cpuIrq[cpu] = rec.irq;
      this.cpuEntryTs[cpu] = rec.ts;
      let l = rec.irq >= 0 ? this.lines[rec.irq] : undefined;
      if (l === undefined && rec.irq >= 0) {
        l = new IrqLine(rec.irq);
        l.name = rec.str(StrSlot.IrqName); // once per line
        this.lines[rec.irq] = l;
      }
    } else if (kind === EventKind.IrqHandlerExit) {
      const cpu = rec.cpu;
      if (cpu >= this.cpuIrq.length || this.cpuIrq[cpu] !== rec.irq || rec.irq < 0) {
        this.unmatchedExits++;
        return;
      }
      this.cpuIrq[cpu] = -1;
      const l = this.lines[rec.irq];
      if (l === undefined) return;
      const entry = this.cpuEntryTs[cpu];
      l.lastEntryTs = entry;
      l.lastExitTs = rec.ts;
      l.lastCpu = cpu;
      if (this.collect) {
        if (l.stats === null) l.stats = new MetricStats(0, 0, Number.NaN);
        l.stats.add(rec.ts - entry, entry, rec.ts, cpu, false);
      }
    } else if (kind === EventKind.LostEvents) {
      // a handler in progress on that CPU may have ended unseen
      if (rec.cpu < this.cpuIrq.length) this.cpuIrq[rec.cpu] = -1;
    }
  }

  data(): IrqLinesData {
    return this;
  }

  private grow(n: number): void {
    const a = new Int32Array(n).fill(-1);
    a.set(this.cpuIrq);
    this.cpuIrq = a;
    const b = new Float64Array(n);
    b.set(this.cpuEntryTs);
    this.cpuEntryTs = b;
  }
}
