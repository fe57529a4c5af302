// CpuCoverage: from when each CPU's data can be trusted, which CPUs stayed silent or came
// late, and the loss horizon; every expected value worked out by hand from the calls made.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CpuCoverage } from "../../src/analysis/cpu-coverage.ts";

test("a CPU's data begins at its first event; covered and allCovered follow it", () => {
  const c = new CpuCoverage(3);
  c.note(1, 500);
  c.note(0, 800);
  c.note(1, 100); // a later call for a CPU already seen changes nothing
  assert.equal(c.has(0), true);
  assert.equal(c.has(2), false);
  assert.equal(c.has(-1), false);
  assert.equal(c.covered(1, 500), true);
  assert.equal(c.covered(1, 499), false);
  assert.equal(c.covered(0, 799), false);
  assert.equal(c.covered(2, 1e9), false, "a silent CPU covers nothing");
  assert.equal(c.allCovered(1e9), false, "CPU 2 has no data");
  c.note(2, 900);
  assert.equal(c.allCovered(899), false);
  assert.equal(c.allCovered(900), true);
  assert.deepEqual(c.silentCpus(), []);
  // the first CPU's data begins at 500: CPUs 0 and 2 came later
  assert.deepEqual(c.lateCpus(), [
    { cpu: 0, from: 800 },
    { cpu: 2, from: 900 },
  ]);
});

test("a source that vouches for an earlier start makes every CPU covered from there, silent ones included", () => {
  const c = new CpuCoverage(2, 50);
  assert.equal(c.covered(1, 50), true);
  assert.equal(c.covered(1, 49), false);
  assert.equal(c.allCovered(50), true);
  c.note(0, 70); // the CPU's first event comes later: its data still counts from 50
  assert.equal(c.covered(0, 50), true);
  assert.deepEqual(c.silentCpus(), []);
  assert.deepEqual(c.lateCpus(), []);
  // a CPU the header did not count starts at its first event or the vouched start, the earlier
  c.note(3, 20);
  assert.equal(c.covered(3, 20), true);
  assert.equal(c.has(2), false);
  assert.deepEqual(c.lateCpus(), [
    { cpu: 0, from: 50 },
    { cpu: 1, from: 50 },
  ]);
});

test("a CPU beyond the header's count grows the arrays; it is not among the trace's silent CPUs", () => {
  const c = new CpuCoverage(2);
  c.note(0, 10);
  c.note(5, 30);
  assert.equal(c.has(5), true);
  assert.equal(c.covered(5, 30), true);
  assert.equal(c.has(3), false);
  assert.deepEqual(c.silentCpus(), [1]);
  // CPUs 1-4 never showed data: allCovered needs every CPU up to the highest seen
  assert.equal(c.allCovered(1e9), false);
  assert.deepEqual(c.lateCpus(), [{ cpu: 5, from: 30 }]);
});

test("the loss horizon only moves forward", () => {
  const c = new CpuCoverage(1);
  assert.equal(c.lossUntil, Number.NEGATIVE_INFINITY);
  c.lossGap(300);
  c.lossGap(200);
  assert.equal(c.lossUntil, 300);
  c.lossGap(301);
  assert.equal(c.lossUntil, 301);
  assert.equal(new CpuCoverage(0).cpus, 1, "at least one CPU");
});
