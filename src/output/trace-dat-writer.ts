// Writes worst windows as a trace-cmd trace.dat, version 6 (FORMATS.md §3.1-3.2), that
// `trace-cmd report` and KernelShark open: little-endian, 8-byte longs, 4096-byte
// sub-buffers (header_page: u64 timestamp, 8-byte commit, 4080 bytes of data), one CPU
// table entry per CPU. The event formats and payload layouts are EVENT_TABLE's (model/
// event-kind.ts: the field offsets of the modern 6.x kernels, fixed comm[16] or __data_loc
// strings as the kernel has them). Also written: saved cmdlines (thread names), kallsyms
// for the hrtimer callbacks the symbol table can name, and lost events as the
// sub-buffer's missed-events flags (bit 31, with the count stored after the data, bit 30).
//
// Pages: events are packed in the short form (type_len = payload words, all payloads here
// are <= 112 bytes); a delta that does not fit 27 bits starts a new sub-buffer (whose
// header carries the absolute time) instead of a time-extend record.

import { forColumns, SYMBOL_COLUMNS, type WindowEvents } from "../model/event-columns.ts";
import {
  COLUMNS,
  columnOfField,
  type DatField,
  EVENT_TABLE,
  EventKind,
  FieldType,
} from "../model/event-kind.ts";
import type { SymbolTable } from "../model/source.ts";
import { OptionId } from "../sources/trace-dat/options.ts";

export const PAGE_SIZE = 4096;
const PAGE_HEADER = 16;
const PAGE_DATA = PAGE_SIZE - PAGE_HEADER;
const MAX_DELTA = 2 ** 27 - 1;
const COMMIT_MISSED_EVENTS = 2 ** 31;
const COMMIT_MISSED_STORED = 2 ** 30;

interface FieldDef {
  decl: string;
  offset: number;
  size: number;
  signed: boolean;
}

/** A field of a written payload: where it goes and what fills it. */
interface PayloadField {
  readonly type: FieldType;
  readonly offset: number;
  readonly size: number;
  /** index of the column the value is read from (COLUMNS order), -1 for Const fields */
  readonly col: number;
  /** strings: stored after the fixed fields (`__data_loc`), else inline (`char x[16]`) */
  readonly dataLoc: boolean;
  readonly value: number;
}

interface EventDef {
  system: string;
  name: string;
  id: number;
  kind: EventKind;
  fields: FieldDef[];
  printFmt: string;
  payload: readonly PayloadField[];
  /** end of the fixed fields: where `__data_loc` strings start */
  fixedEnd: number;
}

const f = (decl: string, offset: number, size: number, signed: boolean): FieldDef => ({
  decl,
  offset,
  size,
  signed,
});

/** Our formats, from EVENT_TABLE (IDs are ours; readers map them through these format texts). */
export const EVENT_DEFS: readonly EventDef[] = EVENT_TABLE.flatMap((spec): EventDef[] => {
  if (spec.dat === undefined) return [];
  const [system, name] = spec.names[0].split(":");
  const written = spec.fields.filter((x) => x.dat !== undefined);
  return [
    {
      system,
      name,
      id: spec.dat.id,
      kind: spec.kind,
      fields: written.map((x) => f(...(x.dat as DatField))),
      printFmt: spec.dat.printFmt,
      payload: written.map((x) => {
        const [decl, offset, size] = x.dat as DatField;
        const col = columnOfField(spec, x);
        return {
          type: x.type,
          offset,
          size,
          col: col === undefined ? -1 : COLUMNS.indexOf(col),
          dataLoc: decl.startsWith("__data_loc"),
          value: x.value ?? 0,
        };
      }),
      fixedEnd: Math.max(...written.map((x) => (x.dat as DatField)[1] + (x.dat as DatField)[2])),
    },
  ];
});

const DEF_BY_KIND = new Map<number, EventDef>(EVENT_DEFS.map((d) => [d.kind, d]));

/** The format file text of one event, as tracefs prints it. */
export function formatFileText(d: EventDef): string {
  const line = (x: FieldDef) =>
    `\tfield:${x.decl};\toffset:${x.offset};\tsize:${x.size};\tsigned:${x.signed ? 1 : 0};\n`;
  return (
    `name: ${d.name}\nID: ${d.id}\nformat:\n` +
    line(f("unsigned short common_type", 0, 2, false)) +
    line(f("unsigned char common_flags", 2, 1, false)) +
    line(f("unsigned char common_preempt_count", 3, 1, false)) +
    line(f("int common_pid", 4, 4, true)) +
    "\n" +
    d.fields.map(line).join("") +
    `\nprint fmt: ${d.printFmt}\n`
  );
}

const HEADER_PAGE =
  "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
  "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n" +
  "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
  `\tfield: char data;\toffset:16;\tsize:${PAGE_DATA};\tsigned:0;\n`;

const HEADER_EVENT =
  "# compressed entry header\n" +
  "\ttype_len    :    5 bits\n" +
  "\ttime_delta  :   27 bits\n" +
  "\tarray       :   32 bits\n" +
  "\n" +
  "\tpadding     : type == 29\n" +
  "\ttime_extend : type == 30\n" +
  "\ttime_stamp : type == 31\n" +
  "\tdata max type_len  == 28\n";

/** Growable little-endian byte buffer. */
class Bytes {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  len = 0;

  private need(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }
  u8(v: number): void {
    this.need(1);
    this.buf[this.len++] = v;
  }
  u16(v: number): void {
    this.need(2);
    this.view.setUint16(this.len, v, true);
    this.len += 2;
  }
  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.len, v >>> 0, true);
    this.len += 4;
  }
  u64(v: bigint | number): void {
    this.need(8);
    this.view.setBigUint64(this.len, BigInt.asUintN(64, BigInt(v)), true);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.need(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string, nul = true): void {
    this.bytes(new TextEncoder().encode(s));
    if (nul) this.u8(0);
  }
  padTo(align: number): void {
    const n = (align - (this.len % align)) % align;
    this.need(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const enc = new TextEncoder();

/** Builds one event's payload (common fields + event fields), padded to 4 bytes. */
function buildPayload(
  w: WindowEvents,
  i: number,
  d: EventDef,
  tsBase: bigint,
  out: Uint8Array,
  view: DataView,
): number {
  const ev = w.events;
  out.fill(0, 0, 128);
  view.setUint16(0, d.id, true);
  view.setUint8(2, ev.flags[i] < 0 ? 0 : ev.flags[i] & 0xff);
  view.setUint8(3, ev.preemptCount[i] < 0 ? 0 : ev.preemptCount[i] & 0xff);
  view.setInt32(4, ev.currentTid[i], true);
  let end = d.fixedEnd;
  for (const x of d.payload) {
    const v = x.col < 0 ? x.value : ev.byIndex[x.col][i];
    const off = x.offset;
    switch (x.type) {
      case FieldType.Comm:
      case FieldType.IrqName: {
        const s =
          x.type === FieldType.IrqName
            ? (w.irqNames.get(v) ?? "")
            : v === 0
              ? "swapper"
              : (w.comms.get(v) ?? "");
        const b = enc.encode(s);
        if (x.dataLoc) {
          out.set(b, end);
          out[end + b.length] = 0;
          view.setUint32(off, ((b.length + 1) << 16) | end, true);
          end += b.length + 1;
        } else out.set(b.subarray(0, x.size - 1), off);
        break;
      }
      case FieldType.State:
        // normalised 0 = switched out while runnable: the kernel marks that "preempted" (R+)
        view.setBigInt64(off, BigInt(v === 0 ? 0x100 : v), true);
        break;
      case FieldType.Address:
      case FieldType.Symbol:
        view.setBigUint64(off, BigInt(v), true);
        break;
      case FieldType.Time:
        view.setBigInt64(off, tsBase + BigInt(Math.round(v)), true);
        break;
      case FieldType.ClockId:
        view.setBigUint64(off, BigInt(Math.max(0, v)), true);
        break;
      case FieldType.Flags:
        view.setBigUint64(off, BigInt(v >>> 0), true);
        break;
      case FieldType.SysRet:
        view.setBigInt64(off, BigInt(v), true);
        break;
      default:
        if (x.size === 1) view.setUint8(off, v);
        else if (x.size === 8) view.setBigInt64(off, BigInt(v), true);
        else view.setInt32(off, v, true);
    }
  }
  return (end + 3) & ~3;
}

export interface TraceDatOptions {
  /** number of CPUs of the table (default: highest CPU in the events + 1) */
  cpus?: number;
  symbols?: SymbolTable;
  /** trace clock name written in the TRACECLOCK option (default "mono") */
  clock?: string;
  /** UNAME option text, "sysname nodename release machine", e.g. "Linux vm 6.18.44 x86_64" */
  uname?: string;
  /**
   * Thread groups known for the tasks of the events (tid → tgid; never guesses): written as
   * rtscope's own option (RTSCOPE_TGIDS, "tid tgid" lines) that trace-cmd and KernelShark
   * skip, read back by rtscope so that `--tgid` works on the file.
   */
  tgids?: ReadonlyMap<number, number>;
}

export interface TraceDatResult {
  bytes: Uint8Array;
  /** events written (events with no trace.dat form, e.g. unknown ones, are skipped) */
  events: number;
  /** sub-buffers per CPU */
  pages: number[];
}

/** Serialises the events of one or more windows as a trace.dat v6 file image. */
export function writeTraceDat(w: WindowEvents, tsBase: bigint, opts: TraceDatOptions = {}): TraceDatResult {
  const ev = w.events;
  let maxCpu = 0;
  for (let i = 0; i < ev.length; i++) if (ev.cpu[i] > maxCpu) maxCpu = ev.cpu[i];
  const ncpu = Math.max(opts.cpus ?? 0, maxCpu + 1);

  // --- per-CPU sub-buffers ---
  const payload = new Uint8Array(128);
  const pview = new DataView(payload.buffer);
  const cpuData: Uint8Array[] = [];
  const pagesPerCpu: number[] = [];
  let written = 0;
  for (let cpu = 0; cpu < ncpu; cpu++) {
    const pages: Uint8Array[] = [];
    let page = new Uint8Array(0);
    let pv = new DataView(page.buffer);
    let open = false;
    let used = 0;
    let lastTs = 0;
    // lost events waiting for the next page (0 none, -1 unknown count), and this page's flag
    let missed = 0;
    let pageMissed = 0;
    const closePage = () => {
      if (!open) return;
      let commit = BigInt(used);
      if (pageMissed !== 0) {
        commit |= BigInt(COMMIT_MISSED_EVENTS);
        if (pageMissed > 0) {
          // the count is a kernel long right after the valid data (room was kept for it)
          pv.setBigUint64(PAGE_HEADER + used, BigInt(pageMissed), true);
          commit |= BigInt(COMMIT_MISSED_STORED);
        }
      }
      pv.setBigUint64(8, commit, true);
      pages.push(page);
      open = false;
    };
    const openPage = (ts: number) => {
      closePage();
      page = new Uint8Array(PAGE_SIZE);
      pv = new DataView(page.buffer);
      pv.setBigUint64(0, tsBase + BigInt(Math.round(ts)), true);
      open = true;
      used = 0;
      lastTs = ts;
      pageMissed = missed;
      missed = 0;
    };
    for (let i = 0; i < ev.length; i++) {
      if (ev.cpu[i] !== cpu) continue;
      if (ev.kind[i] === EventKind.LostEvents) {
        const n = ev.a[i];
        missed = missed < 0 || n < 0 ? -1 : missed + n;
        closePage();
        lastTs = ev.ts[i];
        continue;
      }
      const d = DEF_BY_KIND.get(ev.kind[i]);
      if (!d) continue;
      const len = buildPayload(w, i, d, tsBase, payload, pview);
      const size = 4 + len;
      const ts = ev.ts[i];
      let delta = Math.round(ts - lastTs);
      const reserve = pageMissed > 0 ? 8 : 0;
      if (!open || used + size + reserve > PAGE_DATA || delta > MAX_DELTA || delta < 0) {
        openPage(ts);
        delta = 0;
      }
      pv.setUint32(PAGE_HEADER + used, ((delta << 5) | (len / 4)) >>> 0, true);
      page.set(payload.subarray(0, len), PAGE_HEADER + used + 4);
      used += size;
      lastTs = ts;
      written++;
    }
    if (missed !== 0) openPage(lastTs); // a loss at the very end: an empty, flagged page
    closePage();
    const data = new Uint8Array(pages.length * PAGE_SIZE);
    pages.forEach((pg, k) => {
      data.set(pg, k * PAGE_SIZE);
    });
    cpuData.push(data);
    pagesPerCpu.push(pages.length);
  }

  // --- metadata ---
  const out = new Bytes();
  out.bytes(new Uint8Array([0x17, 0x08, 0x44]));
  out.str("tracing", false);
  out.str("6");
  out.u8(0); // little-endian
  out.u8(8); // long size
  out.u32(PAGE_SIZE);
  out.str("header_page");
  out.u64(enc.encode(HEADER_PAGE).length);
  out.str(HEADER_PAGE, false);
  out.str("header_event");
  out.u64(enc.encode(HEADER_EVENT).length);
  out.str(HEADER_EVENT, false);
  out.u32(0); // ftrace-internal formats
  const systems = [...new Set(EVENT_DEFS.map((d) => d.system))];
  out.u32(systems.length);
  for (const s of systems) {
    const defs = EVENT_DEFS.filter((d) => d.system === s);
    out.str(s);
    out.u32(defs.length);
    for (const d of defs) {
      const t = enc.encode(formatFileText(d));
      out.u64(t.length);
      out.bytes(t);
    }
  }
  const kallsyms = kallsymsText(w, opts.symbols);
  out.u32(enc.encode(kallsyms).length);
  out.str(kallsyms, false);
  out.u32(0); // printk formats
  const cmdlines = [...w.comms]
    .filter(([t, c]) => t > 0 && c)
    .sort((x, y) => x[0] - y[0])
    .map(([t, c]) => `${t} ${c}\n`)
    .join("");
  out.u64(enc.encode(cmdlines).length);
  out.str(cmdlines, false);
  out.u32(ncpu);
  out.str("options  ");
  const clock = opts.clock ?? "mono";
  const optClock = enc.encode(`[${clock}]\n\0`);
  out.u16(4); // TRACECLOCK
  out.u32(optClock.length);
  out.bytes(optClock);
  if (opts.uname) {
    const u = enc.encode(`${opts.uname}\0`);
    out.u16(5);
    out.u32(u.length);
    out.bytes(u);
  }
  const ver = enc.encode("rtscope\0");
  out.u16(9); // VERSION
  out.u32(ver.length);
  out.bytes(ver);
  if (opts.tgids !== undefined && opts.tgids.size > 0) {
    const lines = [...opts.tgids]
      .filter(([t, g]) => t > 0 && g > 0)
      .sort((x, y) => x[0] - y[0])
      .map(([t, g]) => `${t} ${g}\n`)
      .join("");
    const tg = enc.encode(`${lines}\0`);
    out.u16(OptionId.RTSCOPE_TGIDS);
    out.u32(tg.length);
    out.bytes(tg);
  }
  out.u16(0); // end of options
  out.str("flyrecord");
  // CPU table, then (TRACECLOCK present) the clock text, then page-aligned data
  const tablePos = out.len;
  for (let c = 0; c < ncpu; c++) {
    out.u64(0);
    out.u64(0);
  }
  const clockText = `[${clock}]\n`;
  out.u64(enc.encode(clockText).length);
  out.str(clockText, false);
  out.padTo(PAGE_SIZE);
  const offsets: number[] = [];
  for (let c = 0; c < ncpu; c++) {
    offsets.push(out.len);
    out.bytes(cpuData[c]);
  }
  for (let c = 0; c < ncpu; c++) {
    out.view.setBigUint64(tablePos + c * 16, BigInt(offsets[c]), true);
    out.view.setBigUint64(tablePos + c * 16 + 8, BigInt(cpuData[c].length), true);
  }
  return { bytes: out.result(), events: written, pages: pagesPerCpu };
}

/** kallsyms lines for the hrtimer callbacks the symbol table names. */
function kallsymsText(w: WindowEvents, symbols?: SymbolTable): string {
  if (!symbols) return "";
  const ev = w.events;
  const seen = new Map<number, string>();
  const note = (key: number) => {
    if (!seen.has(key)) seen.set(key, symbols.name(key));
  };
  for (let i = 0; i < ev.length; i++) forColumns(ev, i, SYMBOL_COLUMNS[ev.kind[i]], note);
  return [...seen]
    .filter(([, n]) => n)
    .sort((x, y) => x[0] - y[0])
    .map(([key, n]) => `${key.toString(16).padStart(16, "0")} t ${n}\n`)
    .join("");
}
