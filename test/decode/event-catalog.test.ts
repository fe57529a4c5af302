import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventCatalog } from "../../src/decode/event-catalog.ts";
import { parseFormat } from "../../src/decode/format-file.ts";
import { foldAddress } from "../../src/decode/kallsyms.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import { EventRecord, StrSlot } from "../../src/model/event.ts";
import { EventKind, TaskState } from "../../src/model/event-kind.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { COMMON_FIELDS, layout64 } from "./common-fields.ts";

/** [system, format file text] of one event. */
function fmt(system: string, name: string, id: number, fields: string, print = '"x"'): [string, string] {
  const body = fields
    .trim()
    .split("\n")
    .map((l) => `\t${l.trim()}`)
    .join("\n");
  return [system, `name: ${name}\nID: ${id}\nformat:\n${COMMON_FIELDS}\n${body}\n\nprint fmt: ${print}\n`];
}

const FORMATS: [string, string][] = [
  fmt(
    "sched",
    "sched_wakeup",
    10,
    `field:char comm[16];	offset:8;	size:16;	signed:0;
    field:pid_t pid;	offset:24;	size:4;	signed:1;
    field:int prio;	offset:28;	size:4;	signed:1;
    field:int success;	offset:32;	size:4;	signed:1;
    field:int target_cpu;	offset:36;	size:4;	signed:1;`,
  ),
  fmt(
    "sched",
    "sched_waking",
    11,
    `field:char comm[16];	offset:8;	size:16;	signed:0;
    field:pid_t pid;	offset:24;	size:4;	signed:1;
    field:int prio;	offset:28;	size:4;	signed:1;
    field:int target_cpu;	offset:32;	size:4;	signed:1;`,
  ),
  fmt(
    "sched",
    "sched_switch",
    12,
    `field:char prev_comm[16];	offset:8;	size:16;	signed:0;
    field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
    field:int prev_prio;	offset:28;	size:4;	signed:1;
    field:long prev_state;	offset:32;	size:4;	signed:1;
    field:char next_comm[16];	offset:36;	size:16;	signed:0;
    field:pid_t next_pid;	offset:52;	size:4;	signed:1;
    field:int next_prio;	offset:56;	size:4;	signed:1;`,
    '"", REC->prev_state & (1024-1) ? __print_flags(REC->prev_state & (1024-1), "|", { 1, "S"} , { 2, "D" }, { 4, "T" }, { 8, "t" }, { 16, "Z" }, { 32, "X" }, { 64, "x" }, { 128, "K" }, { 256, "W" }, { 512, "P" }) : "R", REC->prev_state & 1024 ? "+" : ""',
  ),
  fmt(
    "sched",
    "sched_migrate_task",
    13,
    `field:__data_loc char[] comm;	offset:8;	size:4;	signed:0;
    field:pid_t pid;	offset:12;	size:4;	signed:1;
    field:int prio;	offset:16;	size:4;	signed:1;
    field:int orig_cpu;	offset:20;	size:4;	signed:1;
    field:int dest_cpu;	offset:24;	size:4;	signed:1;`,
  ),
  fmt(
    "sched",
    "sched_process_fork",
    14,
    `field:__data_loc char[] parent_comm;	offset:8;	size:4;	signed:0;
    field:pid_t parent_pid;	offset:12;	size:4;	signed:1;
    field:__data_loc char[] child_comm;	offset:16;	size:4;	signed:0;
    field:pid_t child_pid;	offset:20;	size:4;	signed:1;`,
  ),
  fmt(
    "irq",
    "irq_handler_entry",
    20,
    `field:int irq;	offset:8;	size:4;	signed:1;
    field:__data_loc char[] name;	offset:12;	size:4;	signed:0;`,
  ),
  fmt(
    "timer",
    "hrtimer_start",
    30,
    `field:void * hrtimer;	offset:8;	size:8;	signed:0;
    field:void * function;	offset:16;	size:8;	signed:0;
    field:s64 expires;	offset:24;	size:8;	signed:1;
    field:s64 softexpires;	offset:32;	size:8;	signed:1;
    field:enum hrtimer_mode mode;	offset:40;	size:4;	signed:0;`,
  ),
  fmt(
    "timer",
    "hrtimer_expire_entry",
    31,
    `field:void * hrtimer;	offset:8;	size:8;	signed:0;
    field:s64 now;	offset:16;	size:8;	signed:1;
    field:void * function;	offset:24;	size:8;	signed:0;`,
  ),
  fmt(
    "syscalls",
    "sys_enter_clock_nanosleep",
    40,
    `field:int __syscall_nr;	offset:8;	size:4;	signed:1;
    field:const clockid_t which_clock;	offset:16;	size:8;	signed:0;
    field:int flags;	offset:24;	size:8;	signed:0;`,
  ),
  fmt("syscalls", "sys_enter_nanosleep", 41, "field:int __syscall_nr;	offset:8;	size:4;	signed:1;"),
  fmt(
    "syscalls",
    "sys_exit_clock_nanosleep",
    42,
    `field:int __syscall_nr;	offset:8;	size:4;	signed:1;
    field:long ret;	offset:16;	size:8;	signed:1;`,
  ),
  fmt(
    "demo",
    "rel",
    50,
    `field:__rel_loc char[] msg;	offset:8;	size:4;	signed:0;
    field:u64 big;	offset:12;	size:8;	signed:0;`,
  ),
];

function catalogFor(le: boolean) {
  const diag = new Diagnostics();
  const cat = new EventCatalog(
    FORMATS.map(([s, t]) => parseFormat(t, s)),
    layout64(le),
    "t.dat",
    diag,
  );
  return { cat, diag };
}

/** Writes a record: common fields then `put` callbacks at offsets. */
class Rec {
  readonly b = new Uint8Array(96);
  readonly v = new DataView(this.b.buffer);
  readonly le: boolean;
  constructor(le: boolean, id: number, pid: number) {
    this.le = le;
    this.v.setUint16(0, id, le);
    this.b[2] = 0x09;
    this.b[3] = 0x02;
    this.v.setInt32(4, pid, le);
  }
  i32(o: number, x: number): this {
    this.v.setInt32(o, x, this.le);
    return this;
  }
  u64(o: number, x: bigint): this {
    this.v.setBigUint64(o, BigInt.asUintN(64, x), this.le);
    return this;
  }
  str(o: number, s: string): this {
    for (let i = 0; i < s.length; i++) this.b[o + i] = s.charCodeAt(i);
    return this;
  }
  loc(o: number, at: number, len: number): this {
    this.v.setUint32(o, ((len << 16) | at) >>> 0, this.le);
    return this;
  }
}

function fill(cat: EventCatalog, r: Rec, length = r.b.length, fileOffset = 1000): EventRecord {
  const rec = new EventRecord();
  cat.fill(rec, r.b, r.v, 0, length, fileOffset);
  return rec;
}

for (const le of [true, false]) {
  describe(`event catalog (${le ? "LE" : "BE"})`, () => {
    const { cat, diag } = catalogFor(le);

    it("common fields and sched_wakeup with `success` (target_cpu @36)", () => {
      const rec = fill(
        cat,
        new Rec(le, 10, 77).str(8, "cyclictest").i32(24, 4028).i32(28, 19).i32(32, 1).i32(36, 1),
      );
      assert.equal(rec.kind, EventKind.SchedWakeup);
      assert.deepEqual([rec.currentTid, rec.flags, rec.preemptCount], [77, 0x09, 0x02]);
      assert.deepEqual([rec.tid, rec.prio, rec.targetCpu], [4028, 19, 1]);
      assert.equal(rec.str(StrSlot.Comm), "cyclictest");
      assert.equal(rec.str(StrSlot.EventName), "sched:sched_wakeup");
      assert.equal(cat.fieldValue(rec, "success"), 1);
    });

    it("sched_waking without `success` (target_cpu @32)", () => {
      const rec = fill(cat, new Rec(le, 11, 1).str(8, "a").i32(24, 5).i32(28, 120).i32(32, 3));
      assert.deepEqual([rec.kind, rec.tid, rec.prio, rec.targetCpu], [EventKind.SchedWaking, 5, 120, 3]);
    });

    it("sched_switch with 4-byte prev_state and an old state table", () => {
      const mk = (state: number) =>
        fill(
          cat,
          new Rec(le, 12, 5)
            .str(8, "prev")
            .i32(24, 5)
            .i32(28, 120)
            .i32(32, state)
            .str(36, "nextnextnextnext")
            .i32(52, 6)
            .i32(56, 19),
        );
      const rec = mk(1024);
      assert.equal(rec.kind, EventKind.SchedSwitch);
      assert.deepEqual(
        [rec.prevTid, rec.prevPrio, rec.prevState, rec.nextTid, rec.nextPrio],
        [5, 120, 0, 6, 19],
      );
      assert.equal(rec.str(StrSlot.Comm), "prev");
      assert.equal(rec.str(StrSlot.Comm2), "nextnextnextnext"); // full 16 chars, no NUL
      assert.equal(mk(16).prevState, TaskState.Zombie);
      assert.equal(mk(32).prevState, TaskState.Dead);
      assert.equal(mk(2).prevState, TaskState.Uninterruptible);
    });

    it("sched_migrate_task with __data_loc comm", () => {
      const rec = fill(
        cat,
        new Rec(le, 13, 0).loc(8, 28, 7).i32(12, 42).i32(16, 120).i32(20, 0).i32(24, 1).str(28, "kworker"),
      );
      assert.deepEqual(
        [rec.kind, rec.tid, rec.prio, rec.origCpu, rec.targetCpu],
        [EventKind.SchedMigrateTask, 42, 120, 0, 1],
      );
      assert.equal(rec.str(StrSlot.Comm), "kworker");
    });

    it("sched_process_fork: parent/child", () => {
      const rec = fill(
        cat,
        new Rec(le, 14, 9)
          .loc(8, 24, 5)
          .i32(12, 9)
          .loc(16, 29, 6)
          .i32(20, 10)
          .str(24, "bash\0")
          .str(29, "child\0"),
      );
      assert.deepEqual([rec.kind, rec.parentTid, rec.tid], [EventKind.SchedProcessFork, 9, 10]);
      assert.equal(rec.str(StrSlot.Comm), "child");
      assert.equal(rec.str(StrSlot.Comm2), "bash");
    });

    it("irq_handler_entry name; a bad __data_loc throws with the file offset", () => {
      const ok = fill(cat, new Rec(le, 20, 0).i32(8, 24).loc(12, 16, 9).str(16, "virtio0\0"));
      assert.deepEqual([ok.kind, ok.irq], [EventKind.IrqHandlerEntry, 24]);
      assert.equal(ok.str(StrSlot.IrqName), "virtio0");
      const bad = fill(cat, new Rec(le, 20, 0).i32(8, 24).loc(12, 90, 30), 96, 5000);
      assert.throws(
        () => bad.str(StrSlot.IrqName),
        (e: unknown) =>
          e instanceof TraceFormatError && e.offset === 5012 && /__data_loc field name/.test(e.message),
      );
    });

    it("hrtimer_start: folded addresses, expires relative to a base beyond 2^53, exact", () => {
      const base = 1_750_000_000_123_456_789n; // tai-like
      cat.setBase(base);
      const rec = fill(
        cat,
        new Rec(le, 30, 3)
          .u64(8, 0xffff888003a1c0e8n)
          .u64(16, 0xffffffff81234560n)
          .u64(24, base + 500_001n)
          .u64(32, base + 450_000n)
          .i32(40, 1),
      );
      assert.equal(rec.kind, EventKind.HrtimerStart);
      assert.equal(rec.timerKey, foldAddress(0xffff8880, 0x03a1c0e8));
      assert.equal(rec.timerFn, foldAddress(0xffffffff, 0x81234560));
      assert.equal(rec.expires, 500_001);
      assert.equal(rec.softExpires, 450_000);
      assert.equal(rec.timerMode, 1);
      const entry = fill(
        cat,
        new Rec(le, 31, 0)
          .u64(8, 0xffff888003a1c0e8n)
          .u64(16, base - 7n)
          .u64(24, 0xffffffff81234560n),
      );
      assert.equal(entry.now, -7);
      assert.equal(entry.timerKey, rec.timerKey);
      assert.equal(cat.fieldValue(entry, "now"), base - 7n);
      cat.setBase(0n);
    });

    it("syscalls: clock_nanosleep clock/flags, nanosleep -1, exit ret", () => {
      const e = fill(cat, new Rec(le, 40, 8).i32(8, 230).u64(16, 1n).u64(24, 1n));
      assert.deepEqual([e.kind, e.sleepClock, e.sleepFlags], [EventKind.SysEnterSleep, 1, 1]);
      const n = fill(cat, new Rec(le, 41, 8).i32(8, 35));
      assert.deepEqual([n.kind, n.sleepClock], [EventKind.SysEnterSleep, -1]);
      const x = fill(cat, new Rec(le, 42, 8).i32(8, 230).u64(16, -4n));
      assert.deepEqual([x.kind, x.sysRet], [EventKind.SysExitSleep, -4]);
    });

    it("__rel_loc strings and generic access", () => {
      // rel_loc offset counts from the end of the field (8 + 4): data at 12 + 8 = 20
      const rec = fill(cat, new Rec(le, 50, 1).loc(8, 8, 3).u64(12, 0xffffffffffffffffn).str(20, "hi\0"));
      assert.equal(rec.kind, EventKind.Other);
      assert.equal(cat.fieldValue(rec, "msg"), "hi");
      assert.equal(cat.fieldValue(rec, "big"), 0xffffffffffffffffn);
      assert.deepEqual(
        cat.fields(rec).map((f) => [f.name, f.value]),
        [
          ["common_type", 50],
          ["common_flags", 9],
          ["common_preempt_count", 2],
          ["common_pid", 1],
          ["msg", "hi"],
          ["big", 0xffffffffffffffffn],
        ],
      );
      assert.equal(cat.fieldValue(rec, "nope"), undefined);
    });

    it("unknown event ids: Other, counted once per id", () => {
      const a = fill(cat, new Rec(le, 999, 4));
      fill(cat, new Rec(le, 999, 4));
      assert.deepEqual([a.kind, a.id, a.currentTid], [EventKind.Other, 999, 4]);
      assert.equal(a.str(StrSlot.EventName), "unknown:999");
      assert.equal(diag.total("unknown_event"), 1);
    });

    it("a record shorter than its format throws", () => {
      assert.throws(
        () => fill(cat, new Rec(le, 12, 0), 20, 64),
        (e: unknown) => e instanceof TraceFormatError && e.offset === 64,
      );
    });
  });
}

describe("format texts of systems the analysis does not use", () => {
  // as a trace.dat gives them: raw texts; xfs and ftrace are read only when an id needs them
  const texts = () => [
    ...FORMATS.map(([system, text]) => ({ system, text })),
    { system: "xfs", text: fmt("xfs", "xfs_thing", 700, "field:int v;	offset:8;	size:4;	signed:1;")[1] },
    { system: "xfs", text: "a format whose name and ID lines were lost\n" },
    { system: "ftrace", text: fmt("ftrace", "print", 5, "field:int n;	offset:8;	size:4;	signed:1;")[1] },
  ];

  it("decodes their events when they turn up, by id and by name", () => {
    const diag = new Diagnostics();
    const cat = new EventCatalog(texts(), layout64(true), "t.dat", diag);
    // the unreadable text is counted once the formats of unused systems are read, not before
    assert.equal(diag.total("bad_format"), 0);
    const rec = fill(cat, new Rec(true, 700, 3).i32(8, -17));
    assert.deepEqual([rec.kind, rec.str(StrSlot.EventName)], [EventKind.Other, "xfs:xfs_thing"]);
    assert.equal(cat.fieldValue(rec, "v"), -17);
    assert.equal(diag.total("bad_format"), 1);
    assert.equal(diag.total("unknown_event"), 0);
    assert.equal(cat.findByName("ftrace:print")?.format.id, 5);
    assert.equal(cat.findByName("sched:sched_wakeup")?.format.id, 10);
  });

  it("an id no format has is still an unknown event", () => {
    const diag = new Diagnostics();
    const cat = new EventCatalog(texts(), layout64(false), "t.dat", diag);
    assert.equal(fill(cat, new Rec(false, 701, 3)).kind, EventKind.Other);
    assert.equal(diag.total("unknown_event"), 1);
    assert.equal(cat.findByName("xfs_thing")?.format.id, 700);
  });
});
