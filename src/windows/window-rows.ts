// A window's events as listing rows, in trace-cmd's field layout (kernel field names, the
// fields each event's format file has, in its order): what reports, the JSON writer and the
// API show. Which fields and how each is printed come from EVENT_TABLE.

import type { WindowEvents } from "../model/event-columns.ts";
import {
  COLUMNS,
  columnOfField,
  EVENT_TABLE,
  FieldType,
  LISTED_NAMES,
  SOFTIRQ_NAMES,
  taskStateLetters,
} from "../model/event-kind.ts";
import { type WindowEvent, WindowEventRow } from "../model/report.ts";
import type { SymbolTable } from "../model/source.ts";
import { absoluteTs } from "../model/units.ts";

interface ListedField {
  readonly name: string;
  readonly type: FieldType;
  /** index of the column the value is read from (COLUMNS order) */
  readonly col: number;
}

/** Per kind, the fields a listing shows. */
const LISTED: readonly (readonly ListedField[])[] = EVENT_TABLE.map((spec) =>
  spec.fields
    .filter((f) => !f.unlisted && f.type !== FieldType.Const)
    .map((f) => ({ name: f.name, type: f.type, col: COLUMNS.indexOf(columnOfField(spec, f) ?? "a") })),
);

function hex(v: number): string {
  return `0x${v.toString(16)}`;
}

/** A field's value as listings show it. */
function listedValue(
  type: FieldType,
  v: number,
  w: WindowEvents,
  tsBase: bigint,
  symbols: SymbolTable | undefined,
): string | number {
  switch (type) {
    case FieldType.State:
      return taskStateLetters(v);
    case FieldType.Comm:
      return w.comms.get(v) ?? "";
    case FieldType.IrqName:
      return w.irqNames.get(v) ?? "";
    case FieldType.IrqRet:
      return v ? "handled" : "unhandled";
    case FieldType.SoftirqAction:
      return SOFTIRQ_NAMES[v] ?? "";
    case FieldType.Address:
      return hex(v);
    case FieldType.Symbol:
      return symbols?.name(v) || hex(v);
    case FieldType.Time:
      return String(absoluteTs(tsBase, v));
    default:
      return v;
  }
}

/** Fills `row` with event `i` of `w`; `rel` is relative to `wakeTs`. */
export function fillWindowEventRow(
  row: WindowEventRow,
  w: WindowEvents,
  i: number,
  wakeTs: number,
  tsBase: bigint,
  symbols?: SymbolTable,
): WindowEventRow {
  const ev = w.events;
  const kind = ev.kind[i];
  row.ts = absoluteTs(tsBase, ev.ts[i]);
  row.rel = ev.ts[i] - wakeTs;
  row.cpu = ev.cpu[i];
  row.event = LISTED_NAMES[kind] ?? "other";
  row.currentTid = ev.currentTid[i];
  row.n = 0;
  const fields = LISTED[kind];
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k];
    row.field(f.name, listedValue(f.type, ev.byIndex[f.col][i], w, tsBase, symbols));
  }
  return row;
}

/** The window's events as report entries, `rel` relative to `wakeTs`. */
export function windowEventList(
  w: WindowEvents,
  wakeTs: number,
  tsBase: bigint,
  symbols?: SymbolTable,
): WindowEvent[] {
  const row = new WindowEventRow();
  const out: WindowEvent[] = [];
  for (let i = 0; i < w.events.length; i++)
    out.push(fillWindowEventRow(row, w, i, wakeTs, tsBase, symbols).toEvent());
  return out;
}
