// Thread groups offline (issue #11 item 3): `--tgid` uses the group data a trace carries
// (task_newtask clone flags, the text TGID column, the groups rtscope writes into its own
// trace.dat) and says which tasks it could not place instead of guessing.
// Ground truth: the events written here; the TGID column of the recorded text fixture read
// line by line; trace-cmd's own reading of the cpu-load fixture (sched_process_fork only) and
// of a trace.dat rtscope wrote.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { emptySelection } from "../../src/model/selection.ts";
import { rtscope } from "../helpers/cli.ts";
import { analyzeScript, EventScript } from "./event-script.ts";

const FIX = new URL("../fixtures/", import.meta.url).pathname;
const TRACE_CMD = "/usr/bin/trace-cmd";
const tmp = mkdtempSync(join(tmpdir(), "rtscope-tgid-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CLONE_THREAD = 0x10000;
const CLONE_VM = 0x100;

describe("--tgid with thread-group data", () => {
  it("task_newtask: CLONE_THREAD joins the creator's group, a plain fork is its own process", () => {
    const s = new EventScript(1);
    s.at(0).cpu(0).as(100).exec({ tid: 100, file: "/usr/bin/app" });
    s.at(10)
      .cpu(0)
      .as(100)
      .newtask({ child: 101, cloneFlags: CLONE_THREAD | CLONE_VM, comm: "worker" });
    s.at(11).cpu(0).as(100).fork({ parent: 100, child: 101 });
    s.at(20).cpu(0).as(100).newtask({ child: 102, cloneFlags: 0x11, comm: "app" });
    s.at(21).cpu(0).as(100).fork({ parent: 100, child: 102 });
    // the thread's wakeup_new and a run: measured as a thread of 100
    s.at(30).cpu(0).as(100).wakeupNew({ tid: 101, targetCpu: 0 });
    s.at(80).cpu(0).switch({ prev: 100, next: 101, prevState: "S" });
    s.at(90).cpu(0).switch({ prev: 101, next: 0, prevState: "S" });
    const { report } = analyzeScript(s, { selection: { ...emptySelection(), tgids: [100] } });
    assert.deepEqual(
      report.tasks.map((t) => [t.tid, t.tgid]),
      [
        [100, 100],
        [101, 100],
      ],
    );
    assert.equal(report.tasks[1].metrics.latency?.max, 50);
    assert.equal(
      report.diagnostics.find((d) => d.key === "tgid_unplaced" || d.key === "tgid_no_group_data"),
      undefined,
    );
  });

  it("task_newtask in a text trace: its clone_flags (hex) say thread", () => {
    const path = join(tmp, "newtask.txt");
    writeFileSync(
      path,
      [
        "# tracer: nop",
        "#",
        "# entries-in-buffer/entries-written: 6/6   #P:1",
        "            app-100     [000] d..2.    10.000000: sched_process_exec: filename=/usr/bin/app pid=100 old_pid=100",
        "            app-100     [000] ....1    10.000010: task_newtask: pid=101 comm=app clone_flags=3d0f00 oom_score_adj=0",
        "            app-100     [000] ....1    10.000011: sched_process_fork: comm=app pid=100 child_comm=app child_pid=101",
        "            app-100     [000] d..2.    10.000020: sched_wakeup_new: comm=app pid=101 prio=120 target_cpu=000",
        "            app-100     [000] d..2.    10.000050: sched_switch: prev_comm=app prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=app next_pid=101 next_prio=120",
        "            app-101     [000] d..2.    10.000090: sched_switch: prev_comm=app prev_pid=101 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120",
        "",
      ].join("\n"),
    );
    const r = rtscope("report", path, "--tgid", "100", "--format", "json");
    const tasks = JSON.parse(r.stdout).tasks as {
      tid: number;
      tgid: number;
      metrics: { latency?: { max: number } };
    }[];
    assert.deepEqual(
      tasks.map((t) => [t.tid, t.tgid]),
      [
        [100, 100],
        [101, 100],
      ],
    );
    assert.equal(tasks[1].metrics.latency?.max, 30_000);
  });

  it("the text TGID column (record-tgid) places a thread in its process", async () => {
    const path = `${FIX}text/tracefs-counter-tgid.txt`;
    // from the file: every pid whose TGID column says 2807
    const want = new Set<number>();
    for (const line of readFileSync(path, "latin1").split("\n")) {
      const m = /-(\d+)\s+\(\s*(\d+)\)\s+\[/.exec(line);
      if (m && Number(m[2]) === 2807) want.add(Number(m[1]));
    }
    assert.ok(want.size >= 2, "the fixture has a process with a thread");
    const r = rtscope("report", path, "--tgid", "2807", "--format", "json");
    const got = (JSON.parse(r.stdout).tasks as { tid: number; tgid: number }[]).map((t) => t.tid);
    assert.deepEqual(new Set(got), want);
  });
});

describe("--tgid without thread-group data", () => {
  it("cpu-load: names the forked tasks it cannot place and how to record groups, on stderr too", async () => {
    const path = `${FIX}trace-dat/cpu-load/trace.v7.dat`;
    const r = rtscope("report", path, "--tgid", "28858", "--slo", "latency=3ms", "--format", "json");
    // ground truth: what trace-cmd shows of that file: tasks forked by 28858, no task_newtask
    let forked: number[] = [];
    if (existsSync(TRACE_CMD)) {
      const text = execFileSync(TRACE_CMD, ["report", path], {
        encoding: "latin1",
        stdio: ["ignore", "pipe", "ignore"],
        maxBuffer: 64 << 20,
      });
      assert.ok(!text.includes("task_newtask"));
      forked = [
        ...text.matchAll(/sched_process_fork: +comm=\S+ pid=28858 child_comm=\S+ child_pid=(\d+)/g),
      ].map((m) => Number(m[1]));
      assert.deepEqual(forked, [28860, 28861]);
    } else forked = [28860, 28861];
    const d = (
      JSON.parse(r.stdout).diagnostics as {
        key: string;
        severity: string;
        details: string[];
        remedy: string;
      }[]
    ).find((x) => x.key === "tgid_unplaced");
    assert.equal(d?.severity, "warning");
    for (const tid of forked) assert.match(d.details.join(" "), new RegExp(`\\b${tid}\\b`));
    assert.match(d.remedy, /task_newtask/);
    assert.match(d.remedy, /record-tgid/);
    assert.match(r.stderr, /--tgid 28858: 2 task\(s\) created by process 28858 \(28860, 28861\)/);
  });
});

describe("traces rtscope writes carry the thread groups", () => {
  it("export writes them as an option trace-cmd skips; rtscope reads them back", async () => {
    const out = join(tmp, "groups.dat");
    const src = `${FIX}text/tracefs-counter-tgid.txt`;
    const e = rtscope(
      "export",
      src,
      "--task",
      "2811",
      "--metric",
      "latency",
      "--format",
      "tracedat",
      "-o",
      out,
    );
    assert.equal(e.code, 0, e.stderr);
    if (existsSync(TRACE_CMD)) {
      const res = execFileSync(TRACE_CMD, ["report", out], {
        encoding: "latin1",
        stdio: ["ignore", "pipe", "pipe"],
      });
      assert.match(res, /sched_switch/);
      const opts = execFileSync(TRACE_CMD, ["dump", "--options", out], { encoding: "latin1" });
      assert.match(opts, /Unknown option, size - skipping/);
    }
    const r = rtscope("report", out, "--tgid", "2807", "--format", "json");
    const tasks = JSON.parse(r.stdout).tasks as { tid: number; tgid: number }[];
    assert.deepEqual(tasks.find((t) => t.tid === 2811)?.tgid, 2807);
  });
});
