// The ftrace text source on public traces (LISA trace-cmd 2.x -R text, trappy systrace HTML),
// with expected values taken from the raw lines by an independent regex.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EventKind, TaskState } from "../../src/model/event-kind.ts";
import { absoluteTs } from "../../src/model/units.ts";
import { publicTraces, sharedAvailable } from "../helpers/paths.ts";
import { collect, countBy, oracleLines, oracleNs, readText } from "./ftrace-text-helpers.ts";

const skip = sharedAvailable() ? false : "shared public traces not available (../shared/traces/public)";

const OLD_TABLE_EXPECTED: Record<number, number> = {
  0: 0,
  1: TaskState.Interruptible,
  2: TaskState.Uninterruptible,
  64: TaskState.Dead, // old x = TASK_DEAD
  130: TaskState.Uninterruptible, // D|K
  4096: 0, // TASK_STATE_MAX alone = preempted (R+), per the trace's README
};

const KERNEL_LETTERS: Record<string, number> = {
  R: 0,
  "R+": 0,
  S: TaskState.Interruptible,
  D: TaskState.Uninterruptible,
  I: TaskState.Idle,
  x: TaskState.Dead, // old kernels' TASK_DEAD letter (a task's last switch)
};

describe("lisa_sched_report_raw.txt (trace-cmd 2.x, -R)", { skip }, () => {
  const path = join(publicTraces, "lisa_sched_report_raw.txt");

  test("event counts per kind and source info", async () => {
    const { src, events } = await collect(path);
    assert.equal(events.length, 2941);
    assert.deepEqual(
      countBy(events, (e) => e.name),
      {
        sched_switch: 1856,
        sched_wakeup: 1068,
        print: 14,
        sched_overutilized: 3,
      },
    );
    assert.deepEqual(
      countBy(events, (e) => String(e.kind)),
      {
        [EventKind.SchedSwitch]: 1856,
        [EventKind.SchedWakeup]: 1068,
        [EventKind.Other]: 17,
      },
    );
    assert.equal(src.info.format, "trace-cmd report");
    assert.equal(src.info.kind, "text");
    assert.equal(src.info.cpus, 6);
    assert.equal(src.info.tsResolutionNs, 1000);
    assert.equal(src.info.clockIsNs, true);
    assert.equal(src.info.tsBase, 76_000_000_000n);
    assert.deepEqual(src.diagnostics.list(), []);
  });

  test("every line's cpu, pid, timestamp and sched fields match the raw text", async () => {
    const { src, events } = await collect(path);
    const lines = oracleLines(readText(path));
    assert.equal(lines.length, events.length);
    const states = new Set<number>();
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      const e = events[i];
      assert.equal(e.cpu, l.cpu, `line ${i}`);
      assert.equal(e.currentTid, l.pid, `line ${i}`);
      assert.equal(BigInt(absoluteTs(src.info.tsBase, e.ts)), oracleNs(l), `line ${i}`);
      assert.equal(e.name, l.event);
      if (l.event === "sched_switch") {
        const m =
          /^prev_comm=(.*) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\d+) next_comm=(.*) next_pid=(\d+) next_prio=(\d+)$/.exec(
            l.payload,
          );
        assert.ok(m, l.payload);
        assert.equal(e.comm, m[1]);
        assert.equal(e.prevTid, Number(m[2]));
        assert.equal(e.prevPrio, Number(m[3]));
        const raw = Number(m[4]);
        states.add(raw);
        assert.equal(e.prevState, OLD_TABLE_EXPECTED[raw], `prev_state=${raw}`);
        assert.equal(e.comm2, m[5]);
        assert.equal(e.nextTid, Number(m[6]));
        assert.equal(e.nextPrio, Number(m[7]));
      } else if (l.event === "sched_wakeup") {
        const m = /^comm=(.*) pid=(\d+) prio=(\d+) success=1 target_cpu=(\d+)$/.exec(l.payload);
        assert.ok(m, l.payload);
        assert.equal(e.comm, m[1]);
        assert.equal(e.tid, Number(m[2]));
        assert.equal(e.prio, Number(m[3]));
        assert.equal(e.targetCpu, Number(m[4]));
      }
    }
    // the file really holds every value of the old table's decoding above
    assert.deepEqual(
      [...states].sort((a, b) => a - b),
      [0, 1, 2, 64, 130, 4096],
    );
  });

  test("the first sched_switch, by hand", async () => {
    // <...>-1701  [001]    76.211513: sched_switch: prev_comm=trace-cmd prev_pid=1701 prev_prio=120
    //   prev_state=64 next_comm=swapper/1 next_pid=0 next_prio=120
    const { events } = await collect(path);
    const e = events[0];
    assert.equal(e.kind, EventKind.SchedSwitch);
    assert.equal(e.cpu, 1);
    assert.equal(e.ts, 211_513_000);
    assert.equal(e.currentTid, 1701);
    assert.equal(e.flags, -1); // no flags column in this file
    assert.equal(e.comm, "trace-cmd");
    assert.equal(e.prevState, TaskState.Dead);
    assert.equal(e.comm2, "swapper/1");
    assert.equal(e.nextTid, 0);
  });

  test("forcing the new prev_state table reads 4096 differently (the rule matters)", async () => {
    const { events } = await collect(path, { stateTable: "new" });
    const preempted = events.find((e) => e.kind === EventKind.SchedSwitch && e.prevTid === 1642);
    assert.ok(preempted);
    // 4096 & 0xff = 0 here as well, but 64 (TASK_DEAD in the old table) becomes P in the new one
    const first = events[0];
    assert.equal(first.prevState, TaskState.Parked);
  });
});

describe("trappy_surfaceflinger_systrace.html", { skip }, () => {
  const path = join(publicTraces, "trappy_surfaceflinger_systrace.html");

  test("event counts per kind and source info", async () => {
    const { src, events } = await collect(path);
    assert.equal(events.length, 2506);
    assert.deepEqual(
      countBy(events, (e) => e.name),
      {
        sched_switch: 715,
        cpu_idle: 621,
        sched_wakeup: 421,
        sugov_set_iowait_boost: 366,
        tracing_mark_write: 160,
        cpu_frequency: 104,
        clock_set_rate: 88,
        sched_blocked_reason: 31,
      },
    );
    assert.equal(countBy(events, (e) => String(e.kind))[EventKind.SchedSwitch], 715);
    assert.equal(countBy(events, (e) => String(e.kind))[EventKind.SchedWakeup], 421);
    assert.equal(src.info.format, "systrace HTML");
    assert.equal(src.info.cpus, 8);
    assert.equal(src.info.tsResolutionNs, 1000);
    assert.deepEqual(src.diagnostics.list(), []);
  });

  test("fields match the raw lines of the trace-data block", async () => {
    const { src, events } = await collect(path);
    const text = readText(path);
    const block = text.slice(
      text.indexOf('<script class="trace-data"'),
      text.indexOf("</script>", text.indexOf("# tracer")),
    );
    const lines = oracleLines(block);
    assert.equal(lines.length, events.length);
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      const e = events[i];
      assert.equal(e.cpu, l.cpu);
      assert.equal(e.currentTid, l.pid);
      assert.equal(BigInt(absoluteTs(src.info.tsBase, e.ts)), oracleNs(l));
      if (l.event === "sched_switch") {
        const m =
          /^prev_comm=(.*) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=(\d+)$/.exec(
            l.payload,
          );
        assert.ok(m, l.payload);
        assert.equal(e.prevTid, Number(m[2]));
        assert.equal(e.prevPrio, Number(m[3]));
        assert.equal(e.prevState, KERNEL_LETTERS[m[4]], m[4]);
        assert.equal(e.nextTid, Number(m[6]));
        assert.equal(e.nextPrio, Number(m[7]));
        assert.equal(e.comm2, m[5]);
      } else if (l.event === "sched_wakeup") {
        const m = /^comm=(.*) pid=(\d+) prio=(\d+) (?:success=1 )?target_cpu=(\d+)$/.exec(l.payload);
        assert.ok(m, l.payload);
        assert.equal(e.tid, Number(m[2]));
        assert.equal(e.targetCpu, Number(m[4]));
      }
    }
  });

  test("TGID column, <pid> comms and 4-char flags", async () => {
    // <7952>-7952  (-----) [000] d..3   538.064918: sched_switch: prev_comm=atrace prev_pid=7952
    //   prev_prio=120 prev_state=R ==> next_comm=kworker/u16:11 next_pid=682 next_prio=120
    const { events } = await collect(path);
    const e = events.find((x) => x.kind === EventKind.SchedSwitch && x.prevTid === 7952 && x.nextTid === 682);
    assert.ok(e);
    assert.equal(e.currentTid, 7952);
    assert.equal(e.cpu, 0);
    assert.equal(e.ts, 64_918_000);
    assert.equal(e.flags, 0x01); // d
    assert.equal(e.preemptCount, 3);
    assert.equal(e.comm, "atrace");
    assert.equal(e.comm2, "kworker/u16:11");
    assert.equal(e.prevState, 0);
  });
});

describe("trappy_legacy_systrace.html (linuxPerfData)", { skip }, () => {
  test("15 events, kinds and a preempted switch", async () => {
    const { src, events } = await collect(join(publicTraces, "trappy_legacy_systrace.html"));
    assert.equal(events.length, 15);
    assert.deepEqual(
      countBy(events, (e) => e.name),
      {
        sched_wakeup: 2,
        sched_contrib_scale_f: 2,
        sched_load_avg_task: 3,
        sched_load_avg_cpu: 5,
        sched_switch: 3,
      },
    );
    assert.equal(src.info.format, "systrace HTML");
    assert.equal(src.info.cpus, 8);
    // <...>-10144 [007] dn.4  7480.992787: sched_wakeup: comm=kworker/7:0 pid=9996 prio=120 success=1 target_cpu=007
    const w = events[0];
    assert.equal(w.kind, EventKind.SchedWakeup);
    assert.equal(w.cpu, 7);
    assert.equal(w.currentTid, 10144);
    assert.equal(w.flags, 0x01 | 0x04);
    assert.equal(w.preemptCount, 4);
    assert.equal(w.tid, 9996);
    assert.equal(w.targetCpu, 7);
    // prev_state=R+ (preempted) and prev_state=S
    const switches = events.filter((e) => e.kind === EventKind.SchedSwitch);
    assert.deepEqual(
      switches.map((e) => [e.prevTid, e.prevState, e.nextTid]),
      [
        [10144, 0, 9996],
        [9996, TaskState.Interruptible, 10144],
        [315, 0, 5748],
      ],
    );
    assert.deepEqual(src.diagnostics.list(), []);
  });
});
