// Worst windows of a trace.dat read back from the file instead of a flight recorder. A
// recorder copies every event of the stream into per-CPU rings (~40 ns per event, 16 MiB
// of rings per CPU) so that the few windows a report shows can be copied out later; a
// seekable file already holds them. While the stream is read, each CPU's pages are indexed
// (where each starts and its first timestamp: a few numbers per ~4 KiB page); a window is
// then copied by decoding again only the pages that cover it, from one page before its
// start (the event before the window tells who ran when it opens), into a scratch recorder
// whose copyWindow gives the same events, order, limits and causes as the live one.

import type { Analyzer } from "../analysis/analyzer.ts";
import { FlightRecorder, type WindowCopy, type WindowLimit } from "../analysis/flight-recorder.ts";
import { ThreadNames } from "../analysis/thread-names.ts";
import type { PendingWindows, WindowSource } from "../analysis/window-source.ts";
import type { EventCatalog } from "../decode/event-catalog.ts";
import type { PageLayout } from "../decode/header-page.ts";
import type { EventRecord } from "../model/event.ts";
import { CpuMerge } from "./cpu-merge.ts";
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

/** One CPU's pages as the stream read them: position and first (header) timestamp of each. */
export class PageIndex {
  count = 0;
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
    this.ts = f64(this.ts);
    this.fileOffset = f64(this.fileOffset);
    this.streamOffset = f64(this.streamOffset);
    this.chunk = i32(this.chunk);
    this.inChunk = i32(this.inChunk);
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
  private loadedFrom = Number.POSITIVE_INFINITY;
  private loadedTo = Number.NEGATIVE_INFINITY;
  /** windows read back, and events decoded again for them (for the benchmark notes) */
  loads = 0;
  eventsRead = 0;

  constructor(rb: TraceDatReadBack) {
    this.rb = rb;
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
    return this.load(fromTs, toTs).copyWindow(cpus, fromTs, toTs, limit);
  }

  wakingCpu(tid: number, fromTs: number, toTs: number): number {
    return this.load(fromTs, toTs).wakingCpu(tid, fromTs, toTs);
  }

  comm(tid: number, atTs: number): string {
    return this.names.comm(tid, atTs);
  }

  irqName(irq: number): string {
    return this.names.irqName(irq);
  }

  /** Frees the scratch and its readers' decompression contexts. */
  close(): void {
    for (const r of this.readers) r.close();
    this.readers = [];
    this.scratch = null;
    this.merge = null;
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
    this.close();
    const rb = this.rb;
    this.catalog ??= rb.makeCatalog();
    const compressed = rb.compressed;
    const inputs = rb.cpuNumbers.map((cpu, q) => {
      const reader = rb.openReader(q);
      const index = rb.indexes[q];
      // the page before the last one starting before fromTs: its events end before fromTs,
      // so the event before the window on this CPU is read whatever the first delta
      const i = index.lastBefore(fromTs) - 1;
      if (i > 0) reader.seek(index.position(i));
      this.readers.push(reader);
      return { cpu, source: new ReaderPages(reader, 0, compressed) };
    });
    // diagnostics of what is read again were counted by the stream
    this.merge = new CpuMerge(inputs, rb.layout, this.catalog, this.catalog.diagnostics, rb.path, rb.base, {
      cpus: rb.cpus,
    });
    this.scratch = new FlightRecorder();
    this.loads++;
    this.loadedFrom = fromTs;
    this.loadedTo = Number.NEGATIVE_INFINITY;
    this.readTo(toTs);
    return this.scratch;
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
