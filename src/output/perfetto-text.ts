// Worst windows as ftrace text — the tracefs `trace` file format (FORMATS.md §4.1) — which
// Perfetto's UI imports as scheduling tracks (its systrace line tokenizer, FORMATS §4.3).
// Choices made for the widest set of Perfetto builds:
// - no TGID column (optional in the tokenizer);
// - a 4-character latency column ("d.h1"): older builds accept 0-4 flag characters, newer 0-5;
// - timestamps with 9 fraction digits (ns): the tokenizer reads them as a double, so no
//   precision is lost to the kernel's µs rounding;
// - payloads exactly as the kernel's print fmt prints them, `key=value`, since Perfetto
//   needs prev_pid/prev_prio/next_pid/next_prio and prev_state letters for sched_switch.
// Events without a kernel text form (lost-event markers, unknown events) are left out;
// lost events are listed in the header instead.

import type { WindowEvents } from "../analysis/worst-windows.ts";
import { EVENT_KIND_BY_NAME, EventKind, SOFTIRQ_NAMES, taskStateLetters } from "../model/event-kind.ts";
import type { SymbolTable } from "../model/source.ts";

/** Absolute ns timestamp as "sec.nnnnnnnnn". */
export function formatTsSeconds(abs: bigint): string {
  const neg = abs < 0n;
  const a = neg ? -abs : abs;
  const sec = a / 1_000_000_000n;
  const frac = (a % 1_000_000_000n).toString().padStart(9, "0");
  return `${neg ? "-" : ""}${sec}.${frac}`;
}

/** The latency column in the 4-character form: irqs-off, need-resched, hard/softirq, preempt depth. */
export function latencyFlags(flags: number, preempt: number): string {
  if (flags < 0) return "....";
  const irqsOff = flags & 0x01 ? "d" : ".";
  const nr = flags & 0x04;
  const pr = flags & 0x20;
  const resched = nr && pr ? "N" : nr ? "n" : pr ? "p" : ".";
  const hard = flags & 0x08;
  const soft = flags & 0x10;
  const ctx = flags & 0x40 ? (hard ? "Z" : "z") : hard && soft ? "H" : hard ? "h" : soft ? "s" : ".";
  const depth = preempt < 0 ? "." : (preempt & 0x0f) === 0 ? "." : (preempt & 0x0f).toString(16);
  return irqsOff + resched + ctx + depth;
}

/** enum hrtimer_mode as the kernel prints it: ABS 0, REL 1, PINNED 2, SOFT 4, HARD 8. */
const HRTIMER_MODES = [
  "ABS",
  "REL",
  "ABS|PINNED",
  "REL|PINNED",
  "ABS|SOFT",
  "REL|SOFT",
  "ABS|PINNED|SOFT",
  "REL|PINNED|SOFT",
  "ABS|HARD",
  "REL|HARD",
  "ABS|PINNED|HARD",
  "REL|PINNED|HARD",
];

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/** prev_state as the kernel prints it; a runnable task switched out is shown preempted ("R+"). */
export function prevStateText(state: number): string {
  return state === 0 ? "R+" : taskStateLetters(state);
}

/** The kernel's print-fmt text of event `i`, or null for events with no text form. */
export function eventPayload(
  w: WindowEvents,
  i: number,
  tsBase: bigint,
  symbols?: SymbolTable,
): string | null {
  const ev = w.events;
  const comm = (t: number) => (t === 0 ? "swapper" : w.comms.get(t) || `<...>`);
  const fn = (key: number) => symbols?.name(key) || hex(key);
  const abs = (rel: number) => (tsBase + BigInt(Math.round(rel))).toString();
  const a = ev.a[i];
  switch (ev.kind[i]) {
    case EventKind.SchedSwitch:
      return `prev_comm=${comm(a)} prev_pid=${a} prev_prio=${ev.b[i]} prev_state=${prevStateText(ev.c[i])} ==> next_comm=${comm(ev.d[i])} next_pid=${ev.d[i]} next_prio=${ev.e[i]}`;
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
      return `comm=${comm(a)} pid=${a} prio=${ev.b[i]} target_cpu=${String(ev.c[i]).padStart(3, "0")}`;
    case EventKind.SchedMigrateTask:
      return `comm=${comm(a)} pid=${a} prio=${ev.b[i]} orig_cpu=${ev.d[i]} dest_cpu=${ev.c[i]}`;
    case EventKind.SchedProcessFork:
      return `comm=${comm(ev.d[i])} pid=${ev.d[i]} child_comm=${comm(a)} child_pid=${a}`;
    case EventKind.SchedProcessExec:
      return `filename=${comm(a)} pid=${a} old_pid=${ev.d[i]}`;
    case EventKind.SchedProcessExit:
      return `comm=${comm(a)} pid=${a} prio=${ev.b[i]}`;
    case EventKind.IrqHandlerEntry:
      return `irq=${a} name=${w.irqNames.get(a) || "unknown"}`;
    case EventKind.IrqHandlerExit:
      return `irq=${a} ret=${ev.b[i] ? "handled" : "unhandled"}`;
    case EventKind.SoftirqEntry:
    case EventKind.SoftirqExit:
    case EventKind.SoftirqRaise:
      return `vec=${a} [action=${SOFTIRQ_NAMES[a] ?? "?"}]`;
    case EventKind.HrtimerStart:
      return `hrtimer=${hex(ev.f[i])} function=${fn(ev.g[i])} expires=${abs(ev.h[i])} softexpires=${abs(ev.k[i])} mode=${HRTIMER_MODES[a] ?? a}`;
    case EventKind.HrtimerExpireEntry:
      return `hrtimer=${hex(ev.f[i])} function=${fn(ev.g[i])} now=${abs(ev.h[i])}`;
    case EventKind.HrtimerExpireExit:
    case EventKind.HrtimerCancel:
      return `hrtimer=${hex(ev.f[i])}`;
    case EventKind.SysEnterSleep:
      return `which_clock: 0x${Math.max(0, a).toString(16).padStart(8, "0")}, flags: 0x${(ev.b[i] >>> 0).toString(16).padStart(8, "0")}`;
    case EventKind.SysExitSleep:
      // `0x%lx` of a signed long: -4 (EINTR) prints as 0xfffffffffffffffc
      return `0x${BigInt.asUintN(64, BigInt(a)).toString(16)}`;
    default:
      return null;
  }
}

/**
 * The tracepoint name each kind is printed as: its first name in EVENT_KIND_BY_NAME (so the
 * sleep kinds print as the clock_nanosleep events).
 */
export const TEXT_EVENT_NAMES: Record<number, string> = {};
for (const [systemEvent, kind] of EVENT_KIND_BY_NAME) {
  TEXT_EVENT_NAMES[kind] ??= systemEvent.slice(systemEvent.indexOf(":") + 1);
}

/** The window(s) as a tracefs `trace` text file. */
export function formatPerfettoText(
  w: WindowEvents,
  tsBase: bigint,
  opts: { cpus?: number; symbols?: SymbolTable } = {},
): string {
  const ev = w.events;
  let maxCpu = 0;
  let lost = 0;
  let lines = 0;
  const body: string[] = [];
  for (let i = 0; i < ev.length; i++) {
    if (ev.cpu[i] > maxCpu) maxCpu = ev.cpu[i];
    if (ev.kind[i] === EventKind.LostEvents) {
      lost++;
      continue;
    }
    const name = TEXT_EVENT_NAMES[ev.kind[i]];
    const payload = name ? eventPayload(w, i, tsBase, opts.symbols) : null;
    if (payload === null) continue;
    const cur = ev.currentTid[i];
    const task = cur === 0 ? "<idle>" : w.comms.get(cur) || "<...>";
    const ts = formatTsSeconds(tsBase + BigInt(Math.round(ev.ts[i])));
    body.push(
      `${task.padStart(16)}-${String(cur).padEnd(7)} [${String(ev.cpu[i]).padStart(3, "0")}] ${latencyFlags(ev.flags[i], ev.preemptCount[i])} ${ts.padStart(17)}: ${name}: ${payload}`,
    );
    lines++;
  }
  const cpus = opts.cpus ?? maxCpu + 1;
  const head = [
    "# tracer: nop",
    "#",
    `# entries-in-buffer/entries-written: ${lines}/${lines}   #P:${cpus}`,
    ...(lost ? [`# rtscope: events were lost inside this window (${lost} marker(s))`] : []),
    "#",
    "#                              _-----=> irqs-off",
    "#                             / _----=> need-resched",
    "#                            | / _---=> hardirq/softirq",
    "#                            || / _--=> preempt-depth",
    "#                            ||| /     delay",
    "#           TASK-PID   CPU#  ||||   TIMESTAMP  FUNCTION",
    "#              | |       |   ||||      |         |",
  ];
  return `${[...head, ...body].join("\n")}\n`;
}
