// Decodes the public raw trace_pipe_raw captures (google/schedviz test data) with the event
// layouts given in schedviz's traceparser test, written here as format files. Ground truth:
// the event counts per id in shared/traces/public/README.md and field values read by hand
// from the hex of the first records.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EventCatalog } from "../../src/decode/event-catalog.ts";
import { parseFormat } from "../../src/decode/format-file.ts";
import { parseHeaderPage } from "../../src/decode/header-page.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import { type EventRecord, StrSlot } from "../../src/model/event.ts";
import { EventKind, TaskState } from "../../src/model/event-kind.ts";
import { CpuMerge, type PageRef, type PageSource } from "../../src/sources/cpu-merge.ts";
import { publicTraces } from "../helpers/paths.ts";
import { COMMON_FIELDS } from "./common-fields.ts";

const rawDir = join(publicTraces, "raw-pages");
const skip = existsSync(rawDir) ? false : "shared traces not available";

const COMMON_RT = `${COMMON_FIELDS}	field:unsigned short common_migrate_disable;	offset:8;	size:2;	signed:0;
	field:unsigned short common_padding;	offset:10;	size:2;	signed:0;
`;
const STATE_FMT = `print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, REC->prev_state & (2048-1) ? __print_flags(REC->prev_state & (2048-1), "|", { 1, "S"} , { 2, "D" }, { 4, "T" }, { 8, "t" }, { 16, "Z" }, { 32, "X" }, { 64, "x" }, { 128, "K" }, { 256, "W" }, { 512, "P" }, { 1024, "N" }) : "R", REC->prev_state & 2048 ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio`;

function sw(id: number, common: string, base: number, stateSize: number): string {
  const o = (n: number) => base + n;
  return `name: sched_switch
ID: ${id}
format:
${common}
	field:char prev_comm[16];	offset:${o(0)};	size:16;	signed:1;
	field:pid_t prev_pid;	offset:${o(16)};	size:4;	signed:1;
	field:int prev_prio;	offset:${o(20)};	size:4;	signed:1;
	field:long prev_state;	offset:${o(24)};	size:${stateSize};	signed:1;
	field:char next_comm[16];	offset:${o(24 + stateSize)};	size:16;	signed:1;
	field:pid_t next_pid;	offset:${o(40 + stateSize)};	size:4;	signed:1;
	field:int next_prio;	offset:${o(44 + stateSize)};	size:4;	signed:1;

${STATE_FMT}
`;
}

function wake(name: string, id: number, common: string, base: number): string {
  return `name: ${name}
ID: ${id}
format:
${common}
	field:char comm[16];	offset:${base};	size:16;	signed:1;
	field:pid_t pid;	offset:${base + 16};	size:4;	signed:1;
	field:int prio;	offset:${base + 20};	size:4;	signed:1;
	field:int success;	offset:${base + 24};	size:4;	signed:1;
	field:int target_cpu;	offset:${base + 28};	size:4;	signed:1;

print fmt: "comm=%s pid=%d prio=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->target_cpu
`;
}

function headerPage(longSize: number): string {
  return `	field: u64 timestamp;	offset:0;	size:8;	signed:0;
	field: local_t commit;	offset:8;	size:${longSize};	signed:1;
	field: int overwrite;	offset:8;	size:1;	signed:1;
	field: char data;	offset:${8 + longSize};	size:${4096 - 8 - longSize};	signed:0;
`;
}

class FilePages implements PageSource {
  private pos = 0;
  private readonly ref: PageRef;
  private readonly buf: Uint8Array;
  private readonly pageSize: number;
  constructor(buf: Uint8Array, pageSize: number) {
    this.buf = buf;
    this.pageSize = pageSize;
    this.ref = { data: buf, start: 0, length: pageSize, fileOffset: 0 };
  }
  nextPage(): PageRef | null {
    if (this.pos >= this.buf.length) return null;
    this.ref.start = this.pos;
    this.ref.fileOffset = this.pos;
    this.pos += this.pageSize;
    return this.ref;
  }
}

function decodeFile(file: string, longSize: 4 | 8, formats: string[]) {
  const buf = new Uint8Array(readFileSync(join(rawDir, file)));
  const layout = parseHeaderPage(headerPage(longSize), true);
  const diag = new Diagnostics();
  const catalog = new EventCatalog(
    formats.map((t) => parseFormat(t, "sched")),
    layout,
    file,
    diag,
  );
  const base = new DataView(buf.buffer).getBigUint64(0, true);
  const merge = new CpuMerge(
    [{ cpu: 0, source: new FilePages(buf, 4096) }],
    layout,
    catalog,
    diag,
    file,
    base,
  );
  const counts = new Map<number, number>();
  const firsts = new Map<number, string>();
  let lastTs = Number.NEGATIVE_INFINITY;
  let decreasing = 0;
  merge.run({
    handle(rec: EventRecord) {
      counts.set(rec.id, (counts.get(rec.id) ?? 0) + 1);
      if (rec.ts < lastTs) decreasing++;
      lastTs = rec.ts;
      if (!firsts.has(rec.id)) {
        firsts.set(
          rec.id,
          rec.kind === EventKind.SchedSwitch
            ? `${rec.str(StrSlot.Comm)}:${rec.prevTid}:${rec.prevPrio}:${rec.prevState} ==> ${rec.str(StrSlot.Comm2)}:${rec.nextTid}:${rec.nextPrio}`
            : `${rec.str(StrSlot.EventName)} ${rec.str(StrSlot.Comm)}:${rec.tid}:${rec.prio}:cpu${rec.targetCpu}`,
        );
      }
    },
  });
  return { counts, firsts, decreasing, diag, events: merge.events };
}

describe("raw sub-buffers from schedviz", { skip }, () => {
  it("64-bit: 1366 events = 779 sched_switch + 587 sched_wakeup, time non-decreasing", () => {
    const r = decodeFile("schedviz_cpu0_64bit.raw", 8, [
      sw(297, COMMON_FIELDS, 8, 8),
      wake("sched_wakeup", 299, COMMON_FIELDS, 8),
      wake("sched_wakeup_new", 298, COMMON_FIELDS, 8),
    ]);
    assert.equal(r.events, 1366);
    assert.deepEqual(Object.fromEntries(r.counts), { 297: 779, 299: 587 });
    assert.equal(r.decreasing, 0);
    assert.equal(r.firsts.get(299), "sched:sched_wakeup mcollectived:726:120:cpu0");
    assert.equal(r.firsts.get(297), "cat:10937:120:0 ==> mcollectived:726:120");
    assert.equal(r.diag.total("unknown_event"), 0);
  });

  it("32-bit (PREEMPT_RT common fields, 4-byte prev_state): 63 events = 39 + 23 + 1", () => {
    const r = decodeFile("schedviz_cpu0_32bit.raw", 4, [
      sw(221, COMMON_RT, 16, 4),
      wake("sched_wakeup", 223, COMMON_RT, 16),
      wake("sched_wakeup_new", 222, COMMON_RT, 16),
    ]);
    assert.equal(r.events, 63);
    assert.deepEqual(Object.fromEntries(r.counts), { 221: 39, 223: 23, 222: 1 });
    assert.equal(r.decreasing, 0);
    assert.equal(r.firsts.get(221), `rcuc/0:10:120:${TaskState.Interruptible} ==> rcu_preempt:8:120`);
    assert.equal(r.firsts.get(223), "sched:sched_wakeup rcu_sched:9:120:cpu0");
    assert.equal(r.firsts.get(222), "sched:sched_wakeup_new sh:648:120:cpu0");
  });
});
