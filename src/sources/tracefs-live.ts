// Live capture from the running kernel (SPEC §3 "Live"): a private tracefs instance with
// the mono trace clock, the events the selection and metrics need, every CPU's
// trace_pipe_raw read non-blocking on an adaptive timer, pages decoded by the offline
// decoder and merged across CPUs in time order with a watermark.
//
// Watermark rule. Before each read round we sample T = CLOCK_MONOTONIC (the `mono` trace
// clock is the same clock: checked against trace_marker on this kernel). A round reads every
// CPU until EAGAIN, or until two partly filled pages in a row (the second can only be the
// page the writer is on: caught up), so afterwards every event *committed* before T has
// been read. An event
// can carry a timestamp < T and still be committed after our read: the kernel stamps an
// event when it reserves space and publishes it on commit, and an interrupt (or, in a VM,
// the host descheduling the vCPU) between the two delays the commit. So we drain only up to
// T - margin (default 10 ms, far longer than any handler nesting; raise it with
// `watermarkMarginMs` on hosts with long vCPU stalls). A quiet CPU never stalls the others:
// its EAGAIN is what lets the watermark advance. Should an event still arrive below a
// watermark already drained, it is counted as `live_out_of_order` (never silently reordered).
//
// Lost events. The instance runs in overwrite mode: when the reader falls behind, the kernel
// overwrites the oldest pages and flags the next page read with RB_MISSED_EVENTS (and the
// count when it fits): the merge turns that into a LostEvents record at the right place in
// the stream, so the analysis marks activations spanning it incomplete. When the page has no
// room for the count we take it from the CPU's `stats` overrun. Losses that never reach a
// page flag (`dropped events`, `commit overrun`) come from `stats`, polled, and are injected
// as LostEvents at the current watermark.

import { readFileSync } from "node:fs";
import { endianness } from "node:os";
import { EventCatalog } from "../decode/event-catalog.ts";
import { type EventFormat, parseFormat } from "../decode/format-file.ts";
import { type PageLayout, parseHeaderPage } from "../decode/header-page.ts";
import { EMPTY_SYMBOLS, KallsymsTable } from "../decode/kallsyms.ts";
import { Diagnostics } from "../model/diagnostics.ts";
import { EventRecord } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import type { Selection } from "../model/selection.ts";
import type { EventSink, RunOptions, SourceInfo, SymbolTable, TraceSource } from "../model/source.ts";
import { onCleanup } from "../tracefs/cleanup.ts";
import { statsLost } from "../tracefs/cpu-stats.ts";
import { type PlannedEvent, planEvents } from "../tracefs/event-plan.ts";
import { removeStaleInstances, TracefsInstance } from "../tracefs/instance.ts";
import { snapshotTasks } from "../tracefs/proc-tasks.ts";
import { RawCpuReader } from "../tracefs/raw-reader.ts";
import { findTracefs, TracefsError } from "../tracefs/tracefs-root.ts";
import { CpuMerge, PageQueue, type PageRef } from "./cpu-merge.ts";

export const DEFAULT_BUFFER_SIZE_KB = 4096;

export interface LiveOptions {
  selection: Selection;
  wakeupEvent?: "wakeup" | "waking";
  /** clock_nanosleep/nanosleep syscall events (timer metric to user space); default true */
  syscalls?: boolean;
  /** per-CPU ring buffer size in KiB (default 4096) */
  bufferSizeKb?: number;
  /** tracefs directory (default: found/mounted) */
  tracefs?: string;
  /** instance name suffix: rtscope-<pid>-<suffix> (tests, several captures in one process) */
  instanceSuffix?: string;
  /** safety margin of the watermark, ms (default 10) */
  watermarkMarginMs?: number;
  /** poll interval bounds, ms (default 5..50, adaptive) */
  minPollMs?: number;
  maxPollMs?: number;
  /** events to enable instead of the plan (tests, benchmarks) */
  events?: PlannedEvent[];
  /** remove stale instances of dead rtscopes first (default true) */
  removeStale?: boolean;
}

/** What the capture has done so far (top's header, progress, benchmarks). */
export interface LiveStats {
  /** events handed to the sink */
  events: number;
  /** bytes read from trace_pipe_raw */
  bytes: number;
  pages: number;
  /** events per second over the last stats interval */
  eventsPerSec: number;
  /** events lost so far (page flags and kernel stats) */
  lostEvents: number;
  /** rtscope's own CPU use over the last interval, % of one CPU */
  cpuPercent: number;
  /** seconds since start */
  elapsedSec: number;
  /** events that arrived below a watermark already drained (should stay 0) */
  outOfOrder: number;
  pollMs: number;
}

const SLAB_PAGES = 64;

const MAX_FREE_SLABS = 16;

/**
 * One CPU's pages waiting for the merge. The merge may use a page's bytes until it asks
 * for the next page; when that next page lies in another slab, the previous slab is free
 * again (pages are appended in order), and the reader refills it instead of allocating.
 */
class SlabPageQueue extends PageQueue {
  private current: Uint8Array | null = null;
  readonly free: Uint8Array[] = [];

  override nextPage(): PageRef | null {
    const p = super.nextPage();
    if (p === null) return null;
    if (this.current !== null && p.data !== this.current && this.free.length < MAX_FREE_SLABS)
      this.free.push(this.current);
    this.current = p.data;
    return p;
  }
}

/** Per-CPU pages read into slabs: one allocation per 64 pages at most, reused once consumed. */
class CpuChannel {
  readonly cpu: number;
  readonly reader: RawCpuReader;
  readonly queue = new SlabPageQueue();
  private slab: Uint8Array;
  private used = 0;
  private readonly pageSize: number;
  /** sum of known lost counts seen in page flags, and stats already accounted */
  flaggedLost = 0;
  publishedLost = 0;
  statsOverrun = 0;
  statsOther = 0;
  injectedOther = 0;
  /** overrun counts already attributed to page flags (for flags without a count) */
  attributedOverrun = 0;

  constructor(cpu: number, path: string, pageSize: number) {
    this.cpu = cpu;
    this.pageSize = pageSize;
    this.reader = new RawCpuReader(path, cpu);
    this.slab = new Uint8Array(pageSize * SLAB_PAGES);
  }

  /**
   * Reads up to `max` pages, until EAGAIN or two partly filled pages in a row. One partial
   * page may be the rest of a page an earlier read took half of, with full pages behind it;
   * a second one in a row can only be the page the writer is on: the reader has caught up
   * and holds everything committed until that read (as good as EAGAIN for the watermark).
   * Stopping there breaks the loop where rtscope's own reads write events (syscall tracing)
   * that the next read would return, forever.
   */
  readAll(max: number, layout: PageLayout): number {
    let n = 0;
    const capacity = this.pageSize - layout.dataOffset;
    const commitAt = layout.commitOffset + (layout.littleEndian || layout.kernelLongSize === 4 ? 0 : 4);
    let partials = 0;
    while (n < max) {
      if (this.used + this.pageSize > this.slab.length) {
        this.slab = this.queue.free.pop() ?? new Uint8Array(this.pageSize * SLAB_PAGES);
        this.used = 0;
      }
      const at = this.used;
      const got = this.reader.readPage(this.slab, at, this.pageSize);
      if (got <= 0) break;
      this.queue.append(this.slab, at, got);
      this.used += this.pageSize;
      n++;
      const s = this.slab;
      const w = commitAt + at;
      const commit = layout.littleEndian
        ? s[w] | (s[w + 1] << 8) | (s[w + 2] << 16) | (s[w + 3] << 24)
        : (s[w] << 24) | (s[w + 1] << 16) | (s[w + 2] << 8) | s[w + 3];
      // a full page ends at most one event (<= 120 bytes) short of its capacity
      if ((commit & 0x07ffffff) < capacity - 128) {
        if (++partials === 2) break;
      } else partials = 0;
    }
    return n;
  }
}

export class LiveSource implements TraceSource {
  readonly info: SourceInfo;
  readonly symbols: SymbolTable;
  readonly initialComms: ReadonlyMap<number, string>;
  readonly initialTgids: ReadonlyMap<number, number>;
  readonly diagnostics = new Diagnostics();
  readonly instance: TracefsInstance;
  readonly enabledEvents: PlannedEvent[] = [];
  readonly layout: PageLayout;
  /** absolute mono time (ns) that relative timestamps count from */
  readonly base: bigint;

  private readonly channels: CpuChannel[];
  private readonly merge: CpuMerge;
  private readonly opts: LiveOptions;
  private readonly unregisterCleanup: () => void;
  private started = false;
  private stopping = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly lostRec = new EventRecord();
  private lastTs = Number.NEGATIVE_INFINITY;
  private drainedTo = Number.NEGATIVE_INFINITY;
  private outOfOrder = 0;
  private events = 0;
  private bytes = 0;
  private pages = 0;
  private pollMs: number;
  private lastStatsAt = 0n;
  private lastStatsEvents = 0;
  private lastCpu = process.cpuUsage();
  private eventsPerSec = 0;
  private cpuPercent = 0;
  private startedAt = 0n;
  private userSink: EventSink | null = null;

  private constructor(opts: LiveOptions) {
    this.opts = opts;
    const root = findTracefs({ path: opts.tracefs });
    if (opts.removeStale !== false) removeStaleInstances(root);
    this.instance = TracefsInstance.create(root, opts.instanceSuffix);
    const inst = this.instance;
    // from here on, the instance must go whatever happens
    let channels: CpuChannel[] = [];
    this.unregisterCleanup = onCleanup(() => this.teardown(channels));
    try {
      inst.setTracingOn(false);
      inst.setClock("mono");
      inst.write("options/overwrite", "1");
      inst.setBufferSizeKb(opts.bufferSizeKb ?? DEFAULT_BUFFER_SIZE_KB);

      let kallsyms = "";
      try {
        kallsyms = readFileSync("/proc/kallsyms", "utf8");
      } catch {
        // no symbols: timer sleeps then come from syscall events only
      }
      const syms = kallsyms ? new KallsymsTable(kallsyms) : null;
      this.symbols = syms ?? EMPTY_SYMBOLS;
      const hw = kallsyms ? /^([0-9a-f]+) \S hrtimer_wakeup$/m.exec(kallsyms) : null;
      const hwAddr = hw && !/^0+$/.test(hw[1]) ? `0x${hw[1]}` : "";

      const plan =
        opts.events ??
        planEvents({
          selection: opts.selection,
          wakeupEvent: opts.wakeupEvent ?? "wakeup",
          syscalls: opts.syscalls !== false,
          hrtimerWakeupAddr: hwAddr,
        });
      const formats: EventFormat[] = [];
      for (const p of plan) {
        if (!inst.hasEvent(p.system, p.event)) {
          if (p.required)
            throw new TracefsError(
              inst.file(`events/${p.system}/${p.event}`),
              "event missing: the kernel lacks it (see rtscope doctor)",
            );
          this.diagnostics.add(
            "live_event_missing",
            `event ${p.system}:${p.event}: ${p.why} will be missing`,
          );
          continue;
        }
        formats.push(parseFormat(inst.read(`events/${p.system}/${p.event}/format`), p.system));
        if (p.filter) {
          try {
            inst.setFilter(p.system, p.event, p.filter);
          } catch (e) {
            // a filter only saves volume: run unfiltered rather than fail
            this.diagnostics.add("live_filter_refused", `${p.system}:${p.event}: ${(e as Error).message}`);
          }
        }
        inst.enableEvent(p.system, p.event);
        this.enabledEvents.push(p);
      }

      const le = endianness() === "LE";
      this.layout = parseHeaderPage(inst.read("events/header_page"), le, inst.file("events/header_page"));
      const cpus = inst.cpus();
      channels = cpus.map((c) => new CpuChannel(c, inst.rawPipePath(c), this.layout.subBufferSize));
      this.channels = channels;

      const tasks = snapshotTasks();
      this.initialComms = tasks.comms;
      this.initialTgids = tasks.tgids;

      this.base = process.hrtime.bigint();
      // the merge's own loss notes are replaced by the reconciled ones below
      const catalog = new EventCatalog(formats, this.layout, inst.path, this.diagnostics);
      this.merge = new CpuMerge(
        channels.map((c) => ({ cpu: c.cpu, source: c.queue })),
        this.layout,
        catalog,
        new Diagnostics(),
        inst.path,
        this.base,
      );
      let kernel = "";
      try {
        kernel = `${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()} ${readFileSync("/proc/sys/kernel/version", "utf8").trim()}`;
      } catch {
        // informative only
      }
      this.info = {
        kind: "live",
        path: inst.path,
        clock: "mono",
        clockIsNs: true,
        cpus: cpus.length,
        kernel,
        tsBase: this.base,
        tsResolutionNs: 1,
        format: "tracefs live (trace_pipe_raw)",
        validFromTs: 0,
      };
      this.pollMs = opts.minPollMs ?? 10;
    } catch (e) {
      this.teardown(channels);
      this.unregisterCleanup();
      throw e;
    }
  }

  /** Creates the instance and enables the events; tracing starts with start() or run(). */
  static open(opts: LiveOptions): LiveSource {
    return new LiveSource(opts);
  }

  /** Turns tracing on (events are buffered in the kernel until run() reads them). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.startedAt = process.hrtime.bigint();
    this.lastStatsAt = this.startedAt;
    this.lastCpu = process.cpuUsage();
    this.instance.setTracingOn(true);
  }

  /** Asks run() to finish: it stops tracing, reads what is left and resolves. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  stats(): LiveStats {
    const lost = this.diagnostics.total("lost_events");
    return {
      events: this.events,
      bytes: this.bytes,
      pages: this.pages,
      eventsPerSec: this.eventsPerSec,
      lostEvents: lost,
      cpuPercent: this.cpuPercent,
      elapsedSec: this.startedAt ? Number(process.hrtime.bigint() - this.startedAt) / 1e9 : 0,
      outOfOrder: this.outOfOrder,
      pollMs: this.pollMs,
    };
  }

  /** Events lost so far (known count; page flags reconciled with the kernel's stats). */
  get lostEvents(): number {
    return Math.max(0, this.diagnostics.total("lost_events"));
  }

  async run(sink: EventSink, opts: RunOptions = {}): Promise<void> {
    if (this.closed) throw new Error("live source is closed");
    this.userSink = sink;
    const onAbort = () => this.stop();
    opts.signal?.addEventListener("abort", onAbort);
    if (opts.signal?.aborted) this.stop();
    this.start();
    const minPoll = this.opts.minPollMs ?? 5;
    const maxPoll = this.opts.maxPollMs ?? 50;
    const marginNs = (this.opts.watermarkMarginMs ?? 10) * 1e6;
    const bufferPages = Math.max(
      8,
      Math.floor(((this.opts.bufferSizeKb ?? DEFAULT_BUFFER_SIZE_KB) * 1024) / this.layout.subBufferSize),
    );
    let lastProgress = 0n;
    try {
      while (!this.stopping) {
        const t0 = process.hrtime.bigint();
        const n = this.readRound(bufferPages);
        this.drainTo(Number(t0 - this.base) - marginNs);
        if (t0 - this.lastStatsAt >= 250_000_000n) this.pollStats(t0, false);
        if (opts.onProgress && t0 - lastProgress >= 250_000_000n) {
          lastProgress = t0;
          opts.onProgress({ bytes: this.bytes, totalBytes: 0, events: this.events });
        }
        // adaptive: read more often while the buffer fills fast, rarely when idle
        const perCpu = n / this.channels.length;
        if (perCpu > bufferPages / 16) this.pollMs = Math.max(minPoll, this.pollMs / 2);
        else if (perCpu <= 1) this.pollMs = Math.min(maxPoll, this.pollMs * 1.25);
        await this.sleep(this.pollMs);
      }
      // final: stop the kernel writing, then read and drain everything
      this.instance.setTracingOn(false);
      for (let i = 0; i < 1000 && this.readRound(bufferPages) > 0; i++) {
        this.drainTo(Number.POSITIVE_INFINITY);
      }
      this.drainTo(Number.POSITIVE_INFINITY);
      this.pollStats(process.hrtime.bigint(), true);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      this.userSink = null;
    }
  }

  /** Relative timestamp of "now" on the trace clock. */
  nowTs(): number {
    return Number(process.hrtime.bigint() - this.base);
  }

  private readRound(maxPages: number): number {
    let n = 0;
    for (const c of this.channels) n += c.readAll(maxPages, this.layout);
    this.pages += n;
    this.bytes += n * this.layout.subBufferSize;
    return n;
  }

  private drainTo(watermark: number): void {
    this.merge.drain(this, watermark);
    if (watermark > this.drainedTo) this.drainedTo = watermark;
  }

  /** The merge's sink: order check, loss accounting, then the user's sink. */
  handle(rec: EventRecord): void {
    if (rec.ts < this.lastTs) {
      // rare by construction (the merge's watermark); never silently reordered
      this.outOfOrder++;
      this.diagnostics.add("live_out_of_order", `${rec.ts - this.lastTs} ns behind`, 1, rec.cpu);
    } else this.lastTs = rec.ts;
    if (rec.kind === EventKind.LostEvents) this.onLostFlag(rec);
    this.events++;
    this.userSink?.handle(rec);
  }

  private onLostFlag(rec: EventRecord): void {
    const ch = this.channels.find((c) => c.cpu === rec.cpu);
    if (!ch) return;
    let count = rec.lostCount;
    if (count < 0) {
      // no room for the count on the page: the kernel's overrun counter has it
      try {
        ch.statsOverrun = this.instance.cpuStats(ch.cpu).overrun;
      } catch {
        // keep the last value
      }
      count = Math.max(1, ch.statsOverrun - ch.attributedOverrun);
      rec.lostCount = count;
    }
    ch.attributedOverrun += count;
    ch.flaggedLost += count;
    this.publish(ch, ch.flaggedLost + ch.injectedOther);
  }

  private publish(ch: CpuChannel, target: number): void {
    if (target > ch.publishedLost) {
      this.diagnostics.add("lost_events", "", target - ch.publishedLost, ch.cpu);
      ch.publishedLost = target;
    }
  }

  private injectLost(ch: CpuChannel, count: number): void {
    const rec = this.lostRec;
    rec.clear();
    rec.kind = EventKind.LostEvents;
    rec.cpu = ch.cpu;
    rec.ts = Math.max(this.lastTs, Number.isFinite(this.drainedTo) ? this.drainedTo : 0);
    rec.lostCount = count;
    rec.data = null;
    rec.view = null;
    rec.strings = null;
    this.lastTs = rec.ts;
    this.events++;
    this.userSink?.handle(rec);
  }

  /** Kernel stats: losses that page flags do not carry; at the end, overrun not yet flagged. */
  private pollStats(now: bigint, final: boolean): void {
    for (const ch of this.channels) {
      let s: ReturnType<TracefsInstance["cpuStats"]>;
      try {
        s = this.instance.cpuStats(ch.cpu);
      } catch {
        continue;
      }
      ch.statsOverrun = s.overrun;
      ch.statsOther = statsLost(s) - s.overrun;
      let extra = ch.statsOther - ch.injectedOther;
      if (final && s.overrun > ch.attributedOverrun) {
        extra += s.overrun - ch.attributedOverrun;
        ch.attributedOverrun = s.overrun;
      }
      if (extra > 0) {
        ch.injectedOther += extra;
        this.injectLost(ch, extra);
        this.publish(ch, ch.flaggedLost + ch.injectedOther);
      }
    }
    const dt = Number(now - this.lastStatsAt) / 1e9;
    if (dt > 0) {
      this.eventsPerSec = (this.events - this.lastStatsEvents) / dt;
      const cpu = process.cpuUsage(this.lastCpu);
      this.cpuPercent = ((cpu.user + cpu.system) / 1e6 / dt) * 100;
      this.lastCpu = process.cpuUsage();
    }
    this.lastStatsEvents = this.events;
    this.lastStatsAt = now;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private teardown(channels: CpuChannel[]): void {
    for (const c of channels) c.reader.close();
    if (!this.instance.isRemoved) this.instance.remove();
  }

  /** Closes the readers and removes the instance (idempotent). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopping = true;
    this.wake?.();
    try {
      this.teardown(this.channels);
    } finally {
      this.unregisterCleanup();
    }
  }
}
