// Worst windows as ftrace text — the tracefs `trace` file format (FORMATS.md §4.1) — which
// Perfetto's UI imports as scheduling tracks (its systrace line tokenizer, FORMATS §4.3).
// Choices made for the widest set of Perfetto builds:
// - no TGID column (optional in the tokenizer);
// - a 4-character latency column ("d.h1"): older builds accept 0-4 flag characters, newer 0-5;
// - timestamps with 9 fraction digits (ns): the tokenizer reads them as a double, so no
//   precision is lost to the kernel's µs rounding;
// - payloads exactly as the kernel's print fmt prints them (EVENT_TABLE's text templates),
//   `key=value`, since Perfetto needs prev_pid/prev_prio/next_pid/next_prio and prev_state letters for
//   sched_switch.
// Events without a kernel text form (lost-event markers, unknown events) are left out;
// lost events are listed in the header instead.

import type { WindowEvents } from "../model/event-columns.ts";
import {
  COLUMNS,
  columnOfField,
  EVENT_TABLE,
  EventKind,
  FieldType,
  SOFTIRQ_NAMES,
  taskStateLetters,
  WRITTEN_NAMES,
} from "../model/event-kind.ts";
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

/** A piece of a text payload: literal text, or a field's value. */
type TextPart = string | { readonly type: FieldType; readonly col: number; readonly zeroPad: number };

/** Per kind, its text payload template cut into parts (null: no text form). */
const TEXT_PARTS: readonly (readonly TextPart[] | null)[] = EVENT_TABLE.map((spec) => {
  if (spec.text === undefined) return null;
  return spec.text.split(/(\{\w+\})/).map((piece): TextPart => {
    if (!piece.startsWith("{")) return piece;
    const f = spec.fields.find((x) => x.name === piece.slice(1, -1));
    const col = f ? columnOfField(spec, f) : undefined;
    if (f === undefined || col === undefined)
      throw new Error(`event table: ${spec.names[0]} text names ${piece}`);
    return { type: f.type, col: COLUMNS.indexOf(col), zeroPad: f.zeroPad ?? 0 };
  });
});

/** A field's value as the kernel's print fmt prints it. */
function textValue(
  type: FieldType,
  v: number,
  w: WindowEvents,
  tsBase: bigint,
  symbols?: SymbolTable,
): string {
  switch (type) {
    case FieldType.State:
      return prevStateText(v);
    case FieldType.Comm:
      return v === 0 ? "swapper" : w.comms.get(v) || "<...>";
    case FieldType.IrqName:
      return w.irqNames.get(v) || "unknown";
    case FieldType.IrqRet:
      return v ? "handled" : "unhandled";
    case FieldType.SoftirqAction:
      return SOFTIRQ_NAMES[v] ?? "?";
    case FieldType.Address:
      return hex(v);
    case FieldType.Symbol:
      return symbols?.name(v) || hex(v);
    case FieldType.Time:
      return (tsBase + BigInt(Math.round(v))).toString();
    case FieldType.HrtimerMode:
      return HRTIMER_MODES[v] ?? String(v);
    case FieldType.ClockId:
      return `0x${Math.max(0, v).toString(16).padStart(8, "0")}`;
    case FieldType.Flags:
      return `0x${(v >>> 0).toString(16).padStart(8, "0")}`;
    case FieldType.SysRet:
      // `0x%lx` of a signed long: -4 (EINTR) prints as 0xfffffffffffffffc
      return `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;
    default:
      return String(v);
  }
}

/** The kernel's print-fmt text of event `i`, or null for events with no text form. */
export function eventPayload(
  w: WindowEvents,
  i: number,
  tsBase: bigint,
  symbols?: SymbolTable,
): string | null {
  const ev = w.events;
  const parts = TEXT_PARTS[ev.kind[i]];
  if (!parts) return null;
  let out = "";
  for (const p of parts) {
    if (typeof p === "string") out += p;
    else {
      const t = textValue(p.type, ev.byIndex[p.col][i], w, tsBase, symbols);
      out += p.zeroPad ? t.padStart(p.zeroPad, "0") : t;
    }
  }
  return out;
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
    const payload = eventPayload(w, i, tsBase, opts.symbols);
    if (payload === null) continue;
    const name = WRITTEN_NAMES[ev.kind[i]];
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
