// Worst-case windows: the SampleObserver the metrics engine calls on a new maximum or an
// SLO's first/worst violation, and the WorstWindowProvider the report builder reads.
//
// Capture: the flight recorder's events of every CPU involved (waking CPU, running CPU,
// CPUs migrated across) from the wakeup (or the metric's start, if earlier) minus a
// margin to the end of the metric. Windows are kept per (task, metric) in three roles —
// the maximum, the first violation, the worst violation — and one window may hold
// several roles. A window that loses its last role is freed.
//
// Memory: the sum of the windows' event columns stays under `windowMemoryBytes`. When a
// new window pushes it over, windows are evicted in this order until it fits:
//   1. maxima of metrics within their bound (or without one), then windows that are only
//      a first violation, then worst violations: a violated bound's window is what a CI
//      gate's reader needs, it outranks any window of a bound that held;
//   2. within a class, the least bad first (smallest value), then the oldest capture.
// The window being stored competes like the others (it is dropped when it ranks lowest);
// when it alone exceeds the bound, its oldest events are dropped (`memoryOmitted`). Every
// window dropped is remembered per task, metric and role until a later capture takes the
// role again, so that reports say "not captured (memory bound)" instead of going silent.
//
// Wiring (the recorder must see each event BEFORE the metrics analyzer, so that when
// onSample fires the window's last event is already recorded):
//   const cap = createWindowCapture({ tsBase: source.info.tsBase, symbols: source.symbols });
//   new Pipeline([cap.recorder, metricsAnalyzer /* opts.observer = cap.observer */]);
//   report builder: cap.windows.worst(tid, metric)

import { EventKind, SOFTIRQ_NAMES, taskStateFromLetters, taskStateLetters } from "../model/event-kind.ts";
import {
  METRIC_KEYS,
  type MetricKey,
  WINDOW_EVENT_ROWS,
  type WindowEvent,
  WindowEventRow,
  type WindowEventRows,
  type WorstWindow,
} from "../model/report.ts";
import type { SymbolTable } from "../model/source.ts";
import { absoluteTs } from "../model/units.ts";
import type { Analyzer } from "./analyzer.ts";
import { analyzeCauses, type CauseBreakdown } from "./causes.ts";
import {
  BYTES_PER_EVENT,
  EventColumns,
  FlightRecorder,
  type FlightRecorderOptions,
  sameEvent,
} from "./flight-recorder.ts";
import type {
  DroppedWindow,
  SampleEvent,
  SampleObserver,
  WindowRole,
  WorstWindowProvider,
} from "./sample-observer.ts";

export type { WindowRole } from "./sample-observer.ts";

/** A captured window, in the recorder's compact form (relative ns). */
export interface CapturedWindow {
  readonly id: number;
  readonly tid: number;
  readonly metric: MetricKey;
  readonly sample: Readonly<SampleEvent>;
  /** window bounds (relative ns): [from, to] */
  readonly from: number;
  readonly to: number;
  readonly events: EventColumns;
  /** a ring overwrote part of the window, or lost events are inside it */
  incomplete: boolean;
  /** events left out to bound the window (maxWindowEvents) */
  omitted: number;
  /** events left out to keep all windows under windowMemoryBytes */
  memoryOmitted: number;
  /** causes computed at capture from more events than the window keeps (its latency part was cut) */
  readonly breakdown?: CauseBreakdown;
  /** names of the threads and IRQ lines seen in the window, as known at capture */
  readonly comms: ReadonlyMap<number, string>;
  readonly irqNames: ReadonlyMap<number, string>;
  readonly roles: Set<WindowRole>;
  readonly bytes: number;
  /** capture order */
  readonly seq: number;
}

export interface WindowCaptureOptions {
  /** the stream's tsBase, to give absolute timestamps in reports */
  tsBase?: bigint;
  /** margin before the wakeup, ns (default 100 µs) */
  marginNs?: number;
  /** bound on the memory of all windows, bytes (default 64 MiB) */
  windowMemoryBytes?: number;
  /**
   * how long a window may wait before it is copied out of the rings, ns of trace time
   * (default 500 ms; it is copied earlier when a ring is about to overwrite it, or when
   * windows are read)
   */
  deferNs?: number;
  /**
   * events one window keeps at most (default 1024): the margin and the scheduling latency
   * first, then the task's own switches and its CPU's switches/IRQs, first and last
   */
  maxWindowEvents?: number;
  /** kernel symbols, to name hrtimer callbacks in listings */
  symbols?: SymbolTable;
  recorder?: FlightRecorderOptions;
}

interface Slots {
  max?: CapturedWindow;
  first?: CapturedWindow;
  worst?: CapturedWindow;
  // samples whose window is not copied yet (see WorstWindows: deferred capture)
  pendMax?: SampleEvent;
  pendFirst?: SampleEvent;
  pendWorst?: SampleEvent;
  /** roles whose window was evicted for memory and not captured again since */
  dropped?: Set<WindowRole>;
  /** the value of the last window dropped */
  droppedValue?: number;
}

export interface WindowCaptureStats {
  windows: number;
  bytes: number;
  peakBytes: number;
  /** samples taken as windows (a new maximum or violation) */
  captured: number;
  /** windows copied out of the rings (a capture superseded before its copy costs nothing) */
  copied: number;
  evicted: number;
  truncated: number;
}

export class WorstWindows implements SampleObserver, WorstWindowProvider {
  readonly recorder: FlightRecorder;
  tsBase: bigint;
  readonly marginNs: number;
  readonly windowMemoryBytes: number;
  readonly maxWindowEvents: number;
  private readonly symbols: SymbolTable | undefined;
  readonly deferNs: number;
  /** by tid * 8 + metric index */
  private readonly slots = new Map<number, Slots>();
  /** slots holding a pending sample */
  private readonly pendingSlots: Slots[] = [];
  private readonly live = new Set<CapturedWindow>();
  private readonly rendered = new WeakMap<CapturedWindow, WorstWindow>();
  private seq = 0;
  private bytesNow = 0;
  private peak = 0;
  private evictedCount = 0;
  private truncatedCount = 0;
  private takenCount = 0;

  constructor(recorder: FlightRecorder, opts: WindowCaptureOptions = {}) {
    this.recorder = recorder;
    this.tsBase = opts.tsBase ?? 0n;
    this.marginNs = opts.marginNs ?? 100_000;
    this.windowMemoryBytes = opts.windowMemoryBytes ?? 64 * 1024 * 1024;
    this.maxWindowEvents = Math.max(16, opts.maxWindowEvents ?? 1024);
    this.symbols = opts.symbols;
    this.deferNs = opts.deferNs ?? 500e6;
    recorder.onFlush = () => this.flush();
  }

  /**
   * Deferred capture: a new maximum only notes the sample (the observer may keep `s`); its
   * window is copied when the recorder reaches `end + deferNs`, when a ring is about to
   * overwrite the oldest pending window's start, or when windows are read. Early in a
   * trace nearly every sample is a new maximum: those superseded meanwhile are never copied.
   */
  onSample(s: SampleEvent): void {
    if (!s.isNewMax && !s.isFirstViolation && !s.isWorstViolation) return;
    const key = slotKey(s.tid, s.metric);
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {};
      this.slots.set(key, slot);
    }
    let taken = false;
    if (s.isNewMax) {
      slot.pendMax = s;
      taken = true;
    }
    if (s.isFirstViolation && !slot.first && !slot.pendFirst) {
      slot.pendFirst = s;
      taken = true;
    }
    if (s.isWorstViolation) {
      slot.pendWorst = s;
      taken = true;
    }
    if (!taken) return;
    this.takenCount++;
    if (!this.pendingSlots.includes(slot)) this.pendingSlots.push(slot);
    const rec = this.recorder;
    const at = s.end + this.deferNs;
    if (at < rec.flushAtTs) rec.flushAtTs = at;
    const from = this.bounds(s).from;
    if (from < rec.flushGuardTs) rec.flushGuardTs = from;
  }

  /** Copies every pending window out of the rings now. */
  flush(): void {
    const rec = this.recorder;
    rec.flushAtTs = Number.POSITIVE_INFINITY;
    rec.flushGuardTs = Number.POSITIVE_INFINITY;
    const list = this.pendingSlots;
    for (let i = 0; i < list.length; i++) {
      const slot = list[i];
      const m = slot.pendMax;
      const f = slot.pendFirst;
      const v = slot.pendWorst;
      slot.pendMax = slot.pendFirst = slot.pendWorst = undefined;
      // one copy per distinct sample, whatever roles it takes
      if (m) this.store(slot, m, true, m === f, m === v);
      if (f && f !== m) this.store(slot, f, false, true, f === v);
      if (v && v !== m && v !== f) this.store(slot, v, false, false, true);
    }
    list.length = 0;
  }

  private store(slot: Slots, s: SampleEvent, max: boolean, first: boolean, worst: boolean): void {
    const w = this.capture(s);
    if (max) this.assign(slot, "max", w);
    if (first && !slot.first) this.assign(slot, "first-violation", w);
    if (worst) this.assign(slot, "worst-violation", w);
    if (w.roles.size === 0) return;
    this.live.add(w);
    this.bytesNow += w.bytes;
    this.enforceBound(w);
    if (this.bytesNow > this.peak) this.peak = this.bytesNow;
  }

  /** The window of a task's maximum for a metric, rendered for reports (absolute timestamps). */
  worst(tid: number, metric: MetricKey): WorstWindow | undefined {
    if (this.pendingSlots.length) this.flush();
    const w = this.slots.get(slotKey(tid, metric))?.max;
    return w ? this.render(w) : undefined;
  }

  /** The first or worst SLO violation's window. */
  violation(tid: number, metric: MetricKey, which: "first" | "worst"): WorstWindow | undefined {
    if (this.pendingSlots.length) this.flush();
    const w = this.slots.get(slotKey(tid, metric))?.[which];
    return w ? this.render(w) : undefined;
  }

  /** The compact window (for exports), by role. */
  captured(tid: number, metric: MetricKey, role: WindowRole = "max"): CapturedWindow | undefined {
    if (this.pendingSlots.length) this.flush();
    const s = this.slots.get(slotKey(tid, metric));
    if (!s) return undefined;
    return role === "max" ? s.max : role === "first-violation" ? s.first : s.worst;
  }

  /** Roles of a task's metric whose window was dropped for memory (none: []). */
  dropped(tid: number, metric: MetricKey): WindowRole[] {
    if (this.pendingSlots.length) this.flush();
    const d = this.slots.get(slotKey(tid, metric))?.dropped;
    return d ? [...d] : [];
  }

  /** Every window dropped for memory and not captured again, in task and metric order. */
  droppedWindows(): DroppedWindow[] {
    if (this.pendingSlots.length) this.flush();
    const out: DroppedWindow[] = [];
    for (const [key, s] of this.slots)
      if (s.dropped && s.dropped.size > 0)
        out.push({
          tid: Math.floor(key / 8),
          metric: METRIC_KEYS[key % 8],
          roles: [...s.dropped],
          value: s.droppedValue ?? 0,
        });
    return out.sort((a, b) => a.tid - b.tid || METRIC_KEYS.indexOf(a.metric) - METRIC_KEYS.indexOf(b.metric));
  }

  /** Every window held, oldest capture first. */
  all(): CapturedWindow[] {
    if (this.pendingSlots.length) this.flush();
    return [...this.live].sort((a, b) => a.seq - b.seq);
  }

  stats(): WindowCaptureStats {
    if (this.pendingSlots.length) this.flush();
    return {
      windows: this.live.size,
      bytes: this.bytesNow,
      peakBytes: this.peak,
      captured: this.takenCount,
      copied: this.seq,
      evicted: this.evictedCount,
      truncated: this.truncatedCount,
    };
  }

  /** Renders a captured window as the report's WorstWindow (causes computed here, once). */
  render(w: CapturedWindow): WorstWindow {
    const done = this.rendered.get(w);
    if (done) return done;
    const s = w.sample;
    const comm = (t: number): string => w.comms.get(t) ?? "";
    const irqName = (irq: number): string => w.irqNames.get(irq) ?? "";
    const b = w.breakdown ?? causesOf(w.events, s, w.from, comm, irqName);
    const abs = (rel: number) => absoluteTs(this.tsBase, rel);
    const wake = b.wake;
    const out: WorstWindow = {
      start: abs(s.start),
      end: abs(s.end),
      value: s.value,
      cpu: s.runCpu,
      wakeCpu: wake ? wake.wakerCpu : s.wakeCpu,
      causes: b.causes.map((c) => (c.until === undefined ? c : { ...c, until: abs(Number(c.until)) })),
      events: [],
      wakeTs: abs(s.wakeTs),
      parts: b.parts,
      reasons: [...w.roles],
    };
    if (b.error !== undefined) out.causeError = b.error;
    if (!Number.isNaN(s.switchInTs)) out.switchInTs = abs(s.switchInTs);
    if (wake) {
      if (wake.ontoCpu >= 0) out.ontoCpu = wake.ontoCpu;
      out.waker = {
        event: wake.event,
        tid: wake.wakerTid,
        comm: wake.wakerTid === 0 ? "<idle>" : comm(wake.wakerTid),
        ontoCpu: wake.ontoCpu,
      };
      if (wake.context) out.waker.context = wake.context;
      if (wake.placedFrom >= 0) out.waker.placedFrom = wake.placedFrom;
      if (wake.migrations.length) out.migrations = wake.migrations.map((m) => ({ ...m, ts: abs(m.ts) }));
    }
    if (w.incomplete) out.incomplete = true;
    if (w.omitted > 0) out.truncated = w.omitted;
    if (w.memoryOmitted > 0) out.memoryOmitted = w.memoryOmitted;
    if (b.preemptions.length) out.preemptions = b.preemptions.map((p) => ({ ...p, ts: abs(p.ts) }));
    // The listing is built when first read (JSON, export, the API), not for a text report.
    // Until then the JSON writer encodes events straight from the columns (WINDOW_EVENT_ROWS,
    // 120 k events on the bench trace); once the listing exists (it may then be changed) it
    // is what the window holds, and the rows go.
    const tsBase = this.tsBase;
    const symbols = this.symbols;
    let list: WindowEvent[] | null = null;
    const rows: WindowEventRows = {
      count: w.events.length,
      fill: (i, row) => fillWindowEventRow(row, w, i, tsBase, symbols),
    };
    const setList = (v: WindowEvent[]): WindowEvent[] => {
      list = v;
      delete (out as { [WINDOW_EVENT_ROWS]?: WindowEventRows })[WINDOW_EVENT_ROWS];
      return v;
    };
    Object.defineProperty(out, WINDOW_EVENT_ROWS, { value: rows, enumerable: false, configurable: true });
    Object.defineProperty(out, "events", {
      enumerable: true,
      configurable: true,
      get: () => list ?? setList(windowEventList(w, tsBase, symbols)),
      set: setList,
    });
    this.rendered.set(w, out);
    return out;
  }

  /** The window of a sample: from the wakeup or the start (the earlier) minus the margin, to the end. */
  private bounds(s: SampleEvent): { from: number; to: number } {
    // a metric may start before the wakeup (timer expiry, hard IRQ); an unknown bound is NaN
    const first = Number.isFinite(s.wakeTs) ? Math.min(s.start, s.wakeTs) : s.start;
    return { from: (Number.isFinite(first) ? first : s.end) - this.marginNs, to: s.end };
  }

  private capture(s: SampleEvent): CapturedWindow {
    const cpus = new Set<number>(s.cpus);
    cpus.add(s.wakeCpu);
    cpus.add(s.runCpu);
    const { from, to } = this.bounds(s);
    // the waker's CPU: a wakeup queued to a remote CPU writes sched_wakeup there, not here
    if (Number.isFinite(s.wakeTs)) {
      const waker = this.recorder.wakingCpu(s.tid, from, s.wakeTs);
      if (waker >= 0) cpus.add(waker);
    }
    const copy = this.recorder.copyWindow(
      [...cpus].sort((a, b) => a - b),
      from,
      to,
      { maxEvents: this.maxWindowEvents, fullUntilTs: fullUntil(s), tid: s.tid, runCpu: s.runCpu },
    );
    // names of every thread in the events the causes are computed from
    const ev = copy.forCauses ?? copy.events;
    const comms = new Map<number, string>();
    const irqNames = new Map<number, string>();
    const note = (t: number) => {
      if (!comms.has(t)) comms.set(t, this.recorder.comm(t, to));
    };
    note(s.tid);
    for (let i = 0; i < ev.length; i++) {
      note(ev.currentTid[i]);
      switch (ev.kind[i]) {
        case EventKind.SchedSwitch:
          note(ev.a[i]);
          note(ev.d[i]);
          break;
        case EventKind.SchedWakeup:
        case EventKind.SchedWaking:
        case EventKind.SchedWakeupNew:
        case EventKind.SchedMigrateTask:
        case EventKind.SchedProcessExit:
        case EventKind.SchedProcessExec:
          note(ev.a[i]);
          break;
        case EventKind.SchedProcessFork:
          note(ev.a[i]);
          note(ev.d[i]);
          break;
        case EventKind.IrqHandlerEntry:
        case EventKind.IrqHandlerExit:
          if (!irqNames.has(ev.a[i])) irqNames.set(ev.a[i], this.recorder.irqName(ev.a[i]));
          break;
      }
    }
    const breakdown = copy.forCauses
      ? causesOf(
          copy.forCauses,
          s,
          from,
          (t) => comms.get(t) ?? "",
          (irq) => irqNames.get(irq) ?? "",
        )
      : undefined;
    return {
      id: ++this.seq,
      tid: s.tid,
      metric: s.metric,
      sample: { ...s, cpus: [...s.cpus] },
      from,
      to,
      events: copy.events,
      breakdown,
      incomplete: copy.cut,
      omitted: copy.omitted,
      memoryOmitted: 0,
      comms,
      irqNames,
      roles: new Set(),
      bytes: copy.events.length * BYTES_PER_EVENT,
      seq: this.seq,
    };
  }

  private assign(slot: Slots, role: WindowRole, w: CapturedWindow): void {
    const field = role === "max" ? "max" : role === "first-violation" ? "first" : "worst";
    const old = slot[field];
    if (old && old !== w) {
      old.roles.delete(role);
      if (old.roles.size === 0) this.free(old);
    }
    slot[field] = w;
    w.roles.add(role);
    slot.dropped?.delete(role);
  }

  private free(w: CapturedWindow): void {
    if (this.live.delete(w)) this.bytesNow -= w.bytes;
  }

  private enforceBound(keep: CapturedWindow): void {
    while (this.bytesNow > this.windowMemoryBytes) {
      let victim: CapturedWindow | undefined;
      for (const w of this.live) if (!victim || evictBefore(w, victim)) victim = w;
      if (!victim || (victim === keep && this.live.size === 1)) break;
      this.evict(victim);
    }
    if (this.bytesNow > this.windowMemoryBytes && this.live.has(keep)) this.truncate(keep);
  }

  private evict(w: CapturedWindow): void {
    const s = this.slots.get(slotKey(w.tid, w.metric));
    if (s) {
      if (s.max === w) s.max = undefined;
      if (s.first === w) s.first = undefined;
      if (s.worst === w) s.worst = undefined;
      s.dropped ??= new Set();
      for (const r of w.roles) s.dropped.add(r);
      s.droppedValue = w.sample.value;
    }
    w.roles.clear();
    this.free(w);
    this.evictedCount++;
  }

  /** Keeps the newest events of an oversized window (the end of the metric matters most). */
  private truncate(w: CapturedWindow): void {
    const fit = Math.floor((this.windowMemoryBytes - (this.bytesNow - w.bytes)) / BYTES_PER_EVENT);
    const ev = w.events;
    const keepN = Math.max(0, Math.min(ev.length, fit));
    const cut = new EventColumns(keepN);
    for (let i = 0; i < keepN; i++) cut.copyFrom(i, ev, ev.length - keepN + i);
    cut.length = keepN;
    const mutable = w as { events: EventColumns; bytes: number };
    this.bytesNow -= w.bytes;
    w.memoryOmitted += ev.length - keepN;
    mutable.events = cut;
    mutable.bytes = keepN * BYTES_PER_EVENT;
    this.bytesNow += mutable.bytes;
    this.truncatedCount++;
  }
}

function causesOf(
  events: EventColumns,
  s: SampleEvent,
  fromTs: number,
  comm: (tid: number) => string,
  irqName: (irq: number) => string,
): CauseBreakdown {
  return analyzeCauses({
    events,
    metric: s.metric,
    tid: s.tid,
    prio: s.prio,
    start: s.start,
    end: s.end,
    wakeTs: s.wakeTs,
    wakeCpu: s.wakeCpu,
    runCpu: s.runCpu,
    switchInTs: s.switchInTs,
    fromTs,
    comm,
    irqName,
  });
}

function slotKey(tid: number, metric: MetricKey): number {
  return tid * 8 + METRIC_KEYS.indexOf(metric);
}

/**
 * Where a window stops keeping every event: the end of the scheduling latency (the
 * switch-in) for response and irq, the start for relief (a cycle spans sleeps), the end
 * for latency and timer.
 */
function fullUntil(s: SampleEvent): number {
  const inTs = s.switchInTs;
  switch (s.metric) {
    case "response":
    case "irq":
      return Number.isFinite(inTs) && inTs <= s.end ? inTs : s.end;
    case "relief":
      return s.start;
    default:
      return s.end;
  }
}

function roleRank(w: CapturedWindow): number {
  if (w.roles.has("worst-violation")) return 2;
  if (w.roles.has("first-violation")) return 1;
  return 0;
}

/** Eviction order: lower role rank (violations last), then smaller value, then older. */
function evictBefore(a: CapturedWindow, b: CapturedWindow): boolean {
  const ra = roleRank(a);
  const rb = roleRank(b);
  if (ra !== rb) return ra < rb;
  if (a.sample.value !== b.sample.value) return a.sample.value < b.sample.value;
  return a.seq < b.seq;
}

export interface WindowCapture {
  /** place BEFORE the metrics analyzer in the pipeline */
  recorder: Analyzer & FlightRecorder;
  /** pass to the metrics engine (opts.observer) */
  observer: SampleObserver;
  /** give to the report builder (opts.windows) */
  windows: WorstWindowProvider & WorstWindows;
}

export function createWindowCapture(opts: WindowCaptureOptions = {}): WindowCapture {
  const recorder = new FlightRecorder(opts.recorder);
  const ww = new WorstWindows(recorder, opts);
  return { recorder, observer: ww, windows: ww };
}

export const EVENT_NAMES: readonly string[] = [
  "other",
  "sched_switch",
  "sched_wakeup",
  "sched_waking",
  "sched_wakeup_new",
  "sched_migrate_task",
  "sched_process_fork",
  "sched_process_exec",
  "sched_process_exit",
  "irq_handler_entry",
  "irq_handler_exit",
  "softirq_entry",
  "softirq_exit",
  "softirq_raise",
  "hrtimer_start",
  "hrtimer_expire_entry",
  "hrtimer_expire_exit",
  "hrtimer_cancel",
  "sys_enter_clock_nanosleep",
  "sys_exit_clock_nanosleep",
  "lost_events",
];

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/** Fills `row` with event `i` of `w` (kernel field names, as trace-cmd prints them). */
export function fillWindowEventRow(
  row: WindowEventRow,
  w: CapturedWindow,
  i: number,
  tsBase: bigint,
  symbols?: SymbolTable,
): WindowEventRow {
  const ev = w.events;
  row.ts = absoluteTs(tsBase, ev.ts[i]);
  row.rel = ev.ts[i] - w.sample.wakeTs;
  row.cpu = ev.cpu[i];
  row.event = EVENT_NAMES[ev.kind[i]] ?? "other";
  row.currentTid = ev.currentTid[i];
  row.n = 0;
  const a = ev.a[i];
  switch (ev.kind[i]) {
    case EventKind.SchedSwitch:
      row.field("prev_comm", commOf(w, a));
      row.field("prev_pid", a);
      row.field("prev_prio", ev.b[i]);
      row.field("prev_state", taskStateLetters(ev.c[i]));
      row.field("next_comm", commOf(w, ev.d[i]));
      row.field("next_pid", ev.d[i]);
      row.field("next_prio", ev.e[i]);
      break;
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
      row.field("comm", commOf(w, a));
      row.field("pid", a);
      row.field("prio", ev.b[i]);
      row.field("target_cpu", ev.c[i]);
      break;
    case EventKind.SchedMigrateTask:
      row.field("comm", commOf(w, a));
      row.field("pid", a);
      row.field("prio", ev.b[i]);
      row.field("orig_cpu", ev.d[i]);
      row.field("dest_cpu", ev.c[i]);
      break;
    case EventKind.SchedProcessFork:
      row.field("parent_comm", commOf(w, ev.d[i]));
      row.field("parent_pid", ev.d[i]);
      row.field("child_comm", commOf(w, a));
      row.field("child_pid", a);
      break;
    case EventKind.SchedProcessExec:
      row.field("pid", a);
      row.field("old_pid", ev.d[i]);
      break;
    case EventKind.SchedProcessExit:
      row.field("comm", commOf(w, a));
      row.field("pid", a);
      row.field("prio", ev.b[i]);
      break;
    case EventKind.IrqHandlerEntry:
      row.field("irq", a);
      row.field("name", w.irqNames.get(a) ?? "");
      break;
    case EventKind.IrqHandlerExit:
      row.field("irq", a);
      row.field("ret", ev.b[i] ? "handled" : "unhandled");
      break;
    case EventKind.SoftirqEntry:
    case EventKind.SoftirqExit:
    case EventKind.SoftirqRaise:
      row.field("vec", a);
      row.field("action", SOFTIRQ_NAMES[a] ?? "");
      break;
    case EventKind.HrtimerStart:
      row.field("hrtimer", hex(ev.f[i]));
      row.field("function", fnName(symbols, ev.g[i]));
      row.field("expires", String(absoluteTs(tsBase, ev.h[i])));
      row.field("softexpires", String(absoluteTs(tsBase, ev.k[i])));
      row.field("mode", a);
      break;
    case EventKind.HrtimerExpireEntry:
      row.field("hrtimer", hex(ev.f[i]));
      row.field("now", String(absoluteTs(tsBase, ev.h[i])));
      row.field("function", fnName(symbols, ev.g[i]));
      break;
    case EventKind.HrtimerExpireExit:
    case EventKind.HrtimerCancel:
      row.field("hrtimer", hex(ev.f[i]));
      break;
    case EventKind.SysEnterSleep:
      row.field("which_clock", a);
      row.field("flags", ev.b[i]);
      break;
    case EventKind.SysExitSleep:
      row.field("ret", a);
      break;
    case EventKind.LostEvents:
      row.field("count", a);
      break;
    default:
      row.field("id", a);
  }
  return row;
}

function commOf(w: Pick<CapturedWindow, "comms">, tid: number): string {
  return w.comms.get(tid) ?? "";
}

function fnName(symbols: SymbolTable | undefined, key: number): string {
  return symbols?.name(key) || hex(key);
}

/** The window's events as report entries, `rel` relative to the wakeup. */
export function windowEventList(w: CapturedWindow, tsBase: bigint, symbols?: SymbolTable): WindowEvent[] {
  const row = new WindowEventRow();
  const out: WindowEvent[] = [];
  for (let i = 0; i < w.events.length; i++)
    out.push(fillWindowEventRow(row, w, i, tsBase, symbols).toEvent());
  return out;
}

/** Events with the names they need: what the exporters write. */
export interface WindowEvents {
  events: EventColumns;
  comms: ReadonlyMap<number, string>;
  irqNames: ReadonlyMap<number, string>;
}

/**
 * Several windows as one event set (export of a whole selection): merged in (ts, cpu)
 * order; events that two overlapping windows both hold are kept once.
 */
export function mergeWindowEvents(list: readonly WindowEvents[]): WindowEvents {
  const comms = new Map<number, string>();
  const irqNames = new Map<number, string>();
  const refs: [EventColumns, number][] = [];
  for (const w of list) {
    for (const [t, c] of w.comms) if (c || !comms.has(t)) comms.set(t, c);
    for (const [i, n] of w.irqNames) irqNames.set(i, n);
    for (let i = 0; i < w.events.length; i++) refs.push([w.events, i]);
  }
  refs.sort(([a, i], [b, j]) => a.ts[i] - b.ts[j] || a.cpu[i] - b.cpu[j]);
  const out = new EventColumns(refs.length);
  let n = 0;
  for (const [src, i] of refs) {
    // a duplicate sits among the kept events of the same instant and CPU
    let dup = false;
    for (let q = n - 1; q >= 0 && out.ts[q] === src.ts[i] && out.cpu[q] === src.cpu[i]; q--)
      if (sameEvent(out, q, src, i)) {
        dup = true;
        break;
      }
    if (!dup) out.copyFrom(n++, src, i);
  }
  out.length = n;
  return { events: out.trimmed(), comms, irqNames };
}

/**
 * Rebuilds the compact form of a window from its report form (JSON report, stored run),
 * so that a window saved as JSON can still be exported as trace.dat or Perfetto text.
 * Timestamps become relative to the returned `tsBase`; hrtimer callbacks get synthetic
 * addresses that the returned symbol table names. Lost: common_flags/preempt_count
 * (not in the report form), exec filenames.
 */
export function windowEventsFromReport(
  w: WorstWindow,
  base?: bigint,
  /** callback name → synthetic address, shared when several windows are merged */
  fnKeys: Map<string, number> = new Map(),
): WindowEvents & { tsBase: bigint; symbols: SymbolTable } {
  const list = w.events;
  const tsBase = base ?? (list.length ? BigInt(list[0].ts) : BigInt(w.start));
  const rel = (v: string | number | bigint | undefined) => (v === undefined ? 0 : Number(BigInt(v) - tsBase));
  const kindOf = new Map(EVENT_NAMES.map((n, i) => [n, i]));
  kindOf.set("sys_enter_nanosleep", EventKind.SysEnterSleep);
  kindOf.set("sys_exit_nanosleep", EventKind.SysExitSleep);
  const cols = new EventColumns(list.length);
  const comms = new Map<number, string>();
  const irqNames = new Map<number, string>();
  const fnKey = (name: string | number | undefined): number => {
    const s = String(name ?? "");
    if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s, 16);
    let k = fnKeys.get(s);
    if (k === undefined) {
      k = 0x1000 + fnKeys.size * 16;
      fnKeys.set(s, k);
    }
    return k;
  };
  const num = (v: string | number | undefined) => (typeof v === "number" ? v : Number(v ?? 0));
  const hexNum = (v: string | number | undefined) =>
    typeof v === "string" ? Number.parseInt(v, 16) : num(v);
  let n = 0;
  for (const e of list) {
    const kind = kindOf.get(e.event);
    if (kind === undefined) continue;
    const f = e.fields;
    const i = n++;
    cols.ts[i] = rel(e.ts);
    cols.cpu[i] = e.cpu;
    cols.kind[i] = kind;
    cols.currentTid[i] = e.currentTid;
    cols.flags[i] = -1;
    cols.preemptCount[i] = -1;
    const name = (tid: number, c: string | number | undefined) => {
      if (c !== undefined && c !== "" && tid !== 0) comms.set(tid, String(c));
    };
    switch (kind) {
      case EventKind.SchedSwitch:
        cols.a[i] = num(f.prev_pid);
        cols.b[i] = num(f.prev_prio);
        cols.c[i] = Math.max(0, taskStateFromLetters(String(f.prev_state ?? "R")));
        cols.d[i] = num(f.next_pid);
        cols.e[i] = num(f.next_prio);
        name(cols.a[i], f.prev_comm);
        name(cols.d[i], f.next_comm);
        break;
      case EventKind.SchedWakeup:
      case EventKind.SchedWaking:
      case EventKind.SchedWakeupNew:
        cols.a[i] = num(f.pid);
        cols.b[i] = num(f.prio);
        cols.c[i] = num(f.target_cpu);
        name(cols.a[i], f.comm);
        break;
      case EventKind.SchedMigrateTask:
        cols.a[i] = num(f.pid);
        cols.b[i] = num(f.prio);
        cols.c[i] = num(f.dest_cpu);
        cols.d[i] = num(f.orig_cpu);
        name(cols.a[i], f.comm);
        break;
      case EventKind.SchedProcessFork:
        cols.a[i] = num(f.child_pid);
        cols.d[i] = num(f.parent_pid);
        name(cols.a[i], f.child_comm);
        name(cols.d[i], f.parent_comm);
        break;
      case EventKind.SchedProcessExec:
        cols.a[i] = num(f.pid);
        cols.d[i] = num(f.old_pid);
        break;
      case EventKind.SchedProcessExit:
        cols.a[i] = num(f.pid);
        cols.b[i] = num(f.prio);
        name(cols.a[i], f.comm);
        break;
      case EventKind.IrqHandlerEntry:
        cols.a[i] = num(f.irq);
        if (f.name !== undefined) irqNames.set(cols.a[i], String(f.name));
        break;
      case EventKind.IrqHandlerExit:
        cols.a[i] = num(f.irq);
        cols.b[i] = f.ret === "handled" ? 1 : num(f.ret === "unhandled" ? 0 : f.ret);
        break;
      case EventKind.SoftirqEntry:
      case EventKind.SoftirqExit:
      case EventKind.SoftirqRaise:
        cols.a[i] = num(f.vec);
        break;
      case EventKind.HrtimerStart:
        cols.a[i] = num(f.mode);
        cols.f[i] = hexNum(f.hrtimer);
        cols.g[i] = fnKey(f.function);
        cols.h[i] = rel(f.expires);
        cols.k[i] = rel(f.softexpires);
        break;
      case EventKind.HrtimerExpireEntry:
        cols.f[i] = hexNum(f.hrtimer);
        cols.g[i] = fnKey(f.function);
        cols.h[i] = rel(f.now);
        break;
      case EventKind.HrtimerExpireExit:
      case EventKind.HrtimerCancel:
        cols.f[i] = hexNum(f.hrtimer);
        break;
      case EventKind.SysEnterSleep:
        cols.a[i] = num(f.which_clock);
        cols.b[i] = num(f.flags);
        break;
      case EventKind.SysExitSleep:
        cols.a[i] = num(f.ret);
        break;
      case EventKind.LostEvents:
        cols.a[i] = num(f.count);
        break;
    }
  }
  cols.length = n;
  const names = new Map([...fnKeys].map(([s, k]) => [k, s]));
  const symbols: SymbolTable = {
    hrtimerWakeupKey: fnKeys.get("hrtimer_wakeup") ?? -1,
    name: (k: number) => names.get(k) ?? "",
  };
  return { events: cols.trimmed(), comms, irqNames, tsBase, symbols };
}
