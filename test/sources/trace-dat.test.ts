// Every binary trace in shared/ against trace-cmd's own reading of it: the same events, in
// the same order, on the same CPUs, at the same nanosecond; and on the recorded trace the
// decoded fields against `trace-cmd report -R` (raw field values).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { foldHexAddress } from "../../src/decode/kallsyms.ts";
import { type EventRecord, StrSlot } from "../../src/model/event.ts";
import { EventKind, taskStateFromLetters } from "../../src/model/event-kind.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { openTraceDat, type TraceDatSource } from "../../src/sources/trace-dat.ts";
import { publicTraces, recordedTraces } from "../helpers/paths.ts";

const TRACE_CMD = "/usr/bin/trace-cmd";
const haveTraceCmd = existsSync(TRACE_CMD);
const files = [
  ...(existsSync(publicTraces)
    ? readdirSync(publicTraces)
        .filter((f) => f.endsWith(".dat"))
        .map((f) => join(publicTraces, f))
    : []),
  ...(existsSync(join(recordedTraces, "stress-ng-cyclic.v7zstd.dat"))
    ? [join(recordedTraces, "stress-ng-cyclic.v7zstd.dat")]
    : []),
];
const recorded = join(recordedTraces, "stress-ng-cyclic.v7zstd.dat");

function report(file: string, raw: boolean): string[] {
  const out = execFileSync(TRACE_CMD, ["report", "-t", ...(raw ? ["-R"] : []), file], {
    maxBuffer: 1 << 30,
    encoding: "latin1",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return out.split("\n");
}

const LINE = /-(\d+) +\[(\d+)\] +(\d+)\.(\d{9}): +([^:]+): *(.*)$/;

interface Expected {
  keys: string[];
  dropped: number;
}

function expected(file: string): Expected {
  const keys: string[] = [];
  let dropped = 0;
  for (const line of report(file, false)) {
    if (/^(\S+: +)?CPU:\d+ \[.*EVENTS DROPPED\]/.test(line)) {
      dropped++;
      continue;
    }
    const m = LINE.exec(line);
    if (m) keys.push(`${Number(m[2])} ${m[3]}.${m[4]}`);
  }
  return { keys, dropped };
}

function absText(base: bigint, rel: number): string {
  const abs = base + BigInt(rel);
  return `${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, "0")}`;
}

async function decode(file: string, pagesPerRead?: number) {
  const src = (await openTraceDat(file, { pagesPerRead })) as TraceDatSource;
  const keys: string[] = [];
  let lost = 0;
  const base = src.info.tsBase;
  await src.run({
    handle(r: EventRecord) {
      if (r.kind === EventKind.LostEvents) lost++;
      else keys.push(`${r.cpu} ${absText(base, r.ts)}`);
    },
  });
  src.close();
  return { keys, lost, src };
}

function firstDifference(a: string[], b: string[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `first difference at event ${i}: trace-cmd "${b[i]}", rtscope "${a[i]}"`;
  }
  return "";
}

describe("trace.dat files against trace-cmd report -t", {
  skip: haveTraceCmd ? false : `${TRACE_CMD} not installed`,
}, () => {
  for (const file of files) {
    const name = file.split("/").pop();
    it(`${name}: every (cpu, ns timestamp) in order`, async () => {
      const exp = expected(file);
      const got = await decode(file);
      assert.ok(exp.keys.length > 0);
      assert.equal(got.keys.length, exp.keys.length, firstDifference(got.keys, exp.keys));
      assert.equal(firstDifference(got.keys, exp.keys), "");
      assert.equal(got.lost, exp.dropped);
    });
    it(`${name}: the same with one sub-buffer per read`, async () => {
      const exp = expected(file);
      // once in a clean-clone run trace-cmd's reading came back without events (rtscope's had
      // them all): say that, not a decode difference at event 0
      assert.ok(exp.keys.length > 0, `trace-cmd report -t ${name} printed no event line`);
      const got = await decode(file, 1);
      assert.equal(firstDifference(got.keys, exp.keys), "");
    });
  }
});

function fieldsOf(payload: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of payload.trim().split(/ +/)) {
    const eq = part.indexOf("=");
    if (eq > 0) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

const num = (s: string | undefined) =>
  s === undefined ? Number.NaN : s.startsWith("0x") ? Number.parseInt(s, 16) : Number(s);

describe("decoded fields against trace-cmd report -R", {
  skip: !haveTraceCmd
    ? `${TRACE_CMD} not installed`
    : existsSync(recorded)
      ? false
      : "recorded trace missing",
}, () => {
  it("stress-ng-cyclic.v7zstd.dat: sched, irq, timer and syscall fields of every event", async () => {
    const lines = report(recorded, true)
      .map((l) => LINE.exec(l))
      .filter((m) => m !== null);
    const src = (await openTraceDat(recorded)) as TraceDatSource;
    const base = src.info.tsBase;
    let i = 0;
    const checked = new Map<string, number>();
    const problems: string[] = [];
    await src.run({
      handle(r: EventRecord) {
        if (r.kind === EventKind.LostEvents) return;
        const m = lines[i++];
        const [, pid, , , , event, payload] = m;
        const f = fieldsOf(payload);
        const fail = (what: string, got: unknown, want: unknown) => {
          if (got !== want && problems.length < 10)
            problems.push(`event ${i - 1} ${event} ${what}: got ${got}, want ${want}`);
        };
        fail("common_pid", r.currentTid, Number(pid));
        fail("name", r.str(StrSlot.EventName).split(":")[1], event);
        switch (r.kind) {
          case EventKind.SchedSwitch:
            fail("prev_pid", r.prevTid, num(f.get("prev_pid")));
            fail("prev_prio", r.prevPrio, num(f.get("prev_prio")));
            fail("next_pid", r.nextTid, num(f.get("next_pid")));
            fail("next_prio", r.nextPrio, num(f.get("next_prio")));
            fail("prev_comm", r.str(StrSlot.Comm), f.get("prev_comm"));
            fail("next_comm", r.str(StrSlot.Comm2), f.get("next_comm"));
            fail("prev_state", r.prevState, num(f.get("prev_state")) & 0xff);
            break;
          case EventKind.SchedWakeup:
          case EventKind.SchedWaking:
          case EventKind.SchedWakeupNew:
            fail("pid", r.tid, num(f.get("pid")));
            fail("prio", r.prio, num(f.get("prio")));
            fail("target_cpu", r.targetCpu, num(f.get("target_cpu")));
            fail("comm", r.str(StrSlot.Comm), f.get("comm"));
            break;
          case EventKind.IrqHandlerEntry:
            fail("irq", r.irq, num(f.get("irq")));
            fail("name", r.str(StrSlot.IrqName), f.get("name"));
            break;
          case EventKind.SoftirqEntry:
          case EventKind.SoftirqExit:
          case EventKind.SoftirqRaise:
            fail("vec", r.vec, num(f.get("vec")));
            break;
          case EventKind.HrtimerStart:
            fail("hrtimer", r.timerKey, foldHexAddress(f.get("hrtimer") ?? ""));
            fail("expires", absText(base, r.expires).replace(".", "").replace(/^0+/, ""), f.get("expires"));
            fail("mode", r.timerMode, num(f.get("mode")));
            break;
          case EventKind.HrtimerExpireEntry:
            fail("hrtimer", r.timerKey, foldHexAddress(f.get("hrtimer") ?? ""));
            fail("now", absText(base, r.now).replace(".", "").replace(/^0+/, ""), f.get("now"));
            break;
          case EventKind.SysEnterSleep:
            if (event === "sys_enter_clock_nanosleep") {
              fail("which_clock", r.sleepClock, num(f.get("which_clock")));
              fail("flags", r.sleepFlags, num(f.get("flags")));
            }
            break;
          case EventKind.SysExitSleep:
            // -R prints the 8-byte ret unsigned
            fail("ret", r.sysRet, Number(BigInt.asIntN(64, BigInt(f.get("ret") ?? "0"))));
            break;
        }
        checked.set(event, (checked.get(event) ?? 0) + 1);
      },
    });
    assert.equal(i, lines.length);
    assert.deepEqual(problems, []);
    for (const e of [
      "sched_switch",
      "sched_wakeup",
      "sched_waking",
      "hrtimer_start",
      "hrtimer_expire_entry",
      "irq_handler_entry",
    ]) {
      assert.ok((checked.get(e) ?? 0) > 0, `no ${e} events checked`);
    }
    assert.equal(src.info.cpus, 2);
    assert.match(src.info.kernel, /^6\.18\.44/);
    assert.match(src.info.format, /^trace\.dat v7 zstd, buffer "shrec"/);
    assert.ok(src.initialComms.size > 0);
    assert.ok(src.symbols.hrtimerWakeupKey > 0);
    assert.equal(src.symbols.name(src.symbols.hrtimerWakeupKey), "hrtimer_wakeup");
    src.close();
  });
});

describe("trace.dat errors", () => {
  it("a missing file and a non-trace file are TraceFormatErrors naming the file", async () => {
    await assert.rejects(
      openTraceDat("/nonexistent/x.dat"),
      (e: unknown) => e instanceof TraceFormatError && /x\.dat/.test(e.message),
    );
    await assert.rejects(openTraceDat(join(publicTraces, "README.md")), TraceFormatError);
  });
  it("an unknown buffer name lists the buffers", {
    skip: existsSync(recorded) ? false : "recorded trace missing",
  }, async () => {
    await assert.rejects(openTraceDat(recorded, { buffer: "nope" }), /no buffer named "nope".*"shrec"/);
    const top = await openTraceDat(recorded, { buffer: "" });
    assert.match(top.info.format, /top buffer/);
    let n = 0;
    await top.run({ handle: () => n++ });
    assert.equal(n, 0);
    top.close();
  });
});

describe("sched_switch on old kernels against trace-cmd report -N (kernel print fmt)", {
  skip: haveTraceCmd ? false : `${TRACE_CMD} not installed`,
}, () => {
  for (const name of ["lisa_example_rtapp.v6.dat", "lisa_sched_load.v6.dat", "trappy_trace_idle.v6.dat"]) {
    const file = join(publicTraces, name);
    it(`${name}: pids, prios and prev_state letters of every sched_switch`, {
      skip: existsSync(file) ? false : "missing",
    }, async () => {
      const theirs: string[] = [];
      const out = execFileSync(TRACE_CMD, ["report", "-N", "-t", file], {
        maxBuffer: 1 << 30,
        encoding: "latin1",
        stdio: ["ignore", "pipe", "ignore"],
      });
      for (const line of out.split("\n")) {
        const m =
          / sched_switch: +prev_comm=.* prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=.* next_pid=(\d+) next_prio=(\d+)$/.exec(
            line,
          );
        if (m) theirs.push(`${m[1]}/${m[2]} ${taskStateFromLetters(m[3])} ${m[4]}/${m[5]}`);
      }
      const ours: string[] = [];
      const src = await openTraceDat(file);
      await src.run({
        handle(r: EventRecord) {
          if (r.kind === EventKind.SchedSwitch)
            ours.push(`${r.prevTid}/${r.prevPrio} ${r.prevState} ${r.nextTid}/${r.nextPrio}`);
        },
      });
      src.close();
      assert.ok(theirs.length > 0);
      assert.equal(firstDifference(ours, theirs), "");
    });
  }
});
