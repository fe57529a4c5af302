// A window read back from its report form (JSON report, stored run) into the compact form,
// so that a window saved as JSON can still be exported as trace.dat or Perfetto text: the
// inverse of window-rows.ts, field by field from EVENT_TABLE.

import { EventColumns, type WindowEvents } from "../model/event-columns.ts";
import {
  COLUMNS,
  columnOfField,
  EVENT_TABLE,
  type EventKind,
  FieldType,
  LISTED_NAMES,
  taskStateFromLetters,
} from "../model/event-kind.ts";
import type { WorstWindow } from "../model/report.ts";
import type { SymbolTable } from "../model/source.ts";

type Value = string | number | undefined;

interface ImportedField {
  readonly name: string;
  readonly type: FieldType;
  /** index of the column it fills (value fields) or names (name fields), COLUMNS order */
  readonly col: number;
  readonly isName: boolean;
}

/** Per kind, the listed fields: value fields first (name fields need the ids they name). */
const IMPORTED: readonly (readonly ImportedField[])[] = EVENT_TABLE.map((spec) =>
  spec.fields
    .filter((f) => !f.unlisted && f.type !== FieldType.Const && f.type !== FieldType.SoftirqAction)
    .map((f) => ({
      name: f.name,
      type: f.type,
      col: COLUMNS.indexOf(columnOfField(spec, f) ?? "a"),
      isName: f.col === undefined,
    }))
    .sort((x, y) => Number(x.isName) - Number(y.isName)),
);

/** Listing name → kind; a kind's other names too (`sys_enter_nanosleep`). The first kind with a name wins. */
const KIND_BY_LISTED = new Map<string, EventKind>();
for (const spec of EVENT_TABLE)
  for (const n of [LISTED_NAMES[spec.kind], ...spec.names.map((x) => x.slice(x.indexOf(":") + 1))])
    if (!KIND_BY_LISTED.has(n)) KIND_BY_LISTED.set(n, spec.kind);

/**
 * Rebuilds the compact form of a window from its report form. Timestamps become relative to
 * the returned `tsBase`; hrtimer callbacks get synthetic addresses that the returned symbol
 * table names. Lost: common_flags/preempt_count (not in the report form), exec filenames.
 */
export function windowEventsFromReport(
  w: WorstWindow,
  base?: bigint,
  /** callback name → synthetic address, shared when several windows are merged */
  fnKeys: Map<string, number> = new Map(),
): WindowEvents & { tsBase: bigint; symbols: SymbolTable } {
  const list = w.events;
  const tsBase = base ?? (list.length ? BigInt(list[0].ts) : BigInt(w.start));
  const rel = (v: string | number | bigint | undefined) => (v === undefined ? 0 : Number(BigInt(v) - tsBase));
  const cols = new EventColumns(list.length);
  const comms = new Map<number, string>();
  const irqNames = new Map<number, string>();
  const fnKey = (name: Value): number => {
    const s = String(name ?? "");
    if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s, 16);
    let k = fnKeys.get(s);
    if (k === undefined) {
      k = 0x1000 + fnKeys.size * 16;
      fnKeys.set(s, k);
    }
    return k;
  };
  const num = (v: Value) => (typeof v === "number" ? v : Number(v ?? 0));
  /** A listed value back as the number its column holds. */
  const parse = (type: FieldType, v: Value): number => {
    switch (type) {
      case FieldType.State:
        return Math.max(0, taskStateFromLetters(String(v ?? "R")));
      case FieldType.IrqRet:
        return v === "handled" ? 1 : num(v === "unhandled" ? 0 : v);
      case FieldType.Address:
        return typeof v === "string" ? Number.parseInt(v, 16) : num(v);
      case FieldType.Symbol:
        return fnKey(v);
      case FieldType.Time:
        return rel(v);
      default:
        return num(v);
    }
  };
  let n = 0;
  for (const e of list) {
    const kind = KIND_BY_LISTED.get(e.event);
    if (kind === undefined) continue;
    const f = e.fields;
    const i = n++;
    cols.ts[i] = rel(e.ts);
    cols.cpu[i] = e.cpu;
    cols.kind[i] = kind;
    cols.currentTid[i] = e.currentTid;
    cols.flags[i] = -1;
    cols.preemptCount[i] = -1;
    for (const x of IMPORTED[kind]) {
      const v = f[x.name];
      if (!x.isName) cols.byIndex[x.col][i] = parse(x.type, v);
      else if (x.type === FieldType.Comm) {
        const tid = cols.byIndex[x.col][i];
        if (v !== undefined && v !== "" && tid !== 0) comms.set(tid, String(v));
      } else if (x.type === FieldType.IrqName && v !== undefined)
        irqNames.set(cols.byIndex[x.col][i], String(v));
    }
  }
  cols.length = n;
  const names = new Map([...fnKeys].map(([s, k]) => [k, s]));
  const symbols: SymbolTable = {
    hrtimerWakeupKey: fnKeys.get("hrtimer_wakeup") ?? -1,
    name: (k: number) => names.get(k) ?? "",
  };
  return { events: cols.trimmed(), comms, irqNames, tsBase, symbols };
}
