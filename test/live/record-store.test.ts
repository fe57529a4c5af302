// `rtscope record` and the run database on the running kernel: the run stored (its stored
// report is the JSON report record wrote), --no-store, and a database on a full or a
// read-only file system (a tiny tmpfs): a clear message, and the capture and report go on.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { checkNoLeftoversAtEnd, runRtscope, skipLive } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

const tmp = mkdtempSync(join(tmpdir(), "rtscope-record-store-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

// a launched command that sleeps ten times: a few activations of sh and its sleep children
const WORKLOAD = ["--", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.02; done"];

const rtscope = (args: string[]) => runRtscope(args);

const canMount = process.getuid?.() === 0 && spawnSync("mount", ["--version"]).status === 0;

describe("record stores its run", { skip: skipLive }, () => {
  it("stores the run: runs show gives back the JSON report record wrote", async () => {
    const db = join(tmp, "rec.db");
    const out = join(tmp, "rec.json");
    const r = await rtscope(["record", "--db", db, "--format", "json", "-o", out, ...WORKLOAD]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`rtscope: stored as run 1 in ${db} \\(rtscope runs show 1\\)`));
    const show = await rtscope(["runs", "show", "1", "--db", db, "--format", "json"]);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout, readFileSync(out, "utf8"));
    const list = await rtscope(["runs", "list", "--db", db, "--format", "json"]);
    const [run] = JSON.parse(list.stdout) as {
      origin: string;
      command: string[];
      kernel: string;
      startedAt: number;
      endedAt: number;
    }[];
    assert.equal(run.origin, "record");
    assert.deepEqual(run.command, WORKLOAD.slice(1));
    assert.equal(run.kernel.split(" ")[0], readFileSync("/proc/sys/kernel/osrelease", "utf8").trim());
    assert.ok(run.endedAt >= run.startedAt + 200, `${run.endedAt - run.startedAt} ms for ten 20 ms sleeps`);
  });

  it("--no-store stores nothing", async () => {
    const r = await rtscope(["record", "--no-store", "-o", join(tmp, "nostore.txt"), ...WORKLOAD]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /stored/);
    assert.equal((await rtscope(["record", "--no-store", "--db", join(tmp, "x.db")])).code, 1);
  });

  for (const kind of ["full", "read-only"] as const) {
    it(`a database on a ${kind} disk: a clear message, the report still written`, {
      skip: canMount ? false : "needs root to mount a tmpfs",
    }, async () => {
      const dir = join(tmp, kind);
      mkdirSync(dir);
      assert.equal(spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]).status, 0);
      try {
        if (kind === "full") {
          // leave the 64 KiB tmpfs no room
          spawnSync("dd", ["if=/dev/zero", `of=${join(dir, "filler")}`, "bs=4k", "count=64"]);
        } else assert.equal(spawnSync("mount", ["-o", "remount,ro", dir]).status, 0);
        const db = join(dir, "rtscope.db");
        const r = await rtscope(["record", "--db", db, ...WORKLOAD]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(/^rtscope \S+ report: \S+instances\/rtscope-\d+$/m.test(r.stdout), r.stdout.slice(0, 300));
        const why = kind === "full" ? "the disk is full" : "read-only file system";
        assert.match(r.stderr, new RegExp(`^rtscope: the run was not stored: ${db}: cannot .*${why}`, "m"));
      } finally {
        spawnSync("umount", [dir]);
      }
      assert.equal(existsSync(join(dir, "filler")), false, "tmpfs unmounted");
    });
  }
});
