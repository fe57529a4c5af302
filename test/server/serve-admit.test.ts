// POST /api/admit on a real daemon. Bad bodies get a 4xx naming the field and change
// nothing (no admission stored, the daemon's tasks as they were); a command without
// --allow-admit-commands is refused (403); a real admission of a process started stopped
// (SIGSTOP) with a harmless newcomer beside a cyclictest workload is admitted, its phases
// stored as two linked runs that GET /api/runs/ID and /api/compare read back. Ground truth
// from outside rtscope: the newcomer's state in /proc (stopped before, resumed after) and
// cyclictest's own cycle count, which the two phases' samples add up to.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkNoLeftoversAtEnd, installed, skipLive, trackPid } from "../live/live-helpers.ts";
import {
  cyclictestSummary,
  raw,
  type Served,
  sleep,
  startServe,
  stopServe,
  tempDir,
  waitFor,
} from "./serve-helpers.ts";

checkNoLeftoversAtEnd();

const haveCyclictest = installed("cyclictest");
const skip = skipLive || (haveCyclictest ? false : "cyclictest (rt-tests) is not installed");

const tmp = tempDir("rtscope-serve-admit-");
after(() => rmSync(tmp, { recursive: true, force: true }));

function state(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return "";
  }
}

/** A harmless newcomer on CPU 1, started stopped: it stops itself before it execs sleep. */
function stoppedNewcomer(): ChildProcess {
  const child = spawn("taskset", ["-c", "1", "/bin/sh", "-c", "kill -STOP $$; exec sleep 20"], {
    stdio: "ignore",
  });
  if (child.pid) trackPid(child.pid);
  return child;
}

describe("POST /api/admit", { skip }, () => {
  let served: Served;
  const socket = join(tmp, "admit.sock");
  const kids: ChildProcess[] = [];
  before(async () => {
    served = await startServe(socket, ["--db", join(tmp, "admit.db")]);
  });
  after(async () => {
    for (const k of kids) k.kill("SIGKILL");
    if (served) await stopServe(served);
  });

  it("bad bodies: 4xx naming the field, nothing stored; a command without the option: 403", async () => {
    const newcomer = stoppedNewcomer();
    kids.push(newcomer);
    const pid = newcomer.pid as number;
    assert.ok(await waitFor(() => state(pid) === "T", 10_000), "the newcomer stopped itself");
    const cases: { body: unknown; status: number; message: RegExp }[] = [
      { body: {}, status: 400, message: /body: missing field 'selection'/ },
      {
        body: { selection: { tgid: ["1"] }, newcomerPid: pid },
        status: 400,
        message: /body\.selection\.tgid\.0 must be integer/,
      },
      {
        body: { selection: { rt: true }, newcomerPid: pid, bogus: 1 },
        status: 400,
        message: /unknown field 'bogus'/,
      },
      {
        body: { selection: {}, newcomerPid: pid },
        status: 400,
        message: /body\.selection: name the workload/,
      },
      { body: { selection: { rt: true } }, status: 400, message: /body: give the newcomer as newcomerPid/ },
      {
        body: { selection: { rt: true }, newcomerPid: pid, slo: { timer: "fast" } },
        status: 400,
        message: /body\.slo\.timer/,
      },
      {
        body: { selection: { rt: true }, newcomerPid: pid, slo: { bogus: "1ms" } },
        status: 400,
        message: /body\.slo: unknown field 'bogus'/,
      },
      {
        body: { selection: { rt: true }, newcomerPid: pid, baseline: "-3s" },
        status: 400,
        message: /body\.baseline/,
      },
      {
        body: { selection: { rt: true }, newcomerPid: pid, tolerance: "ten" },
        status: 400,
        message: /body\.tolerance/,
      },
      {
        body: { selection: { comm: ["("] }, newcomerPid: pid },
        status: 400,
        message: /body\.selection\.comm/,
      },
      {
        body: { selection: { rt: true }, newcomerPid: 4194000 },
        status: 404,
        message: /4194000: no such process/,
      },
      {
        body: { selection: { rt: true }, command: ["sleep", "1"] },
        status: 403,
        message: /does not start commands/,
      },
    ];
    for (const c of cases) {
      const r = await raw({ socket, method: "POST", path: "/api/admit", body: c.body });
      assert.equal(r.status, c.status, `${JSON.stringify(c.body)}: ${r.text}`);
      assert.match(r.json().error, c.message, JSON.stringify(c.body));
    }
    // nothing happened: the newcomer is still stopped, no run stored, no task tracked
    assert.equal(state(pid), "T");
    assert.deepEqual((await raw({ socket, path: "/api/runs" })).json().runs, []);
    assert.deepEqual((await raw({ socket, path: "/api/tasks" })).json().tasks, []);
    newcomer.kill("SIGKILL");
  });

  it("admits a harmless stopped newcomer, stores both phases linked", async () => {
    const cyc = spawn("cyclictest", ["-t1", "-p80", "-i1000", "-a", "0", "-q", "-D", "8"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    kids.push(cyc);
    let out = "";
    cyc.stdout?.on("data", (d) => (out += d));
    const cycDone = new Promise((r) => cyc.on("exit", r));
    const newcomer = stoppedNewcomer();
    kids.push(newcomer);
    const pid = newcomer.pid as number;
    assert.ok(await waitFor(() => state(pid) === "T", 10_000), "the newcomer stopped itself");
    await sleep(300);
    const r = await raw({
      socket,
      method: "POST",
      path: "/api/admit",
      body: {
        selection: { tgid: [cyc.pid] },
        slo: { timer: "50ms" },
        baseline: "2s",
        duration: "2s",
        newcomerPid: pid,
      },
    });
    assert.equal(r.status, 200, r.text);
    const j = r.json();
    assert.equal(j.admitted, true, r.text.slice(0, 3000));
    assert.equal(j.complete, true);
    assert.equal(j.newcomer.pid, pid);
    // resumed after the baseline: it exec'd sleep, and runs (sleeps) now
    assert.ok(await waitFor(() => state(pid) === "S", 5000), `newcomer state ${state(pid)}`);
    for (const m of j.metrics)
      for (const w of m.worstCases) assert.equal(w.newcomerTime, 0, JSON.stringify(w));
    assert.ok(j.runs, "the phases were stored");

    // the stored runs: linked, with the verdict, and compare reads them
    const base = (await raw({ socket, path: `/api/runs/${j.runs.baseline}` })).json();
    assert.equal(base.meta.origin, "admit");
    assert.equal(base.admission.baselineRun, j.runs.baseline);
    assert.equal(base.admission.withNewcomerRun, j.runs.withNewcomer);
    assert.equal(base.admission.verdict, "admitted");
    assert.deepEqual(base.admission.result, j);
    const cmp = await raw({
      socket,
      path: `/api/compare?base=${j.runs.baseline}&new=${j.runs.withNewcomer}`,
    });
    assert.equal(cmp.status, 200, cmp.text);

    await cycDone;
    // cyclictest's own count of cycles: the two phases' samples of its measuring thread
    // are part of them (the capture covered 4 of its 8 s)
    const [summary] = cyclictestSummary(out);
    const timer = j.metrics.find(
      (m: { tid: number; metric: string }) => m.tid === summary.tid && m.metric === "timer",
    );
    assert.ok(timer, "cyclictest's measuring thread has a timer verdict");
    assert.ok(timer.baseline.count + timer.withNewcomer.count <= summary.cycles + 1);
    assert.ok(timer.baseline.count > 1000 && timer.withNewcomer.count > 1000, JSON.stringify(timer));
    console.log(
      `cyclictest max ${summary.max} us over ${summary.cycles} cycles; rtscope timer max ${timer.baseline.max / 1000} / ${timer.withNewcomer.max / 1000} us`,
    );
    newcomer.kill("SIGKILL");
  });
});
