// Acceptance: the v6 (uncompressed) and v7 (zstd) files of the same recording give the same
// report, field for field, except where the file is and what format it has.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Report } from "../../src/model/report.ts";
import { analyzeFile, CASES, caseDir, type Engine, engineMissing, loadEngine } from "./ground-truth.ts";

const skip = engineMissing();
const ALL_TASKS = { tids: [], tgids: [], comms: [], rt: false, irqThreads: false, descendantsOf: [] };

/** Plain JSON (bigints as strings) without the fields that name the file. */
function comparable(r: Report): unknown {
  const plain = JSON.parse(JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
  delete plain.source.path;
  delete plain.source.format;
  return plain;
}

describe("trace.dat v6 and v7 give identical reports", { skip: skip || false }, () => {
  let engine: Engine;
  test.before(async () => {
    engine = await loadEngine();
  });
  for (const name of CASES) {
    test(name, async () => {
      const dir = caseDir(name);
      const v7 = await analyzeFile(engine, join(dir, "trace.v7.dat"), ALL_TASKS, 16);
      const v6 = await analyzeFile(engine, join(dir, "trace.v6.dat"), ALL_TASKS, 16);
      assert.ok(v7.tasks.length > 0, "no task in the report");
      assert.deepEqual(comparable(v6), comparable(v7));
    });
  }
});
