import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NO_VALUE, TidValues } from "../../src/analysis/tid-values.ts";
import { PID_LIMIT } from "../../src/model/id-limits.ts";

describe("TidValues (per-window thread id table)", () => {
  it("holds a value per thread id until cleared, and reads NO_VALUE for the others", () => {
    const t = new TidValues();
    t.set(0, 120);
    t.set(4242, -1); // SCHED_DEADLINE's prio is -1: a value like any other
    t.set(PID_LIMIT - 1, 98); // grows to the largest id the kernel allows
    assert.equal(t.get(0), 120);
    assert.equal(t.get(4242), -1);
    assert.equal(t.get(PID_LIMIT - 1), 98);
    assert.equal(t.has(4242), true);
    assert.equal(t.get(4243), NO_VALUE);
    assert.equal(t.has(4243), false);
    t.set(4242, 7);
    assert.equal(t.get(4242), 7);
    t.clear();
    for (const tid of [0, 4242, PID_LIMIT - 1]) {
      assert.equal(t.has(tid), false);
      assert.equal(t.get(tid), NO_VALUE);
    }
    t.set(4242, 3);
    assert.equal(t.get(4242), 3);
  });

  it("ignores ids outside the kernel's range instead of sizing an array by them", () => {
    const t = new TidValues();
    t.set(-1, 5);
    t.set(PID_LIMIT, 5);
    t.set(2 ** 32 + 1, 5);
    assert.equal(t.has(-1), false);
    assert.equal(t.get(PID_LIMIT), NO_VALUE);
    assert.equal(t.get(2 ** 32 + 1), NO_VALUE);
  });

  it("is empty after each clear(), window after window", () => {
    const t = new TidValues();
    for (let w = 0; w < 5000; w++) {
      assert.equal(t.has(w % 100), false);
      t.set(w % 100, w);
      assert.equal(t.get(w % 100), w);
      t.clear();
    }
  });
});
