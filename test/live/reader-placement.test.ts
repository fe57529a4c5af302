// `record` as root reads at SCHED_FIFO by default (a normal-priority load cannot starve it),
// as util-linux's chrt sees every thread of the running rtscope; says at start-up how long a
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
    let policies: string[] = [];
    let seen: Promise<void> = Promise.resolve();
    const r = await runRtscope(["record", "--no-store", "--duration", "3s", "--format", "json", "-o", out], {
      onSpawn: (c) => {
        seen = untilReading(c.pid!).then(() => {
          policies = readdirSync(`/proc/${c.pid}/task`).map((tid) =>
            execFileSync("chrt", ["-p", tid], { encoding: "utf8" }),
          );
        });
      },
    });
    const stderr = r.stderr;
    await seen.catch((e) => assert.fail(`${(e as Error).message}; rtscope said: ${stderr}`));
    assert.ok(policies.length > 0, "rtscope's threads were not seen");
    assert.equal(r.code, 0, stderr);
    for (const p of policies) {
      assert.match(p, /current scheduling policy: SCHED_FIFO/);
      assert.match(p, new RegExp(`current scheduling priority: ${DEFAULT_READER_PRIORITY}\\b`));
    }
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
});
