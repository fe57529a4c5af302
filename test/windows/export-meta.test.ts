// What an export says about its origin (issue 12, item 7): JSON carries rtscope's version
// (package.json, read here), and a trace.dat export keeps the recording's kernel release,
// as trace-cmd reads both files (`trace-cmd report --uname`).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir, repoRoot } from "../helpers/paths.ts";
import { skipWithoutTraceCmd } from "../helpers/trace-cmd.ts";

const fixture = join(fixturesDir, "trace-dat/cpu-load/trace.v7.dat");
const tmp = mkdtempSync(join(tmpdir(), "rtscope-export-meta-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

test("export --format json names rtscope's version", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
  const r = rtscope("export", fixture, "--task", "28861", "--metric", "latency", "-f", "json");
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { tool: string; version: string };
  assert.equal(doc.tool, "rtscope");
  assert.equal(doc.version, pkg.version);
});

/** trace-cmd's UNAME line of a file ("sysname nodename release machine"), release onwards. */
function releaseOf(file: string): string {
  const out = execFileSync("trace-cmd", ["report", "--uname", file], { encoding: "utf8" });
  const line = out.split("\n").find((l) => l.startsWith("Linux "));
  assert.ok(line, out);
  return line.split(/\s+/).slice(2).join(" ");
}

test("a trace.dat export keeps the kernel release", { skip: skipWithoutTraceCmd }, () => {
  const out = join(tmp, "w.dat");
  const r = rtscope("export", fixture, "--task", "28861", "--metric", "latency", "-f", "tracedat", "-o", out);
  assert.equal(r.code, 0, r.stderr);
  const release = releaseOf(fixture);
  assert.match(release, /^6\.\d+/);
  assert.equal(releaseOf(out), release);
  // and rtscope's re-read says the same kernel as its read of the recording
  const kernel = (f: string) =>
    (
      JSON.parse(rtscope("report", f, "--windows", "none", "-f", "json").stdout) as {
        source: { kernel: string };
      }
    ).source.kernel;
  assert.equal(kernel(out), kernel(fixture));
});
