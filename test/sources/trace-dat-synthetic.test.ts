// trace.dat files built here (container layout from the container tests' builder, pages from
// test/decode/page-builder.ts): big-endian 32-bit kernels, v7 zlib with two instances, lost
// events, progress and abort. Ground truth: the bytes written; where trace-cmd is installed,
// also its own reading of the same files.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { analyzeSource } from "../../src/analysis/pipeline.ts";
import { type EventRecord, StrSlot } from "../../src/model/event.ts";
import { EventKind, TaskState } from "../../src/model/event-kind.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { openTraceDat } from "../../src/sources/trace-dat.ts";
import { TraceDatFile } from "../../src/sources/trace-dat-container.ts";
import { COMMON_FIELDS } from "../decode/common-fields.ts";
import { PageBuilder } from "../decode/page-builder.ts";
import { buildV6, buildV7, type Meta, textOpt } from "./trace-dat-container-builder.ts";

const tmp = mkdtempSync(join(tmpdir(), "rtscope-tdat-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const TRACE_CMD = "/usr/bin/trace-cmd";

// 32-bit kernel: prev_state is a 4-byte long (FORMATS.md §5.5)
const SWITCH = `name: sched_switch
ID: 68
format:
${COMMON_FIELDS}
	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
	field:int prev_prio;	offset:28;	size:4;	signed:1;
	field:long prev_state;	offset:32;	size:4;	signed:1;
	field:char next_comm[16];	offset:36;	size:16;	signed:0;
	field:pid_t next_pid;	offset:52;	size:4;	signed:1;
	field:int next_prio;	offset:56;	size:4;	signed:1;

print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, REC->prev_state & (1024-1) ? __print_flags(REC->prev_state & (1024-1), "|", { 1, "S"} , { 2, "D" }, { 4, "T" }, { 8, "t" }, { 16, "Z" }, { 32, "X" }, { 64, "x" }, { 128, "K" }, { 256, "W" }, { 512, "P" }) : "R", REC->prev_state & 1024 ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio
`;
const WAKEUP = `name: sched_wakeup
ID: 70
format:
${COMMON_FIELDS}
	field:char comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:int prio;	offset:28;	size:4;	signed:1;
	field:int success;	offset:32;	size:4;	signed:1;
	field:int target_cpu;	offset:36;	size:4;	signed:1;

print fmt: "comm=%s pid=%d prio=%d success=%d target_cpu=%03d", REC->comm, REC->pid, REC->prio, REC->success, REC->target_cpu
`;
const PRINT = `name: print
ID: 5
format:
${COMMON_FIELDS}
	field:unsigned long ip;	offset:8;	size:4;	signed:0;
	field:char buf[];	offset:12;	size:0;	signed:0;

print fmt: "%ps: %s", (void *)REC->ip, REC->buf
`;

function headerPage(longSize: 4 | 8): string {
  return (
    "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n" +
    `\tfield: local_t commit;\toffset:8;\tsize:${longSize};\tsigned:1;\n` +
    "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n" +
    `\tfield: char data;\toffset:${8 + longSize};\tsize:${4088 - longSize};\tsigned:0;\n`
  );
}

function meta(longSize: 4 | 8): Meta {
  return {
    headerPage: headerPage(longSize),
    headerEvent:
      "# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n\tpadding     : type == 29\n\ttime_extend : type == 30\n\ttime_stamp : type == 31\n\tdata max type_len  == 28\n",
    ftrace: [PRINT],
    systems: [{ name: "sched", events: [SWITCH, WAKEUP] }],
    kallsyms: "c0100000 T _stext\nc0123400 t hrtimer_wakeup\n",
    printk: "",
    cmdlines: "42 cyclictest\n7 ksoftirqd/0\n",
  };
}

/** Record bytes in the given byte order. */
function rec(
  le: boolean,
  id: number,
  pid: number,
  body: (v: DataView, b: Uint8Array) => void,
  size: number,
): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint16(0, id, le);
  b[2] = 1;
  v.setInt32(4, pid, le);
  body(v, b);
  return b;
}
const put = (b: Uint8Array, at: number, s: string) => {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
};

function wakeup(le: boolean, pid: number, tid: number, cpu: number): Uint8Array {
  return rec(
    le,
    70,
    pid,
    (v, b) => {
      put(b, 8, "cyclictest");
      v.setInt32(24, tid, le);
      v.setInt32(28, 19, le);
      v.setInt32(32, 1, le);
      v.setInt32(36, cpu, le);
    },
    40,
  );
}

function sw(le: boolean, prev: number, state: number, next: number): Uint8Array {
  return rec(
    le,
    68,
    prev,
    (v, b) => {
      put(b, 8, prev === 0 ? "swapper/0" : "cyclictest");
      v.setInt32(24, prev, le);
      v.setInt32(28, 120, le);
      v.setInt32(32, state, le);
      put(b, 36, next === 0 ? "swapper/0" : "cyclictest");
      v.setInt32(52, next, le);
      v.setInt32(56, 19, le);
    },
    60,
  );
}

function printRec(le: boolean, text: string): Uint8Array {
  return rec(
    le,
    5,
    1,
    (v, b) => {
      v.setUint32(8, 0xc0100000, le);
      put(b, 12, text);
    },
    12 + text.length + 1,
  );
}

/** Two CPUs, 32-bit kernel; CPU 1's second page lost 12 events. Times relative to 1e12 ns. */
function cpuPages(le: boolean, longSize: 4 | 8): Uint8Array[] {
  const T = 1_000_000_000_000n;
  const o = { littleEndian: le, longSize, subBufferSize: 4096 };
  const c0a = new PageBuilder(o)
    .timestamp(T)
    .data(0, wakeup(le, 7, 42, 0))
    .data(500, sw(le, 0, 0, 42))
    .extend(3_000_000_000n)
    .data(0, sw(le, 42, 1, 0));
  const c0b = new PageBuilder(o)
    .timestamp(T + 3_000_001_000n)
    .data(0, wakeup(le, 0, 42, 0))
    .build();
  const c1a = new PageBuilder(o)
    .timestamp(T + 250n)
    .data(0, sw(le, 0, 1024, 7))
    .padding(3, 8)
    .data(7, sw(le, 7, 2, 0));
  const c1b = new PageBuilder(o)
    .timestamp(T + 2_000_000_000n)
    .missed(12)
    .data(10, wakeup(le, 0, 7, 1));
  const cat = (...pages: Uint8Array[]) => {
    const out = new Uint8Array(pages.length * 4096);
    pages.forEach((p, i) => {
      out.set(p, i * 4096);
    });
    return out;
  };
  return [cat(c0a.build(), c0b), cat(c1a.build(), c1b.build())];
}

// in merged order (T = 1e12): page times + deltas, the padding's delta 3 included, the
// time extend of 3 s on CPU 0; CPU 1's loss right after its last event before the gap, with
// the gap's end (the flagged page's timestamp: the lost events were on pages before it)
const EXPECTED = [
  "0 1000000000000 sched_wakeup 42",
  "1 1000000000250 sched_switch 0>7",
  "1 1000000000260 sched_switch 7>0",
  "1 1000000000260 lost 12 until 1002000000000",
  "0 1000000000500 sched_switch 0>42",
  "1 1002000000010 sched_wakeup 7",
  "0 1003000000500 sched_switch 42>0",
  "0 1003000001000 sched_wakeup 42",
];

async function read(path: string, opts?: { buffer?: string; pagesPerRead?: number }) {
  const src = await openTraceDat(path, opts);
  const out: string[] = [];
  const states: number[] = [];
  const comms = new Set<string>();
  await src.run({
    handle(r: EventRecord) {
      const abs = src.info.tsBase + BigInt(r.ts);
      if (r.kind === EventKind.LostEvents)
        out.push(`${r.cpu} ${abs} lost ${r.lostCount} until ${src.info.tsBase + BigInt(r.lostUntil)}`);
      else if (r.kind === EventKind.SchedSwitch) {
        out.push(`${r.cpu} ${abs} sched_switch ${r.prevTid}>${r.nextTid}`);
        states.push(r.prevState);
        comms.add(r.str(StrSlot.Comm2));
      } else if (r.kind === EventKind.SchedWakeup) out.push(`${r.cpu} ${abs} sched_wakeup ${r.tid}`);
      else out.push(`${r.cpu} ${abs} ${r.str(StrSlot.EventName)}`);
    },
  });
  src.close();
  return { src, out, states, comms };
}

describe("synthetic trace.dat files", () => {
  for (const le of [false, true]) {
    it(`v6 ${le ? "little" : "big"}-endian, 32-bit kernel: events, lost events, old prev_state, metadata`, async () => {
      const path = join(tmp, `v6-${le ? "le" : "be"}.dat`);
      writeFileSync(
        path,
        buildV6({
          littleEndian: le,
          longSize: 4,
          meta: meta(4),
          cpus: 2,
          options: [],
          cpuData: cpuPages(le, 4),
        }),
      );
      const r = await read(path);
      assert.deepEqual(r.out, EXPECTED);
      assert.deepEqual(r.states, [0, TaskState.Uninterruptible, 0, TaskState.Interruptible]);
      assert.ok(r.comms.has("cyclictest") && r.comms.has("swapper/0"));
      assert.equal(r.src.info.tsBase, 1_000_000_000_000n);
      assert.equal(r.src.initialComms.get(42), "cyclictest");
      assert.equal(r.src.symbols.hrtimerWakeupKey, 0xc0123400);
      assert.equal(r.src.diagnostics.get("lost_events", 1)?.count, 12);
      assert.match(r.src.info.format, /^trace\.dat v6, top buffer/);
      const one = await read(path, { pagesPerRead: 1 });
      assert.deepEqual(one.out, r.out);
    });
  }

  it("v7 zlib with two instances: picks the one with sched events, or the one named", async () => {
    const le = true;
    const T = 5_000_000n;
    const top = new PageBuilder({ littleEndian: le, longSize: 8 })
      .timestamp(T)
      .data(0, printRec(le, "hello"))
      .data(5, printRec(le, "x"))
      .build();
    const path = join(tmp, "v7-zlib.dat");
    writeFileSync(
      path,
      buildV7({
        littleEndian: le,
        meta: meta(8),
        algo: "zlib",
        options: [textOpt(5, "Linux host 6.1.0-rt x86_64")],
        buffers: [
          { name: "", clock: "mono", cpus: [{ cpu: 0, data: top }] },
          {
            name: "rt",
            clock: "mono",
            cpus: cpuPages(le, 8).map((data, cpu) => ({ cpu, data })),
            chunkPages: 1,
          },
        ],
      }),
    );
    const r = await read(path);
    assert.match(r.src.info.format, /^trace\.dat v7 zlib, buffer "rt" of 2/);
    assert.equal(r.src.info.clock, "mono");
    assert.equal(r.src.info.kernel, "6.1.0-rt x86_64");
    assert.equal(r.out.length, EXPECTED.length);
    const t = await read(path, { buffer: "" });
    assert.deepEqual(t.out, ["0 5000000 ftrace:print", "0 5000005 ftrace:print"]);
  });

  it("progress ends at the total; an aborted signal stops the run", async () => {
    const path = join(tmp, "v6-progress.dat");
    writeFileSync(
      path,
      buildV6({
        littleEndian: true,
        longSize: 4,
        meta: meta(4),
        cpus: 2,
        options: [],
        cpuData: cpuPages(true, 4),
      }),
    );
    const src = await openTraceDat(path);
    let last = { bytes: 0, totalBytes: 0, events: 0 };
    await src.run({ handle() {} }, { onProgress: (p) => (last = p) });
    assert.deepEqual(last, { bytes: 4 * 4096, totalBytes: 4 * 4096, events: 8 });
    src.close();
    const again = await openTraceDat(path);
    await assert.rejects(again.run({ handle() {} }, { signal: AbortSignal.abort() }), /abort/i);
    again.close();
  });

  it("a corrupt sub-buffer names the file and offset (the chunk's when compressed)", async () => {
    const bad = new PageBuilder({ littleEndian: true, longSize: 8 })
      .timestamp(1n)
      .data(0, printRec(true, "a"))
      .commit(5000)
      .build();
    const good = new PageBuilder({ littleEndian: true, longSize: 8 })
      .timestamp(0n)
      .data(0, printRec(true, "b"))
      .build();
    const data = new Uint8Array(8192);
    data.set(good, 0);
    data.set(bad, 4096);
    const v6 = join(tmp, "bad-v6.dat");
    writeFileSync(
      v6,
      buildV6({ littleEndian: true, longSize: 8, meta: meta(8), cpus: 1, options: [], cpuData: [data] }),
    );
    const f = TraceDatFile.open(v6);
    const cpu0 = f.meta.buffers[0].cpus[0].offset;
    f.close();
    // by default the bad sub-buffer is skipped and counted with its offset; --strict refuses it
    const lenient = await openTraceDat(v6);
    await lenient.run({ handle() {} });
    const d = lenient.diagnostics.get("corrupt_subbuffer", 0);
    assert.ok(d, "counted as a corrupt sub-buffer");
    assert.match(d.details[0], new RegExp(`^offset ${cpu0 + 4096 + 8}: .*commit size 5000`));
    lenient.close();
    const s6 = await openTraceDat(v6, { strict: true });
    await assert.rejects(
      s6.run({ handle() {} }),
      (e: unknown) =>
        e instanceof TraceFormatError && e.offset === cpu0 + 4096 + 8 && /commit size 5000/.test(e.message),
    );
    s6.close();
    const v7 = join(tmp, "bad-v7.dat");
    writeFileSync(
      v7,
      buildV7({
        meta: meta(8),
        algo: "zstd",
        buffers: [{ name: "", clock: "mono", cpus: [{ cpu: 0, data }], chunkPages: 1 }],
      }),
    );
    const s7 = await openTraceDat(v7, { strict: true });
    await assert.rejects(
      s7.run({ handle() {} }),
      (e: unknown) =>
        e instanceof TraceFormatError && /decompressed from the chunk/.test(e.message) && e.offset > 0,
    );
    s7.close();
  });

  it("trace-cmd reads the big-endian file the same way", {
    skip: existsSync(TRACE_CMD) ? false : "trace-cmd not installed",
  }, async () => {
    const path = join(tmp, "v6-be-tc.dat");
    writeFileSync(
      path,
      buildV6({
        littleEndian: false,
        longSize: 4,
        meta: meta(4),
        cpus: 2,
        options: [],
        cpuData: cpuPages(false, 4),
      }),
    );
    const text = execFileSync(TRACE_CMD, ["report", "-t", path], {
      encoding: "latin1",
      stdio: ["ignore", "pipe", "pipe"],
    });
    // trace-cmd prints a loss before the CPU's first event after the gap; rtscope places it
    // at the gap's start (that CPU's previous event) with the gap's end (no later than that
    // first event): compare the events, and each loss by its CPU and where it ends
    const theirs: string[] = [];
    const theirLosses: string[] = [];
    let pendingLost = -1;
    for (const line of text.split("\n")) {
      const m = /\[(\d+)\] +(\d+)\.(\d{9}): +(\w+):/.exec(line);
      if (m) {
        const ts = BigInt(m[2]) * 1_000_000_000n + BigInt(m[3]);
        theirs.push(`${Number(m[1])} ${ts} ${m[4]}`);
        if (pendingLost === Number(m[1])) {
          theirLosses.push(`${pendingLost} before ${ts}`);
          pendingLost = -1;
        }
      } else if (/CPU:(\d+) \[12 EVENTS DROPPED\]/.test(line))
        pendingLost = Number(/CPU:(\d+)/.exec(line)![1]);
    }
    const r = await read(path);
    const ours = r.out.filter((l) => !l.includes(" lost ")).map((l) => l.split(" ").slice(0, 3).join(" "));
    const ourLosses = r.out
      .filter((l) => l.includes(" lost "))
      .map((l) => {
        const f = l.split(" ");
        const until = BigInt(f[5]);
        const next = r.out
          .map((x) => x.split(" "))
          .find((x) => x[0] === f[0] && x[2] !== "lost" && BigInt(x[1]) >= until);
        assert.ok(BigInt(f[1]) <= until);
        return `${f[0]} before ${next?.[1]}`;
      });
    assert.deepEqual(ours, theirs);
    assert.deepEqual(ourLosses, theirLosses);
    assert.equal(ourLosses.length, 1);
  });
});

describe("a loss on one CPU inside an activation that ends on another", () => {
  it("cuts the activation (the loss spans from the CPU's last event to its next page)", async () => {
    const le = true;
    const T = 1_000_000_000_000n;
    const o = { littleEndian: le, longSize: 8 as const, subBufferSize: 4096 };
    // CPU 0: task 42 sleeps at T, woken at T+200, runs from T+700, sleeps at T+20.2 us
    // (inside CPU 1's gap); woken again at T+60.2 us (after the gap), runs 61.2 .. 62.2 us
    const c0 = new PageBuilder(o)
      .timestamp(T)
      .data(0, sw(le, 42, 1, 0))
      .data(200, wakeup(le, 7, 42, 0))
      .data(500, sw(le, 0, 0, 42))
      .data(19_500, sw(le, 42, 1, 0))
      .data(40_000, wakeup(le, 0, 42, 0))
      .data(1_000, sw(le, 0, 0, 42))
      .data(1_000, sw(le, 42, 1, 0))
      .build();
    // CPU 1: last event before the gap at T+1 us; the next page (T+50 us) says 5 were lost
    const c1a = new PageBuilder(o)
      .timestamp(T + 100n)
      .data(0, printRec(le, "a"))
      .data(900, printRec(le, "b"))
      .build();
    const c1b = new PageBuilder(o)
      .timestamp(T + 50_000n)
      .missed(5)
      .data(0, printRec(le, "c"))
      .build();
    const c1 = new Uint8Array(8192);
    c1.set(c1a, 0);
    c1.set(c1b, 4096);
    const path = join(tmp, "loss-across-cpus.dat");
    writeFileSync(
      path,
      buildV6({ littleEndian: le, meta: meta(8), cpus: 2, options: [], cpuData: [c0, c1] }),
    );
    const src = await openTraceDat(path);
    const report = await analyzeSource(src, { selection: { ...emptySelection(), tids: [42] } });
    src.close();
    const t = report.tasks.find((x) => x.tid === 42)!;
    // by hand from the events written above: latencies 500 and 1000 ns (both end before or
    // after the gap [T+1 us, T+50 us]); responses 20 us (overlaps the gap: cut) and 2 us
    assert.equal(t.metrics.latency?.count, 2);
    assert.equal(t.metrics.latency?.max, 1000);
    assert.equal(t.metrics.response?.count, 1);
    assert.equal(t.metrics.response?.max, 2000);
    assert.equal(t.counters.incomplete, 1);
    assert.equal(t.counters.cut?.lostEvents, 1);
  });
});
