// ftrace text as a TraceSource: the kernel's `trace` / `trace_pipe` output, `trace-cmd report`
// output (default plugins, -N, -R, -t, -l; 2.x and 3.x headers) and systrace HTML (catapult
// `trace-data` blocks and the legacy `linuxPerfData` string). Formats: FORMATS.md §4; line
// layouts from the kernel's trace output and trace-cmd's tracecmd/trace-read.c.
//
// The file is streamed in chunks and parsed in place as bytes; each event line fills the one
// reusable EventRecord and goes to the sink in file order (text traces are already merged
// across CPUs; a timestamp going backwards is counted, not fatal). Lines that cannot be read
// are skipped and counted; a file in which no line is an event is an error.

import { type FileHandle, open } from "node:fs/promises";
import { Diagnostics } from "../model/diagnostics.ts";
import { EventRecord, StrSlot } from "../model/event.ts";
import { EventKind } from "../model/event-kind.ts";
import type { EventSink, RunOptions, SourceInfo, TraceSource } from "../model/source.ts";
import { TraceFormatError } from "../model/source.ts";
import {
  type Container,
  detectContainer,
  FORMAT_NAMES,
  htmlLooksLikeSystrace,
} from "./ftrace-text/container.ts";
import { EventNameTable } from "./ftrace-text/event-names.ts";
import { ascii, FieldScanner } from "./ftrace-text/field-scanner.ts";
import { HeaderKind, HeaderLine, parseHeaderLine } from "./ftrace-text/header-lines.ts";
import { parseIrqEntry, parseIrqExit, parseSoftirq } from "./ftrace-text/irq-payload.ts";
import { LineHeader, parseLineHeader } from "./ftrace-text/line-header.ts";
import { type LineCallback, LineReader } from "./ftrace-text/line-reader.ts";
import { isOldTableValue } from "./ftrace-text/prev-state.ts";
import {
  parseSchedExec,
  parseSchedExit,
  parseSchedFork,
  parseSchedMigrate,
  parseSchedSwitch,
  parseSchedWakeup,
} from "./ftrace-text/sched-payload.ts";
import { parseSysEnterSleep, parseSysExitSleep } from "./ftrace-text/syscall-payload.ts";
import { type StateTable, TextContext } from "./ftrace-text/text-context.ts";
import { parseHrtimerExpireEntry, parseHrtimerOnly, parseHrtimerStart } from "./ftrace-text/timer-payload.ts";

export interface FtraceTextOptions {
  /** read size in bytes (default 1 MiB); tests use tiny chunks to exercise line boundaries */
  chunkSize?: number;
  /** table for numeric prev_state (trace-cmd -R): "auto" (default, see prev-state.ts), "new", "old" */
  stateTable?: "auto" | StateTable;
  /** bytes of event lines the opening probe reads to pick the prev_state table (default 4 MiB) */
  probeBytes?: number;
}

const HEAD_BYTES = 64 * 1024;
const TRACE_DAT_MAGIC = [0x17, 0x08, 0x44];

/** True for ftrace text, trace-cmd report text and systrace HTML; false for binary data. */
export function detectFtraceText(head: Uint8Array): boolean {
  const c = detectContainer(head);
  if (c === null) return false;
  if (c === "systrace-html" || c === "legacy-html") return htmlLooksLikeSystrace(head);
  if (c === "trace-cmd") return true;
  // plain text: an ftrace header or an event line among the first lines
  const h = new LineHeader();
  const latin1 = new TextDecoder("latin1");
  let s = 0;
  for (let n = 0; n < 200 && s < head.length; n++) {
    let e = head.indexOf(10, s);
    if (e < 0) e = head.length;
    let t = s;
    while (t < e && head[t] === 32) t++;
    if (e - t >= 9 && head[t] === 35 && /^# tracer:/.test(latin1.decode(head.subarray(t, e)))) return true;
    if (parseLineHeader(head, s, e, h)) return true;
    s = e + 1;
  }
  return false;
}

/** Opens an ftrace text file (probing its container, timestamp base and prev_state table). */
export async function openFtraceText(path: string, opts: FtraceTextOptions = {}): Promise<TraceSource> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
    if (head.length > 0) await fh.read(head, 0, head.length, 0);
    if (size === 0) throw new TraceFormatError(path, 0, "empty file: no ftrace text to read");
    if (TRACE_DAT_MAGIC.every((v, i) => head[i] === v))
      throw new TraceFormatError(path, 0, "this is a trace.dat file (binary), not ftrace text");
    const container = detectContainer(head);
    if (container === null)
      throw new TraceFormatError(
        path,
        0,
        "binary data, not ftrace text (tracefs `trace`, trace-cmd report or systrace HTML)",
      );
    const src = new FtraceTextSource(path, fh, container, size, opts);
    await src.probe();
    return src;
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

const K_PREV_STATE = ascii("prev_state=");

class FtraceTextSource implements TraceSource, LineCallback {
  readonly info: SourceInfo;
  readonly diagnostics = new Diagnostics();
  readonly initialComms: ReadonlyMap<number, string> = new Map();
  private readonly path: string;
  private readonly fh: FileHandle;
  private readonly container: Container;
  private readonly size: number;
  private readonly opts: FtraceTextOptions;
  private readonly ctx = new TextContext();
  private readonly names = new EventNameTable();
  private readonly rec = new EventRecord();
  private readonly hdr = new LineHeader();
  private readonly sc = new FieldScanner();
  private readonly headerLine = new HeaderLine();
  private readonly latin1 = new TextDecoder("latin1");

  // probe state
  private probing = false;
  private probeFound = false;
  private probeStartOffset = 0;
  private firstFracDigits = -1;

  // run state
  private sink: EventSink | null = null;
  private ran = false;
  private events = 0;
  private lastTs = Number.NEGATIVE_INFINITY;
  private maxCpu = -1;
  private headerCpus = 0;
  private outOfOrder = 0;
  private firstOutOfOrder = "";
  private unparsed = 0;
  private firstUnparsed = "";
  private firstUnparsedOffset = 0;
  private badPayloads = 0;
  private firstBadPayload = "";
  private pendingLostCpu: number[] = [];
  private pendingLostCount: number[] = [];

  constructor(path: string, fh: FileHandle, container: Container, size: number, opts: FtraceTextOptions) {
    this.path = path;
    this.fh = fh;
    this.container = container;
    this.size = size;
    this.opts = opts;
    this.info = {
      kind: "text",
      path,
      clock: "",
      clockIsNs: true,
      cpus: 0,
      kernel: "",
      tsBase: 0n,
      tsResolutionNs: 1000,
      format: FORMAT_NAMES[container],
    };
    if (opts.stateTable === "old" || opts.stateTable === "new") this.ctx.stateTable = opts.stateTable;
  }

  get symbols() {
    return this.ctx.symbols;
  }

  /**
   * Reads up to the first event line (the timestamp base and resolution) and, for the
   * prev_state table, numeric prev_state values in the first `probeBytes` of events.
   */
  async probe(): Promise<void> {
    this.probing = true;
    const reader = new LineReader(this.container);
    await reader.run(this.fh, this.opts.chunkSize ?? 1 << 20, this);
    this.probing = false;
    if (!this.probeFound) {
      const where = this.firstUnparsed
        ? `; first line: ${this.firstUnparsed}`
        : this.container === "systrace-html" || this.container === "legacy-html"
          ? '; no ftrace text block (script class="trace-data" or linuxPerfData) in the HTML'
          : "";
      throw new TraceFormatError(this.path, this.firstUnparsedOffset, `no ftrace event line found${where}`);
    }
    const fd = this.firstFracDigits;
    this.info.clockIsNs = fd > 0;
    this.info.tsResolutionNs = fd > 0 ? 10 ** (9 - fd) : 1;
    this.info.tsBase = BigInt(this.ctx.baseSec) * 1_000_000_000n;
    // provisional until the run has seen every line: the header's count, else the CPUs seen so far
    this.info.cpus = this.headerCpus > 0 ? this.headerCpus : this.maxCpu + 1;
    this.maxCpu = -1;
    if (this.ctx.stateTable === "old") this.ctx.stateTableSwitched = false;
    // the probe's bookkeeping is not the run's
    this.unparsed = 0;
    this.firstUnparsed = "";
    this.firstUnparsedOffset = 0;
  }

  line(b: Buffer, s: number, e: number, lineNo: number, offset: number): boolean {
    const h = this.hdr;
    if (!parseLineHeader(b, s, e, h)) {
      this.otherLine(b, s, e, lineNo, offset);
      return false;
    }
    if (this.probing) return this.probeEvent(b, s, e, offset);
    const rec = this.rec;
    const ctx = this.ctx;
    const ts = (h.tsHi - ctx.baseSec) * 1e9 + h.tsLo;
    if (this.pendingLostCpu.length > 0) this.flushLost(ts);
    rec.clear();
    rec.cpu = h.cpu;
    rec.ts = ts;
    rec.currentTid = h.pid;
    rec.flags = h.flags;
    rec.preemptCount = h.preemptCount;
    const names = this.names;
    const id = names.id(b, h.nameStart, h.nameEnd, h.nameHash);
    const kind = names.kind(id);
    rec.kind = kind;
    rec.text[StrSlot.EventName] = names.displayName(id);
    if (kind !== EventKind.Other) {
      const sc = this.sc;
      sc.reset(b, h.payloadStart, e);
      let ok: boolean;
      switch (kind) {
        case EventKind.SchedSwitch:
          ok = parseSchedSwitch(sc, rec, ctx);
          break;
        case EventKind.SchedWakeup:
        case EventKind.SchedWaking:
        case EventKind.SchedWakeupNew:
          ok = parseSchedWakeup(sc, rec, ctx);
          break;
        case EventKind.SchedMigrateTask:
          ok = parseSchedMigrate(sc, rec, ctx);
          break;
        case EventKind.SchedProcessFork:
          ok = parseSchedFork(sc, rec, ctx);
          break;
        case EventKind.SchedProcessExec:
          ok = parseSchedExec(sc, rec, ctx);
          break;
        case EventKind.SchedProcessExit:
          ok = parseSchedExit(sc, rec, ctx);
          break;
        case EventKind.IrqHandlerEntry:
          ok = parseIrqEntry(sc, rec, ctx);
          break;
        case EventKind.IrqHandlerExit:
          ok = parseIrqExit(sc, rec);
          break;
        case EventKind.SoftirqEntry:
        case EventKind.SoftirqExit:
        case EventKind.SoftirqRaise:
          ok = parseSoftirq(sc, rec);
          break;
        case EventKind.HrtimerStart:
          ok = parseHrtimerStart(sc, rec, ctx);
          break;
        case EventKind.HrtimerExpireEntry:
          ok = parseHrtimerExpireEntry(sc, rec, ctx);
          break;
        case EventKind.HrtimerExpireExit:
        case EventKind.HrtimerCancel:
          ok = parseHrtimerOnly(sc, rec);
          break;
        case EventKind.SysEnterSleep:
          ok = parseSysEnterSleep(sc, rec);
          break;
        case EventKind.SysExitSleep:
          ok = parseSysExitSleep(sc, rec);
          break;
        default:
          ok = true;
      }
      if (!ok) {
        // a known event whose payload is not understood: passed on as Other, never with
        // half-filled fields
        rec.kind = EventKind.Other;
        if (this.badPayloads++ === 0)
          this.firstBadPayload = `line ${lineNo}: ${this.latin1.decode(b.subarray(s, Math.min(e, s + 200)))}`;
      }
    }
    if (ts < this.lastTs) {
      if (this.outOfOrder++ === 0) this.firstOutOfOrder = `line ${lineNo}`;
    } else this.lastTs = ts;
    if (h.cpu > this.maxCpu) this.maxCpu = h.cpu;
    this.events++;
    this.sink!.handle(rec);
    return false;
  }

  skipped(lineNo: number, offset: number, why: string): void {
    if (this.unparsed++ === 0) {
      this.firstUnparsed = `line ${lineNo}: (${why})`;
      this.firstUnparsedOffset = offset;
    }
  }

  private probeEvent(b: Buffer, _s: number, e: number, offset: number): boolean {
    const h = this.hdr;
    if (h.cpu > this.maxCpu) this.maxCpu = h.cpu;
    if (!this.probeFound) {
      this.probeFound = true;
      this.probeStartOffset = offset;
      this.ctx.baseSec = h.tsHi;
      this.firstFracDigits = h.fracDigits;
      if (this.opts.stateTable === "old" || this.opts.stateTable === "new") return true;
    }
    // a numeric prev_state that only the old table allows settles the table
    const sc = this.sc;
    sc.reset(b, h.payloadStart, e);
    if (h.nameEnd - h.nameStart === 12 && b[h.nameStart + 6] === 115 /* sched_[s]witch */) {
      const v = sc.value(K_PREV_STATE, h.payloadStart);
      if (v >= 0 && b[v] >= 48 && b[v] <= 57 && isOldTableValue(sc.int(v))) {
        this.ctx.stateTable = "old";
        return true;
      }
    }
    return offset - this.probeStartOffset > (this.opts.probeBytes ?? 4 << 20);
  }

  private otherLine(b: Buffer, s: number, e: number, lineNo: number, offset: number): void {
    const text = this.latin1.decode(b.subarray(s, e));
    const hl = this.headerLine;
    parseHeaderLine(text, hl);
    switch (hl.kind) {
      case HeaderKind.None:
        if (this.unparsed++ === 0) {
          this.firstUnparsed = `line ${lineNo}: ${text.length > 200 ? `${text.slice(0, 200)}...` : text}`;
          this.firstUnparsedOffset = offset;
        }
        return;
      case HeaderKind.Cpus:
        this.headerCpus = hl.cpus;
        return;
      case HeaderKind.Entries:
        this.headerCpus = hl.cpus;
        if (!this.probing && hl.inBuffer < hl.written)
          this.diagnostics.add(
            "buffer_overflow",
            `${hl.written} events were written but only ${hl.inBuffer} kept`,
            hl.written - hl.inBuffer,
          );
        return;
      case HeaderKind.Lost:
        if (this.probing) return;
        this.pendingLostCpu.push(hl.cpu);
        this.pendingLostCount.push(hl.lost);
        this.diagnostics.add("lost_events", `"${text.trim()}"`, hl.lost, hl.cpu);
        return;
      default:
        return;
    }
  }

  /** Emits the lost-data markers seen since the last event, at timestamp `ts`. */
  private flushLost(ts: number): void {
    const rec = this.rec;
    for (let i = 0; i < this.pendingLostCpu.length; i++) {
      rec.clear();
      rec.kind = EventKind.LostEvents;
      rec.cpu = this.pendingLostCpu[i];
      rec.ts = ts;
      rec.currentTid = -1;
      rec.lostCount = this.pendingLostCount[i];
      if (rec.cpu > this.maxCpu) this.maxCpu = rec.cpu;
      this.sink!.handle(rec);
    }
    this.pendingLostCpu.length = 0;
    this.pendingLostCount.length = 0;
  }

  async run(sink: EventSink, opts: RunOptions = {}): Promise<void> {
    if (this.ran) throw new Error(`${this.path}: a text trace source can be run only once`);
    this.ran = true;
    this.sink = sink;
    const { signal, onProgress } = opts;
    signal?.throwIfAborted();
    let lastProgress = Date.now();
    const reader = new LineReader(this.container);
    await reader.run(this.fh, this.opts.chunkSize ?? 1 << 20, this, (bytes) => {
      signal?.throwIfAborted();
      if (onProgress) {
        const now = Date.now();
        if (now - lastProgress >= 250) {
          lastProgress = now;
          onProgress({ bytes, totalBytes: this.size, events: this.events });
        }
      }
    });
    if (this.pendingLostCpu.length > 0) this.flushLost(Number.isFinite(this.lastTs) ? this.lastTs : 0);
    onProgress?.({ bytes: this.size, totalBytes: this.size, events: this.events });
    this.finishDiagnostics();
    if (this.info.cpus < this.maxCpu + 1) this.info.cpus = this.maxCpu + 1;
  }

  private finishDiagnostics(): void {
    const d = this.diagnostics;
    if (this.unparsed > 0) d.add("unparsed_lines", `first at ${this.firstUnparsed}`, this.unparsed);
    if (this.badPayloads > 0) d.add("unparsed_payload", `first at ${this.firstBadPayload}`, this.badPayloads);
    if (this.outOfOrder > 0)
      d.add("events_out_of_order", `first at ${this.firstOutOfOrder}`, this.outOfOrder);
    if (this.ctx.stateTableSwitched) d.add("prev_state_table");
    if (this.ctx.unknownStates > 0) d.add("unknown_prev_state", "", this.ctx.unknownStates);
  }

  close(): void {
    this.fh.close().catch(() => {});
  }
}
