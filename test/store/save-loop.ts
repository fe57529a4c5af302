// Child process of the crash test (run-store.test.ts): analyses a fixture, then stores its
// run again and again into the database given as argv[2], saying "begin" before each save
// and "saved ID" after it, until it is killed.
import { analyzeTrace } from "../../src/cli/analyze-trace.ts";
import { emptySelection } from "../../src/model/selection.ts";
import { RunStore } from "../../src/store/run-store.ts";

const [db, trace] = process.argv.slice(2);
const a = await analyzeTrace(trace, {
  selection: { ...emptySelection(), comms: [/cyclictest/] },
  slo: { latency: 50_000 },
  worstN: 0,
  wakeupEvent: "wakeup",
});
const store = RunStore.open(db);
for (;;) {
  process.stdout.write("begin\n");
  const id = store.saveRun({
    report: a.report,
    meta: { origin: "record", startedAt: Date.now(), endedAt: Date.now() },
    histogram: (t, _i, m) => a.histogram(t.tid, m),
  });
  process.stdout.write(`saved ${id}\n`);
}
