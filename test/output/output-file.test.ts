// -o never destroys what it was given (issue 12, item 5): an output that is an input is
// refused naming both paths, and the recording's bytes (sha256, read here) are unchanged;
// regular files are replaced by a rename (no temp file left, mode kept); /dev/full and
// FIFOs stay what they are and are written in place; a failed write names the file.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { OutputError, writeOutputFile } from "../../src/output/output-file.ts";
import { rtscope } from "../helpers/cli.ts";
import { fixturesDir } from "../helpers/paths.ts";

const fixture = join(fixturesDir, "trace-dat/cpu-load/trace.v7.dat");
const tmp = mkdtempSync(join(tmpdir(), "rtscope-output-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

test("report -o INPUT is refused, naming both paths; the recording is unchanged", () => {
  const input = join(tmp, "in.dat");
  copyFileSync(fixture, input);
  const before = sha(input);
  const r = rtscope("report", input, "-o", input);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`-o ${input} is the input file ${input}: refusing to overwrite it`));
  assert.equal(sha(input), before);
  assert.equal(r.stdout, "");
});

test("export -o through a symlink to the input is refused too", () => {
  const input = join(tmp, "in2.dat");
  const link = join(tmp, "link.dat");
  copyFileSync(fixture, input);
  symlinkSync(input, link);
  const before = sha(input);
  const r = rtscope("export", input, "--task", "28861", "--metric", "latency", "-f", "tracedat", "-o", link);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`-o ${link} is the input file ${input}`));
  assert.equal(sha(input), before);
});

test("-o /dev/full names the file and the error, and /dev/full stays a device", () => {
  const r = rtscope("report", fixture, "--comm", "^cyclictest$", "-o", "/dev/full");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^rtscope: cannot write \/dev\/full: no space left on device \(ENOSPC\)\n$/);
  assert.ok(statSync("/dev/full").isCharacterDevice());
});

test("-o FIFO: written in place, the FIFO stays a FIFO", async () => {
  const fifo = join(tmp, "fifo");
  execFileSync("mkfifo", [fifo]);
  const reader = spawn("cat", [fifo], { stdio: ["ignore", "pipe", "inherit"] });
  let got = "";
  reader.stdout.on("data", (d) => {
    got += d;
  });
  const done = new Promise((r) => reader.on("exit", r));
  const r = await new Promise<number | null>((resolve) => {
    const c = spawn(
      process.execPath,
      [join(fixturesDir, "../../bin/rtscope.js"), "report", fixture, "--comm", "^cyclictest$", "-o", fifo],
      { stdio: "ignore" },
    );
    c.on("exit", (code) => resolve(code));
  });
  await done;
  assert.equal(r, 0);
  assert.ok(statSync(fifo).isFIFO());
  assert.match(got, /^rtscope \d+\.\d+\.\d+ report: /);
  assert.match(got, /process cyclictest/);
});

test("a regular file is replaced whole: same mode, no temp file left", () => {
  const out = join(tmp, "report.txt");
  writeFileSync(out, "old report\n");
  chmodSync(out, 0o640);
  const inodeBefore = statSync(out).ino;
  writeOutputFile(out, "new report\n");
  assert.equal(readFileSync(out, "utf8"), "new report\n");
  assert.equal(statSync(out).mode & 0o777, 0o640);
  // renamed over, not rewritten: a reader of the old file never saw half of the new one
  assert.notEqual(statSync(out).ino, inodeBefore);
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.includes(".tmp")),
    [],
  );
});

test("a write that fails names the file and leaves no temp file", () => {
  const out = join(tmp, "no-such-dir", "report.txt");
  assert.throws(
    () => writeOutputFile(out, "x"),
    (e: unknown) => {
      assert.ok(e instanceof OutputError);
      assert.match(e.message, new RegExp(`cannot write ${out}: no such directory \\(ENOENT\\)`));
      return true;
    },
  );
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.includes(".tmp")),
    [],
  );
});
