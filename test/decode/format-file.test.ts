import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  evalConstExpr,
  FormatParseError,
  parseFormat,
  prevStateTable,
} from "../../src/decode/format-file.ts";
import { HeaderPageError, parseHeaderPage } from "../../src/decode/header-page.ts";
import { foldAddress, foldHexAddress, KallsymsTable } from "../../src/decode/kallsyms.ts";
import { TaskState } from "../../src/model/event-kind.ts";

// Verbatim from events/sched/sched_switch/format on Linux 6.18 (FORMATS.md §2.3)
const SWITCH_618 = `name: sched_switch
ID: 372
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
	field:int prev_prio;	offset:28;	size:4;	signed:1;
	field:long prev_state;	offset:32;	size:8;	signed:1;
	field:char next_comm[16];	offset:40;	size:16;	signed:0;
	field:pid_t next_pid;	offset:56;	size:4;	signed:1;
	field:int next_prio;	offset:60;	size:4;	signed:1;

print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, { 0x00000008, "t" }, { 0x00000010, "X" }, { 0x00000020, "Z" }, { 0x00000040, "P" }, { 0x00000080, "I" }) : "R", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio
`;

// print fmt of lisa_sched_load.v6.dat (old kernel: N = 1024, + = 4096)
const OLD_PRINT =
  '"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, REC->prev_state & (4096-1) ? __print_flags(REC->prev_state & (4096-1), "|", { 1, "S"} , { 2, "D" }, { 4, "T" }, { 8, "t" }, { 16, "Z" }, { 32, "X" }, { 64, "x" }, { 128, "K" }, { 256, "W" }, { 512, "P" }, { 1024, "N" }) : "R", REC->prev_state & 4096 ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio';

describe("format files", () => {
  it("parses name, ID, common and event fields, print fmt", () => {
    const f = parseFormat(SWITCH_618, "sched");
    assert.equal(f.name, "sched_switch");
    assert.equal(f.id, 372);
    assert.equal(f.fields.length, 11);
    assert.deepEqual(
      f.fields.filter((x) => x.common).map((x) => x.name),
      ["common_type", "common_flags", "common_preempt_count", "common_pid"],
    );
    const comm = f.fields.find((x) => x.name === "prev_comm")!;
    assert.equal(comm.kind, "array");
    assert.equal(comm.count, 16);
    assert.equal(comm.elementSize, 1);
    assert.equal(comm.isString, true);
    const state = f.fields.find((x) => x.name === "prev_state")!;
    assert.deepEqual([state.kind, state.offset, state.size, state.signed], ["scalar", 32, 8, true]);
    assert.ok(f.printFmt.startsWith('"prev_comm=%s'));
  });

  it("every field kind: __data_loc, __rel_loc, flex, 2-byte dynamic, ARM char[32] size 16, missing signed", () => {
    const f = parseFormat(
      `name: demo
ID: 7
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] name;	offset:8;	size:4;	signed:0;
	field:__rel_loc u64[] vals;	offset:12;	size:4;	signed:0;
	field:char prev_comm[32];	offset:16;	size:16;	signed:1;
	field:unsigned long caller[8];	offset:32;	size:32;	signed:0;
	field:int old_field;	offset:64;	size:4;
	field:unsigned int uold;	offset:68;	size:4;
	field:__data_loc char[] oldstr;	offset:72;	size:2;	signed:0;
	field special:unsigned long stack[FTRACE_STACK_ENTRIES];	offset:76;	size:16;	signed:0;
	field:char buf[];	offset:92;	size:0;	signed:0;

print fmt: "x"
`,
      "demo",
    );
    const by = new Map(f.fields.map((x) => [x.name, x]));
    assert.equal(by.get("name")!.kind, "dataLoc");
    assert.equal(by.get("name")!.isString, true);
    assert.equal(by.get("name")!.type, "__data_loc char[]");
    assert.equal(by.get("vals")!.kind, "relLoc");
    assert.equal(by.get("vals")!.elementSize, 8);
    assert.deepEqual([by.get("prev_comm")!.count, by.get("prev_comm")!.elementSize], [16, 1]);
    assert.deepEqual([by.get("caller")!.count, by.get("caller")!.elementSize], [8, 4]);
    assert.deepEqual([by.get("old_field")!.signed, by.get("old_field")!.signedGiven], [true, false]);
    assert.equal(by.get("uold")!.signed, false);
    assert.deepEqual([by.get("oldstr")!.kind, by.get("oldstr")!.size], ["dataLoc", 2]);
    assert.equal(by.get("stack")!.kind, "array");
    assert.equal(by.get("buf")!.kind, "flex");
  });

  it("errors name the format and the line", () => {
    assert.throws(
      () => parseFormat("name: x\nID: 3\nformat:\n\tfield:int a;\toffset:zz;\n", "sys"),
      (e: unknown) => e instanceof FormatParseError && /sys:x line 4/.test(e.message),
    );
    assert.throws(() => parseFormat("name: x\nformat:\n", "sys"), /sys:x: no 'ID:'/);
    assert.throws(
      () => parseFormat("name: y\nID: 1\n\tfield:__data_loc char[] s;\toffset:8;\tsize:8;\tsigned:0;\n", "s"),
      /s:y line 3: dynamic field 's' has size 8/,
    );
  });
});

describe("prev_state tables", () => {
  it("modern (6.18): identity bits, + = 0x100", () => {
    const t = prevStateTable(parseFormat(SWITCH_618, "sched").printFmt);
    assert.equal(t.modern, true);
    assert.equal(t.preemptBit, 0x100);
    assert.equal(t.letters.length, 8);
    assert.equal(t.normalise(0x100), 0); // R+
    assert.equal(t.normalise(0x1), TaskState.Interruptible);
    assert.equal(t.normalise(0x80), TaskState.Idle);
    assert.equal(t.normalise(0x2 | 0x100), TaskState.Uninterruptible);
  });

  it("old (LISA): Z=16 X=32 x=64 K=128 W=256 P=512 N=1024, + = 4096", () => {
    const t = prevStateTable(OLD_PRINT);
    assert.equal(t.modern, false);
    assert.equal(t.preemptBit, 4096);
    assert.equal(t.normalise(4096), 0); // R+
    assert.equal(t.normalise(16), TaskState.Zombie);
    assert.equal(t.normalise(32), TaskState.Dead);
    assert.equal(t.normalise(512), TaskState.Parked);
    assert.equal(t.normalise(130), TaskState.Uninterruptible); // D|K
    assert.equal(t.normalise(1), TaskState.Interruptible);
  });

  it("constant expressions of print fmts", () => {
    assert.equal(evalConstExpr("(2048-1)"), 2047);
    assert.equal(evalConstExpr("(((0x00000000 | 0x00000001 | 0x00000040) + 1) << 1)"), 0x84);
    assert.ok(Number.isNaN(evalConstExpr("TASK_STATE_MAX")));
  });
});

describe("header_page", () => {
  it("64-bit and 32-bit kernels, 8 KiB sub-buffers", () => {
    const h64 = `\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;
\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;
\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;
\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;
`;
    assert.deepEqual(parseHeaderPage(h64, true), {
      littleEndian: true,
      kernelLongSize: 8,
      commitOffset: 8,
      dataOffset: 16,
      subBufferSize: 4096,
    });
    const h32 = h64
      .replace("size:8;\tsigned:1", "size:4;\tsigned:1")
      .replace("offset:16;\tsize:4080", "offset:12;\tsize:4084");
    assert.deepEqual(parseHeaderPage(h32, false), {
      littleEndian: false,
      kernelLongSize: 4,
      commitOffset: 8,
      dataOffset: 12,
      subBufferSize: 4096,
    });
    assert.equal(parseHeaderPage(h64.replace("size:4080", "size:8176"), true).subBufferSize, 8192);
  });

  it("empty header_page: pre-2.6.31 kernel, unsupported", () => {
    assert.throws(
      () => parseHeaderPage("", true),
      (e: unknown) => e instanceof HeaderPageError && /2\.6\.31/.test(e.message),
    );
  });
});

describe("kallsyms", () => {
  it("folds addresses to 53 bits", () => {
    assert.equal(foldAddress(0xffffffff, 0x81234560), 0x1fffff * 2 ** 32 + 0x81234560);
    assert.equal(foldHexAddress("ffffffff81234560"), foldAddress(0xffffffff, 0x81234560));
    assert.equal(foldHexAddress("c0123456"), 0xc0123456);
  });

  it("finds hrtimer_wakeup and names keys", () => {
    const text = [
      "ffffffff81000000 T _text",
      "ffffffff81234560 t hrtimer_wakeup",
      "ffffffff81234500 t hrtimer_wakeup_x",
      "ffffffff81234600 T do_nanosleep",
      "ffffffffc0001000 t mod_fn\t[mymod]",
      "",
    ].join("\n");
    const t = new KallsymsTable(text);
    assert.equal(t.hrtimerWakeupKey, foldHexAddress("ffffffff81234560"));
    assert.equal(t.name(t.hrtimerWakeupKey), "hrtimer_wakeup");
    assert.equal(t.name(foldHexAddress("ffffffff81234604")), "do_nanosleep+0x4");
    assert.equal(t.name(foldHexAddress("ffffffffc0001000")), "mod_fn");
    assert.equal(t.name(5), "");
    assert.equal(new KallsymsTable("").hrtimerWakeupKey, -1);
  });

  it("is fast on a 10 MB kallsyms", () => {
    const lines: string[] = [];
    for (let i = 0; i < 300_000; i++) {
      lines.push(
        `ffffffff8${(0x1000000 + i * 16).toString(16).padStart(7, "0")} t some_kernel_function_${i}`,
      );
    }
    lines.splice(250_000, 0, "ffffffff8a000000 t hrtimer_wakeup");
    const text = lines.join("\n");
    assert.ok(text.length > 10e6);
    const t0 = performance.now();
    const t = new KallsymsTable(text);
    const found = performance.now() - t0;
    assert.equal(t.hrtimerWakeupKey, foldHexAddress("ffffffff8a000000"));
    // generous bounds: CI machines are shared; construction only scans for one name
    assert.ok(found < 1000, `construction took ${found} ms`);
    assert.equal(t.name(foldHexAddress("ffffffff81000010")), "some_kernel_function_1");
    assert.ok(performance.now() - t0 < 20000);
  });
});
