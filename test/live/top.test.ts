// `rtscope top` driven in a real pseudo-terminal (tmux): it shows a row for a tracked
// workload and exits cleanly on q and on Ctrl-C, restoring the terminal and removing its
// tracefs instance.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { repoRoot } from "../helpers/paths.ts";
import { checkNoLeftoversAtEnd, ourInstances, skipLive, trackPid } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

const haveTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  }
})();
const skip = skipLive || (haveTmux ? false : "tmux is not installed");
const MAIN = join(repoRoot, "src/cli/main.ts");
const sessions: string[] = [];
const workloads: ChildProcess[] = [];
after(() => {
  for (const s of sessions) {
    try {
      execFileSync("tmux", ["kill-session", "-t", s], { stdio: "pipe" });
    } catch {
      // already gone
    }
  }
  for (const w of workloads) w.kill("SIGKILL");
});

function pane(session: string): string {
  try {
    return execFileSync("tmux", ["capture-pane", "-p", "-t", session], { encoding: "utf8" });
  } catch {
    return "";
  }
}

async function waitPane(session: string, re: RegExp, ms: number): Promise<string> {
  const until = Date.now() + ms;
  let text = "";
  while (Date.now() < until) {
    text = pane(session);
    if (re.test(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`pane never matched ${re}; it shows:\n${text}`);
}

async function runTop(quitKeys: string[]): Promise<void> {
  const w = spawn("cyclictest", ["-m", "-t1", "-p80", "-i1000", "-D", "60", "-q"], { stdio: "ignore" });
  workloads.push(w);
  const pid = w.pid!;
  const session = `rtscope-top-${process.pid}-${sessions.length}`;
  sessions.push(session);
  execFileSync("tmux", [
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    "160",
    "-y",
    "30",
    `${process.execPath} ${MAIN} top --tgid ${pid}; echo "TOP-EXITED:$?"; sleep 60`,
  ]);
  // a row for a thread of the workload, with samples
  const text = await waitPane(session, /\n\s+\d+ cyclictest\s+\|\s+\d+/, 40_000);
  assert.match(text, /rtscope top/);
  // rtscope is the child of the pane's shell: its instance is ours to check
  const shell = execFileSync("tmux", ["list-panes", "-t", session, "-F", "#{pane_pid}"], {
    encoding: "utf8",
  }).trim();
  for (const t of readdirSync(`/proc/${shell}/task`))
    for (const c of readFileSync(`/proc/${shell}/task/${t}/children`, "utf8").trim().split(/\s+/))
      if (c) trackPid(Number(c));
  assert.match(text, /lost events 0/);
  await new Promise((r) => setTimeout(r, 500));
  execFileSync("tmux", ["send-keys", "-t", session, ...quitKeys]);
  const end = await waitPane(session, /TOP-EXITED:\d+/, 20_000);
  assert.match(end, /TOP-EXITED:0/);
  // the final table stays on the normal screen, the cursor is visible again
  assert.match(end, /cyclictest/);
  w.kill("SIGKILL");
  assert.deepEqual(ourInstances(), []);
  assert.equal(existsSync("/sys/kernel/tracing/instances/rtscope-top"), false);
}

describe("rtscope top in a terminal", { skip }, () => {
  it("shows the tracked workload and quits on q", async () => {
    await runTop(["q"]);
  });
  it("quits on Ctrl-C", async () => {
    await runTop(["C-c"]);
  });
});
