// Scripted event streams for the window tests: builds EventRecords by hand (what a source
// would fill), so recorder, causes and writers can be checked against known numbers.

import assert from "node:assert/strict";
import type { SampleEvent } from "../../src/analysis/sample-observer.ts";
import { createWindowCapture } from "../../src/analysis/worst-windows.ts";
import { EventRecord, StrSlot } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import type { Cause, WorstWindow } from "../../src/model/report.ts";

export class Script {
  readonly recs: EventRecord[] = [];
  readonly comms = new Map<number, string>();

  constructor(comms: Record<number, string> = {}) {
    for (const [t, c] of Object.entries(comms)) this.comms.set(Number(t), c);
  }

  private base(ts: number, cpu: number, cur: number, kind: EventKind): EventRecord {
    const r = new EventRecord();
    r.clear();
    r.kind = kind;
    r.ts = ts;
    r.cpu = cpu;
    r.currentTid = cur;
    r.flags = 0;
    r.preemptCount = 0;
    this.recs.push(r);
    return r;
  }

  switch(
    ts: number,
    cpu: number,
    prev: number,
    prevPrio: number,
    prevState: number,
    next: number,
    nextPrio: number,
  ): this {
    const r = this.base(ts, cpu, prev, EventKind.SchedSwitch);
    r.prevTid = prev;
    r.prevPrio = prevPrio;
    r.prevState = prevState;
    r.nextTid = next;
    r.nextPrio = nextPrio;
    r.text[StrSlot.Comm] = this.comms.get(prev) ?? (prev === 0 ? `swapper/${cpu}` : "");
    r.text[StrSlot.Comm2] = this.comms.get(next) ?? (next === 0 ? `swapper/${cpu}` : "");
    return this;
  }

  wakeup(
    ts: number,
    cpu: number,
    cur: number,
    tid: number,
    prio: number,
    target: number,
    kind: EventKind = EventKind.SchedWakeup,
  ): this {
    const r = this.base(ts, cpu, cur, kind);
    r.tid = tid;
    r.prio = prio;
    r.targetCpu = target;
    r.text[StrSlot.Comm] = this.comms.get(tid) ?? "";
    return this;
  }

  migrate(ts: number, cpu: number, cur: number, tid: number, prio: number, orig: number, dest: number): this {
    const r = this.base(ts, cpu, cur, EventKind.SchedMigrateTask);
    r.tid = tid;
    r.prio = prio;
    r.origCpu = orig;
    r.targetCpu = dest;
    r.text[StrSlot.Comm] = this.comms.get(tid) ?? "";
    return this;
  }

  irq(ts: number, end: number, cpu: number, cur: number, irq: number, name: string): this {
    const a = this.base(ts, cpu, cur, EventKind.IrqHandlerEntry);
    a.irq = irq;
    a.flags = 0x09;
    a.text[StrSlot.IrqName] = name;
    const b = this.base(end, cpu, cur, EventKind.IrqHandlerExit);
    b.irq = irq;
    b.irqRet = 1;
    b.flags = 0x09;
    return this;
  }

  softirq(ts: number, end: number, cpu: number, cur: number, vec: number): this {
    this.base(ts, cpu, cur, EventKind.SoftirqEntry).vec = vec;
    this.base(end, cpu, cur, EventKind.SoftirqExit).vec = vec;
    return this;
  }

  hrtimerStart(ts: number, cpu: number, cur: number, key: number, fn: number, expires: number): this {
    const r = this.base(ts, cpu, cur, EventKind.HrtimerStart);
    r.timerKey = key;
    r.timerFn = fn;
    r.expires = expires;
    r.softExpires = expires;
    return this;
  }

  expireEntry(ts: number, cpu: number, cur: number, key: number, fn: number, now: number): this {
    const r = this.base(ts, cpu, cur, EventKind.HrtimerExpireEntry);
    r.timerKey = key;
    r.timerFn = fn;
    r.now = now;
    return this;
  }

  expireExit(ts: number, cpu: number, cur: number, key: number): this {
    this.base(ts, cpu, cur, EventKind.HrtimerExpireExit).timerKey = key;
    return this;
  }

  sleepEnter(ts: number, cpu: number, cur: number, clock: number, flags: number): this {
    const r = this.base(ts, cpu, cur, EventKind.SysEnterSleep);
    r.sleepClock = clock;
    r.sleepFlags = flags;
    return this;
  }

  sleepExit(ts: number, cpu: number, cur: number, ret: number): this {
    this.base(ts, cpu, cur, EventKind.SysExitSleep).sysRet = ret;
    return this;
  }

  lost(ts: number, cpu: number, count: number): this {
    this.base(ts, cpu, 0, EventKind.LostEvents).lostCount = count;
    return this;
  }

  other(ts: number, cpu: number, cur: number): this {
    this.base(ts, cpu, cur, EventKind.Other).id = 999;
    return this;
  }

  /** Events in time order (stable for equal times: lower CPU first, then insertion). */
  sorted(): EventRecord[] {
    return this.recs
      .map((r, i) => ({ r, i }))
      .sort((x, y) => x.r.ts - y.r.ts || x.r.cpu - y.r.cpu || x.i - y.i)
      .map((x) => x.r);
  }
}

export function sample(p: Partial<SampleEvent> & Pick<SampleEvent, "tid" | "start" | "end">): SampleEvent {
  return {
    metric: "latency",
    value: p.end - p.start,
    wakeTs: p.start,
    wakeCpu: 1,
    runCpu: 1,
    cpus: [p.runCpu ?? 1],
    prio: 19,
    switchInTs: p.end,
    inferred: false,
    isNewMax: true,
    isFirstViolation: false,
    isWorstViolation: false,
    ...p,
  };
}

/** The window of `smp` over the scripted events (default 100 µs margin); its causes must sum to the metric. */
export function windowOf(s: Script, smp: SampleEvent): WorstWindow {
  const cap = createWindowCapture({ tsBase: 1_000_000_000n });
  for (const r of s.sorted()) cap.recorder.handle(r);
  cap.observer.onSample(smp);
  const w = cap.windows.worst(smp.tid, smp.metric);
  assert.ok(w, "window captured");
  const sum = w.causes.reduce((a, c) => a + c.time, 0);
  assert.equal(sum, smp.end - smp.start, "parts sum to the metric");
  return w;
}

export function causeOf(w: WorstWindow, kind: string, name?: string): Cause | undefined {
  return w.causes.find((c) => c.kind === kind && (name === undefined || c.name === name));
}
