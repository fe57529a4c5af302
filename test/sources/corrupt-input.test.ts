// Corrupt and truncated input (issue 12, "Corrupt input", items 14 and 15), one test per class
// of input the fuzz campaign (scripts/fuzz.ts) found a defect with, each made small: the
// fixtures with a few bytes changed or cut. Where a test needs to know where an event or a
// sub-buffer is, a small reader written here from FORMATS.md (§1.6, §3.2) finds it, never
// rtscope's own reader.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { SelectionMatcher } from "../../src/analysis/selection-matcher.ts";
import { TaskTable } from "../../src/analysis/task-table.ts";
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import type { DiagnosticEntry } from "../../src/model/diagnostics.ts";
import { PID_LIMIT } from "../../src/model/id-limits.ts";
import type { Report } from "../../src/model/report.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { openSource } from "../../src/sources/open-source.ts";
import { rtscopeBin } from "../helpers/cli.ts";
import { fixturesDir } from "../helpers/paths.ts";
import { buildV7, SAMPLE_META } from "./trace-dat-container-builder.ts";

const dir = mkdtempSync(join(tmpdir(), "rtscope-corrupt-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const V6 = join(fixturesDir, "trace-dat/cpu-load/trace.v6.dat");
const TEXT = join(fixturesDir, "text/tracefs-mono.txt");

function put(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function analyse(path: string): Promise<Report> {
  const { report } = await analyzeTrace(path, {
    selection: emptySelection(),
    slo: {},
    worstN: 0,
    wakeupEvent: "wakeup",
    windows: false,
  });
  return report;
}

function diag(r: Report, key: string): DiagnosticEntry | undefined {
  return r.diagnostics.find((d) => d.key === key);
}

/** The file offsets a diagnostic's details name ("offset N: ..."). */
function offsetsOf(d: DiagnosticEntry): number[] {
  return d.details.map((x) => Number(/^offset (\d+)/.exec(x)?.[1] ?? Number.NaN));
}

/** The CLI, with room for a loaded machine (the shared helper stops at 60 s). */
function rtscope(...args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [rtscopeBin, ...args], { encoding: "utf8", timeout: 600_000 });
  return { code: r.status, stderr: r.stderr };
}

async function openError(path: string): Promise<TraceFormatError> {
  try {
    const s = await openSource(path);
    s.close();
  } catch (e) {
    assert.ok(e instanceof TraceFormatError, `a TraceFormatError, got ${e}`);
    return e;
  }
  assert.fail(`${path} opened`);
}

// --- a reference reader of v6 files (FORMATS.md §3.2 step 14, §1.6), little-endian, 64-bit ---

interface RefPage {
  cpu: number;
  offset: number;
  /** payload offsets of the data events */
  events: number[];
}

/** Every sub-buffer of every CPU of a v6 file with 4096-byte pages and its data events. */
function refPages(d: Buffer): RefPage[] {
  const fly = d.lastIndexOf("flyrecord\0");
  const optionsTag = d.indexOf("options  \0");
  const cpus = d.readUInt32LE((optionsTag > 0 && optionsTag < fly ? optionsTag : fly) - 4);
  const out: RefPage[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const offset = Number(d.readBigUInt64LE(fly + 10 + 16 * cpu));
    const size = Number(d.readBigUInt64LE(fly + 10 + 16 * cpu + 8));
    for (let p = offset; p < offset + size; p += 4096) {
      const commit = d.readUInt32LE(p + 8) & 0x07ffffff;
      const events: number[] = [];
      let pos = p + 16;
      const end = p + 16 + commit;
      while (pos < end) {
        const w = d.readUInt32LE(pos);
        const typeLen = w & 0x1f;
        if (typeLen >= 1 && typeLen <= 28) {
          events.push(pos + 4);
          pos += 4 + 4 * typeLen;
        } else if (typeLen === 0) {
          events.push(pos + 8);
          pos += 8 + ((d.readUInt32LE(pos + 4) - 4 + 3) & ~3);
        } else if (typeLen === 29) {
          if (w >>> 5 === 0) break;
          pos += 4 + d.readUInt32LE(pos + 4);
        } else pos += 8;
      }
      out.push({ cpu, offset: p, events });
    }
  }
  return out;
}

/** The event id and the offset of a field in its format, read from the format text in the file. */
function fieldOf(d: Buffer, event: string, field: string): { id: number; offset: number } {
  const at = d.indexOf(`name: ${event}\nID: `);
  const text = d.subarray(at, d.indexOf("print fmt:", at)).toString("latin1");
  const id = Number(/ID: (\d+)/.exec(text)![1]);
  const offset = Number(new RegExp(`\\b${field};\\s*offset:(\\d+);`).exec(text)![1]);
  return { id, offset };
}

// --- ids that would size arrays ---

test("text: a thread id beyond pid_max's range is a per-event diagnostic with its offset, not an allocation", async () => {
  const text = readFileSync(TEXT, "latin1");
  const line = text.indexOf("sched_wakeup: comm=rcu_preempt pid=15 ");
  const lineStart = text.lastIndexOf("\n", line) + 1;
  const bad = text.replace(
    "sched_wakeup: comm=rcu_preempt pid=15 ",
    "sched_wakeup: comm=rcu_preempt pid=4294967297 ",
  );
  const r = await analyse(put("tid.txt", Buffer.from(bad, "latin1")));
  const d = diag(r, "tid_out_of_range");
  assert.ok(d, "tid_out_of_range diagnostic");
  assert.equal(d.count, 1);
  assert.equal(d.severity, "data-loss");
  assert.deepEqual(offsetsOf(d), [lineStart]);
  assert.match(d.message, /4194303/);
  assert.equal(r.source.lostEvents, 1, "the dropped event counts as lost");
});

test("text: a CPU column or target_cpu out of range is counted with its offsets, the rest analysed", async () => {
  const text = readFileSync(TEXT, "latin1");
  const lines = text.split("\n");
  const first = lines.findIndex((l) => l.includes("] ") && l.includes(": sched_switch: "));
  const wake = lines.findIndex((l, i) => i > first && l.includes("target_cpu=000"));
  lines[first] = lines[first].replace(/\[00(\d)\]/, "[4294967301]");
  lines[wake] = lines[wake].replace("target_cpu=000", "target_cpu=2147483647");
  const offsetOf = (i: number) => Buffer.byteLength(lines.slice(0, i).join("\n")) + (i > 0 ? 1 : 0);
  const good = await analyse(TEXT);
  const r = await analyse(put("cpu.txt", Buffer.from(lines.join("\n"), "latin1")));
  const d = diag(r, "cpu_out_of_range");
  assert.ok(d, "cpu_out_of_range diagnostic");
  assert.equal(d.count, 2);
  assert.deepEqual(offsetsOf(d), [offsetOf(first), offsetOf(wake)]);
  assert.equal(r.source.cpus, 2);
  assert.equal(r.source.events, good.source.events, "every line still counts (the two as lost records)");
});

test("trace.dat: a next_pid of 0x7fffffff in a sched_switch is dropped and counted at its file offset", async () => {
  const d = Buffer.from(readFileSync(V6));
  const sw = fieldOf(d, "sched_switch", "next_pid");
  const pages = refPages(d);
  const payload = pages.flatMap((p) => p.events).find((e) => d.readUInt16LE(e) === sw.id)!;
  d.writeInt32LE(0x7fffffff, payload + sw.offset);
  const r = await analyse(put("next-pid.dat", d));
  const dg = diag(r, "tid_out_of_range");
  assert.ok(dg);
  assert.equal(dg.count, 1);
  assert.deepEqual(offsetsOf(dg), [payload]);
});

test("analysis: a thread id past the kernel's range is refused before it sizes the task table", () => {
  const table = new TaskTable(new SelectionMatcher(emptySelection(), true), 2, new Map());
  assert.throws(() => table.create(PID_LIMIT, -1), /thread id 4194304 is outside the kernel's range/);
  assert.equal(table.create(PID_LIMIT - 1, -1).tid, PID_LIMIT - 1);
});

// --- item 14: a bad sub-buffer ---

test("trace.dat: a corrupt sub-buffer is skipped and counted as a loss at its offset; --strict makes it fatal", async () => {
  const d = Buffer.from(readFileSync(V6));
  const pages = refPages(d);
  const victim = pages.filter((p) => p.cpu === 1 && p.events.length > 0)[2];
  const total = pages.reduce((n, p) => n + p.events.length, 0);
  d.writeUInt32LE(0x07ffffff, victim.offset + 8); // commit size far past the page
  const path = put("bad-page.dat", d);
  const r = await analyse(path);
  const dg = diag(r, "corrupt_subbuffer");
  assert.ok(dg, "corrupt_subbuffer diagnostic");
  assert.equal(dg.cpu, 1);
  assert.equal(dg.count, 1);
  assert.deepEqual(offsetsOf(dg), [victim.offset + 8]);
  // every event of the other pages, plus one lost-events record for the skipped page
  assert.equal(r.source.events, total - victim.events.length + 1);
  assert.equal(r.source.lostEvents, -1, "the number of events lost in the page is unknown");

  const loose = rtscope("report", path, "--format", "json", "--windows", "none");
  assert.equal(loose.code, 0, loose.stderr);
  assert.match(
    loose.stderr,
    /warning: .*bad-page\.dat: corrupt data: 1 corrupt sub-buffer.* on CPU 1 \(first at offset \d+\).*--strict/,
  );
  const strict = rtscope("report", path, "--strict", "--windows", "none");
  assert.equal(strict.code, 2);
  assert.match(strict.stderr, new RegExp(`bad-page\\.dat: at offset ${victim.offset + 8} .*commit size`));
});

test("trace.dat v7: a chunk that does not decompress is skipped, the rest of the CPU's data is read", async () => {
  const page = (ts: number): Uint8Array => {
    // one sub-buffer with one 8-byte print-like event of id 5 (the sample's ftrace print)
    const b = Buffer.alloc(4096);
    b.writeBigUInt64LE(BigInt(ts), 0);
    b.writeUInt32LE(12, 8);
    b.writeUInt32LE(2, 16); // type_len 2, delta 0
    b.writeUInt16LE(5, 20);
    return b;
  };
  const data = Buffer.concat([page(1000), page(2000), page(3000)]);
  const file = Buffer.from(
    buildV7({
      algo: "zstd",
      buffers: [{ name: "", clock: "mono", cpus: [{ cpu: 0, data }], chunkPages: 1 }],
    }),
  );
  // the second chunk's zstd magic (28 b5 2f fd) broken
  const magic = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
  const chunks: number[] = [];
  for (let at = file.indexOf(magic); at >= 0; at = file.indexOf(magic, at + 1)) chunks.push(at);
  const second = chunks[chunks.length - 2];
  file[second] ^= 0xff;
  const src = await openSource(put("bad-chunk.dat", file));
  const seen: number[] = [];
  await src.run({ handle: (rec) => seen.push(rec.kind) });
  src.close();
  const dg = src.diagnostics.get("corrupt_subbuffer", 0);
  assert.ok(dg);
  assert.deepEqual(offsetsOf(dg), [second - 8], "the chunk's header offset");
  assert.equal(seen.length, 3, "first page's event, the loss, third page's event");
});

// --- errors name the file and a byte offset ---

test("trace.dat v6: a broken format line is reported at its own file offset", async () => {
  const d = Buffer.from(readFileSync(V6));
  const at = d.indexOf("\tfield:pid_t next_pid;\toffset:56;\tsize:4;");
  d.write("sixe", d.indexOf("size", at));
  const e = await openError(put("bad-format.dat", d));
  assert.equal(e.offset, at);
  assert.match(e.message, /bad-format\.dat: at offset \d+ .*sched_switch line \d+: cannot read field line/);
});

test("trace.dat v6 cut after 500 bytes says where it ends and what was being read", async () => {
  const e = await openError(put("cut500.dat", readFileSync(V6).subarray(0, 500)));
  assert.match(e.message, /truncated at byte 500 while reading /);
  assert.doesNotMatch(e.message, /absurd/);
});

test("trace.dat v6 cut inside the trace data says it is truncated", async () => {
  const e = await openError(put("cut-data.dat", readFileSync(V6).subarray(0, 200000)));
  assert.match(e.message, /truncated at byte 200000 while reading the data of CPU \d/);
});

// --- v7 sections that decompress far beyond what they can be ---

test("trace.dat v7: a kallsyms section declaring 65 MiB is refused before it is decompressed", async () => {
  const big = 65 * 1024 * 1024;
  const meta = { ...SAMPLE_META, kallsyms: "0".repeat(big) };
  const file = buildV7({ algo: "zstd", meta, buffers: [{ name: "", clock: "mono", cpus: [] }] });
  assert.ok(file.length < 1024 * 1024, "a small file");
  const e = await openError(put("bomb.dat", file));
  assert.match(
    e.message,
    /kallsyms section declares 68157444 bytes: more than it can sensibly hold \(at most \d+\)/,
  );
  assert.ok(e.offset > 0);
});
