// CaptureSession on the running kernel, each case in its own tracefs instance (removed at the
// end, checked): the launched command is held until begin() and runs under the pid the
// selection tracks (the command reports its own pid, $$, after the launcher's exec), its exit
// status and signal are the ones the shell and kill gave it, and --duration, the command's
// exit and close() end the capture and remove the instance. rtscope's own placement is left
// alone here (priority "normal"): the test process must not become an RT task.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { emptySelection } from "../../src/model/selection.ts";
import { CaptureSession } from "../../src/tracefs/capture-session.ts";
import { checkNoLeftoversAtEnd, skipLive } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

const aborted = (s: CaptureSession) =>
  new Promise<void>((resolve) => {
    if (s.signal.aborted) resolve();
    else s.signal.addEventListener("abort", () => resolve(), { once: true });
  });

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < end, "condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("capture session", { skip: skipLive }, () => {
  it("holds the command until begin(), tracks its pid, and ends with its exit status", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rtscope-session-"));
    const mark = join(dir, "pid");
    const s = CaptureSession.start({
      selection: emptySelection(),
      instanceSuffix: "session",
      priority: "normal",
      command: ["/bin/sh", "-c", `echo $$ > ${mark}; exit 3`],
    });
    const instance = s.source.instance.path;
    try {
      assert.ok(existsSync(instance), "its own instance exists while it runs");
      assert.ok(s.child?.pid);
      assert.deepEqual(s.selection.descendantsOf, [s.child.pid]);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(existsSync(mark), false, "the command has not run before begin()");
      s.begin();
      await aborted(s);
      await s.waitChild();
      assert.equal(Number(readFileSync(mark, "utf8")), s.child.pid, "the command runs under the tracked pid");
      assert.equal(s.stopReason, "command-exit");
      assert.equal(s.childExit, 3);
      assert.equal(s.childSignal, null);
    } finally {
      s.close();
      rmSync(dir, { recursive: true });
    }
    assert.equal(existsSync(instance), false, "close() removes the instance");
  });

  it("a command killed by a signal reports it (128 + its number); --duration stops a capture without a command", async () => {
    const s = CaptureSession.start({
      selection: emptySelection(),
      instanceSuffix: "session-kill",
      priority: "normal",
      command: ["sleep", "30"],
    });
    try {
      s.begin();
      await until(() => s.child !== null && s.child.pid !== undefined);
      // the launcher execs sleep under the same pid once released
      await until(() => readFileSync(`/proc/${s.child!.pid}/comm`, "utf8").trim() === "sleep");
      process.kill(s.child!.pid!, "SIGKILL");
      await aborted(s);
      assert.equal(s.childSignal, "SIGKILL");
      assert.equal(s.childExit, 137);
      assert.equal(s.stopReason, "command-exit");
    } finally {
      s.close();
    }
    const d = CaptureSession.start({
      selection: emptySelection(),
      instanceSuffix: "session-duration",
      priority: "normal",
      durationNs: 200e6,
    });
    try {
      d.begin();
      await aborted(d);
      assert.equal(d.stopReason, "duration");
      assert.equal(d.child, null);
    } finally {
      d.close();
    }
    assert.equal(existsSync(d.source.instance.path), false);
  });
});
