// Writes worst windows as a trace-cmd trace.dat, version 6 (FORMATS.md §3.1-3.2), that
// `trace-cmd report` and KernelShark open: little-endian, 8-byte longs, 4096-byte
// sub-buffers (header_page: u64 timestamp, 8-byte commit, 4080 bytes of data), one CPU
// table entry per CPU. The event payloads are synthesised from our own built-in format
// definitions, with the field offsets of the modern 6.x kernels (FORMATS §2.3, checked on
// Linux 6.18): fixed comm[16] in sched_switch/wakeup/exit, __data_loc strings in
// sched_migrate_task/process_fork/process_exec and irq_handler_entry. Print formats use
// numbers where the kernel's use unexpanded enum names (hrtimer mode), so that trace-cmd
// can evaluate every one; hrtimer_start ends at `mode` (was_armed is not recorded). Also written: saved cmdlines (thread names), kallsyms
// for the hrtimer callbacks the symbol table can name, and lost events as the
// sub-buffer's missed-events flags (bit 31, with the count stored after the data, bit 30).
//
// Pages: events are packed in the short form (type_len = payload words, all payloads here
// are <= 112 bytes); a delta that does not fit 27 bits starts a new sub-buffer (whose
// header carries the absolute time) instead of a time-extend record.

import type { WindowEvents } from "../analysis/worst-windows.ts";
import { EventKind } from "../model/event-kind.ts";
import type { SymbolTable } from "../model/source.ts";
import { OptionId } from "../sources/trace-dat/options.ts";

export const PAGE_SIZE = 4096;
const PAGE_HEADER = 16;
const PAGE_DATA = PAGE_SIZE - PAGE_HEADER;
const MAX_DELTA = 2 ** 27 - 1;
const COMMIT_MISSED_EVENTS = 2 ** 31;
const COMMIT_MISSED_STORED = 2 ** 30;

/** x86_64 syscall numbers, for __syscall_nr (informative only). */
const NR_CLOCK_NANOSLEEP = 230;

interface FieldDef {
  decl: string;
  offset: number;
  size: number;
  signed: boolean;
}

interface EventDef {
  system: string;
  name: string;
  id: number;
  kind: EventKind;
  fields: FieldDef[];
  printFmt: string;
}

const f = (decl: string, offset: number, size: number, signed: boolean): FieldDef => ({
  decl,
  offset,
  size,
  signed,
});

const WAKEUP_FIELDS = [
  f("char comm[16]", 8, 16, false),
  f("pid_t pid", 24, 4, true),
  f("int prio", 28, 4, true),
  f("int target_cpu", 32, 4, true),
];
const WAKEUP_FMT = `"comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu`;
const SOFTIRQ_FMT = `"vec=%u [action=%s]", REC->vec, __print_symbolic(REC->vec, { 0, "HI" }, { 1, "TIMER" }, { 2, "NET_TX" }, { 3, "NET_RX" }, { 4, "BLOCK" }, { 5, "IRQ_POLL" }, { 6, "TASKLET" }, { 7, "SCHED" }, { 8, "HRTIMER" }, { 9, "RCU" })`;

/** Our built-in formats (IDs are ours; readers map them through these format texts). */
export const EVENT_DEFS: readonly EventDef[] = [
  {
    system: "sched",
    name: "sched_switch",
    id: 316,
    kind: EventKind.SchedSwitch,
    fields: [
      f("char prev_comm[16]", 8, 16, false),
      f("pid_t prev_pid", 24, 4, true),
      f("int prev_prio", 28, 4, true),
      f("long prev_state", 32, 8, true),
      f("char next_comm[16]", 40, 16, false),
      f("pid_t next_pid", 56, 4, true),
      f("int next_prio", 60, 4, true),
    ],
    printFmt: `"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & 0xff) ? __print_flags(REC->prev_state & 0xff, "|", { 0x01, "S" }, { 0x02, "D" }, { 0x04, "T" }, { 0x08, "t" }, { 0x10, "X" }, { 0x20, "Z" }, { 0x40, "P" }, { 0x80, "I" }) : "R", REC->prev_state & 0x100 ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio`,
  },
  {
    system: "sched",
    name: "sched_wakeup",
    id: 318,
    kind: EventKind.SchedWakeup,
    fields: WAKEUP_FIELDS,
    printFmt: WAKEUP_FMT,
  },
  {
    system: "sched",
    name: "sched_waking",
    id: 319,
    kind: EventKind.SchedWaking,
    fields: WAKEUP_FIELDS,
    printFmt: WAKEUP_FMT,
  },
  {
    system: "sched",
    name: "sched_wakeup_new",
    id: 317,
    kind: EventKind.SchedWakeupNew,
    fields: WAKEUP_FIELDS,
    printFmt: WAKEUP_FMT,
  },
  {
    system: "sched",
    name: "sched_migrate_task",
    id: 320,
    kind: EventKind.SchedMigrateTask,
    fields: [
      f("__data_loc char[] comm", 8, 4, false),
      f("pid_t pid", 12, 4, true),
      f("int prio", 16, 4, true),
      f("int orig_cpu", 20, 4, true),
      f("int dest_cpu", 24, 4, true),
    ],
    printFmt: `"comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d", __get_str(comm), REC->pid, REC->prio, REC->orig_cpu, REC->dest_cpu`,
  },
  {
    system: "sched",
    name: "sched_process_fork",
    id: 321,
    kind: EventKind.SchedProcessFork,
    fields: [
      f("__data_loc char[] parent_comm", 8, 4, false),
      f("pid_t parent_pid", 12, 4, true),
      f("__data_loc char[] child_comm", 16, 4, false),
      f("pid_t child_pid", 20, 4, true),
    ],
    printFmt: `"comm=%s pid=%d child_comm=%s child_pid=%d", __get_str(parent_comm), REC->parent_pid, __get_str(child_comm), REC->child_pid`,
  },
  {
    system: "sched",
    name: "sched_process_exec",
    id: 322,
    kind: EventKind.SchedProcessExec,
    fields: [
      f("__data_loc char[] filename", 8, 4, false),
      f("pid_t pid", 12, 4, true),
      f("pid_t old_pid", 16, 4, true),
    ],
    printFmt: `"filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid`,
  },
  {
    system: "sched",
    name: "sched_process_exit",
    id: 323,
    kind: EventKind.SchedProcessExit,
    fields: [
      f("char comm[16]", 8, 16, false),
      f("pid_t pid", 24, 4, true),
      f("int prio", 28, 4, true),
      f("bool group_dead", 32, 1, false),
    ],
    printFmt: `"comm=%s pid=%d prio=%d group_dead=%s", REC->comm, REC->pid, REC->prio, REC->group_dead ? "true" : "false"`,
  },
  {
    system: "irq",
    name: "irq_handler_entry",
    id: 225,
    kind: EventKind.IrqHandlerEntry,
    fields: [f("int irq", 8, 4, true), f("__data_loc char[] name", 12, 4, false)],
    printFmt: `"irq=%d name=%s", REC->irq, __get_str(name)`,
  },
  {
    system: "irq",
    name: "irq_handler_exit",
    id: 224,
    kind: EventKind.IrqHandlerExit,
    fields: [f("int irq", 8, 4, true), f("int ret", 12, 4, true)],
    printFmt: `"irq=%d ret=%s", REC->irq, REC->ret ? "handled" : "unhandled"`,
  },
  {
    system: "irq",
    name: "softirq_entry",
    id: 223,
    kind: EventKind.SoftirqEntry,
    fields: [f("unsigned int vec", 8, 4, false)],
    printFmt: SOFTIRQ_FMT,
  },
  {
    system: "irq",
    name: "softirq_exit",
    id: 222,
    kind: EventKind.SoftirqExit,
    fields: [f("unsigned int vec", 8, 4, false)],
    printFmt: SOFTIRQ_FMT,
  },
  {
    system: "irq",
    name: "softirq_raise",
    id: 221,
    kind: EventKind.SoftirqRaise,
    fields: [f("unsigned int vec", 8, 4, false)],
    printFmt: SOFTIRQ_FMT,
  },
  {
    system: "timer",
    name: "hrtimer_start",
    id: 460,
    kind: EventKind.HrtimerStart,
    fields: [
      f("void * hrtimer", 8, 8, false),
      f("void * function", 16, 8, false),
      f("s64 expires", 24, 8, true),
      f("s64 softexpires", 32, 8, true),
      // was_armed (6.x) is left out: the event record does not carry it (older kernels end here too)
      f("enum hrtimer_mode mode", 40, 4, false),
    ],
    printFmt: `"hrtimer=%p function=%ps expires=%llu softexpires=%llu mode=%s", REC->hrtimer, REC->function, (unsigned long long) REC->expires, (unsigned long long) REC->softexpires, __print_symbolic(REC->mode, { 0, "ABS" }, { 1, "REL" }, { 2, "ABS|PINNED" }, { 3, "REL|PINNED" }, { 4, "ABS|SOFT" }, { 5, "REL|SOFT" }, { 6, "ABS|PINNED|SOFT" }, { 7, "REL|PINNED|SOFT" }, { 8, "ABS|HARD" }, { 9, "REL|HARD" }, { 10, "ABS|PINNED|HARD" }, { 11, "REL|PINNED|HARD" })`,
  },
  {
    system: "timer",
    name: "hrtimer_expire_entry",
    id: 459,
    kind: EventKind.HrtimerExpireEntry,
    fields: [f("void * hrtimer", 8, 8, false), f("s64 now", 16, 8, true), f("void * function", 24, 8, false)],
    printFmt: `"hrtimer=%p function=%ps now=%llu", REC->hrtimer, REC->function, (unsigned long long) REC->now`,
  },
  {
    system: "timer",
    name: "hrtimer_expire_exit",
    id: 458,
    kind: EventKind.HrtimerExpireExit,
    fields: [f("void * hrtimer", 8, 8, false)],
    printFmt: `"hrtimer=%p", REC->hrtimer`,
  },
  {
    system: "timer",
    name: "hrtimer_cancel",
    id: 457,
    kind: EventKind.HrtimerCancel,
    fields: [f("void * hrtimer", 8, 8, false)],
    printFmt: `"hrtimer=%p", REC->hrtimer`,
  },
  {
    system: "syscalls",
    name: "sys_enter_clock_nanosleep",
    id: 700,
    kind: EventKind.SysEnterSleep,
    fields: [
      f("int __syscall_nr", 8, 4, true),
      f("const clockid_t which_clock", 16, 8, false),
      f("int flags", 24, 8, false),
      // rqtp/rmtp (user pointers) are not recorded, so not written
    ],
    printFmt: `"which_clock: 0x%08lx, flags: 0x%08lx", ((unsigned long)(REC->which_clock)), ((unsigned long)(REC->flags))`,
  },
  {
    system: "syscalls",
    name: "sys_exit_clock_nanosleep",
    id: 701,
    kind: EventKind.SysExitSleep,
    fields: [f("int __syscall_nr", 8, 4, true), f("long ret", 16, 8, true)],
    printFmt: `"0x%lx", REC->ret`,
  },
];

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
  const comm = (t: number) => (t === 0 ? "swapper" : (w.comms.get(t) ?? ""));
  const fixedStr = (off: number, s: string) => {
    const b = enc.encode(s).subarray(0, 15);
    out.set(b, off);
  };
  let end = 8;
  const dataLoc = (fieldOff: number, s: string) => {
    const b = enc.encode(s);
    out.set(b, end);
    out[end + b.length] = 0;
    view.setUint32(fieldOff, ((b.length + 1) << 16) | end, true);
    end += b.length + 1;
  };
  const a = ev.a[i];
  const abs = (rel: number) => tsBase + BigInt(Math.round(rel));
  switch (d.kind) {
    case EventKind.SchedSwitch:
      fixedStr(8, comm(a));
      view.setInt32(24, a, true);
      view.setInt32(28, ev.b[i], true);
      // normalised 0 = switched out while runnable: the kernel marks that "preempted" (R+)
      view.setBigInt64(32, BigInt(ev.c[i] === 0 ? 0x100 : ev.c[i]), true);
      fixedStr(40, comm(ev.d[i]));
      view.setInt32(56, ev.d[i], true);
      view.setInt32(60, ev.e[i], true);
      end = 64;
      break;
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
      fixedStr(8, comm(a));
      view.setInt32(24, a, true);
      view.setInt32(28, ev.b[i], true);
      view.setInt32(32, ev.c[i], true);
      end = 36;
      break;
    case EventKind.SchedMigrateTask:
      view.setInt32(12, a, true);
      view.setInt32(16, ev.b[i], true);
      view.setInt32(20, ev.d[i], true);
      view.setInt32(24, ev.c[i], true);
      end = 28;
      dataLoc(8, comm(a));
      break;
    case EventKind.SchedProcessFork:
      view.setInt32(12, ev.d[i], true);
      view.setInt32(20, a, true);
      end = 24;
      dataLoc(8, comm(ev.d[i]));
      dataLoc(16, comm(a));
      break;
    case EventKind.SchedProcessExec:
      view.setInt32(12, a, true);
      view.setInt32(16, ev.d[i], true);
      end = 20;
      dataLoc(8, comm(a));
      break;
    case EventKind.SchedProcessExit:
      fixedStr(8, comm(a));
      view.setInt32(24, a, true);
      view.setInt32(28, ev.b[i], true);
      end = 33;
      break;
    case EventKind.IrqHandlerEntry:
      view.setInt32(8, a, true);
      end = 16;
      dataLoc(12, w.irqNames.get(a) ?? "");
      break;
    case EventKind.IrqHandlerExit:
      view.setInt32(8, a, true);
      view.setInt32(12, ev.b[i], true);
      end = 16;
      break;
    case EventKind.SoftirqEntry:
    case EventKind.SoftirqExit:
    case EventKind.SoftirqRaise:
      view.setUint32(8, a, true);
      end = 12;
      break;
    case EventKind.HrtimerStart:
      view.setBigUint64(8, BigInt(ev.f[i]), true);
      view.setBigUint64(16, BigInt(ev.g[i]), true);
      view.setBigInt64(24, abs(ev.h[i]), true);
      view.setBigInt64(32, abs(ev.k[i]), true);
      view.setUint32(40, a, true);
      end = 44;
      break;
    case EventKind.HrtimerExpireEntry:
      view.setBigUint64(8, BigInt(ev.f[i]), true);
      view.setBigInt64(16, abs(ev.h[i]), true);
      view.setBigUint64(24, BigInt(ev.g[i]), true);
      end = 32;
      break;
    case EventKind.HrtimerExpireExit:
    case EventKind.HrtimerCancel:
      view.setBigUint64(8, BigInt(ev.f[i]), true);
      end = 16;
      break;
    case EventKind.SysEnterSleep:
      view.setInt32(8, NR_CLOCK_NANOSLEEP, true);
      view.setBigUint64(16, BigInt(Math.max(0, a)), true);
      view.setBigUint64(24, BigInt(ev.b[i] >>> 0), true);
      end = 32;
      break;
    case EventKind.SysExitSleep:
      view.setInt32(8, NR_CLOCK_NANOSLEEP, true);
      view.setBigInt64(16, BigInt(a), true);
      end = 24;
      break;
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
  for (let i = 0; i < ev.length; i++) {
    const k = ev.kind[i];
    if (k !== EventKind.HrtimerStart && k !== EventKind.HrtimerExpireEntry) continue;
    const key = ev.g[i];
    if (seen.has(key)) continue;
    seen.set(key, symbols.name(key));
  }
  return [...seen]
    .filter(([, n]) => n)
    .sort((x, y) => x[0] - y[0])
    .map(([key, n]) => `${key.toString(16).padStart(16, "0")} t ${n}\n`)
    .join("");
}
