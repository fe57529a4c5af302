// A newcomer's first screens (issue 12, "First contact"): `npx rtscope` under the system's
// npm prints rtscope's output and no npm engine warnings; help texts list only what the
// command accepts, once, with examples and exit statuses; option mistakes get rtscope's
// own wording (not parseArgs').
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir, repoRoot } from "../helpers/paths.ts";

const home = mkdtempSync(join(tmpdir(), "rtscope-home-"));
after(() => rmSync(home, { recursive: true, force: true }));

// npm and node as a newcomer has them: the system's, not the project's Node 24
const systemNpx = ["/usr/bin/npx", "/usr/local/bin/npx"].find((p) => existsSync(p));

test("npx rtscope under the system's npm: rtscope speaks first, no EBADENGINE", {
  skip: systemNpx ? false : "no system npx",
}, () => {
  const r = spawnSync(systemNpx as string, ["rtscope", "--version"], {
    cwd: repoRoot,
    encoding: "utf8",
    // a fresh user: no ~/.npmrc; the update notice is npm's own business
    env: { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: home, npm_config_update_notifier: "false" },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EBADENGINE/);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^rtscope \d+\.\d+\.\d+\n$/);
});

test("too old a Node gets rtscope's own message (the bin's check)", () => {
  const node = ["/usr/bin/node", "/usr/local/bin/node"].find((p) => existsSync(p));
  if (!node) return;
  const v = spawnSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
  const [major, minor] = v.split(".").map(Number);
  if (major > 22 || (major === 22 && minor >= 13)) return;
  const r = spawnSync(node, [join(repoRoot, "bin/rtscope.js"), "--version"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^rtscope: needs Node\.js >= 22\.13 \(this is v/);
});

const help = (cmd: string) => {
  const r = rtscope(cmd, "--help");
  assert.equal(r.code, 0, `${cmd} --help: ${r.stderr}`);
  return r.stdout;
};

test("hist --help lists no --format (hist refuses it) and has examples and exit statuses", () => {
  const h = help("hist");
  assert.doesNotMatch(h, /^\s+--format/m);
  assert.equal(rtscope("hist", "--format", "json").code, 1);
  assert.match(h, /^Examples:$/m);
  assert.match(h, /^Exit status \(for CI\):$/m);
  assert.match(h, /^ {2}4 {2}a bound was set but not checked: its metric has no sample/m);
  assert.match(h, /^ {2}5 {2}the launched command/m);
});

test("record --help lists -- CMD ARGS once, and the exit statuses 4 and 5", () => {
  const h = help("record");
  assert.equal(h.match(/^ {2}-- CMD ARGS /gm)?.length, 1);
  assert.match(h, /^ {2}--ignore-command-status/m);
  assert.match(h, /^ {2}4 {2}/m);
  assert.match(h, /^ {2}5 {2}/m);
});

test("report --help says which buffer --buffer defaults to", () => {
  assert.match(
    help("report"),
    /--buffer NAME {10}the trace\.dat buffer \(instance\) to read \(default: the first buffer\n\s+holding scheduler events/,
  );
});

test("top, hist, doctor, reset and demo --help have examples", () => {
  for (const c of ["top", "hist", "doctor", "reset", "demo"])
    assert.match(help(c), /^Examples:\n {2}\S/m, `${c} --help has examples`);
});

const dat = join(fixturesDir, "trace-dat/cpu-load/trace.v7.dat");

test("-o without a value names the option plainly", () => {
  const r = rtscope("report", dat, "-o");
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "rtscope: option '-o, --output' needs a value\nTry 'rtscope report --help'.\n");
});

test("--pid -1 gets rtscope's own check, not parseArgs' '--pid=-XYZ' text", () => {
  const r = rtscope("report", dat, "--pid", "-1");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^rtscope: --pid expects a positive thread\/process id, got '-1'\n/);
  assert.doesNotMatch(r.stderr, /XYZ/);
  const o = rtscope("report", dat, "-o", "--comm", "x");
  assert.equal(o.code, 1);
  assert.match(
    o.stderr,
    /^rtscope: option '-o' needs a value, and what follows it is an option \(write --output=VALUE/,
  );
});
