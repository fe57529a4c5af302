// Line and payload shapes built by hand (each copied in shape from real kernel or trace-cmd
// output, with values chosen to hit one rule), and bad input: binary, empty, garbage.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { EventKind, TaskState } from "../../src/model/event-kind.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { detectFtraceText, openFtraceText } from "../../src/sources/ftrace-text.ts";
import { fixturesDir, publicTraces, sharedAvailable } from "../helpers/paths.ts";
import { collect } from "./ftrace-text-helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "rtscope-ftrace-text-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const p = join(tmp, `t${n++}.txt`);
  writeFileSync(p, text);
  return p;
}

const TRACEFS_HEAD = "# tracer: nop\n#\n# entries-in-buffer/entries-written: 9/9   #P:4\n#\n";

describe("sched payloads", () => {
  test("kernel form with spaces in comms; new-table letters", async () => {
    const { events } = await collect(
      file(
        `${TRACEFS_HEAD}` +
          " kworker/0:1 H-55      [000] d..2.   100.000001: sched_switch: prev_comm=kworker/0:1 H prev_pid=55 prev_prio=100 prev_state=I ==> next_comm=npm exec node / next_pid=1234 next_prio=120\n" +
          " npm exec node /-1234  [000] d..2.   100.000002: sched_switch: prev_comm=npm exec node / prev_pid=1234 prev_prio=120 prev_state=D|K ==> next_comm=swapper/0 next_pid=0 next_prio=120\n" +
          "          <idle>-0     [001] d..2.   100.000003: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R+ ==> next_comm=a next_pid=7 next_prio=-1\n",
      ),
    );
    assert.deepEqual(
      events.map((e) => [
        e.currentTid,
        e.comm,
        e.prevTid,
        e.prevPrio,
        e.prevState,
        e.comm2,
        e.nextTid,
        e.nextPrio,
      ]),
      [
        [55, "kworker/0:1 H", 55, 100, TaskState.Idle, "npm exec node /", 1234, 120],
        [1234, "npm exec node /", 1234, 120, TaskState.Uninterruptible, "swapper/0", 0, 120],
        [0, "swapper/1", 0, 120, 0, "a", 7, -1],
      ],
    );
  });

  test("trace-cmd plugin form: comms with ':' and spaces, state letters of the plugin table", async () => {
    const { events } = await collect(
      file(
        "cpus=2\n" +
          "   kworker/0:1 H-55    [000]   100.000001: sched_switch:         kworker/0:1 H:55 [100] W ==> npm exec node /:1234 [120]\n" +
          "          bash-10    [001]   100.000002: sched_switch:         bash:10 [120] R ==> b:c d:11 [98]\n" +
          "          bash-10    [001]   100.000003: sched_switch:         bash:10 [120] S|D ==> e:12 [120]\n" +
          "          bash-10    [001]   100.000004: sched_wakeup:         sh:1642 [120] success=1 CPU:002\n" +
          "          bash-10    [001]   100.000005: sched_wakeup_new:     my task:1643 [120] CPU:001\n",
      ),
    );
    const [a, b, c, w, wn] = events;
    // plugin W is bit 0x80: I (idle) in the new table
    assert.deepEqual(
      [a.comm, a.prevTid, a.prevPrio, a.prevState, a.comm2, a.nextTid, a.nextPrio],
      ["kworker/0:1 H", 55, 100, TaskState.Idle, "npm exec node /", 1234, 120],
    );
    assert.deepEqual([b.prevState, b.comm2, b.nextTid, b.nextPrio], [0, "b:c d", 11, 98]);
    assert.equal(c.prevState, TaskState.Interruptible | TaskState.Uninterruptible);
    assert.deepEqual(
      [w.kind, w.comm, w.tid, w.prio, w.targetCpu],
      [EventKind.SchedWakeup, "sh", 1642, 120, 2],
    );
    assert.deepEqual(
      [wn.kind, wn.comm, wn.tid, wn.prio, wn.targetCpu],
      [EventKind.SchedWakeupNew, "my task", 1643, 120, 1],
    );
  });

  test("-R numbers on an old kernel: TASK_STATE_MAX alone is preempted, whatever its bit", async () => {
    const { src, events } = await collect(
      file(
        "version = 6\ncpus=2\n" +
          "   a-1 [000]  10.000001: sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=1024 next_comm=b next_pid=2 next_prio=120\n" +
          "   b-2 [000]  10.000002: sched_switch: prev_comm=b prev_pid=2 prev_prio=120 prev_state=1026 next_comm=c next_pid=3 next_prio=120\n" +
          "   c-3 [000]  10.000003: sched_switch: prev_comm=c prev_pid=3 prev_prio=120 prev_state=2048 next_comm=d next_pid=4 next_prio=120\n" +
          "   d-4 [000]  10.000004: sched_switch: prev_comm=d prev_pid=4 prev_prio=120 prev_state=16 next_comm=e next_pid=5 next_prio=120\n" +
          "   e-5 [000]  10.000005: sched_switch: prev_comm=e prev_pid=5 prev_prio=120 prev_state=32 next_comm=f next_pid=6 next_prio=120\n" +
          "   f-6 [000]  10.000006: sched_switch: prev_comm=f prev_pid=6 prev_prio=120 prev_state=512 next_comm=g next_pid=7 next_prio=120\n",
      ),
    );
    assert.deepEqual(
      events.map((e) => e.prevState),
      [0, TaskState.Uninterruptible, 0, TaskState.Zombie, TaskState.Dead, TaskState.Parked],
    );
    assert.equal(src.diagnostics.get("prev_state_table"), undefined);
  });

  test("-R numbers on a new kernel: 0x100 is preempted, 16/32/64/128 are X Z P I", async () => {
    const { events } = await collect(
      file(
        "cpus=1\n" +
          [256, 16, 32, 64, 128, 1]
            .map(
              (v, i) =>
                `   a-1 [000]  10.00000${i}: sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=${v} next_comm=b next_pid=2 next_prio=120\n`,
            )
            .join(""),
      ),
    );
    assert.deepEqual(
      events.map((e) => e.prevState),
      [0, TaskState.Dead, TaskState.Zombie, TaskState.Parked, TaskState.Idle, TaskState.Interruptible],
    );
  });

  test("an old-table value after the probe window switches the table and says so", async () => {
    const filler =
      "   a-1 [000]  10.000001: print: tracing_mark_write: hello world padding padding padding\n".repeat(50);
    const { src, events } = await collect(
      file(
        `cpus=1\n${filler}` +
          "   a-1 [000]  10.000002: sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=4096 next_comm=b next_pid=2 next_prio=120\n" +
          "   a-1 [000]  10.000003: sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=64 next_comm=b next_pid=2 next_prio=120\n",
      ),
      { probeBytes: 100 },
    );
    const sw = events.filter((e) => e.kind === EventKind.SchedSwitch);
    assert.deepEqual(
      sw.map((e) => e.prevState),
      [0, TaskState.Dead],
    );
    assert.equal(src.diagnostics.get("prev_state_table")?.severity, "info");
  });

  test("migrate, fork (kernel and 6.x raw names), exec, exit", async () => {
    const { events } = await collect(
      file(
        `${TRACEFS_HEAD}` +
          "     migration/1-21      [001] d..3.   694.295715: sched_migrate_task: comm=record text pid=4911 prio=120 orig_cpu=1 dest_cpu=0\n" +
          " record-text-fix-4907    [001] .....   694.294254: sched_process_fork: comm=record-text-fix pid=4907 child_comm=child one pid=x child_pid=4911\n" +
          "rtscope-x: record-text-fix-4907 [001] 694.294255: sched_process_fork:    parent_comm=p parent_pid=4907 child_comm=c child_pid=4912\n" +
          "      cyclictest-4911    [001] .....   694.297371: sched_process_exec: filename=/tmp/a b/rt-test 2-1 pid=4911 old_pid=4911\n" +
          "      cyclictest-4912    [000] .....   694.342153: sched_process_exit: comm=cyclictest pid=4912 prio=120 group_dead=false\n",
      ),
    );
    const [m, f, f2, x, e] = events;
    assert.deepEqual(
      [m.kind, m.comm, m.tid, m.prio, m.origCpu, m.targetCpu],
      [EventKind.SchedMigrateTask, "record text", 4911, 120, 1, 0],
    );
    assert.deepEqual(
      [f.kind, f.comm2, f.parentTid, f.comm, f.tid],
      [EventKind.SchedProcessFork, "record-text-fix", 4907, "child one pid=x", 4911],
    );
    assert.deepEqual([f2.comm2, f2.parentTid, f2.comm, f2.tid], ["p", 4907, "c", 4912]);
    assert.deepEqual(
      [x.kind, x.comm, x.tid, x.parentTid],
      [EventKind.SchedProcessExec, "/tmp/a b/rt-test 2-1", 4911, 4911],
    );
    assert.deepEqual([e.kind, e.comm, e.tid, e.prio], [EventKind.SchedProcessExit, "cyclictest", 4912, 120]);
  });
});

describe("irq, timer and syscall payloads", () => {
  test("irq and softirq in kernel and raw forms", async () => {
    const { events } = await collect(
      file(
        `${TRACEFS_HEAD}` +
          "          <idle>-0       [001] d.h1.  100.000001: irq_handler_entry: irq=19 name=virtio0 input\n" +
          "          <idle>-0       [001] d.h1.  100.000002: irq_handler_exit: irq=19 ret=unhandled\n" +
          "          <idle>-0       [001] d.h1.  100.000003: irq_handler_exit: irq=19 ret=1\n" +
          "          <idle>-0       [001] d.H1.  100.000004: softirq_raise: vec=1 [action=TIMER]\n" +
          "          <idle>-0       [001] ..s1.  100.000005: softirq_entry: vec=9\n" +
          "          <idle>-0       [001] ..s1.  100.000006: softirq_exit: vec=9 [action=RCU]\n",
      ),
    );
    assert.deepEqual(
      events.map((e) => [e.kind, e.irq, e.irqName, e.irqRet, e.vec, e.flags]),
      [
        [EventKind.IrqHandlerEntry, 19, "virtio0 input", 0, -1, 0x01 | 0x08],
        [EventKind.IrqHandlerExit, 19, "", 0, -1, 0x01 | 0x08],
        [EventKind.IrqHandlerExit, 19, "", 1, -1, 0x01 | 0x08],
        [EventKind.SoftirqRaise, -1, "", 1, 1, 0x01 | 0x08 | 0x10],
        [EventKind.SoftirqEntry, -1, "", 1, 9, 0x10],
        [EventKind.SoftirqExit, -1, "", 1, 9, 0x10],
      ],
    );
  });

  test("hrtimer: hashed and real pointers, modes, exact expires/now, symbol suffixes", async () => {
    const { src, events } = await collect(
      file(
        `${TRACEFS_HEAD}` +
          "   a-1 [000] d..1.  1848.000001: hrtimer_start: hrtimer=00000000a39a4d87 function=hrtimer_wakeup expires=1848683982574 softexpires=1848683932574 mode=REL was_armed=0\n" +
          "   a-1 [000] d..1.  1848.000002: hrtimer_start: hrtimer=0xffffc90004003c60 function=hrtimer_wakeup+0x0/0x30 expires=1849000000001 softexpires=1849000000000 mode=ABS|PINNED|HARD\n" +
          "   a-1 [000] d..1.  1848.000003: hrtimer_start: hrtimer=0xffffc90004003c60 function=tick_nohz_handler/0x0 expires=1848000000000 softexpires=1848000000000\n" +
          "   a-1 [000] d..1.  1848.000004: hrtimer_start: hrtimer=0xffffc90004003c60 function=0xffffffff81442220 expires=1847999999999 softexpires=1847999999999 mode=0x5\n" +
          "   a-1 [000] d.h1.  1848.000005: hrtimer_expire_entry: hrtimer=0xffffc90004003c60 now=1848660039857 function=tick_nohz_handler/0x0\n" +
          "   a-1 [000] d.h1.  1848.000006: hrtimer_expire_entry: hrtimer=00000000a39a4d87 function=hrtimer_wakeup now=1848683990001\n" +
          "   a-1 [000] d.h1.  1848.000007: hrtimer_expire_exit: hrtimer=00000000a39a4d87\n" +
          "   a-1 [000] d.h1.  1848.000008: hrtimer_cancel: hrtimer=0xffffc90004003c60\n",
      ),
    );
    const s = src.symbols;
    const fn = (i: number) => events[i].timerFn;
    assert.equal(fn(0), "hrtimer_wakeup");
    assert.equal(fn(1), "hrtimer_wakeup");
    assert.equal(fn(2), "tick_nohz_handler");
    assert.equal(fn(3), "0xffffffff81442220");
    assert.equal(s.name(s.hrtimerWakeupKey), "hrtimer_wakeup");
    assert.deepEqual(
      events.slice(0, 4).map((e) => [e.expires, e.softExpires, e.timerMode]),
      [
        [683_982_574, 683_932_574, 1],
        [1_000_000_001, 1_000_000_000, 0 | 2 | 8],
        [0, 0, -1],
        [-1, -1, 5],
      ],
    );
    assert.equal(events[4].now, 660_039_857);
    assert.equal(events[5].now, 683_990_001);
    assert.equal(events[5].timerFn, "hrtimer_wakeup");
    // identity: same pointer text, same key; different pointers, different keys
    assert.equal(events[0].timerKey, events[5].timerKey);
    assert.equal(events[0].timerKey, events[6].timerKey);
    assert.equal(events[1].timerKey, events[7].timerKey);
    assert.notEqual(events[0].timerKey, events[1].timerKey);
    assert.ok(Number.isSafeInteger(events[1].timerKey));
  });

  test("sleep syscalls in tracefs, -N and -R forms, negative returns", async () => {
    const { events } = await collect(
      file(
        `${TRACEFS_HEAD}` +
          "   a-1 [000] .....  10.000001: sys_clock_nanosleep(which_clock: 1, flags: 1, rqtp: 0x7f381998d8d0, rmtp: 0)\n" +
          "   a-1 [000] .....  10.000002: sys_clock_nanosleep -> 0xfffffffffffffffc\n" +
          "   a-1 [000] .....  10.000003: sys_enter_clock_nanosleep: which_clock: 0x00000000, flags: 0x00000000, rqtp: 0x7ffc4d733e60, rmtp: 0x00000000\n" +
          "   a-1 [000] .....  10.000004: sys_exit_clock_nanosleep: 0x0\n" +
          "   a-1 [000] .....  10.000005: sys_enter_clock_nanosleep:  __syscall_nr=230 which_clock=0x00000001 flags=0x00000001 rqtp=0x7f rmtp=0x0\n" +
          "   a-1 [000] .....  10.000006: sys_exit_clock_nanosleep:  __syscall_nr=230 ret=0xfffffffffffffffc\n" +
          "   a-1 [000] .....  10.000007: sys_nanosleep(rqtp: 0x7ffc, rmtp: 0)\n" +
          "   a-1 [000] .....  10.000008: sys_nanosleep -> 0x0\n",
      ),
    );
    assert.deepEqual(
      events.map((e) => [e.kind, e.name]),
      [
        [EventKind.SysEnterSleep, "sys_enter_clock_nanosleep"],
        [EventKind.SysExitSleep, "sys_exit_clock_nanosleep"],
        [EventKind.SysEnterSleep, "sys_enter_clock_nanosleep"],
        [EventKind.SysExitSleep, "sys_exit_clock_nanosleep"],
        [EventKind.SysEnterSleep, "sys_enter_clock_nanosleep"],
        [EventKind.SysExitSleep, "sys_exit_clock_nanosleep"],
        [EventKind.SysEnterSleep, "sys_enter_nanosleep"],
        [EventKind.SysExitSleep, "sys_exit_nanosleep"],
      ],
    );
    assert.deepEqual(
      [events[0], events[2], events[4], events[6]].map((e) => [e.sleepClock, e.sleepFlags]),
      [
        [1, 1],
        [0, 0],
        [1, 1],
        [-1, 0],
      ],
    );
    assert.deepEqual(
      [events[1], events[3], events[5], events[7]].map((e) => e.sysRet),
      [-4, 0, -4, 0],
    );
  });
});

describe("line shapes", () => {
  test("instance prefix, -l, <...>, TGID, CRLF, 9-digit fractions", async () => {
    const { events } = await collect(
      file(
        "cpus=4\r\n" +
          "rtscope-textfix-4907: record-t-4907    1d..2.   694.294274: print: hello\r\n" +
          "rtscope-textfix-4907:  <...>-12 [003]   694.294275: print: x: y\r\n" +
          "   x-y-1-2-13 (-------) [002] dNh2.  694.294276123: print: z\r\n" +
          "   memfd:sealed-91-3279  (  3270) [000] d..3   694.294277: print: 12.5: not a timestamp\r\n",
      ),
    );
    assert.deepEqual(
      events.map((e) => [e.currentTid, e.cpu, e.ts, e.flags, e.preemptCount]),
      [
        [4907, 1, 294_274_000, 0x01, 2],
        [12, 3, 294_275_000, -1, -1],
        [13, 2, 294_276_123, 0x01 | 0x04 | 0x20 | 0x08, 2],
        [3279, 0, 294_277_000, 0x01, 3],
      ],
    );
  });

  test("timestamps going backwards are counted and passed on in file order", async () => {
    const { src, events } = await collect(
      file(
        "cpus=2\n" +
          "   a-1 [000]  10.000005: print: x\n" +
          "   a-1 [001]  10.000003: print: x\n" +
          "   a-1 [000]  10.000006: print: x\n",
      ),
    );
    assert.deepEqual(
      events.map((e) => e.ts),
      [5000, 3000, 6000],
    );
    assert.equal(src.diagnostics.get("events_out_of_order")?.count, 1);
  });

  test("lost data without a count, at the end of the file, uses the previous event's time", async () => {
    const { src, events } = await collect(
      file(
        "cpus=2\n   a-1 [000]  10.000005: print: x\nCPU:0 [LOST 7 EVENTS]\n   a-1 [001]  10.000009: print: x\nCPU:1 [EVENTS DROPPED]\n",
      ),
    );
    assert.deepEqual(
      events.map((e) => [e.kind, e.cpu, e.ts, e.lostCount]),
      [
        [EventKind.Other, 0, 5000, 0],
        [EventKind.LostEvents, 0, 9000, 7],
        [EventKind.Other, 1, 9000, 0],
        [EventKind.LostEvents, 1, 9000, -1],
      ],
    );
    assert.equal(src.diagnostics.total("lost_events"), -1);
    assert.equal(src.diagnostics.get("lost_events", 0)?.count, 7);
  });

  test("garbage lines are skipped and counted with the first one named", async () => {
    const { src, events } = await collect(
      file(
        `${TRACEFS_HEAD}` +
          "   a-1 [000] d..2.  10.000001: sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120\n" +
          "this is not a trace line\n" +
          "   a-1 [000] d..2.  10.000002: sched_switch: garbled payload\n" +
          "%%%%\n",
      ),
    );
    assert.equal(events.length, 2);
    assert.equal(events[1].kind, EventKind.Other); // known event, unreadable payload: never half-filled
    const u = src.diagnostics.get("unparsed_lines");
    assert.ok(u);
    assert.equal(u.count, 2);
    assert.match(u.details[0], /line 6: this is not a trace line/);
    const p = src.diagnostics.get("unparsed_payload");
    assert.equal(p?.count, 1);
    assert.match(p!.details[0], /line 7:.*garbled payload/);
  });
});

describe("long lines", () => {
  test("a trace line over 16 MiB is dropped and counted, the lines around it are read", async () => {
    const good = "   a-1 [000]  10.000001: print: x\n";
    const p = file(`cpus=1\n${good}${"z".repeat(17 << 20)}\n${good.replace("10.000001", "10.000002")}`);
    const { src, events } = await collect(p, { chunkSize: 1 << 16 });
    assert.deepEqual(
      events.map((e) => e.ts),
      [1000, 2000],
    );
    const u = src.diagnostics.get("unparsed_lines");
    assert.equal(u?.count, 1);
    assert.match(u!.details[0], /line 3: \(a line longer than 16 MiB\)/);
  });

  test("systrace HTML: a huge JSON block line is passed over in small chunks", async () => {
    const json = `{"traceEvents": [${'{"name": "x", "ph": "X"},'.repeat(100_000)}{}]}  </script>`;
    const p = file(
      "<!DOCTYPE html>\n<html><head><title>Android System Trace</title></head><body>\n" +
        `  <script class="trace-data" type="application/text">\n${json}\n` +
        '  <script class="trace-data" type="application/text">\n# tracer: nop\n#\n' +
        "# entries-in-buffer/entries-written: 2/2   #P:2\n" +
        "           <...>-10144 (-----) [001] dn.4  7480.992787: sched_wakeup: comm=kworker/7:0 pid=9996 prio=120 target_cpu=001\n" +
        "            adbd-315   (  315) [000] d..3  7480.993259: sched_switch: prev_comm=adbd prev_pid=315 prev_prio=120 prev_state=R+ ==> next_comm=kworker/2:1 next_pid=5748 next_prio=120\n" +
        "  </script>\n" +
        `  <script class="trace-data" type="application/text">\n${json}\n</body></html>\n`,
    );
    for (const chunkSize of [100, 4096, 1 << 20]) {
      const { src, events } = await collect(p, { chunkSize });
      assert.deepEqual(
        events.map((e) => [e.kind, e.currentTid, e.cpu]),
        [
          [EventKind.SchedWakeup, 10144, 1],
          [EventKind.SchedSwitch, 315, 0],
        ],
        `chunk ${chunkSize}`,
      );
      assert.equal(src.info.format, "systrace HTML");
      assert.equal(src.info.cpus, 2);
      assert.deepEqual(src.diagnostics.list(), []);
    }
  });
});

describe("run options", () => {
  const path = join(fixturesDir, "text", "tracefs-mono.txt");
  test("an abort stops the run at the next chunk", async () => {
    const src = await openFtraceText(path, { chunkSize: 4096 });
    const ac = new AbortController();
    let seen = 0;
    await assert.rejects(
      src.run(
        {
          handle() {
            if (++seen === 10) ac.abort();
          },
        },
        { signal: ac.signal },
      ),
      { name: "AbortError" },
    );
    assert.ok(seen >= 10 && seen < 100, `${seen} events after the abort`);
    src.close();
  });

  test("progress ends at the file size with the event count; a second run is refused", async () => {
    const src = await openFtraceText(path);
    let last = { bytes: 0, totalBytes: 0, events: 0 };
    let events = 0;
    await src.run({ handle: () => events++ }, { onProgress: (p) => (last = p) });
    assert.equal(last.bytes, readFileSync(path).length);
    assert.equal(last.totalBytes, last.bytes);
    assert.equal(last.events, events);
    await assert.rejects(src.run({ handle() {} }), /can be run only once/);
    src.close();
  });
});

describe("bad input", () => {
  test("an empty file", async () => {
    await assert.rejects(openFtraceText(file("")), (e: Error) => {
      assert.ok(e instanceof TraceFormatError);
      assert.match(e.message, /t\d+\.txt: at offset 0.*empty file/);
      return true;
    });
  });

  test("binary data", async () => {
    const p = join(tmp, "bin.dat");
    writeFileSync(
      p,
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0]),
    );
    await assert.rejects(openFtraceText(p), (e: Error) => {
      assert.ok(e instanceof TraceFormatError);
      assert.match(e.message, /bin\.dat: at offset 0.*binary data, not ftrace text/);
      return true;
    });
  });

  test("a trace.dat file is named as such", {
    skip: sharedAvailable() ? false : "no shared traces",
  }, async () => {
    const p = join(publicTraces, "lisa_sched_load.v6.dat");
    await assert.rejects(openFtraceText(p), /lisa_sched_load\.v6\.dat: at offset 0.*trace\.dat file/);
    assert.equal(detectFtraceText(readFileSync(p).subarray(0, 65536)), false);
  });

  test("text in which nothing parses names the file and the first line", async () => {
    const p = file("hello\nworld\n");
    await assert.rejects(openFtraceText(p), (e: Error) => {
      assert.ok(e instanceof TraceFormatError);
      assert.ok(e.message.includes(p));
      assert.match(e.message, /no ftrace event line found; first line: line 1: hello/);
      return true;
    });
  });

  test("HTML without trace data", async () => {
    const p = file("<!DOCTYPE html>\n<html><body><script>var x = 1;</script></body></html>\n");
    await assert.rejects(openFtraceText(p), /no ftrace text block/);
  });

  test("a missing file gives the system's error with the path", async () => {
    await assert.rejects(openFtraceText(join(tmp, "nope.txt")), /ENOENT.*nope\.txt/);
  });
});

describe("detectFtraceText", () => {
  const head = (p: string) => readFileSync(p).subarray(0, 65536);
  test("true for the kernel's text, trace-cmd report text and systrace HTML", () => {
    for (const f of ["tracefs-mono.txt", "report-R.txt", "report-default.txt", "tracefs-pipe-lost.txt"])
      assert.equal(detectFtraceText(head(join(fixturesDir, "text", f))), true, f);
    if (sharedAvailable())
      for (const f of [
        "lisa_sched_report_raw.txt",
        "trappy_surfaceflinger_systrace.html",
        "trappy_legacy_systrace.html",
      ])
        assert.equal(detectFtraceText(head(join(publicTraces, f))), true, f);
    // a trace_pipe dump starts right with event lines
    assert.equal(detectFtraceText(Buffer.from("   a-1 [000] d..2.  10.000001: print: x\n")), true);
  });
  test("false for binary data, empty heads and ordinary text", () => {
    assert.equal(detectFtraceText(new Uint8Array(0)), false);
    assert.equal(
      detectFtraceText(Buffer.from([0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67, 0, 0])),
      false,
    );
    assert.equal(detectFtraceText(Buffer.from("# README\n\nSome words: here.\n")), false);
    assert.equal(detectFtraceText(Buffer.from("<html><body>hello</body></html>")), false);
  });
});
