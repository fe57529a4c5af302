// K-way merge of per-CPU sub-buffer streams into one stream in timestamp order (lowest CPU
// first on equal timestamps, like trace-cmd), filling ONE EventRecord per event through the
// catalog. A page carrying the missed-events flag yields a synthetic LostEvents record and
// a "lost_events" diagnostic per CPU. The record is placed at the START of the gap: the
// events were lost between that CPU's last event read (or, in push mode, the last time
// emitted, below which every CPU had been read completely) and the flagged page's first
// event (`lostUntil`). It is emitted before any event of another CPU inside the gap, so the
// analysis cuts whatever overlaps the gap without holding samples back. A flagged first
// page of a CPU (nothing read from it yet, nothing emitted at all) only says that the CPU's
// data begins there: ts = lostUntil.
//
// One code path, two modes:
// - pull (offline): each CPU has a synchronous PageSource; run() drains everything.
// - push (live): pages are appended to each CPU's PageQueue as they are read;
//   drain(sink, watermarkTs) emits only events with ts <= watermarkTs.
//
// The watermark (live side): the merged order is exact as long as no page appended later
// holds an event at or below a watermark already drained. Each read round over the CPUs'
// trace_pipe_raw, take T = the trace-clock time (relative to the stream base) sampled
// BEFORE the round started; once every CPU has been read in that round (returning data or
// EAGAIN), every event with ts <= T has been read, so drain(sink, T) is safe. A CPU with no
// data therefore never stalls the others; a partly-filled sub-buffer the kernel hands out
// early (trace_pipe_raw returns the page being written once it is the reader page) keeps
// this true because later events on that CPU carry later timestamps.
//
// A binary heap over the streams keeps 64+ CPUs at O(log k) per event.

import type { EventCatalog } from "../decode/event-catalog.ts";
import type { PageLayout } from "../decode/header-page.ts";
import { SubBufferCursor } from "../decode/page-decoder.ts";
import type { Diagnostics } from "../model/diagnostics.ts";
import { EventRecord } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import { type EventSink, SkippedDataError, TraceFormatError } from "../model/source.ts";
import { DOUBLE_ZERO } from "../model/units.ts";
import { IdCheck } from "./id-check.ts";

/**
 * One sub-buffer: `data[start, start+length)`. The bytes must stay valid until the next
 * nextPage() call for the same CPU (a supplier may reuse one PageRef object and buffer).
 */
export interface PageRef {
  data: Uint8Array;
  start: number;
  length: number;
  /** file offset of the page start (for errors); -1 when not from a file */
  fileOffset: number;
  /** the page was decompressed: fileOffset is its compressed chunk's offset */
  inChunk?: boolean;
}

export interface PageSource {
  /** Next page of this CPU, or null (pull: end of data; push: nothing queued yet). */
  nextPage(): PageRef | null;
}

/** Push-mode page source: the live reader appends pages, the merge consumes them. */
export class PageQueue implements PageSource {
  private readonly pages: PageRef[] = [];
  private head = 0;

  append(data: Uint8Array, start = 0, length = data.length - start, fileOffset = -1): void {
    this.pages.push({ data, start, length, fileOffset });
  }

  get pending(): number {
    return this.pages.length - this.head;
  }

  nextPage(): PageRef | null {
    if (this.head >= this.pages.length) return null;
    const p = this.pages[this.head];
    this.pages[this.head++] = undefined as unknown as PageRef;
    if (this.head > 64 && this.head * 2 > this.pages.length) {
      this.pages.splice(0, this.head);
      this.head = 0;
    }
    return p;
  }
}

class CpuStream {
  readonly cpu: number;
  readonly source: PageSource;
  readonly cursor: SubBufferCursor;
  /** timestamp of the current item */
  key = DOUBLE_ZERO;
  /** current item is a lost-events marker (count in `lost`, gap end in `lostUntil`) */
  isLost = false;
  lost = 0;
  lostUntil = DOUBLE_ZERO;
  /** timestamp of the last event emitted from this stream (-Infinity: none) */
  lastTs = Number.NEGATIVE_INFINITY;
  /** the marker stands for data skipped as corrupt (counted as such, not as a kernel loss) */
  lostCorrupt = false;
  /** the source failed beyond repair: its remaining data count as lost */
  ended = false;
  /** a page is loaded and may hold more events */
  onPage = false;
  inHeap = false;
  pagesRead = 0;
  /** events emitted from this stream (lost-event markers not included) */
  events = 0;
  readonly counts: PageEventCounts | null;
  constructor(cpu: number, source: PageSource, cursor: SubBufferCursor, counts: PageEventCounts | null) {
    this.cpu = cpu;
    this.source = source;
    this.cursor = cursor;
    this.counts = counts;
  }
}

/**
 * Told, as a CPU's pages are loaded, how many of its events came before each page: the
 * trace.dat window read-back counts the events of a span it does not decode from this.
 */
export interface PageEventCounts {
  /** the page just yielded by the source is loaded; `eventsBefore` events (lost-event markers not included) came before it; `missed`: it starts with a loss */
  pageLoaded(eventsBefore: number, missed: boolean): void;
  /** the CPU's data did not read as written (corrupt, out of order): the counts are not to be trusted */
  untrusted(): void;
}

export interface MergeInput {
  cpu: number;
  source: PageSource;
  /** per-page event counts of this CPU, if wanted */
  counts?: PageEventCounts;
}

export interface MergeOptions {
  /** the trace's CPU count (bounds the CPU numbers inside events); default: the inputs' */
  cpus?: number;
  /** a corrupt sub-buffer or event id is an error (default: skipped, counted as lost events) */
  strict?: boolean;
}

export class CpuMerge {
  readonly record = new EventRecord();
  /** events emitted (LostEvents records included) */
  events = 0;
  /** timestamp of the last record emitted (-Infinity: none) */
  private emittedTs = Number.NEGATIVE_INFINITY;
  private readonly streams: CpuStream[];
  private readonly heap: CpuStream[] = [];
  private readonly catalog: EventCatalog;
  private readonly diagnostics: Diagnostics;
  private readonly ids: IdCheck;
  private readonly strict: boolean;

  constructor(
    inputs: readonly MergeInput[],
    layout: PageLayout,
    catalog: EventCatalog,
    diagnostics: Diagnostics,
    file: string,
    base: bigint,
    opts: MergeOptions = {},
  ) {
    this.catalog = catalog;
    this.diagnostics = diagnostics;
    this.strict = opts.strict === true;
    let cpuCount = opts.cpus ?? 0;
    for (const i of inputs) cpuCount = Math.max(cpuCount, i.cpu + 1);
    this.ids = new IdCheck(diagnostics, cpuCount, file, this.strict);
    catalog.setBase(base);
    this.streams = inputs.map((i) => {
      const c = new SubBufferCursor(layout, file);
      c.setBase(base);
      return new CpuStream(i.cpu, i.source, c, i.counts ?? null);
    });
  }

  /** Pull mode: emits every event of every stream. */
  run(sink: EventSink): void {
    this.drain(sink, Number.POSITIVE_INFINITY);
  }

  /**
   * Emits, in order, every available event with ts <= watermarkTs (relative ns).
   * Returns the number of records emitted. Streams without data wait outside the heap.
   * Stops early (returning) when `budget` records have been emitted, so callers can
   * report progress or yield; call again to continue.
   */
  drain(sink: EventSink, watermarkTs: number, budget = Number.POSITIVE_INFINITY): number {
    const streams = this.streams;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i];
      if (!s.inHeap && this.advance(s)) this.push(s);
    }
    const heap = this.heap;
    const rec = this.record;
    const catalog = this.catalog;
    let emitted = 0;
    while (heap.length > 0 && emitted < budget) {
      const s = heap[0];
      if (s.key > watermarkTs) break;
      if (s.isLost) {
        rec.clear();
        rec.kind = EventKind.LostEvents;
        rec.cpu = s.cpu;
        rec.ts = s.key;
        rec.lostCount = s.lost;
        rec.lostUntil = s.lostUntil;
        rec.data = null;
        rec.view = null;
        rec.strings = null;
        if (!s.lostCorrupt) this.diagnostics.add("lost_events", "", s.lost, s.cpu);
      } else {
        const c = s.cursor;
        const at =
          c.fileOffset < 0
            ? -1
            : c.inChunkPage
              ? c.fileOffset
              : c.fileOffset + (c.payloadOffset - c.pageStart);
        catalog.fill(rec, c.data, c.view, c.payloadOffset, c.payloadLength, at);
        rec.cpu = s.cpu;
        rec.ts = s.key;
        if (s.key < s.lastTs) this.backwards(s, at);
        s.lastTs = s.key;
        s.events++;
        this.ids.check(rec, at);
      }
      this.emittedTs = s.key;
      this.events++;
      emitted++;
      sink.handle(rec);
      if (this.advance(s)) this.siftDown(0);
      else this.popTop();
    }
    return emitted;
  }

  /**
   * An event earlier than its own CPU's previous one: a CPU's buffer is written in time order,
   * so the clock went back or the timestamps are damaged. It is passed on where it stands (the
   * CPU's order), behind events already emitted, and counted with where it is.
   */
  private backwards(s: CpuStream, at: number): void {
    const behind = `${s.lastTs - s.key} ns before the CPU's previous event`;
    s.counts?.untrusted();
    this.diagnostics.add("cpu_events_out_of_order", at < 0 ? behind : `offset ${at}: ${behind}`, 1, s.cpu);
  }

  /** True when some stream holds events not yet emitted (push mode: below any watermark). */
  get hasPending(): boolean {
    return this.heap.length > 0;
  }

  /** Smallest timestamp waiting to be emitted, or +Infinity. */
  get nextTs(): number {
    return this.heap.length > 0 ? this.heap[0].key : Number.POSITIVE_INFINITY;
  }

  /**
   * Moves a stream to its next item (lost marker or event); false when its source is dry. A
   * sub-buffer that cannot be decoded is skipped and stands as a lost-events marker at the
   * stream's last time (unless strict); a source that cannot go on ends its stream there.
   */
  private advance(s: CpuStream): boolean {
    try {
      return this.step(s);
    } catch (e) {
      if (this.strict || !(e instanceof TraceFormatError)) throw e;
      this.diagnostics.add("corrupt_subbuffer", `offset ${e.offset}: ${e.detail}`, 1, s.cpu);
      s.counts?.untrusted();
      s.onPage = false;
      s.isLost = true;
      s.lostCorrupt = true;
      s.lost = -1;
      // the gap's end (the next readable event) is not known yet: the loss is stamped where this
      // CPU's data stops, and cuts what is open there
      const from = Math.max(s.lastTs, this.emittedTs);
      s.key = from === Number.NEGATIVE_INFINITY ? s.key : from;
      s.lostUntil = s.key;
      return true;
    }
  }

  private nextPage(s: CpuStream): PageRef | null {
    if (s.ended) return null;
    try {
      return s.source.nextPage();
    } catch (e) {
      if (!(e instanceof SkippedDataError)) s.ended = true;
      throw e;
    }
  }

  private step(s: CpuStream): boolean {
    const c = s.cursor;
    if (s.isLost) {
      s.isLost = false;
      s.lostCorrupt = false;
    } else if (!s.onPage) {
      // fall through to load a page
    } else if (c.next()) {
      s.key = c.ts;
      return true;
    } else {
      s.onPage = false;
    }
    for (;;) {
      if (!s.onPage) {
        const p = this.nextPage(s);
        if (p === null) return false;
        c.reset(p.data, p.start, p.length, p.fileOffset, s.cpu, p.inChunk === true);
        s.onPage = true;
        s.pagesRead++;
        if (s.counts !== null) s.counts.pageLoaded(s.events, c.missedEvents !== 0);
        if (c.missedEvents !== 0) {
          s.isLost = true;
          s.lost = c.missedEvents;
          s.lostUntil = c.ts;
          // the gap starts after this CPU's last event, and not before what was emitted
          // already (push mode: every CPU was read completely up to there)
          const from = Math.max(s.lastTs, this.emittedTs);
          s.key = from === Number.NEGATIVE_INFINITY ? c.ts : Math.min(from, c.ts);
          return true;
        }
      }
      if (c.next()) {
        s.key = c.ts;
        return true;
      }
      s.onPage = false;
    }
  }

  private less(a: CpuStream, b: CpuStream): boolean {
    return a.key < b.key || (a.key === b.key && a.cpu < b.cpu);
  }

  private push(s: CpuStream): void {
    const heap = this.heap;
    s.inHeap = true;
    let i = heap.length;
    heap.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(s, heap[p])) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = s;
  }

  private popTop(): void {
    const heap = this.heap;
    heap[0].inHeap = false;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const s = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this.less(heap[r], heap[l]) ? r : l;
      if (!this.less(heap[m], s)) break;
      heap[i] = heap[m];
      i = m;
    }
    heap[i] = s;
  }
}
