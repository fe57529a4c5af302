// `record` as root reads at SCHED_FIFO by default (a normal-priority load cannot starve it),
// as util-linux's chrt sees the running rtscope's main thread (V8's compiler threads stay at
// normal priority); says at start-up how long a
// reader stall its buffer covers; and its report's source carries the kernel's count of
// events written and rtscope's own CPU time, per CPU, consistent with the events read.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Report } from "../../src/model/report.ts";
import { DEFAULT_READER_PRIORITY } from "../../src/tracefs/capture-session.ts";
import { checkNoLeftoversAtEnd, runRtscope, skipLive, untilReading } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

const tmp = mkdtempSync(join(tmpdir(), "rtscope-placement-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe("live reader placement", { skip: skipLive }, () => {
  it("reads at SCHED_FIFO by default and accounts for every event written", async () => {
    const out = join(tmp, "placed.json");
    let policies: { tid: number; comm: string; chrt: string }[] = [];
    let pid = 0;
    let seen: Promise<void> = Promise.resolve();
    const r = await runRtscope(["record", "--no-store", "--duration", "3s", "--format", "json", "-o", out], {
      onSpawn: (c) => {
        seen = untilReading(c.pid!).then(() => {
          policies = readdirSync(`/proc/${c.pid}/task`).map((tid) => ({
            tid: Number(tid),
            comm: readFileSync(`/proc/${c.pid}/task/${tid}/comm`, "utf8").trim(),
            chrt: execFileSync("chrt", ["-p", tid], { encoding: "utf8" }),
          }));
          pid = c.pid!;
        });
      },
    });
    const stderr = r.stderr;
    await seen.catch((e) => assert.fail(`${(e as Error).message}; rtscope said: ${stderr}`));
    assert.equal(r.code, 0, stderr);
    // the reader (the main thread) at SCHED_FIFO; V8's compiler threads at normal priority
    const main = policies.find((p) => p.tid === pid);
    assert.ok(main, `rtscope's main thread was not seen: ${JSON.stringify(policies)}`);
    assert.match(main.chrt, /current scheduling policy: SCHED_FIFO/);
    assert.match(main.chrt, new RegExp(`current scheduling priority: ${DEFAULT_READER_PRIORITY}\\b`));
    const compilers = policies.filter((p) => p.comm === "V8Worker");
    assert.ok(compilers.length > 0, `no V8Worker thread: ${JSON.stringify(policies)}`);
    for (const p of compilers)
      assert.match(p.chrt, /current scheduling policy: SCHED_OTHER/, `thread ${p.tid}`);
    assert.match(stderr, /SCHED_FIFO 1 .*covers a reader stall of [\d.]+ s at 100 k events\/s per CPU/);
    const report = JSON.parse(readFileSync(out, "utf8")) as Report;
    const s = report.source;
    assert.ok(s.perCpu && s.perCpu.length === s.cpus);
    assert.equal(
      s.written,
      s.perCpu.reduce((n, x) => n + x.written, 0),
    );
    // every event written was read or lost (nothing is left in a buffer after the final drain)
    for (const x of s.perCpu) assert.equal(x.written, x.events + x.lost, `CPU ${x.cpu}`);
    // the stream also carries one record per loss: without a loss, the events are the reads
    if (s.lostEvents === 0)
      assert.equal(
        s.events,
        s.perCpu.reduce((n, x) => n + x.events, 0),
      );
    assert.ok(s.ownCpu !== undefined && s.ownCpu > 0);
  });

  it("without the restart (RTSCOPE_NO_RESTART=1) every thread shares the reader's priority: its GC helpers exist", async () => {
    let policies: string[] = [];
    let cmdline = "";
    let seen: Promise<void> = Promise.resolve();
    process.env.RTSCOPE_NO_RESTART = "1";
    let r: Awaited<ReturnType<typeof runRtscope>>;
    try {
      r = await runRtscope(["record", "--no-store", "--duration", "2s", "-o", join(tmp, "no-restart.txt")], {
        onSpawn: (c) => {
          seen = untilReading(c.pid!).then(() => {
            cmdline = readFileSync(`/proc/${c.pid}/cmdline`, "utf8").split("\0").join(" ");
            policies = readdirSync(`/proc/${c.pid}/task`).map((tid) =>
              execFileSync("chrt", ["-p", tid], { encoding: "utf8" }),
            );
          });
        },
      });
    } finally {
      delete process.env.RTSCOPE_NO_RESTART;
    }
    const stderr = r.stderr;
    await seen.catch((e) => assert.fail(`${(e as Error).message}; rtscope said: ${stderr}`));
    assert.equal(r.code, 0, stderr);
    assert.doesNotMatch(cmdline, /--single-threaded-gc/);
    assert.ok(policies.length > 1, "rtscope's threads were not seen");
    for (const p of policies) assert.match(p, /current scheduling policy: SCHED_FIFO/);
  });

  it("pinned beside a workload on one CPU, runs its GC on the reader's thread and names its own threads in the causes", async () => {
    // `--cpu 0` and a SCHED_OTHER cyclictest thread on CPU 0 as well: rtscope's FIFO reader is
    // the one thing that can delay it there, so the windows name rtscope's threads
    const out = join(tmp, "pinned-own.json");
    let cmdline = "";
    let threads: number[] = [];
    let seen: Promise<void> = Promise.resolve();
    const r = await runRtscope(
      [
        "record",
        "--no-store",
        "--cpu",
        "0",
        "--format",
        "json",
        "-o",
        out,
        "--",
        "taskset",
        "-c",
        "0",
        "cyclictest",
        "-t1",
        "-p0",
        "-i1000",
        "-l2000",
        "-q",
      ],
      {
        onSpawn: (c) => {
          seen = untilReading(c.pid!).then(() => {
            cmdline = readFileSync(`/proc/${c.pid}/cmdline`, "utf8").split("\0").join(" ");
            threads = readdirSync(`/proc/${c.pid}/task`).map(Number);
          });
        },
      },
    );
    const stderr = r.stderr;
    await seen.catch((e) => assert.fail(`${(e as Error).message}; rtscope said: ${stderr}`));
    assert.equal(r.code, 0, stderr);
    // restarted in place (same pid) with the GC on the main thread: no GC helper thread of the
    // same SCHED_FIFO priority for the reader to wait for on its one CPU
    assert.match(cmdline, /--single-threaded-gc .*record --no-store --cpu 0/);
    // and a capped young generation (top's grew to 128 MiB and stayed resident)
    assert.match(cmdline, /--max-semi-space-size=16 /);
    const report = JSON.parse(readFileSync(out, "utf8")) as Report;
    // every cause naming one of rtscope's threads (as /proc listed them while it ran) is marked,
    // and no other cause is
    const own = new Set(threads);
    let marked = 0;
    for (const t of report.tasks)
      for (const w of Object.values(t.worst ?? {}))
        for (const c of w?.causes ?? []) {
          const byThread = c.kind === "thread" || c.kind === "blocking" || c.kind === "fair-server";
          // rtscope's threads all start with the process (V8's, the reader): /proc listed them
          const ours = byThread && c.tid !== undefined && own.has(c.tid);
          assert.equal(c.rtscope === true, ours, `${t.comm}:${t.tid} cause ${c.kind} ${c.name}:${c.tid}`);
          if (ours) marked++;
        }
    // the SCHED_OTHER cyclictest thread waits for the FIFO reader on CPU 0 whenever both want it
    assert.ok(marked > 0, "no window names rtscope's threads");
    const diag = report.diagnostics.find((d) => d.key === "own_interference");
    assert.equal(
      diag !== undefined,
      marked > 0,
      `${marked} marked causes, diagnostic ${JSON.stringify(diag)}`,
    );
    if (diag)
      assert.match(
        diag.details[0],
        /^\d+ worst-case windows?; at most [\d.]+ us of rtscope's threads in one/,
      );
  });
});
