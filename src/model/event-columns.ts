// Events as typed-array columns: the flight recorder's rings, captured windows, and what
// the window writers read. Which generic column holds which field of which kind is set by
// EVENT_TABLE (model/event-kind.ts); `put` and `toRecord` are compiled from it once, at
// load, into one switch over kinds, the same code a hand-written switch would be: recording
// an event writes a dozen numbers into preallocated slots, with no lookup and no allocation.

import type { EventRecord } from "./event.ts";
import { COLUMNS, type Column, EVENT_TABLE, FieldType } from "./event-kind.ts";

/** Bytes one event takes in the columns (ts, cpu, kind, currentTid, flags, preempt, 5 ints, 4 doubles). */
export const BYTES_PER_EVENT = 8 + 2 + 1 + 4 + 2 + 2 + 5 * 4 + 4 * 8;

function maskOf(keep: (type: FieldType) => boolean): Uint16Array {
  const m = new Uint16Array(EVENT_TABLE.length);
  for (const spec of EVENT_TABLE)
    for (const f of spec.fields)
      if (f.col !== undefined && keep(f.type)) m[spec.kind] |= 1 << COLUMNS.indexOf(f.col);
  return m;
}

/** Per kind, a bit per column (a = 1 ... k = 256) it uses: what identifies an event beyond ts/cpu/kind/currentTid. */
export const COLUMN_MASK = maskOf(() => true);
/** Per kind, the columns holding thread ids (Pid fields). */
export const PID_COLUMNS = maskOf((t) => t === FieldType.Pid);
/** Per kind, the columns holding IRQ line numbers (Irq fields). */
export const IRQ_COLUMNS = maskOf((t) => t === FieldType.Irq);

/** Per kind, the columns holding kernel function addresses (Symbol fields). */
export const SYMBOL_COLUMNS = maskOf((t) => t === FieldType.Symbol);

/** Calls `fn` with the value of each column set in `mask` (a = bit 0 ... k = bit 8), for event `i`. */
export function forColumns(cols: EventColumns, i: number, mask: number, fn: (v: number) => void): void {
  for (let c = 0; mask >> c !== 0; c++) if (mask & (1 << c)) fn(cols.byIndex[c][i]);
}

export class EventColumns {
  capacity: number;
  length = 0;
  ts: Float64Array;
  cpu: Uint16Array;
  kind: Uint8Array;
  currentTid: Int32Array;
  flags: Int16Array;
  preemptCount: Int16Array;
  a: Int32Array;
  b: Int32Array;
  c: Int32Array;
  d: Int32Array;
  e: Int32Array;
  f: Float64Array;
  g: Float64Array;
  h: Float64Array;
  k: Float64Array;
  /** a..k in COLUMNS order, for code that picks columns by the event table's index */
  readonly byIndex: readonly (Int32Array | Float64Array)[];

  /**
   * Writes `rec` into slot `i` (no allocation). Only the columns the kind uses are
   * written: the others keep stale values that nothing reads for this kind.
   */
  declare put: (i: number, rec: EventRecord) => void;
  /** Fills `rec` with event `i` (for writers that speak EventRecord). Strings are not set. */
  declare toRecord: (i: number, rec: EventRecord) => void;

  constructor(capacity: number) {
    this.capacity = capacity;
    // one backing store per column set (windows are many and small): widest columns
    // first, so that every view is naturally aligned
    const n = capacity;
    const buf = new ArrayBuffer(n * BYTES_PER_EVENT);
    let off = 0;
    const f64 = () => {
      const a = new Float64Array(buf, off, n);
      off += n * 8;
      return a;
    };
    const i32 = () => {
      const a = new Int32Array(buf, off, n);
      off += n * 4;
      return a;
    };
    const i16 = () => {
      const a = new Int16Array(buf, off, n);
      off += n * 2;
      return a;
    };
    this.ts = f64();
    this.f = f64();
    this.g = f64();
    this.h = f64();
    this.k = f64();
    this.currentTid = i32();
    this.a = i32();
    this.b = i32();
    this.c = i32();
    this.d = i32();
    this.e = i32();
    this.flags = i16();
    this.preemptCount = i16();
    this.cpu = new Uint16Array(buf, off, n);
    off += n * 2;
    this.kind = new Uint8Array(buf, off, n);
    this.byIndex = [this.a, this.b, this.c, this.d, this.e, this.f, this.g, this.h, this.k];
  }

  get bytes(): number {
    return this.capacity * BYTES_PER_EVENT;
  }

  /** Copies slot `i` of `src` into slot `j` of this. */
  copyFrom(j: number, src: EventColumns, i: number): void {
    this.ts[j] = src.ts[i];
    this.cpu[j] = src.cpu[i];
    this.kind[j] = src.kind[i];
    this.currentTid[j] = src.currentTid[i];
    this.flags[j] = src.flags[i];
    this.preemptCount[j] = src.preemptCount[i];
    this.a[j] = src.a[i];
    this.b[j] = src.b[i];
    this.c[j] = src.c[i];
    this.d[j] = src.d[i];
    this.e[j] = src.e[i];
    this.f[j] = src.f[i];
    this.g[j] = src.g[i];
    this.h[j] = src.h[i];
    this.k[j] = src.k[i];
  }

  /** Copies events [from, from + n) of `src` to slot `at` onward, whole columns at a time. */
  copyRange(at: number, src: EventColumns, from: number, n: number): void {
    if (n <= 0) return;
    const end = from + n;
    this.ts.set(src.ts.subarray(from, end), at);
    this.cpu.set(src.cpu.subarray(from, end), at);
    this.kind.set(src.kind.subarray(from, end), at);
    this.currentTid.set(src.currentTid.subarray(from, end), at);
    this.flags.set(src.flags.subarray(from, end), at);
    this.preemptCount.set(src.preemptCount.subarray(from, end), at);
    this.a.set(src.a.subarray(from, end), at);
    this.b.set(src.b.subarray(from, end), at);
    this.c.set(src.c.subarray(from, end), at);
    this.d.set(src.d.subarray(from, end), at);
    this.e.set(src.e.subarray(from, end), at);
    this.f.set(src.f.subarray(from, end), at);
    this.g.set(src.g.subarray(from, end), at);
    this.h.set(src.h.subarray(from, end), at);
    this.k.set(src.k.subarray(from, end), at);
  }

  /** A copy holding exactly `length` events (windows keep no slack). */
  trimmed(): EventColumns {
    const out = new EventColumns(this.length);
    out.copyRange(0, this, 0, this.length);
    out.length = this.length;
    return out;
  }
}

/**
 * `put` and `toRecord` as one switch over kinds, kinds with the same column moves sharing a
 * case. Generated source rather than a loop over the table per event: the loop would read
 * record fields by computed name, a keyed lookup per field on the hottest path there is.
 */
function compileMoves(head: string, move: (col: Column, field: string) => string): string {
  const cases = new Map<string, number[]>();
  for (const spec of EVENT_TABLE) {
    let body = "";
    for (const f of spec.fields) if (f.col !== undefined && f.rec !== undefined) body += move(f.col, f.rec);
    const kinds = cases.get(body);
    if (kinds) kinds.push(spec.kind);
    else cases.set(body, [spec.kind]);
  }
  let src = `${head}switch (kind) {\n`;
  for (const [body, kinds] of cases) src += `${kinds.map((k) => `case ${k}:`).join(" ")}\n${body}break;\n`;
  return `${src}}\n`;
}

const FIELD_NAME = /^[a-zA-Z]+$/;
for (const spec of EVENT_TABLE)
  for (const f of spec.fields)
    if (f.rec !== undefined && !FIELD_NAME.test(f.rec))
      throw new Error(`event table: bad record field ${f.rec}`);

EventColumns.prototype.put = new Function(
  "i",
  "rec",
  compileMoves(
    "const kind = rec.kind; this.ts[i] = rec.ts; this.cpu[i] = rec.cpu; this.kind[i] = kind;" +
      " this.currentTid[i] = rec.currentTid; this.flags[i] = rec.flags; this.preemptCount[i] = rec.preemptCount;\n",
    (col, field) => `this.${col}[i] = rec.${field};\n`,
  ),
) as (i: number, rec: EventRecord) => void;

EventColumns.prototype.toRecord = new Function(
  "i",
  "rec",
  compileMoves(
    "rec.clear(); const kind = this.kind[i]; rec.kind = kind; rec.ts = this.ts[i]; rec.cpu = this.cpu[i];" +
      " rec.currentTid = this.currentTid[i]; rec.flags = this.flags[i]; rec.preemptCount = this.preemptCount[i];\n",
    (col, field) => `rec.${field} = this.${col}[i];\n`,
  ),
) as (i: number, rec: EventRecord) => void;

/** Same event in two column sets (only the columns its kind uses are compared). */
export function sameEvent(x: EventColumns, i: number, y: EventColumns, j: number): boolean {
  if (
    x.ts[i] !== y.ts[j] ||
    x.cpu[i] !== y.cpu[j] ||
    x.kind[i] !== y.kind[j] ||
    x.currentTid[i] !== y.currentTid[j]
  )
    return false;
  const m = COLUMN_MASK[x.kind[i]];
  return (
    (!(m & 1) || x.a[i] === y.a[j]) &&
    (!(m & 2) || x.b[i] === y.b[j]) &&
    (!(m & 4) || x.c[i] === y.c[j]) &&
    (!(m & 8) || x.d[i] === y.d[j]) &&
    (!(m & 16) || x.e[i] === y.e[j]) &&
    (!(m & 32) || x.f[i] === y.f[j]) &&
    (!(m & 64) || x.g[i] === y.g[j]) &&
    (!(m & 128) || x.h[i] === y.h[j]) &&
    (!(m & 256) || x.k[i] === y.k[j])
  );
}

/** Events with the names they need: what the window writers write. */
export interface WindowEvents {
  events: EventColumns;
  comms: ReadonlyMap<number, string>;
  irqNames: ReadonlyMap<number, string>;
}
