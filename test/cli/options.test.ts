import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HELP_OPTIONS,
  parseCommandLine,
  parseHistSettings,
  parseSlo,
  SELECTION_OPTIONS,
  selectionFromValues,
  UsageError,
} from "../../src/cli/options.ts";

test("--slo: pairs, repeatable, units; a sample greater than the bound violates", () => {
  assert.deepEqual(parseSlo(["latency=50us,response=2ms", "timer=1.5ms", "irq=800ns"]), {
    latency: 50_000,
    response: 2_000_000,
    timer: 1_500_000,
    irq: 800,
  });
  assert.throws(() => parseSlo(["latency"]), UsageError);
  assert.throws(() => parseSlo(["jitter=5us"]), /unknown metric 'jitter'; valid metrics: latency, response/);
  assert.throws(() => parseSlo(["latency=fast"]), /invalid --slo latency bound 'fast'/);
});

test("selection: repeatable and comma lists, regexes, flags", () => {
  const { values } = parseCommandLine(
    "t",
    ["--pid", "1,2", "--pid", "3", "--tgid", "40", "--comm", "^cyc", "--rt", "--irq-threads"],
    { ...HELP_OPTIONS, ...SELECTION_OPTIONS },
    { positionals: false },
  );
  const s = selectionFromValues(values);
  assert.deepEqual(s.tids, [1, 2, 3]);
  assert.deepEqual(s.tgids, [40]);
  assert.equal(s.comms[0].source, "^cyc");
  assert.equal(s.rt, true);
  assert.equal(s.irqThreads, true);
  assert.throws(() => selectionFromValues({ comm: ["("] }), /--comm: invalid regular expression '\('/);
  assert.throws(() => selectionFromValues({ pid: ["0"] }), /--pid expects a positive/);
});

test("parseCommandLine: strict, positionals, arguments after --", () => {
  const r = parseCommandLine("record", ["--rt", "a", "--", "cyclictest", "--rt"], { ...SELECTION_OPTIONS });
  assert.deepEqual(r.positionals, ["a"]);
  assert.deepEqual(r.rest, ["cyclictest", "--rt"]);
  assert.throws(
    () => parseCommandLine("x", ["--nope"], SELECTION_OPTIONS),
    (e: unknown) => e instanceof UsageError && e.message === "unknown option '--nope'" && e.command === "x",
  );
  assert.throws(() => parseCommandLine("x", ["--pid"], SELECTION_OPTIONS), /option '--pid' needs a value/);
  assert.throws(
    () => parseCommandLine("x", ["a"], SELECTION_OPTIONS, { positionals: false }),
    /unexpected argument 'a'/,
  );
});

test("hist settings: defaults 1us x 256, units, bounds", () => {
  assert.deepEqual(parseHistSettings({}), { bucketNs: 1000, entries: 256, withZeros: false });
  assert.deepEqual(parseHistSettings({ bucket: "500ns", entries: "10", "with-zeros": true }), {
    bucketNs: 500,
    entries: 10,
    withZeros: true,
  });
  assert.throws(() => parseHistSettings({ entries: "0" }), /--entries expects an integer from 1/);
  assert.throws(() => parseHistSettings({ bucket: "0" }), /--bucket must be at least 1ns/);
});
