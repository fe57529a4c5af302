// A daemon's instance may be disturbed from outside (an admin's `echo 0 > tracing_on`, a
// script disabling events, trace-cmd reset on the wrong instance): checked once a second,
// reported (health, stderr, the event stream) and repaired where a write can repair it. A
// capture with an event silently off would report clean numbers that are not.

import type { LiveSource } from "../sources/tracefs-live.ts";

export interface TracefsProblem {
  at: string;
  message: string;
}

const MAX_PROBLEMS = 20;

export class TracefsWatch {
  private readonly source: LiveSource;
  /** the most recent problems, oldest first */
  readonly problems: TracefsProblem[] = [];
  /** problems seen in total */
  count = 0;
  /** the last check found the instance as rtscope set it up */
  ok = true;
  onProblem: ((p: TracefsProblem) => void) | null = null;

  constructor(source: LiveSource) {
    this.source = source;
  }

  check(): void {
    const inst = this.source.instance;
    if (this.source.isStopping || inst.isRemoved) return;
    let ok = true;
    try {
      if (inst.read("tracing_on").trim() !== "1") {
        ok = false;
        inst.setTracingOn(true);
        this.report(`${inst.file("tracing_on")} was turned off from outside; turned back on`);
      }
      for (const ev of this.source.enabledEvents) {
        const rel = `events/${ev.system}/${ev.event}/enable`;
        if (inst.read(rel).trim() === "1") continue;
        ok = false;
        inst.enableEvent(ev.system, ev.event);
        this.report(
          `${inst.file(rel)} was disabled from outside; enabled again (samples meanwhile are missing)`,
        );
      }
    } catch (e) {
      ok = false;
      this.report(`tracefs instance ${inst.path} unusable: ${(e as Error).message}`);
    }
    this.ok = ok;
  }

  private report(message: string): void {
    const p = { at: new Date().toISOString(), message };
    this.count++;
    this.problems.push(p);
    if (this.problems.length > MAX_PROBLEMS) this.problems.shift();
    this.onProblem?.(p);
  }
}
