// Every thread id and CPU number a source reads from its input is checked here before the
// record leaves the source: the analysis indexes typed arrays by them, so one corrupt value
// (a flipped byte, `pid=4294967297`, `[99999999]`) would size an array of gigabytes. A record
// with an id out of range is not passed on as it is: it becomes a lost-events record of one
// event on its CPU, so that the activations it would have touched are cut by the normal loss
// rule rather than measured from a corrupt event, and it is counted in a diagnostic with the
// file offsets of its first occurrences.

import type { Diagnostics } from "../model/diagnostics.ts";
import { type EventRecord, StrSlot } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import { CPU_LIMIT, PID_LIMIT, validTid } from "../model/id-limits.ts";
import { TraceFormatError } from "../model/source.ts";

export class IdCheck {
  /** CPU numbers are below this (the trace's CPU count, at most CPU_LIMIT) */
  readonly cpuBound: number;
  private readonly diagnostics: Diagnostics;
  private readonly path: string;
  private readonly strict: boolean;

  /**
   * `cpus`: the trace's CPU count, 0 when unknown (then only CPU_LIMIT applies). `strict`: an
   * id out of range throws a TraceFormatError naming `path` instead.
   */
  constructor(diagnostics: Diagnostics, cpus: number, path: string, strict: boolean) {
    this.diagnostics = diagnostics;
    this.path = path;
    this.strict = strict;
    this.cpuBound = cpus > 0 && cpus < CPU_LIMIT ? cpus : CPU_LIMIT;
  }

  private cpuOk(cpu: number): boolean {
    return cpu >= 0 && cpu < this.cpuBound;
  }

  /**
   * A CPU an event names (target_cpu, orig_cpu, dest_cpu): any CPU the kernel can have, not
   * only the recorded ones (trace-cmd record -M, an instance with a cpumask, offline CPUs).
   * The analysis treats a CPU without data as such (activations involving it are cut).
   */
  private namedCpuOk(cpu: number): boolean {
    return cpu === -1 || (cpu >= 0 && cpu < CPU_LIMIT);
  }

  /** A CPU number named outside an event (a lost-data line): in range, or counted and false. */
  checkCpu(cpu: number, offset: number): boolean {
    if (this.cpuOk(cpu)) return true;
    this.count("cpu_out_of_range", offset, `CPU ${cpu} in a lost-events line`);
    return false;
  }

  private count(key: "tid_out_of_range" | "cpu_out_of_range", offset: number, what: string): void {
    if (this.strict) {
      const range =
        key === "tid_out_of_range"
          ? `a thread id outside 0..${PID_LIMIT - 1}`
          : `a CPU outside 0..${this.cpuBound - 1}`;
      throw new TraceFormatError(
        this.path,
        Math.max(0, offset),
        `${what} has ${range}: corrupt trace (--strict)`,
      );
    }
    const detail = offset >= 0 ? `offset ${offset}: ${what}` : what;
    if (key === "tid_out_of_range") this.diagnostics.add("tid_out_of_range", detail);
    else this.diagnostics.add("cpu_out_of_range", detail);
  }

  /**
   * Checks the ids of a filled record. When one is out of range, counts it (with `offset`, the
   * record's file offset, -1 unknown) and turns the record into a lost-events record of one
   * event on a valid CPU (its own, else `fallbackCpu`); returns false.
   */
  check(rec: EventRecord, offset: number, fallbackCpu = 0): boolean {
    const kind = rec.kind;
    if (kind === EventKind.LostEvents) return true;
    let tidOk = validTid(rec.currentTid);
    let cpuOk = this.cpuOk(rec.cpu);
    switch (kind) {
      case EventKind.SchedSwitch:
        tidOk = tidOk && validTid(rec.prevTid) && validTid(rec.nextTid);
        break;
      case EventKind.SchedWakeup:
      case EventKind.SchedWaking:
      case EventKind.SchedWakeupNew:
        tidOk = tidOk && validTid(rec.tid);
        // -1: the event has no target_cpu field (old kernels)
        cpuOk = cpuOk && this.namedCpuOk(rec.targetCpu);
        break;
      case EventKind.SchedMigrateTask:
        tidOk = tidOk && validTid(rec.tid);
        cpuOk = cpuOk && this.namedCpuOk(rec.targetCpu) && this.namedCpuOk(rec.origCpu);
        break;
      case EventKind.SchedProcessFork:
      case EventKind.SchedProcessExec:
        tidOk = tidOk && validTid(rec.tid) && validTid(rec.parentTid);
        break;
      case EventKind.SchedProcessExit:
        tidOk = tidOk && validTid(rec.tid);
        break;
    }
    if (tidOk && cpuOk) return true;
    const cpu = this.cpuOk(rec.cpu) ? rec.cpu : fallbackCpu;
    const name = rec.str(StrSlot.EventName) || "an event";
    if (!tidOk) this.count("tid_out_of_range", offset, name);
    else this.count("cpu_out_of_range", offset, name);
    const ts = rec.ts;
    rec.clear();
    rec.kind = EventKind.LostEvents;
    rec.cpu = cpu;
    rec.ts = ts;
    rec.currentTid = -1;
    rec.lostCount = 1;
    rec.data = null;
    rec.view = null;
    rec.strings = null;
    return false;
  }
}
