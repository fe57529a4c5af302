// Throughput of the ftrace text source on a large generated file: the recorded kernel text
// repeated with shifted seconds, in os.tmpdir() (never committed). 300 k lines by default;
// RTSCOPE_BENCH=1 makes it 2 M lines. Prints lines/s (wall and CPU); the assertion is loose
// because the machine is shared.

import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openFtraceText } from "../../src/sources/ftrace-text.ts";
import { fixturesDir } from "../helpers/paths.ts";

const LINES = process.env.RTSCOPE_BENCH === "1" ? 2_000_000 : 300_000;

function generate(path: string, lines: number): void {
  const src = readFileSync(join(fixturesDir, "text", "tracefs-mono.txt"), "latin1")
    .split("\n")
    .filter((l) => l.length > 0 && !l.startsWith("#"));
  const ts = /(\s)(\d+)(\.\d{6}: )/;
  const fd = openSync(path, "w");
  try {
    writeSync(fd, "# tracer: nop\n#\n");
    let written = 0;
    for (let rep = 0; written < lines; rep++) {
      const out: string[] = [];
      for (const l of src) {
        if (written === lines) break;
        // each repetition 10 s later; expires/now stay as they are (only the line times matter here)
        out.push(
          l.replace(
            ts,
            (_m, sp: string, sec: string, frac: string) => `${sp}${Number(sec) + rep * 10}${frac}`,
          ),
        );
        written++;
      }
      writeSync(fd, `${out.join("\n")}\n`);
    }
  } finally {
    closeSync(fd);
  }
}

test(`ftrace text throughput on ${LINES} generated lines`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "rtscope-ftrace-speed-"));
  try {
    const path = join(dir, "big.txt");
    generate(path, LINES);
    const src = await openFtraceText(path);
    let events = 0;
    let lastTs = -1;
    let backwards = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await src.run({
      handle(r) {
        events++;
        if (r.ts < lastTs) backwards++;
        lastTs = r.ts;
      },
    });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    src.close();
    const wallRate = events / (wallMs / 1000);
    const cpuRate = events / (cpuMs / 1000);
    t.diagnostic(
      `${events} lines in ${wallMs.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU: ${(wallRate / 1e6).toFixed(2)} M lines/s wall, ${(cpuRate / 1e6).toFixed(2)} M lines/s CPU`,
    );
    assert.equal(events, LINES);
    assert.equal(backwards, 0);
    assert.deepEqual(src.diagnostics.list(), []);
    assert.ok(cpuRate > 300_000, `only ${cpuRate.toFixed(0)} lines/s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
