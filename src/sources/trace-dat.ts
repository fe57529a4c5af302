// trace.dat reader (trace-cmd v6/v7): the container (trace-dat-container.ts) gives metadata
// and per-CPU pages; the decoder (src/decode) turns pages into events; cpu-merge.ts orders
// them. Data is streamed chunk by chunk per CPU: the file is never read whole.

import { setImmediate as yieldToLoop } from "node:timers/promises";
import { EventCatalog, type FormatText, FormatTextError } from "../decode/event-catalog.ts";
import { FormatParseError, lineOffset } from "../decode/format-file.ts";
import { HeaderPageError, type PageLayout, parseHeaderPage } from "../decode/header-page.ts";
import { EMPTY_SYMBOLS, KallsymsTable } from "../decode/kallsyms.ts";
import { SubBufferCursor } from "../decode/page-decoder.ts";
import { Diagnostics } from "../model/diagnostics.ts";
import { EventKind } from "../model/event-kind.ts";
import {
  type EventSink,
  type RunOptions,
  type SourceInfo,
  type SymbolTable,
  TraceFormatError,
  type TraceSource,
} from "../model/source.ts";
import { CpuMerge, type PageSource } from "./cpu-merge.ts";
import { PageWorkers } from "./trace-dat/page-workers.ts";
import { ReaderPages } from "./trace-dat/reader-pages.ts";
import { type BufferInfo, type CpuPageReader, TraceDatFile } from "./trace-dat-container.ts";
import { PageIndex, TraceDatWindows, type TraceDatWindowsOptions } from "./trace-dat-windows.ts";

export interface TraceDatOptions {
  /** instance (buffer) to read by name ("" = top); default: the buffer with sched events, else the top one */
  buffer?: string;
  /** sub-buffers per read for uncompressed data (tests use 1 to exercise boundaries) */
  pagesPerRead?: number;
  /** a corrupt sub-buffer or event is an error (default: skipped and counted as lost events) */
  strict?: boolean;
  /**
   * worker threads that read and decompress the per-CPU pages while this thread merges and
   * analyses them (0: none, everything on this thread)
   */
  threads?: number;
}

const NS_CLOCKS = new Set(["local", "global", "perf", "mono", "mono_raw", "boot", "tai"]);
/** events per merge slice between progress / abort checks */
const SLICE_EVENTS = 1 << 16;

function parseCmdlines(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const pid = Number(line.slice(0, sp));
    if (Number.isInteger(pid) && pid >= 0) m.set(pid, line.slice(sp + 1).trim());
  }
  return m;
}

/** "tid tgid" lines (saved tgids of a trace rtscope wrote); undefined when there are none. */
function parseTgids(text: string): Map<number, number> | undefined {
  if (text === "") return undefined;
  const m = new Map<number, number>();
  for (const line of text.split("\n")) {
    const f = /^(\d+) (\d+)$/.exec(line.trim());
    if (f) m.set(Number(f[1]), Number(f[2]));
  }
  return m.size > 0 ? m : undefined;
}

function formatTexts(file: TraceDatFile): FormatText[] {
  const meta = file.meta;
  return [
    ...meta.ftraceFormats.map((text, i) => ({ system: "ftrace", text, place: meta.ftraceFormatPlaces[i] })),
    ...meta.eventFormats.map((f, i) => ({
      system: f.system,
      text: f.text,
      place: meta.eventFormatPlaces[i],
    })),
  ];
}

/** A format text's parse error as a TraceFormatError at the file offset of the bad line. */
function formatError(path: string, e: FormatParseError): TraceFormatError {
  const format = e instanceof FormatTextError ? e.format : undefined;
  const place = format?.place;
  if (!format || !place) return new TraceFormatError(path, 0, `${e.message} (in the event formats)`);
  const within = lineOffset(format.text, e.line);
  if (place.section === undefined) return new TraceFormatError(path, place.offset + within, e.message);
  return new TraceFormatError(
    path,
    place.offset,
    `${e.message} (at byte ${(place.byte ?? 0) + within} of the decompressed ${place.section})`,
  );
}

export class TraceDatSource implements TraceSource {
  readonly info: SourceInfo;
  readonly symbols: SymbolTable;
  readonly initialComms: ReadonlyMap<number, string>;
  readonly initialTgids?: ReadonlyMap<number, number>;
  readonly diagnostics = new Diagnostics();
  /** the buffer being read */
  readonly buffer: BufferInfo;
  readonly layout: PageLayout;
  readonly catalog: EventCatalog;
  private readonly file: TraceDatFile;
  private readonly path: string;
  private readonly pagesPerRead: number | undefined;
  private readonly strict: boolean;
  private readonly threads: number;
  private readonly base: bigint;
  private ran = false;
  /** run()'s page readers, closed with the source (an aborted run leaves them mid-stream) */
  private readers: CpuPageReader[] = [];
  /** run()'s decode workers, stopped at its end or with the source */
  private workers: PageWorkers | undefined;
  /** per CPU of the buffer, the pages run() read (when windows are read back) */
  private pageIndexes: PageIndex[] | undefined;
  private windows: TraceDatWindows | undefined;

  constructor(path: string, opts: TraceDatOptions = {}) {
    this.path = path;
    this.pagesPerRead = opts.pagesPerRead;
    this.strict = opts.strict === true;
    this.threads = Math.max(0, Math.floor(opts.threads ?? 0));
    const file = TraceDatFile.open(path);
    this.file = file;
    try {
      const meta = file.meta;
      if (meta.latencyText !== undefined && meta.buffers.every((b) => b.cpus.length === 0)) {
        throw new TraceFormatError(
          path,
          0,
          "this trace.dat holds latency-tracer text, not event data: rtscope cannot analyse it",
        );
      }
      try {
        this.layout = parseHeaderPage(meta.headerPage, meta.littleEndian, `${path}: header_page`);
      } catch (e) {
        if (e instanceof HeaderPageError) throw new TraceFormatError(path, 0, e.message);
        throw e;
      }
      try {
        this.catalog = new EventCatalog(formatTexts(file), this.layout, path, this.diagnostics);
      } catch (e) {
        if (e instanceof FormatParseError) throw formatError(path, e);
        throw e;
      }
      this.buffer = this.chooseBuffer(opts.buffer);
      if (this.buffer.pageSize !== this.layout.subBufferSize) {
        // instances may have their own sub-buffer size (>= 6.8); the data offset stays the kernel's
        this.layout = { ...this.layout, subBufferSize: this.buffer.pageSize };
      }
      // base = the smallest first-page timestamp; each CPU's data begins at its first event
      // (the analysis sees it: cpu-coverage.ts)
      let base: bigint | null = null;
      const firstPageTs: bigint[] = [];
      for (const c of this.buffer.cpus) {
        const reader = file.cpuPages(this.buffer, c.cpu, { pagesPerRead: 1 });
        const p = reader.nextPage();
        reader.close();
        if (!p || p.page.length < this.layout.dataOffset) continue;
        const ts = new DataView(p.page.buffer, p.page.byteOffset, 8).getBigUint64(0, meta.littleEndian);
        firstPageTs.push(ts);
        if (base === null || ts < base) base = ts;
      }
      this.base = base ?? 0n;
      const clock = this.buffer.clock || meta.clock;
      const unameParts = meta.uname.trim().split(/\s+/);
      const where = this.buffer.name === "" ? "top buffer" : `buffer "${this.buffer.name}"`;
      const compression = meta.compression.name === "none" ? "" : ` ${meta.compression.name}`;
      this.info = {
        kind: "trace.dat",
        path,
        clock,
        clockIsNs: clock === "" || NS_CLOCKS.has(clock),
        cpus: meta.cpuCount,
        kernel: unameParts.length >= 3 ? unameParts.slice(2).join(" ") : meta.uname.trim(),
        tsBase: this.base,
        tsResolutionNs: 1,
        format: `trace.dat v${meta.version}${compression}, ${where}${meta.buffers.length > 1 ? ` of ${meta.buffers.length}` : ""}`,
      };
      this.symbols = meta.kallsyms ? new KallsymsTable(meta.kallsyms) : EMPTY_SYMBOLS;
      this.initialComms = parseCmdlines(meta.cmdlines);
      this.initialTgids = parseTgids(meta.savedTgids);
      for (const w of meta.warnings) this.diagnostics.add("trace_file_warning", w);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** The buffer named by the user, else the first with sched events, else the top one. */
  private chooseBuffer(name: string | undefined): BufferInfo {
    const buffers = this.file.meta.buffers;
    if (name !== undefined) {
      const b = buffers.find((x) => x.name === name);
      if (!b) {
        const names = buffers.map((x) => (x.name === "" ? '"" (top)' : `"${x.name}"`)).join(", ");
        throw new TraceFormatError(this.path, 0, `no buffer named "${name}" in this trace; it has ${names}`);
      }
      return b;
    }
    const withData = buffers.filter((b) => b.cpus.length > 0);
    if (withData.length === 0) return buffers.find((b) => b.name === "") ?? buffers[0];
    if (withData.length === 1) return withData[0];
    for (const b of withData) if (this.hasSchedEvents(b)) return b;
    return withData.find((b) => b.name === "") ?? withData[0];
  }

  /** Looks at the first pages of each CPU for a sched_switch or sched_wakeup record. */
  private hasSchedEvents(b: BufferInfo): boolean {
    const layout = { ...this.layout, subBufferSize: b.pageSize };
    const cursor = new SubBufferCursor(layout, this.path);
    for (const c of b.cpus) {
      const reader = this.file.cpuPages(b, c.cpu, { pagesPerRead: 1 });
      for (let i = 0; i < 4; i++) {
        const p = reader.nextPage();
        if (!p) break;
        try {
          cursor.reset(p.page, 0, p.page.length, p.fileOffset, c.cpu);
          while (cursor.next()) {
            if (cursor.payloadLength < 2) continue;
            const id = cursor.view.getUint16(cursor.payloadOffset, layout.littleEndian);
            const k = this.catalog.decoder(id)?.kind;
            if (k === EventKind.SchedSwitch || k === EventKind.SchedWakeup || k === EventKind.SchedWaking) {
              reader.close();
              return true;
            }
          }
        } catch {
          break; // a bad page is reported when the buffer is read
        }
      }
      reader.close();
    }
    return false;
  }

  /**
   * Worst windows read back from this file (call before run()): run() then indexes the
   * pages it reads, and the windows are decoded again from there when copied.
   */
  windowSource(opts?: TraceDatWindowsOptions): TraceDatWindows {
    if (this.ran) throw new Error(`${this.path}: windowSource() must come before run()`);
    if (this.windows !== undefined) return this.windows;
    const buffer = this.buffer;
    const layout = this.layout;
    const indexes = buffer.cpus.map(() => new PageIndex(this.file.meta.littleEndian, this.base));
    this.pageIndexes = indexes;
    this.windows = new TraceDatWindows(
      {
        path: this.path,
        layout,
        compressed: buffer.compressed,
        base: this.base,
        cpus: this.file.meta.cpuCount,
        cpuNumbers: buffer.cpus.map((c) => c.cpu),
        indexes,
        openReader: (q) => this.file.cpuPages(buffer, buffer.cpus[q].cpu),
        makeCatalog: () => new EventCatalog(formatTexts(this.file), layout, this.path, new Diagnostics()),
        initialComms: this.initialComms,
      },
      opts,
    );
    return this.windows;
  }

  async run(sink: EventSink, opts: RunOptions = {}): Promise<void> {
    if (this.ran) throw new Error(`${this.path}: run() may be called once per opened source`);
    this.ran = true;
    const compressed = this.buffer.compressed;
    const meta = this.file.meta;
    let sources: (PageSource & { consumed: number })[];
    if (this.threads > 0 && this.buffer.cpus.length > 0) {
      this.workers = new PageWorkers({
        path: this.path,
        fileSize: meta.fileSize,
        pageSize: this.buffer.pageSize,
        algo: compressed ? meta.compression.name : "none",
        littleEndian: meta.littleEndian,
        pagesPerRead: this.pagesPerRead,
        compressed,
        regions: this.buffer.cpus,
        indexes: this.pageIndexes,
        threads: this.threads,
      });
      sources = this.workers.sources;
    } else {
      const readers = this.buffer.cpus.map(
        (c, i) =>
          new ReaderPages(
            this.file.cpuPages(
              this.buffer,
              c.cpu,
              this.pagesPerRead ? { pagesPerRead: this.pagesPerRead } : undefined,
            ),
            c.offset,
            compressed,
            this.pageIndexes?.[i],
          ),
      );
      this.readers = readers.map((s) => s.reader);
      sources = readers;
    }
    try {
      await this.drainAll(sources, sink, opts);
    } finally {
      await this.workers?.stop();
    }
  }

  private async drainAll(
    sources: (PageSource & { consumed: number })[],
    sink: EventSink,
    opts: RunOptions,
  ): Promise<void> {
    const totalBytes = this.buffer.cpus.reduce((s, c) => s + c.size, 0);
    const merge = new CpuMerge(
      this.buffer.cpus.map((c, i) => ({ cpu: c.cpu, source: sources[i], counts: this.pageIndexes?.[i] })),
      this.layout,
      this.catalog,
      this.diagnostics,
      this.path,
      this.base,
      { cpus: this.file.meta.cpuCount, strict: this.strict },
    );
    const progress = () => {
      let bytes = 0;
      for (const s of sources) bytes += s.consumed;
      opts.onProgress?.({ bytes: Math.min(bytes, totalBytes), totalBytes, events: merge.events });
    };
    let lastReport = performance.now();
    let lastYield = lastReport;
    for (;;) {
      opts.signal?.throwIfAborted();
      const n = merge.drain(sink, Number.POSITIVE_INFINITY, SLICE_EVENTS);
      const now = performance.now();
      if (opts.onProgress && now - lastReport >= 250) {
        lastReport = now;
        progress();
      }
      if (n < SLICE_EVENTS) break;
      if (now - lastYield >= 100) {
        lastYield = now;
        await yieldToLoop();
      }
    }
    let bytes = 0;
    for (const s of sources) bytes += s.consumed;
    opts.onProgress?.({ bytes: totalBytes || bytes, totalBytes, events: merge.events });
  }

  close(): void {
    void this.workers?.stop();
    this.windows?.close();
    for (const r of this.readers) r.close();
    this.file.close();
  }
}

/** Opens a trace-cmd trace.dat (v6 or v7). Throws TraceFormatError for unreadable files. */
export async function openTraceDat(path: string, opts?: TraceDatOptions): Promise<TraceSource> {
  return new TraceDatSource(path, opts);
}
