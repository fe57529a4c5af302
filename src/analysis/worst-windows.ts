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
// Events come from a WindowSource (window-source.ts): a flight recorder fed by the stream, or
// a trace file read back. The pipeline factory (pipeline.ts) wires a capture: the source's
// analyzer runs before the activations (declared dependency), `observer` is what they call,
// `windows` what the report builder reads.

import { BYTES_PER_EVENT, EventColumns, IRQ_COLUMNS, PID_COLUMNS } from "../model/event-columns.ts";
import {
  METRIC_KEYS,
  type MetricKey,
  WINDOW_EVENT_ROWS,
  type WindowEvent,
  type WindowEventRows,
  type WorstWindow,
} from "../model/report.ts";
import type { SymbolTable } from "../model/source.ts";
import { absoluteTs } from "../model/units.ts";
import { fillWindowEventRow, windowEventList } from "../windows/window-rows.ts";
import { analyzeCauses, type CauseBreakdown } from "./causes.ts";
import { FlightRecorder, type FlightRecorderOptions } from "./flight-recorder.ts";
import type {
  DroppedWindow,
  SampleEvent,
  SampleObserver,
  WindowRole,
  WorstWindowProvider,
} from "./sample-observer.ts";
import { TidValues } from "./tid-values.ts";
import type { PendingWindows, WindowSource } from "./window-source.ts";

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
  /** incomplete only because the recorder no longer held part of it (no event lost) */
  forgotten: boolean;
  /** events left out to bound the window (maxWindowEvents) */
  omitted: number;
  /** events left out to keep all windows under windowMemoryBytes */
  memoryOmitted: number;
  /** causes computed from more events than the window keeps (its latency part was cut) */
  breakdown?: CauseBreakdown;
  /**
   * Those events, kept until the window is rendered (its causes are computed then, from the
   * same events and names as at capture) or freed (a window replaced by a worse one is never
   * rendered: most of them); null once used, or when they were analysed at capture.
   */
  forCauses: EventColumns | null;
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

export class WorstWindows implements SampleObserver, WorstWindowProvider, PendingWindows {
  /** where the windows' events are copied from */
  readonly source: WindowSource;
  tsBase: bigint;
  readonly marginNs: number;
  readonly windowMemoryBytes: number;
  readonly maxWindowEvents: number;
  private readonly symbols: SymbolTable | undefined;
  readonly deferNs: number;
  /** by tid * 8 + metric index */
  private readonly slots = new Map<number, Slots>();
  /** the threads nameThreads has named in the current window */
  private readonly named = new TidValues();
  /** slots holding a pending sample */
  private readonly pendingSlots: Slots[] = [];
  private readonly live = new Set<CapturedWindow>();
  private readonly rendered = new WeakMap<CapturedWindow, WorstWindow>();
  private seq = 0;
  private bytesNow = 0;
  /** bytes of the windows' forCauses columns held for later (at most a quarter of windowMemoryBytes) */
  private forCausesBytes = 0;
  private peak = 0;
  private evictedCount = 0;
  private truncatedCount = 0;
  private takenCount = 0;

  constructor(source: WindowSource, opts: WindowCaptureOptions = {}) {
    this.source = source;
    this.tsBase = opts.tsBase ?? 0n;
    this.marginNs = opts.marginNs ?? 100_000;
    this.windowMemoryBytes = opts.windowMemoryBytes ?? 64 * 1024 * 1024;
    this.maxWindowEvents = Math.max(16, opts.maxWindowEvents ?? 1024);
    this.symbols = opts.symbols;
    this.deferNs = opts.deferNs ?? 500e6;
    source.setPendingWindows(this);
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
    this.source.holdPending(this.bounds(s).from, s.end + this.deferNs);
  }

  copyPending(): void {
    this.flush();
  }

  /** Copies every pending window out of the rings now. */
  flush(): void {
    this.source.releasePending();
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

  /**
   * Drops a thread's slots and frees their windows: its row left the report (the bound on
   * exited threads), so nothing would read them, and a slot per thread and metric would grow
   * with every short-lived thread the capture sees.
   */
  forgetTask(tid: number): void {
    for (let m = 0; m < METRIC_KEYS.length; m++) {
      const key = slotKey(tid, METRIC_KEYS[m]);
      const slot = this.slots.get(key);
      if (slot === undefined) continue;
      for (const w of [slot.max, slot.first, slot.worst])
        if (w !== undefined) {
          w.roles.clear();
          this.free(w);
        }
      const i = this.pendingSlots.indexOf(slot);
      if (i >= 0) this.pendingSlots.splice(i, 1);
      this.slots.delete(key);
    }
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
    if (w.breakdown === undefined && w.forCauses !== null) {
      w.breakdown = causesOf(w.forCauses, s, w.from, comm, irqName);
      this.dropForCauses(w);
    }
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
    if (w.forgotten) out.forgotten = true;
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
      fill: (i, row) => fillWindowEventRow(row, w, i, s.wakeTs, tsBase, symbols),
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
      get: () => list ?? setList(windowEventList(w, s.wakeTs, tsBase, symbols)),
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
      const waker = this.source.wakingCpu(s.tid, from, s.wakeTs);
      if (waker >= 0) cpus.add(waker);
    }
    const copy = this.source.copyWindow(
      [...cpus].sort((a, b) => a - b),
      from,
      to,
      { maxEvents: this.maxWindowEvents, fullUntilTs: fullUntil(s), tid: s.tid, runCpu: s.runCpu },
    );
    // names of every thread in the events the causes are computed from
    const ev = copy.forCauses ?? copy.events;
    const comms = new Map<number, string>();
    const irqNames = new Map<number, string>();
    this.nameThreads(ev, s.tid, to, comms, irqNames);
    // the cause sweep waits until the window is rendered, while the events held for it fit in a
    // quarter of the window memory (a live run renders only at its end: the whole bound would
    // stay allocated for the run, 64 MiB by default)
    let forCauses = copy.forCauses ?? null;
    let breakdown: CauseBreakdown | undefined;
    if (forCauses !== null) {
      if (this.forCausesBytes + forCauses.bytes <= this.windowMemoryBytes / 4)
        this.forCausesBytes += forCauses.bytes;
      else {
        breakdown = causesOf(
          forCauses,
          s,
          from,
          (t) => comms.get(t) ?? "",
          (irq) => irqNames.get(irq) ?? "",
        );
        forCauses = null;
      }
    }
    return {
      id: ++this.seq,
      tid: s.tid,
      metric: s.metric,
      sample: copySample(s),
      from,
      to,
      events: copy.events,
      breakdown,
      forCauses,
      incomplete: copy.cut,
      forgotten: copy.forgotten === true,
      omitted: copy.omitted,
      memoryOmitted: 0,
      comms,
      irqNames,
      roles: new Set(),
      bytes: copy.events.length * BYTES_PER_EVENT,
      seq: this.seq,
    };
  }

  /**
   * The names, as known at `to`, of `tid` and of every thread and IRQ line the events name, in
   * that order (the window's first mention first). A window has thousands of events naming a
   * few threads: each is looked up once (`named`, a stamp per thread id, not a Map lookup per
   * event).
   */
  private nameThreads(
    ev: EventColumns,
    tid: number,
    to: number,
    comms: Map<number, string>,
    irqNames: Map<number, string>,
  ): void {
    const src = this.source;
    const named = this.named;
    named.clear();
    comms.set(tid, src.comm(tid, to));
    named.set(tid, 1);
    for (let i = 0; i < ev.length; i++) {
      const kind = ev.kind[i];
      const t = ev.currentTid[i];
      if (!named.has(t)) {
        comms.set(t, src.comm(t, to));
        named.set(t, 1);
      }
      const pids = PID_COLUMNS[kind];
      for (let c = 0; pids >> c !== 0; c++) {
        if ((pids & (1 << c)) === 0) continue;
        const p = ev.byIndex[c][i];
        if (!named.has(p)) {
          comms.set(p, src.comm(p, to));
          named.set(p, 1);
        }
      }
      const irqs = IRQ_COLUMNS[kind];
      for (let c = 0; irqs >> c !== 0; c++) {
        if ((irqs & (1 << c)) === 0) continue;
        const irq = ev.byIndex[c][i];
        if (!irqNames.has(irq)) irqNames.set(irq, src.irqName(irq));
      }
    }
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
    this.dropForCauses(w);
  }

  private dropForCauses(w: CapturedWindow): void {
    if (w.forCauses === null) return;
    this.forCausesBytes -= w.forCauses.bytes;
    w.forCauses = null;
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

/** A window capture over one WindowSource; the pipeline factory wires it (pipeline.ts). */
export interface WindowCapture {
  /** where the events come from (its `analyzer` runs before the sample producers) */
  source: WindowSource;
  /** told of the samples worth a window */
  observer: SampleObserver;
  /** what the report builder reads */
  windows: WorstWindowProvider & WorstWindows;
}

/** A capture whose source is a flight recorder fed by the stream. */
export interface RecorderWindowCapture extends WindowCapture {
  recorder: FlightRecorder;
}

export function createWindowCapture(opts: WindowCaptureOptions = {}): RecorderWindowCapture {
  const recorder = new FlightRecorder(opts.recorder);
  const ww = new WorstWindows(recorder, opts);
  return { source: recorder, recorder, observer: ww, windows: ww };
}

/** A capture whose events come from another source (a seekable trace file read back). */
export function windowCaptureFrom(source: WindowSource, opts: WindowCaptureOptions = {}): WindowCapture {
  const ww = new WorstWindows(source, opts);
  return { source, observer: ww, windows: ww };
}

/**
 * The sample as a new object, field by field. A spread copy (`{ ...s, cpus }`) shares the map of
 * the metrics side's sample objects, and overwriting `cpus` on it made that field mutable for
 * them mid-run, which deoptimised the compiled sample path (activations' sample and switchOut,
 * --trace-deopt: "dependent field type constness changed").
 */
function copySample(s: SampleEvent): SampleEvent {
  return {
    tid: s.tid,
    metric: s.metric,
    value: s.value,
    start: s.start,
    end: s.end,
    wakeTs: s.wakeTs,
    wakeCpu: s.wakeCpu,
    runCpu: s.runCpu,
    cpus: [...s.cpus],
    prio: s.prio,
    switchInTs: s.switchInTs,
    inferred: s.inferred,
    isNewMax: s.isNewMax,
    isFirstViolation: s.isFirstViolation,
    isWorstViolation: s.isWorstViolation,
    isViolation: s.isViolation,
  };
}
