// Live events that reach the merge's sink behind a time already passed on (a CPU's page read
// late) are reported, per CPU, as live_out_of_order, and still passed on: records handed to
// the source's sink by hand (the kernel does not produce them on demand), the expected
// counts and gaps worked out by hand.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { LiveSource } from "../../src/sources/tracefs-live.ts";
import { checkNoLeftoversAtEnd, skipLive } from "./live-helpers.ts";

checkNoLeftoversAtEnd();

function rec(ts: number, cpu: number): EventRecord {
  const r = new EventRecord();
  r.clear();
  r.kind = EventKind.SchedSwitch;
  r.ts = ts;
  r.cpu = cpu;
  return r;
}

describe("live events out of order", { skip: skipLive }, () => {
  it("are counted per CPU with how far behind they came, and passed on", () => {
    const src = LiveSource.open({ selection: emptySelection(), instanceSuffix: "order" });
    try {
      // the user's sink is set by run(); here the records only go through the order check
      const records = [
        [1000, 0],
        [2000, 1],
        [1500, 0], // 500 ns behind 2000
        [2500, 1],
        [2100, 1], // 400 ns behind 2500
        [2200, 1], // 300 ns behind 2500
      ];
      for (const [ts, cpu] of records) src.handle(rec(ts, cpu));
      assert.equal(src.stats().outOfOrder, 3);
      const cpu0 = src.diagnostics.get("live_out_of_order", 0);
      const cpu1 = src.diagnostics.get("live_out_of_order", 1);
      assert.equal(cpu0?.count, 1);
      assert.deepEqual(cpu0?.details, ["500 ns behind"]);
      assert.equal(cpu1?.count, 2);
      assert.deepEqual(cpu1?.details, ["400 ns behind", "300 ns behind"]);
      assert.equal(cpu0?.severity, "warning");
      assert.ok(cpu0?.remedy);
      assert.equal(src.stats().events, records.length);
    } finally {
      src.close();
    }
  });
});
