// EVENT_TABLE against everything derived from it. One event per kind, its field values made
// from the table (nothing listed by hand), goes through every writer and back through the
// matching reader: ftrace text → rtscope's text source; trace.dat → rtscope's trace.dat source
// and `trace-cmd report` (the outside reader: raw field values by kernel name, and each
// print-fmt line against our text line); listing rows → JSON → the JSON import.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { EventRecord } from "../../src/model/event.ts";
import { EventColumns, type WindowEvents } from "../../src/model/event-columns.ts";
import {
  COLUMNS,
  columnOfField,
  EVENT_KIND_BY_NAME,
  EVENT_TABLE,
  EventKind,
  type FieldSpec,
  FieldType,
  type KindSpec,
  LISTED_NAMES,
  WRITTEN_NAMES,
} from "../../src/model/event-kind.ts";
import type { WorstWindow } from "../../src/model/report.ts";
import type { SymbolTable, TraceSource } from "../../src/model/source.ts";
import { formatPerfettoText } from "../../src/output/perfetto-text.ts";
import { writeTraceDat } from "../../src/output/trace-dat-writer.ts";
import { FNV_OFFSET, FNV_PRIME } from "../../src/sources/ftrace-text/byte-interner.ts";
import { EventNameTable } from "../../src/sources/ftrace-text/event-names.ts";
import { openSource } from "../../src/sources/open-source.ts";
import { windowEventsFromReport } from "../../src/windows/window-import.ts";
import { windowEventList } from "../../src/windows/window-rows.ts";
import { skipWithoutTraceCmd } from "../helpers/trace-cmd.ts";

const TS_BASE = 5_000_000_000_000n;
const FN_KEY = 0x7777;
const SYMBOLS: SymbolTable = {
  hrtimerWakeupKey: FN_KEY,
  name: (k) => (k === FN_KEY ? "hrtimer_wakeup" : ""),
};
const INT_TYPES: FieldType[] = [
  FieldType.Int,
  FieldType.Pid,
  FieldType.State,
  FieldType.Irq,
  FieldType.IrqRet,
  FieldType.HrtimerMode,
  FieldType.ClockId,
  FieldType.Flags,
  FieldType.SysRet,
];

const valueFields = (spec: KindSpec) => spec.fields.filter((f) => f.col !== undefined);

/** A value for field `j` of event `n` that the field's type allows, distinct across the window. */
function valueFor(f: FieldSpec, n: number, j: number, ts: number): number {
  switch (f.type) {
    case FieldType.Pid:
      return 1000 + n * 10 + j;
    case FieldType.State:
      return n % 2 ? 0 : 0x2; // R+ and D
    case FieldType.Irq:
      return 24 + n;
    case FieldType.IrqRet:
      return 1;
    case FieldType.HrtimerMode:
      return 1 + (n % 8);
    case FieldType.ClockId:
    case FieldType.Flags:
      return 1;
    case FieldType.SysRet:
      return -4;
    case FieldType.Address:
      return 0x1234560 + n * 16;
    case FieldType.Symbol:
      return FN_KEY;
    case FieldType.Time:
      return ts + 5000 + j;
    default:
      // prio, CPUs, softirq vectors (0..9), counts, ids: small values every field accepts
      return 1 + ((n + j) % 3);
  }
}

/** One event of every kind (LostEvents aside: a marker, not an event), on CPUs 0 and 1. */
function oneOfEach(): WindowEvents {
  const specs = EVENT_TABLE.filter((s) => s.kind !== EventKind.LostEvents);
  const cols = new EventColumns(specs.length);
  const comms = new Map<number, string>([[500, "runner"]]);
  const irqNames = new Map<number, string>();
  specs.forEach((spec, n) => {
    const ts = 10_000 + n * 1000;
    cols.ts[n] = ts;
    cols.cpu[n] = n % 2;
    cols.kind[n] = spec.kind;
    cols.currentTid[n] = 500;
    cols.flags[n] = -1;
    cols.preemptCount[n] = -1;
    valueFields(spec).forEach((f, j) => {
      const v = valueFor(f, n, j, ts);
      cols.byIndex[COLUMNS.indexOf(f.col ?? "a")][n] = v;
      if (f.type === FieldType.Pid) comms.set(v, `task-${v}`);
      if (f.type === FieldType.Irq) irqNames.set(v, `irq-line-${v}`);
    });
  });
  cols.length = specs.length;
  return { events: cols, comms, irqNames };
}

/** Reads a written file back with rtscope's own source, into columns (through the table's `put`). */
async function readBack(file: string): Promise<{ cols: EventColumns; src: TraceSource }> {
  const src = await openSource(file);
  const recs: EventRecord[] = [];
  try {
    await src.run({
      handle: (r) => {
        const copy = new EventRecord();
        Object.assign(copy, r);
        recs.push(copy);
      },
    });
  } finally {
    src.close();
  }
  const cols = new EventColumns(recs.length);
  recs.forEach((r, i) => {
    cols.put(i, r);
  });
  cols.length = recs.length;
  return { cols, src };
}

/**
 * Event i of `want` and event j of `got` agree on ts, CPU, kind, current task and every value
 * field `carried` keeps; times compare absolute, callbacks by symbol name.
 */
function compareEvent(
  want: EventColumns,
  i: number,
  got: EventColumns,
  j: number,
  gotBase: bigint,
  gotSymbols: SymbolTable,
  carried: (f: FieldSpec) => boolean,
  where: string,
): void {
  const spec = EVENT_TABLE[want.kind[i]];
  const at = `${where}: ${LISTED_NAMES[spec.kind]}`;
  assert.equal(got.kind[j], want.kind[i], `${at}: kind`);
  assert.equal(gotBase + BigInt(got.ts[j]), TS_BASE + BigInt(want.ts[i]), `${at}: ts`);
  assert.equal(got.cpu[j], want.cpu[i], `${at}: cpu`);
  assert.equal(got.currentTid[j], want.currentTid[i], `${at}: current task`);
  for (const f of valueFields(spec)) {
    if (!carried(f)) continue;
    const c = COLUMNS.indexOf(f.col ?? "a");
    const w = want.byIndex[c][i];
    const g = got.byIndex[c][j];
    if (f.type === FieldType.Time) assert.equal(gotBase + BigInt(g), TS_BASE + BigInt(w), `${at}: ${f.name}`);
    else if (f.type === FieldType.Symbol)
      assert.equal(gotSymbols.name(g), SYMBOLS.name(w), `${at}: ${f.name}`);
    else assert.equal(g, w, `${at}: ${f.name}`);
  }
}

test("the event table is indexed by kind and every field is well formed", () => {
  const kinds = Object.values(EventKind).sort((x, y) => x - y);
  assert.deepEqual(
    EVENT_TABLE.map((s) => s.kind),
    kinds,
    "one row per EventKind, in kind order",
  );
  for (const spec of EVENT_TABLE) {
    const at = LISTED_NAMES[spec.kind];
    const used = new Set<string>();
    for (const f of spec.fields) {
      if (f.col !== undefined) {
        assert.ok(f.rec, `${at}.${f.name}: a column needs a record field`);
        assert.ok(!used.has(f.col), `${at}.${f.name}: column ${f.col} used twice`);
        used.add(f.col);
        const intCol = COLUMNS.indexOf(f.col) < 5;
        assert.equal(INT_TYPES.includes(f.type), intCol, `${at}.${f.name}: type fits column ${f.col}`);
      } else if (f.type === FieldType.Const) assert.ok(f.value !== undefined && f.dat, `${at}.${f.name}`);
      else assert.ok(columnOfField(spec, f), `${at}.${f.name}: names a value field of its kind`);
    }
    if (spec.dat) assert.equal(spec.names.length > 0, true, `${at}: a written kind has a name`);
  }
  const ids = EVENT_TABLE.flatMap((s) => (s.dat ? [s.dat.id] : []));
  assert.equal(new Set(ids).size, ids.length, "trace.dat format ids are distinct");
});

test("the text reader's name table and the name lookups agree with the event table", () => {
  const names = new EventNameTable();
  const enc = new TextEncoder();
  const idOf = (s: string) => {
    const b = enc.encode(s);
    let h = FNV_OFFSET;
    for (const x of b) h = Math.imul(h ^ x, FNV_PRIME);
    return names.id(b, 0, b.length, h);
  };
  for (const spec of EVENT_TABLE)
    for (const full of spec.names) {
      assert.equal(EVENT_KIND_BY_NAME.get(full), spec.kind, full);
      const name = full.slice(full.indexOf(":") + 1);
      assert.equal(names.kind(idOf(name)), spec.kind, `text name ${name}`);
      if (name.startsWith("sys_enter_"))
        assert.equal(names.kind(idOf(`sys_${name.slice(10)}(`)), spec.kind, `tracefs form of ${name}`);
      if (name.startsWith("sys_exit_"))
        assert.equal(names.kind(idOf(`sys_${name.slice(9)} ->`)), spec.kind, `tracefs form of ${name}`);
    }
});

test("every kind with a text form round-trips through the ftrace text writer and reader", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-table-"));
  try {
    const w = oneOfEach();
    const file = join(dir, "trace.txt");
    writeFileSync(file, formatPerfettoText(w, TS_BASE, { symbols: SYMBOLS }));
    const { cols, src } = await readBack(file);
    const ev = w.events;
    const written = [...Array(ev.length).keys()].filter((i) => EVENT_TABLE[ev.kind[i]].text !== undefined);
    assert.ok(written.length >= 19, `kinds with a text form: ${written.length}`);
    assert.equal(cols.length, written.length, "events read back");
    written.forEach((i, j) => {
      const spec = EVENT_TABLE[ev.kind[i]];
      const inText = (f: FieldSpec) => spec.text?.includes(`{${f.name}}`) === true;
      compareEvent(ev, i, cols, j, src.info.tsBase, src.symbols, inText, "text");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every kind with a trace.dat form round-trips through the trace.dat writer and reader", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-table-"));
  try {
    const w = oneOfEach();
    const file = join(dir, "trace.dat");
    writeFileSync(file, writeTraceDat(w, TS_BASE, { symbols: SYMBOLS }).bytes);
    const { cols, src } = await readBack(file);
    const ev = w.events;
    const written = [...Array(ev.length).keys()].filter((i) => EVENT_TABLE[ev.kind[i]].dat !== undefined);
    assert.ok(written.length >= 19, `kinds with a trace.dat form: ${written.length}`);
    // the reader merges CPUs by time: the one-per-kind events are in time order already
    assert.equal(cols.length, written.length, "events read back");
    written.forEach((i, j) => {
      compareEvent(ev, i, cols, j, src.info.tsBase, src.symbols, (f) => f.dat !== undefined, "trace.dat");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("trace-cmd reads every written kind's fields, and prints each line as our text writer does", {
  skip: skipWithoutTraceCmd,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-table-"));
  try {
    const w = oneOfEach();
    const ev = w.events;
    const file = join(dir, "trace.dat");
    writeFileSync(file, writeTraceDat(w, TS_BASE, { symbols: SYMBOLS }).bytes);
    const written = [...Array(ev.length).keys()].filter((i) => EVENT_TABLE[ev.kind[i]].dat !== undefined);
    const lineRe = /^\s*.*-(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{9}):\s+(\w+):\s*(.*)$/;
    const report = (args: string[]) =>
      execFileSync("trace-cmd", ["report", ...args, "-t", file], { encoding: "utf8" })
        .split("\n")
        .map((l) => lineRe.exec(l))
        .filter((m) => m !== null);
    // raw values by field name (-R): what the file holds, read by the outside reader
    const raw = report(["-R"]);
    assert.equal(raw.length, written.length, "events trace-cmd reads");
    written.forEach((i, k) => {
      const spec = EVENT_TABLE[ev.kind[i]];
      const m = raw[k];
      const at = `trace-cmd -R: ${WRITTEN_NAMES[spec.kind]}`;
      assert.equal(m[5], WRITTEN_NAMES[spec.kind], `${at}: name`);
      assert.equal(Number(m[1]), ev.currentTid[i], `${at}: pid`);
      assert.equal(Number(m[2]), ev.cpu[i], `${at}: cpu`);
      assert.equal(BigInt(m[3]) * 1_000_000_000n + BigInt(m[4]), TS_BASE + BigInt(ev.ts[i]), `${at}: ts`);
      const fields = new Map<string, string>();
      for (const part of m[6].trim().split(/ (?=[a-z_]+=)/)) {
        const eq = part.indexOf("=");
        if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
      }
      for (const f of spec.fields) {
        if (f.dat === undefined) continue;
        const got = fields.get(f.name);
        assert.ok(got !== undefined, `${at}: field ${f.name} in "${m[6]}"`);
        const col = columnOfField(spec, f);
        const v = col === undefined ? (f.value ?? 0) : ev.byIndex[COLUMNS.indexOf(col)][i];
        switch (f.type) {
          case FieldType.Comm:
            assert.equal(got, w.comms.get(v), `${at}: ${f.name}`);
            break;
          case FieldType.IrqName:
            assert.equal(got, w.irqNames.get(v), `${at}: ${f.name}`);
            break;
          case FieldType.State:
            assert.equal(Number(got), v === 0 ? 0x100 : v, `${at}: ${f.name}`);
            break;
          case FieldType.Address:
            assert.equal(BigInt(got), BigInt(v), `${at}: ${f.name}`);
            break;
          case FieldType.Symbol:
            // by the name the written kallsyms give it (hrtimer_start) or raw (hrtimer_expire_entry)
            assert.ok(got === SYMBOLS.name(v) || got === `0x${v.toString(16)}`, `${at}: ${f.name} = ${got}`);
            break;
          case FieldType.Time:
            assert.equal(BigInt(got), TS_BASE + BigInt(v), `${at}: ${f.name}`);
            break;
          default:
            assert.equal(BigInt.asIntN(32, BigInt(got)), BigInt(v), `${at}: ${f.name}`);
        }
      }
    });
    // print-fmt lines (-N, no plugins) against the text writer's lines
    const printed = report(["-N"]).map((m) => `${m[5]}: ${m[6].trim()}`);
    const ours = formatPerfettoText(w, TS_BASE, { symbols: SYMBOLS })
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.replace(/^.*?: (\w+: )/, "$1").trim());
    // trace-cmd prints exit's group_dead, which the text form leaves out as the kernel's own text does not need it
    assert.deepEqual(
      ours,
      printed.map((l) => l.replace(/ group_dead=false$/, "")),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every kind round-trips through the listing rows, JSON and the JSON import", () => {
  const w = oneOfEach();
  const ev = w.events;
  const wakeTs = ev.ts[0];
  const listed = JSON.parse(JSON.stringify(windowEventList(w, wakeTs, TS_BASE, SYMBOLS)));
  const back = windowEventsFromReport(
    { start: Number(TS_BASE), events: listed } as unknown as WorstWindow,
    TS_BASE,
  );
  assert.equal(back.events.length, ev.length);
  for (let i = 0; i < ev.length; i++) {
    const spec = EVENT_TABLE[ev.kind[i]];
    // kinds listed under another kind's name come back as that kind (task_newtask: `other`)
    const asKind = EVENT_TABLE.findIndex((s) => LISTED_NAMES[s.kind] === LISTED_NAMES[spec.kind]);
    if (asKind !== spec.kind) {
      assert.equal(back.events.kind[i], asKind, `${LISTED_NAMES[spec.kind]}: read back as ${asKind}`);
      continue;
    }
    const isListed = (f: FieldSpec) => f.unlisted !== true;
    compareEvent(ev, i, back.events, i, back.tsBase, back.symbols, isListed, "json");
    for (const f of spec.fields) {
      if (f.unlisted) continue;
      const col = columnOfField(spec, f);
      const v = col === undefined ? 0 : ev.byIndex[COLUMNS.indexOf(col)][i];
      if (f.type === FieldType.Comm) assert.equal(back.comms.get(v), w.comms.get(v), `json: ${f.name}`);
      if (f.type === FieldType.IrqName)
        assert.equal(back.irqNames.get(v), w.irqNames.get(v), `json: ${f.name}`);
    }
  }
});
