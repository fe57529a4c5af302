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
// count when it fits): the merge turns that into a LostEvents record at the start of the gap
// (the CPU's last event read, or the watermark already drained if later: every event below
// it had been read, so nothing was lost there), carrying the gap's end, so the analysis cuts
// every activation overlapping the gap. When the page has no
// room for the count we take it from the CPU's `stats` overrun. Losses that never reach a
// page flag (`dropped events`, `commit overrun`) come from `stats`, polled, and are injected
// as LostEvents at the current watermark.

import { readFileSync } from "node:fs";
import { endianness } from "node:os";
import { EventCatalog } from "../decode/event-catalog.ts";
import { type EventFormat, parseFormat } from "../decode/format-file.ts";
import { type PageLayout, parseHeaderPage } from "../decode/header-page.ts";
import { EMPTY_SYMBOLS, KallsymsTable } from "../decode/kallsyms.ts";
import { Diagnostics, MAX_DETAILS } from "../model/diagnostics.ts";
import { EventRecord } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import type { Selection } from "../model/selection.ts";
import type { EventSink, RunOptions, SourceInfo, SymbolTable, TraceSource } from "../model/source.ts";
import { onCleanup } from "../tracefs/cleanup.ts";
import { readCpuList } from "../tracefs/cpu-list.ts";
import { statsLost } from "../tracefs/cpu-stats.ts";
import { type PlannedEvent, planEvents } from "../tracefs/event-plan.ts";
import {
  instanceOwner,
  removeStaleInstances,
  staleCleanupNotices,
  TracefsInstance,
} from "../tracefs/instance.ts";
import { type CaptureGap, InstanceWatch, type WatchChange } from "../tracefs/instance-watch.ts";
import { snapshotTasks } from "../tracefs/proc-tasks.ts";
import { RawCpuReader } from "../tracefs/raw-reader.ts";
import { findTracefs, TracefsError } from "../tracefs/tracefs-root.ts";
import { CpuMerge, PageQueue, type PageRef } from "./cpu-merge.ts";

/**
 * The buffer is sized once, at the start, and never resized while tracing: on this VM's
 * kernel (6.18) growing a live buffer (1 -> 8 -> 32 -> 128 MiB) held a cyclictest thread at
 * prio 80 off its CPU for 4 to 108 ms (bench/README.md), the very latency rtscope measures.
 *
 * Default per-CPU buffer: what a reader that stalls for STALL_COVER_S needs at
 * PLANNED_RATE_PER_CPU events/s (SPEC's live bar, 200 k events/s on a 2-CPU machine) of
 * BYTES_PER_EVENT (sched_switch is 68 bytes with its header, sched_wakeup 40, hrtimer and
 * sleep-syscall events 44-48: 56 is the mix of a cyclic RT load), far more than the longest
 * read interval (50 ms). Bounded by 1/64 of the memory in all, and at least 1 MiB.
 */
export const PLANNED_RATE_PER_CPU = 100_000;
export const BYTES_PER_EVENT = 56;
export const STALL_COVER_S = 1;

export function defaultBufferSizeKb(cpus: number, memTotalKb: number): number {
  const want = Math.ceil((PLANNED_RATE_PER_CPU * BYTES_PER_EVENT * STALL_COVER_S) / 1024);
  const cap = Math.floor(memTotalKb / 64 / Math.max(1, cpus));
  return Math.max(1024, Math.min(want, cap));
}

/** The fastest a kernel writes one CPU's events (this VM: ~0.38 M/s under stress-ng --switch). */
const BURST_RATE_PER_CPU = 500_000;

/**
 * The longest the reader sleeps between rounds when little comes in (ms): half the time a
 * per-CPU buffer of `kb` takes to fill at BURST_RATE_PER_CPU, so that a burst starting while
 * it sleeps is read before the buffer wraps; 100 ms with the default buffer (5.3 MiB), at most
 * 200, never below the 50 ms that was the bound for every buffer before.
 */
export function maxPollFor(kb: number): number {
  return Math.round(Math.min(200, Math.max(50, (stallCoverS(kb, BURST_RATE_PER_CPU) * 1000) / 2)));
}

/** How long a stall a per-CPU buffer of `kb` covers at `ratePerCpu` events/s (s). */
export function stallCoverS(kb: number, ratePerCpu = PLANNED_RATE_PER_CPU): number {
  return (kb * 1024) / BYTES_PER_EVENT / ratePerCpu;
}

function memTotalKb(): number {
  try {
    return Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) || 1 << 22;
  } catch {
    return 1 << 22;
  }
}

/** This machine's default (possible CPUs, /proc/meminfo). */
export function defaultBufferSizeHere(): number {
  const cpus = readCpuList("/sys/devices/system/cpu/possible").length || 1;
  return defaultBufferSizeKb(cpus, memTotalKb());
}

export interface LiveOptions {
  selection: Selection;
  wakeupEvent?: "wakeup" | "waking";
  /** clock_nanosleep/nanosleep syscall events (timer metric to user space); default true */
  syscalls?: boolean;
  /** per-CPU ring buffer size in KiB (default: defaultBufferSizeHere()) */
  bufferSizeKb?: number;
  /** tracefs directory (default: found/mounted) */
  tracefs?: string;
  /** instance name suffix: rtscope-<pid>-<suffix> (tests, several captures in one process) */
  instanceSuffix?: string;
  /** safety margin of the watermark, ms (default 10) */
  watermarkMarginMs?: number;
  /** poll interval bounds, ms (default 5..maxPollFor(buffer), adaptive) */
  minPollMs?: number;
  maxPollMs?: number;
  /** softirq_raise events too (admit: softirqs raised on the newcomer's behalf); default false */
  softirqRaise?: boolean;
  /** events to enable instead of the plan (tests, benchmarks) */
  events?: PlannedEvent[];
  /** remove stale instances of dead rtscopes first (default true) */
  removeStale?: boolean;
  /** where start-up notices go (stale instances removed...); default stderr */
  notice?: (line: string) => void;
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
  /** what stops the capture right now (tracing switched off from outside...), "" when recording */
  captureProblem: string;
  /** stretches the capture did not cover so far */
  captureGaps: number;
  /** events the kernel wrote so far (every CPU's stats: entries + overrun + read events) */
  written: number;
}

/** One CPU's account at the end of a capture. */
export interface CpuAccount {
  cpu: number;
  /** events the kernel wrote: stats entries + overrun + read events */
  written: number;
  /** events rtscope read and passed on */
  events: number;
  /** events lost (page flags reconciled with stats overrun, dropped and commit overrun) */
  lost: number;
}

/** How often the instance is checked for changes made from outside (ms). */
const WATCH_INTERVAL_MS = 200;

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
  statsOther = 0;
  injectedOther = 0;
  /** overrun counts already attributed to page flags (for flags without a count) */
  attributedOverrun = 0;
  /** events read from this CPU and passed on */
  events = 0;
  /** the kernel's count of events written, at the last stats poll */
  written = 0;

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
  /** per-CPU ring buffer size requested, KiB */
  readonly bufferSizeKb: number;

  private readonly channels: CpuChannel[];
  /** channel by CPU number */
  private readonly channelOfCpu: CpuChannel[] = [];
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
  private watch!: InstanceWatch;
  private lastWatchAt = 0n;
  private readonly notice: (line: string) => void;

  private constructor(opts: LiveOptions) {
    this.opts = opts;
    const root = findTracefs({ path: opts.tracefs });
    const notice = opts.notice ?? ((line: string) => process.stderr.write(`rtscope: ${line}\n`));
    this.notice = notice;
    if (opts.removeStale !== false) {
      const stale = removeStaleInstances(root);
      for (const line of staleCleanupNotices(root, stale)) notice(line);
      const others = [...new Set(stale.kept.map(instanceOwner).filter((pid) => pid !== process.pid))];
      if (others.length > 0) notice(othersCapturingNotice(others));
    }
    this.instance = TracefsInstance.create(root, opts.instanceSuffix);
    const inst = this.instance;
    // from here on, the instance must go whatever happens
    let channels: CpuChannel[] = [];
    this.unregisterCleanup = onCleanup(() => this.teardown(channels));
    try {
      inst.setTracingOn(false);
      inst.setClock("mono");
      inst.write("options/overwrite", "1");
      this.bufferSizeKb = opts.bufferSizeKb ?? defaultBufferSizeHere();
      inst.setBufferSizeKb(this.bufferSizeKb);

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
          softirqRaise: opts.softirqRaise === true,
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

      this.watch = new InstanceWatch({
        path: inst.path,
        events: this.enabledEvents.map((p) => `${p.system}:${p.event}`),
        bufferSizeKb: inst.bufferSizeKb(),
      });

      const le = endianness() === "LE";
      this.layout = parseHeaderPage(inst.read("events/header_page"), le, inst.file("events/header_page"));
      const cpus = inst.cpus();
      channels = cpus.map((c) => new CpuChannel(c, inst.rawPipePath(c), this.layout.subBufferSize));
      this.channels = channels;
      for (const c of channels) this.channelOfCpu[c.cpu] = c;

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
    // the set-up's garbage (module loading, /proc/kallsyms, the formats) collected now, before
    // tracing: else that collection came ~0.1 s into the capture, 30 ms on the reader's thread
    // at SCHED_FIFO (a window of a normal thread on its CPU showed it); `gc` exists where the
    // capture restarted itself with --expose-gc (tracefs/capture-runtime.ts)
    (globalThis as { gc?: () => void }).gc?.();
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
      captureProblem: this.watch.problem,
      captureGaps: this.watch.gaps.length,
      written: this.channels.reduce((n, c) => n + c.written, 0),
    };
  }

  /** Per CPU: events written by the kernel, read by rtscope, lost (final after run()). */
  cpuAccounts(): CpuAccount[] {
    return this.channels.map((c) => ({
      cpu: c.cpu,
      written: c.written,
      events: c.events,
      lost: c.publishedLost,
    }));
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
    const maxPoll = this.opts.maxPollMs ?? maxPollFor(this.bufferSizeKb);
    const marginNs = (this.opts.watermarkMarginMs ?? 10) * 1e6;
    const bufferPages = Math.max(8, Math.floor((this.bufferSizeKb * 1024) / this.layout.subBufferSize));
    let lastProgress = 0n;
    try {
      while (!this.stopping) {
        const t0 = process.hrtime.bigint();
        // before the read: a cut for a change undone since the last check must come before
        // the events written after it (they are all after the last watermark, see checkInstance)
        if (t0 - this.lastWatchAt >= BigInt(WATCH_INTERVAL_MS * 1e6)) {
          this.lastWatchAt = t0;
          this.checkInstance(t0);
          if (this.watch.gone) break;
        }
        const n = this.readRound(bufferPages);
        this.drainTo(Number(t0 - this.base) - marginNs);
        if (t0 - this.lastStatsAt >= 250_000_000n) this.pollStats(t0, false);
        if (opts.onProgress && t0 - lastProgress >= 250_000_000n) {
          lastProgress = t0;
          opts.onProgress({ bytes: this.bytes, totalBytes: 0, events: this.events });
        }
        // adaptive: read more often while a round's pages pass 1/16 of the buffer, less often
        // while they stay under 1/64 (a sleeping reader's fixed cost, the reads and timers of
        // each round, was most of an idle capture's steady CPU: 22 ms/s with rounds of at most 50 ms,
        // bench/README.md); the longest sleep is maxPollFor's
        const perCpu = n / this.channels.length;
        if (perCpu > bufferPages / 16) this.pollMs = Math.max(minPoll, this.pollMs / 2);
        else if (perCpu <= bufferPages / 64) this.pollMs = Math.min(maxPoll, this.pollMs * 1.25);
        await this.sleep(this.pollMs);
      }
      // final: stop the kernel writing, then read and drain everything
      const end = process.hrtime.bigint();
      if (!this.watch.gone) {
        this.checkInstance(end);
        this.instance.setTracingOn(false);
        for (let i = 0; i < 1000 && this.readRound(bufferPages) > 0; i++) {
          this.drainTo(Number.POSITIVE_INFINITY);
        }
      }
      this.drainTo(Number.POSITIVE_INFINITY);
      if (!this.watch.gone) this.pollStats(process.hrtime.bigint(), true);
      this.gapDiagnostic(Number(end - this.base));
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
    try {
      for (const c of this.channels) n += c.readAll(maxPages, this.layout);
    } catch (e) {
      // a reader fails when the instance was removed under it: a gap to the end, not a crash
      this.checkInstance(process.hrtime.bigint());
      if (!this.watch.gone) throw e;
    }
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
      this.diagnostics.add("live_out_of_order", `${this.lastTs - rec.ts} ns behind`, 1, rec.cpu);
    } else this.lastTs = rec.ts;
    if (rec.kind === EventKind.LostEvents) this.onLostFlag(rec);
    else {
      const ch = this.channelOfCpu[rec.cpu];
      if (ch !== undefined) ch.events++;
    }
    this.events++;
    this.userSink?.handle(rec);
  }

  private onLostFlag(rec: EventRecord): void {
    const ch = this.channelOfCpu[rec.cpu];
    if (ch === undefined) return;
    let count = rec.lostCount;
    if (count < 0) {
      // No room for the count on the page: at least one event. The rest is the part of the
      // kernel's overrun counter that no page accounts for, known only at the end: read now,
      // the counter already holds the losses of pages not read yet, which carry their own
      // counts (taking it here counted those twice under a heavy load).
      count = 1;
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
    // where in the gap is unknown: it is placed at the current watermark, cutting what is open
    rec.lostUntil = rec.ts;
    rec.data = null;
    rec.view = null;
    rec.strings = null;
    this.lastTs = rec.ts;
    this.events++;
    this.userSink?.handle(rec);
  }

  /**
   * Checks the instance for changes made from outside. Each change cuts every open activation
   * (a LostEvents record of unknown extent on every CPU, count 0: nothing known was lost, but
   * nothing in between was seen either), is said on stderr at once and becomes a data-loss
   * diagnostic with the stretch not covered. The cut is stamped at the last watermark: every
   * event written after the change was undone is later than the check that last saw it
   * undone, and that check came after the previous round's watermark (now - margin).
   */
  private checkInstance(now: bigint): void {
    const changes = this.watch.check(Number(now - this.base));
    if (changes.length === 0) return;
    for (const c of changes) this.notice(this.changeText(c));
    if (!this.watch.gone) for (const ch of this.channels) this.injectLost(ch, 0);
    else this.stop();
    this.gapDiagnostic(Number(now - this.base));
  }

  /** Seconds since tracing started, for messages. */
  private sinceStart(rel: number): string {
    const startRel = this.startedAt ? Number(this.startedAt - this.base) : 0;
    return `+${(Math.max(0, rel - startRel) / 1e9).toFixed(2)} s`;
  }

  private changeText(c: WatchChange): string {
    switch (c.kind) {
      case "gap-start":
        return `${c.gap.problem} (between ${this.sinceStart(c.gap.from)} and ${this.sinceStart(this.nowTs())}): events are missing until it is undone`;
      case "gap-end":
        return `capture resumed at ${this.sinceStart(c.gap.to)}: not covered from ${this.sinceStart(c.gap.from)} (${c.gap.problem})`;
      case "gone":
        return `${c.gap.problem} from outside (after ${this.sinceStart(c.gap.from)}): the capture ends here`;
      case "resized":
        return `the per-CPU buffer was resized from outside from ${c.fromKb} to ${c.toKb} KiB at ${this.sinceStart(c.at)}: events buffered then may be lost`;
    }
  }

  /** The data-loss diagnostics of the watch: every gap with its span (open ones end at `end`). */
  private gapDiagnostic(end: number): void {
    const gaps = this.watch.gaps;
    if (gaps.length > 0) {
      const startRel = this.startedAt ? Number(this.startedAt - this.base) : 0;
      const to = (g: CaptureGap) => (Number.isFinite(g.to) ? g.to : Math.max(end, g.from));
      const missed = gaps.reduce((sum, g) => sum + (to(g) - g.from), 0);
      const texts = gaps.map(
        (g) =>
          `${g.problem}: not covered from ${this.sinceStart(g.from)} to ${Number.isFinite(g.to) ? this.sinceStart(g.to) : `${this.sinceStart(end)} (the end)`}`,
      );
      // the details keep MAX_DETAILS: the total first, then the first gaps
      if (texts.length > MAX_DETAILS - 1)
        texts.splice(MAX_DETAILS - 2, texts.length, `${texts.length - (MAX_DETAILS - 2)} more stretches`);
      const base = Number(this.base);
      this.diagnostics.set(
        "live_capture_gap",
        [
          `${(missed / 1e9).toFixed(2)} s of ${(Math.max(0, end - startRel) / 1e9).toFixed(2)} s not covered (at most: each change happened after the last check that found the instance fine)`,
          ...texts,
        ],
        gaps.length,
        -1,
        gaps.map((g) => ({ from: base + g.from, to: base + to(g) })),
      );
    }
    const rs = this.watch.resizes;
    if (rs.length > 0)
      this.diagnostics.set(
        "live_buffer_resized",
        rs.map((r) => `${r.fromKb} → ${r.toKb} KiB at ${this.sinceStart(r.at)}`),
        rs.length,
      );
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
      ch.statsOther = statsLost(s) - s.overrun;
      ch.written = s.entries + s.overrun + s.readEvents;
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

/**
 * Said at start-up when another rtscope captures on this machine: both readers run at the same
 * SCHED_FIFO priority by default, and FIFO threads of one priority share a CPU only when the
 * one running yields, so a busy reader can starve the other into losing events (seen on a
 * 2-CPU VM: a 6 s record beside two other captures took 37-177 s and lost up to 70 %).
 */
function othersCapturingNotice(pids: readonly number[]): string {
  const who =
    pids.length === 1
      ? `another rtscope (pid ${pids[0]}) is`
      : `other rtscopes (pids ${pids.join(", ")}) are`;
  return `${who} capturing on this machine: readers at the same SCHED_FIFO priority can starve each other into losing events; run one capture at a time (serve can track several workloads), or set a different --priority`;
}
