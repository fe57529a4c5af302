import assert from "node:assert/strict";
import { test } from "node:test";
import { ProgressLine, progressText } from "../../src/output/progress.ts";

test("progress text: percent, sizes, MB/s and events/s", () => {
  assert.equal(
    progressText("a.dat", { bytes: 50e6, totalBytes: 100e6, events: 6e6 }, 2000),
    "a.dat:  50% 47.7 MiB/95.4 MiB, 25.0 MB/s, 3.00 M events/s",
  );
  assert.equal(
    progressText("live", { bytes: 2048, totalBytes: 0, events: 500 }, 1000),
    "live: 2.0 KiB, 0.0 MB/s, 1 k events/s",
  );
});

test("progress line: throttled redraws in place, erased at the end; silent when not a TTY", () => {
  let written = "";
  let now = 0;
  const stream = {
    isTTY: false,
    columns: 40,
    write: (s: string) => {
      written += s;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const line = new ProgressLine({ label: "t", stream, force: true, intervalMs: 200, now: () => now });
  now = 100;
  line.update({ bytes: 1, totalBytes: 2, events: 10 });
  now = 150; // throttled
  line.update({ bytes: 2, totalBytes: 2, events: 20 });
  now = 400;
  line.update({ bytes: 2, totalBytes: 2, events: 20 });
  line.clear();
  const draws = written.split("\r").filter((s) => s.startsWith("t:"));
  assert.equal(draws.length, 2);
  assert.ok(written.endsWith("\r\x1b[K"));
  for (const d of draws) assert.ok(d.replace("\x1b[K", "").length < 40);
  written = "";
  const quiet = new ProgressLine({ label: "t", stream });
  quiet.update({ bytes: 1, totalBytes: 2, events: 1 });
  quiet.clear();
  assert.equal(written, "");
});
