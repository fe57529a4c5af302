// Worst windows of a trace.dat read back from the file. A flight recorder copies every event
// of the stream into per-CPU rings (~55 ns per event, 16 MiB of rings per CPU, about 2 s kept)
// so that windows can be copied out later; a seekable file already holds them. While the
// stream is read, each CPU's pages are indexed (where each starts, its first timestamp, how
// many of the CPU's events came before it, whether it starts with a loss: a few numbers per
// ~4 KiB page); a window is then copied by decoding again only the pages that cover it, from
// one page before its start (the event before the window tells who ran when it opens), into
// a scratch recorder whose copyWindow gives the same events, order, limits and causes as the
// live one. A window of seconds is read from its two ends only, the events between them
// counted from the index (copyEnds): it is never cut short by memory, as a recorder's is.
// Decoding again costs more per event than recording, so while the windows cover much of the
// trace a recorder takes over for the windows it holds whole (considerRecording).

import type { Analyzer } from "../analysis/analyzer.ts";
import {
  CAUSES_FULL_FACTOR,
  FlightRecorder,
  type FlightRecorderOptions,
  type WindowCopy,
  type WindowLimit,
} from "../analysis/flight-recorder.ts";
import { ThreadNames } from "../analysis/thread-names.ts";
import type { PendingWindows, WindowSource } from "../analysis/window-source.ts";
import type { EventCatalog } from "../decode/event-catalog.ts";
import type { PageLayout } from "../decode/header-page.ts";
import type { EventRecord } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import { CpuMerge, type MergeInput, type PageEventCounts } from "./cpu-merge.ts";
import type { CpuPageReader, PagePosition, TraceDatPage } from "./trace-dat/cpu-page-reader.ts";
import { ReaderPages } from "./trace-dat/reader-pages.ts";

/**
 * An offset read from a Float64Array, as a small integer where it is one. A Float64Array read
 * gives a heap number; stored into the page reader's integer fields by a seek, it turned their
 * representation to double mid-run, which deoptimised the stream's compiled decode path (page
 * reader, merge, cursor, catalog) for every later window read-back (--trace-generalization).
 */
function smallInt(v: number): number {
  return v >= 0 && v <= 0x3fffffff ? v | 0 : v;
}

/**
 * One CPU's pages as the stream read them: position and first (header) timestamp of each,
 * and (told by the merge) how many of the CPU's events came before each page and whether it
 * starts with a loss.
 */
export class PageIndex implements PageEventCounts {
  count = 0;
  /** every page's counts were noted, from data that read as written */
  trusted = true;
  private noted = 0;
  private eventsBefore = new Float64Array(1024);
  private missed = new Uint8Array(1024);
  /** page header timestamp, relative ns (rounded when the clock is beyond 2^53 ns) */
  private ts = new Float64Array(1024);
  private fileOffset = new Float64Array(1024);
  private streamOffset = new Float64Array(1024);
  private chunk = new Int32Array(1024);
  private inChunk = new Int32Array(1024);
  private readonly le: boolean;
  private readonly baseHi: number;
  private readonly baseLo: number;

  constructor(littleEndian: boolean, base: bigint) {
    this.le = littleEndian;
    const b = BigInt.asUintN(64, base);
    this.baseHi = Number(b >> 32n);
    this.baseLo = Number(b & 0xffffffffn);
  }

  /** Notes the page just yielded (page number `count`). */
  add(p: TraceDatPage): void {
    const i = this.count;
    if (i === this.ts.length) this.grow();
    const page = p.page;
    if (page.length >= 8) {
      const lo = this.u32(page, this.le ? 0 : 4);
      const hi = this.u32(page, this.le ? 4 : 0);
      this.ts[i] = (hi - this.baseHi) * 4294967296 + (lo - this.baseLo);
    } else {
      this.ts[i] = i > 0 ? this.ts[i - 1] : Number.NEGATIVE_INFINITY;
    }
    this.fileOffset[i] = p.fileOffset;
    this.streamOffset[i] = p.streamOffset;
    this.chunk[i] = p.chunk;
    this.inChunk[i] = p.inChunk;
    this.count = i + 1;
  }

  pageLoaded(eventsBefore: number, missed: boolean): void {
    const i = this.count - 1;
    // one call per page added, in order; anything else (a page skipped as unreadable) voids the counts
    if (i !== this.noted) this.trusted = false;
    if (i < 0) return;
    this.eventsBefore[i] = eventsBefore;
    this.missed[i] = missed ? 1 : 0;
    this.noted = i + 1;
  }

  untrusted(): void {
    this.trusted = false;
  }

  /** Events of this CPU before page `i` (NaN: not noted). */
  eventsBeforePage(i: number): number {
    return i >= 0 && i < this.noted ? this.eventsBefore[i] : Number.NaN;
  }

  /** Whether a page in [from, to] starts with a loss. */
  missedIn(from: number, to: number): boolean {
    for (let i = Math.max(0, from); i <= to && i < this.noted; i++) if (this.missed[i] !== 0) return true;
    return false;
  }

  /** The last page whose first timestamp is below `t` (-1: none). */
  lastBefore(t: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  position(i: number): PagePosition {
    return {
      fileOffset: smallInt(this.fileOffset[i]),
      index: i,
      streamOffset: smallInt(this.streamOffset[i]),
      chunk: this.chunk[i],
      inChunk: this.inChunk[i],
    };
  }

  private u32(b: Uint8Array, at: number): number {
    return this.le
      ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
      : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  }

  private grow(): void {
    const n = this.ts.length * 2;
    const f64 = (a: Float64Array) => {
      const x = new Float64Array(n);
      x.set(a);
      return x;
    };
    const i32 = (a: Int32Array) => {
      const x = new Int32Array(n);
      x.set(a);
      return x;
    };
    const missed = new Uint8Array(n);
    missed.set(this.missed);
    this.missed = missed;
    this.eventsBefore = f64(this.eventsBefore);
    this.ts = f64(this.ts);
    this.fileOffset = f64(this.fileOffset);
    this.streamOffset = f64(this.streamOffset);
    this.chunk = i32(this.chunk);
    this.inChunk = i32(this.inChunk);
  }
}

/** Events the stream reads before a flight recorder may take over from the read-back (considerRecording). */
const RECORD_AFTER_EVENTS = 50_000;
/** How often a running recorder checks that it pays (checkRecorder). */
const RECORDER_CHECK_EVENTS = 500_000;

/** A window is read from its two ends when the page index counts this many times its limit in its span. */
const ENDS_ONLY_FACTOR = 4;

/**
 * The tail of a window read from its two ends: events from `from` on go to the scratch,
 * those before it (on the pages read to reach it) are only counted, per CPU.
 */
class TailEnds {
  lost = false;
  /** per CPU: events before `from` read on the way, and the number of the first event read */
  readonly before: number[];
  readonly firstPage: number[];
  private readonly scratch: FlightRecorder;
  private readonly from: number;
  constructor(scratch: FlightRecorder, from: number, cpus: number) {
    this.scratch = scratch;
    this.from = from;
    this.before = new Array<number>(cpus).fill(0);
    this.firstPage = new Array<number>(cpus).fill(Number.NaN);
  }
  handle(rec: EventRecord): void {
    if (rec.kind === EventKind.LostEvents) this.lost = true;
    if (rec.ts < this.from) this.before[rec.cpu]++;
    else this.scratch.handle(rec);
  }
}

/** What the read-back needs of the trace.dat source. */
export interface TraceDatReadBack {
  path: string;
  layout: PageLayout;
  /** the buffer's pages are stored compressed (chunk offsets stand for their pages) */
  compressed: boolean;
  base: bigint;
  /** the trace's CPU count */
  cpus: number;
  /** the buffer's CPUs, in the order of `indexes` */
  cpuNumbers: readonly number[];
  /** filled by the source's stream as it reads each CPU's pages */
  indexes: readonly PageIndex[];
  /** a fresh reader of one CPU's pages (by position in cpuNumbers) */
  openReader(q: number): CpuPageReader;
  /** a catalog of its own (the stream's keeps state of the record being read) */
  makeCatalog(): EventCatalog;
  initialComms?: ReadonlyMap<number, string>;
}

export interface TraceDatWindowsOptions {
  /**
   * Let a flight recorder take over when reading back costs more than recording: from when
   * the windows' read-backs have decoded again half as many events as the stream has read
   * (past RECORD_AFTER_EVENTS), the recorder keeps the stream's recent events and the windows
   * it holds whole are copied from it (the same copy: FlightRecorder.copyWindow over the
   * same events); the others are still read back, complete. It stops again when the windows
   * it serves are few (considerRecording). These are its options; absent: never.
   */
  recorder?: FlightRecorderOptions;
  /** the recorder from the first event (a report with windows all over the trace is likely) */
  recordFromStart?: boolean;
}

/** The names and the copy hook ride on the stream; the windows' events come from the file. */
export class TraceDatWindows implements WindowSource, Analyzer<TraceDatWindows> {
  readonly name = "trace.dat window read-back";
  readonly dependsOn: readonly Analyzer[] = [];
  private readonly rb: TraceDatReadBack;
  private readonly names: ThreadNames;
  private pending: PendingWindows | null = null;
  private copyByTs = Number.POSITIVE_INFINITY;
  private catalog: EventCatalog | null = null;
  // the scratch: events of every CPU from `loadedFrom`'s pages up to `loadedTo`
  private scratch: FlightRecorder | null = null;
  private merge: CpuMerge | null = null;
  private readers: CpuPageReader[] = [];
  // the tail of a window read from its two ends (copyEnds)
  private tailReaders: CpuPageReader[] = [];
  private loadedFrom = Number.POSITIVE_INFINITY;
  private loadedTo = Number.NEGATIVE_INFINITY;
  /** per CPU (position in cpuNumbers), the page the scratch's reading started at */
  private readonly startPage: number[] = [];
  /** the recorder once it has taken over (considerRecording) */
  private recorder: FlightRecorder | null = null;
  private readonly recorderOptions: FlightRecorderOptions | undefined;
  /** events the stream has read */
  private streamed = 0;
  /** events of the windows the recorder served since it started */
  private servedEvents = 0;
  private recorderCheckAt = RECORDER_CHECK_EVENTS;
  /** the stream's and the read-back's counts when the recorder last started or stopped */
  private readonly changedAt = { streamed: 0, eventsRead: 0 };
  /** long windows are read from their two ends (copyEnds); off: whole, for comparison */
  endsOnly = true;
  /** windows copied from the recorder, and read back from their two ends */
  fromRecorder = 0;
  fromTwoEnds = 0;
  /** windows read back, and events decoded again for them (for the benchmark notes) */
  loads = 0;
  eventsRead = 0;

  constructor(rb: TraceDatReadBack, opts: TraceDatWindowsOptions = {}) {
    this.rb = rb;
    this.recorderOptions = opts.recorder;
    if (opts.recordFromStart === true && opts.recorder !== undefined) this.startRecording();
    this.names = new ThreadNames(1e9, rb.initialComms);
    // A field only ever written by its initialiser is "const" to V8's optimising compiler,
    // which folds it into the compiled event path; the first window held mid-run then changed
    // it and deoptimised that path ("dependent field type constness changed", --trace-deopt).
    // A second store here makes it mutable from the start.
    this.copyByTs = 0;
    this.copyByTs = Number.POSITIVE_INFINITY;
  }

  get analyzer(): Analyzer {
    return this;
  }

  handle(rec: EventRecord): void {
    if (rec.ts >= this.copyByTs && this.pending !== null) this.pending.copyPending();
    this.names.note(rec);
    this.streamed++;
    if (this.recorder !== null) {
      this.recorder.handle(rec);
      if (this.streamed >= this.recorderCheckAt) this.checkRecorder();
    }
  }

  /**
   * Reading back or recording, by what each costs. A recorder costs every event (~55 ns: the
   * switch bench trace's 14 M events, 0.8 CPU s); a read-back costs the events of a window
   * decoded again (about the stream's own ~200 ns each: the switch trace's --rt JSON report
   * reads 14.2 M events in 2.9 CPU s; a long window from its two ends only). Windows all over the
   * trace (every thread's report on the hackbench bench trace: the read-back decoded 1.63 M
   * events again for a 1.67 M-event trace) want the recorder; a few windows (the switch
   * trace: 32 read-backs, 12 of them from two ends, 128 k events) want the read-back. So the recorder takes over once
   * the read-backs have decoded half as many events again as the stream has read since the
   * last change, and stops (checked every RECORDER_CHECK_EVENTS) when the windows it served
   * hold less than a quarter of the events it recorded.
   */
  private considerRecording(): void {
    if (
      this.recorder === null &&
      this.recorderOptions !== undefined &&
      this.streamed - this.changedAt.streamed >= RECORD_AFTER_EVENTS &&
      (this.eventsRead - this.changedAt.eventsRead) * 2 > this.streamed - this.changedAt.streamed
    )
      this.startRecording();
  }

  private startRecording(): void {
    this.recorder = new FlightRecorder({ ...this.recorderOptions, trackNames: false });
    this.markChange();
  }

  private checkRecorder(): void {
    if (this.servedEvents * 4 < this.streamed - this.changedAt.streamed) {
      this.recorder = null;
      this.markChange();
    } else this.recorderCheckAt = this.streamed + RECORDER_CHECK_EVENTS;
  }

  private markChange(): void {
    this.changedAt.streamed = this.streamed;
    this.changedAt.eventsRead = this.eventsRead;
    this.servedEvents = 0;
    this.recorderCheckAt = this.streamed + RECORDER_CHECK_EVENTS;
  }

  data(): TraceDatWindows {
    return this;
  }

  setPendingWindows(pending: PendingWindows | null): void {
    this.pending = pending;
  }

  // the file never forgets: only the copy time matters (it decides which samples are copied)
  holdPending(_keepFromTs: number, copyByTs: number): void {
    if (copyByTs < this.copyByTs) this.copyByTs = copyByTs;
  }

  releasePending(): void {
    this.copyByTs = Number.POSITIVE_INFINITY;
  }

  copyWindow(cpus: readonly number[], fromTs: number, toTs: number, limit?: WindowLimit): WindowCopy {
    const r = this.recorder;
    if (r?.holdsFrom(cpus, fromTs)) {
      this.fromRecorder++;
      const copy = r.copyWindow(cpus, fromTs, toTs, limit);
      this.servedEvents += copy.events.length + copy.omitted;
      return copy;
    }
    if (limit !== undefined && this.endsOnly) {
      const copy = this.copyEnds(cpus, fromTs, toTs, limit);
      if (copy !== null) {
        this.fromTwoEnds++;
        return copy;
      }
    }
    const c = this.load(fromTs, toTs).copyWindow(cpus, fromTs, toTs, limit);
    this.considerRecording();
    return c;
  }

  /**
   * A window much longer than its limit, read from its two ends: the head (up to the end of
   * its full part, and further) and the tail (the last stretch before toTs), with the events
   * between them counted from the page index instead of decoded. A limited copy keeps the
   * full part, the first eligible events after it and the last ones before the end (see
   * FlightRecorder.copyLimited); it is the same as from the whole window when its walks stayed
   * inside the two ends, else the ends are widened (twice), then the whole window is read.
   * null: read it whole (a short window, a loss or unreadable data in the span).
   */
  private copyEnds(
    cpus: readonly number[],
    fromTs: number,
    toTs: number,
    limit: WindowLimit,
  ): WindowCopy | null {
    const rb = this.rb;
    const qs: number[] = [];
    let est = 0;
    for (const cpu of cpus) {
      const q = rb.cpuNumbers.indexOf(cpu);
      if (q < 0) continue;
      const ix = rb.indexes[q];
      if (!ix.trusted) return null;
      const a = Math.max(0, ix.lastBefore(fromTs) - 1);
      const b = Math.min(ix.count - 1, ix.lastBefore(toTs) + 1);
      if (b < 0 || ix.missedIn(a, b)) return null;
      est += ix.eventsBeforePage(b) - ix.eventsBeforePage(a);
      qs.push(q);
    }
    const max = limit.maxEvents;
    const span = toTs - fromTs;
    if (!(est > ENDS_ONLY_FACTOR * max) || !(span > 0)) return null;
    // The middle left out is where most of the window is: after the full part (a response
    // from its switch-in on: the head runs past the full part), or inside it (a scheduling
    // latency of seconds: the head is only what comes before fromTs, and the copy keeps the
    // full part's newest events, from the tail).
    const full = Math.min(Math.max(limit.fullUntilTs, fromTs), toTs);
    const inFull = full - fromTs > toTs - full;
    // the causes of a full part shorter than this are computed from all of it: read it whole
    if (inFull && !(est > CAUSES_FULL_FACTOR * max * 2)) return null;
    for (let k = 0; k < 3; k++) {
      // each end holds about 2^(k+1) times the limit in events, at the span's mean rate
      const reach = ((max * (2 << k)) / est) * span;
      const headTo = inFull ? fromTs : full + reach;
      const tailFrom = inFull ? full - reach : toTs - reach;
      if (!(headTo < tailFrom)) return null;
      const copy = this.copyTwoEnds(qs, cpus, fromTs, toTs, limit, headTo, tailFrom, inFull);
      if (copy === undefined) return null;
      if (copy !== null) return copy;
    }
    return null;
  }

  /**
   * One try of copyEnds: the scratch holds every event up to `headTo` and from `tailFrom`.
   * The copy, null when a walk reached into the middle (wider ends may do), undefined when
   * the ends cannot stand for the window (read it whole).
   */
  private copyTwoEnds(
    qs: readonly number[],
    cpus: readonly number[],
    fromTs: number,
    toTs: number,
    limit: WindowLimit,
    headTo: number,
    tailFrom: number,
    inFull: boolean,
  ): WindowCopy | null | undefined {
    const rb = this.rb;
    const scratch = this.load(fromTs, headTo);
    try {
      if (!this.complete()) return undefined;
      // where each CPU's events of the middle start: after the head's, by number
      const headEnd = qs.map((q) => {
        const n = scratch.ringInfo(rb.cpuNumbers[q])?.count ?? 0;
        return rb.indexes[q].eventsBeforePage(this.startPage[q]) + n;
      });
      const tail = new TailEnds(scratch, tailFrom, rb.cpus);
      const inputs = qs.map((q) => {
        this.tailReaders[q] ??= rb.openReader(q);
        const reader = this.tailReaders[q];
        const ix = rb.indexes[q];
        const i = Math.max(0, ix.lastBefore(tailFrom) - 1);
        reader.seek(ix.position(i));
        tail.firstPage[rb.cpuNumbers[q]] = ix.eventsBeforePage(i);
        return { cpu: rb.cpuNumbers[q], source: new ReaderPages(reader, 0, rb.compressed) };
      });
      this.eventsRead += this.mergeOf(inputs).drain(tail, toTs);
      if (tail.lost || !this.complete()) return undefined;
      let gap = 0;
      for (let j = 0; j < qs.length; j++) {
        const cpu = rb.cpuNumbers[qs[j]];
        const middle = tail.firstPage[cpu] + tail.before[cpu] - headEnd[j];
        // the ends overlap (or the counts do not add up): read the window whole
        if (!(middle >= 0)) return undefined;
        gap += middle;
      }
      const copy = scratch.copyWindow(cpus, fromTs, toTs, limit, gap, inFull);
      if (!scratch.lastCopyLimited) return undefined;
      // the walks over the window read only events that are loaded, as from the whole window
      const inside = inFull
        ? scratch.walkFullMinTs >= tailFrom
        : scratch.walkForwardMaxTs <= headTo && scratch.walkBackwardMinTs >= tailFrom;
      return inside ? copy : null;
    } finally {
      // the scratch now has a hole: the next window loads afresh
      this.dropScratch();
    }
  }

  wakingCpu(tid: number, fromTs: number, toTs: number): number {
    const r = this.recorder;
    if (r?.holdsFrom(this.rb.cpuNumbers, fromTs)) return r.wakingCpu(tid, fromTs, toTs);
    const c = this.load(fromTs, toTs).wakingCpu(tid, fromTs, toTs);
    this.considerRecording();
    return c;
  }

  comm(tid: number, atTs: number): string {
    return this.names.comm(tid, atTs);
  }

  irqName(irq: number): string {
    return this.names.irqName(irq);
  }

  /** Frees the scratch and its readers' decompression contexts. */
  close(): void {
    for (const r of this.readers) r?.close();
    for (const r of this.tailReaders) r?.close();
    this.readers = [];
    this.tailReaders = [];
    this.dropScratch();
  }

  /** The scratch holds nothing a later window can extend (its readers stay open). */
  private dropScratch(): void {
    this.scratch?.reset();
    this.merge = null;
    this.loadedFrom = Number.POSITIVE_INFINITY;
    this.loadedTo = Number.NEGATIVE_INFINITY;
  }

  /**
   * A scratch recorder holding every CPU's events of [fromTs, toTs] and, per CPU, those of
   * the page before: the current one extended when it already starts early enough and has
   * forgotten nothing, else a new one read from the pages before fromTs.
   */
  private load(fromTs: number, toTs: number): FlightRecorder {
    if (this.scratch !== null && fromTs >= this.loadedFrom && fromTs <= this.loadedTo && this.complete()) {
      if (toTs > this.loadedTo) this.readTo(toTs);
      return this.scratch;
    }
    this.dropScratch();
    const rb = this.rb;
    const compressed = rb.compressed;
    const inputs = rb.cpuNumbers.map((cpu, q) => {
      const index = rb.indexes[q];
      // one reader per CPU for every window: a window near the last one often starts in the
      // chunk it holds already, which then is not read and decompressed again
      let reader = this.readers[q];
      if (reader === undefined || index.count === 0) {
        reader?.close();
        reader = rb.openReader(q);
        this.readers[q] = reader;
      }
      // the page before the last one starting before fromTs: its events end before fromTs,
      // so the event before the window on this CPU is read whatever the first delta
      const i = Math.max(0, index.lastBefore(fromTs) - 1);
      if (index.count > 0) reader.seek(index.position(i));
      this.startPage[q] = i;
      return { cpu, source: new ReaderPages(reader, 0, compressed) };
    });
    this.merge = this.mergeOf(inputs);
    // names are the stream's (this.names): the scratch only holds events
    this.scratch ??= new FlightRecorder({ trackNames: false });
    this.loads++;
    this.loadedFrom = fromTs;
    this.loadedTo = Number.NEGATIVE_INFINITY;
    this.readTo(toTs);
    return this.scratch;
  }

  /** A merge of pages read again (diagnostics of what is read again were counted by the stream). */
  private mergeOf(inputs: MergeInput[]): CpuMerge {
    const rb = this.rb;
    this.catalog ??= rb.makeCatalog();
    return new CpuMerge(inputs, rb.layout, this.catalog, this.catalog.diagnostics, rb.path, rb.base, {
      cpus: rb.cpus,
    });
  }

  private readTo(toTs: number): void {
    this.eventsRead += this.merge!.drain(this.scratch!, toTs);
    this.loadedTo = toTs;
  }

  /** No ring of the scratch has overwritten an event. */
  private complete(): boolean {
    for (const cpu of this.rb.cpuNumbers) if (this.scratch!.ringInfo(cpu)?.overwritten) return false;
    return true;
  }
}
