// ThreadNames: names as the stream has shown them, refreshed once per commRefreshNs of trace
// time, one change back. The flat array that answers "checked recently" for low tids must
// give the same names as the Map alone would, for tids below and above it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ThreadNames } from "../../src/analysis/thread-names.ts";
import { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";

const REFRESH = 1000;

/** A sched_switch prev → next at ts, with their names. */
function sw(rec: EventRecord, ts: number, prev: number, prevComm: string, next: number, nextComm: string) {
  rec.clear();
  rec.kind = EventKind.SchedSwitch;
  rec.ts = ts;
  rec.prevTid = prev;
  rec.nextTid = next;
  rec.text[0] = prevComm;
  rec.text[1] = nextComm;
  return rec;
}

function exec(rec: EventRecord, ts: number, tid: number) {
  rec.clear();
  rec.kind = EventKind.SchedProcessExec;
  rec.ts = ts;
  rec.tid = tid;
  return rec;
}

for (const tid of [7, 300, 70_000, 4_000_000]) {
  test(`tid ${tid}: a rename is seen only after the refresh interval, with one change back`, () => {
    const n = new ThreadNames(REFRESH);
    const r = new EventRecord();
    n.note(sw(r, 100, tid, "old", 0, "<idle>"));
    assert.equal(n.comm(tid), "old");
    // renamed (prctl) at 200: not looked at again until 100 + REFRESH
    n.note(sw(r, 500, tid, "new", 0, "<idle>"));
    assert.equal(n.comm(tid), "old");
    n.note(sw(r, 100 + REFRESH, tid, "new", 0, "<idle>"));
    assert.equal(n.comm(tid), "old", "exactly the refresh interval: not yet");
    n.note(sw(r, 101 + REFRESH, 0, "<idle>", tid, "new"));
    assert.equal(n.comm(tid), "new");
    assert.equal(n.comm(tid, 500), "old", "as it was before the change was seen");
    assert.equal(n.comm(tid, 101 + REFRESH), "new");
    // exec: re-read at the next sight, however soon
    n.note(exec(r, 102 + REFRESH, tid));
    n.note(sw(r, 103 + REFRESH, tid, "execd", 0, "<idle>"));
    assert.equal(n.comm(tid), "execd");
  });
}

test("saved cmdlines are names before the first event and are checked at first sight", () => {
  const n = new ThreadNames(REFRESH, new Map([[42, "saved"]]));
  const r = new EventRecord();
  assert.equal(n.comm(42), "saved");
  n.note(sw(r, 5, 42, "live", 0, "<idle>"));
  assert.equal(n.comm(42), "live");
  assert.equal(n.comm(0), "<idle>");
  assert.equal(n.comm(43), "");
});

test("many threads, low and high tids: the same names as a plain reference reader", () => {
  const n = new ThreadNames(REFRESH);
  const r = new EventRecord();
  // reference: per tid, last checked time and names, straight from the rule
  const ref = new Map<number, { comm: string; checked: number }>();
  let seed = 12345;
  const rnd = (m: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % m;
  };
  for (let ts = 1; ts < 200_000; ts += 1 + rnd(5)) {
    const tid = rnd(3) === 0 ? 60_000 + rnd(20_000) : 1 + rnd(500);
    const name = `t${tid}-${rnd(4)}`;
    n.note(sw(r, ts, tid, name, 0, "<idle>"));
    const e = ref.get(tid);
    if (e === undefined || ts - e.checked > REFRESH) ref.set(tid, { comm: name, checked: ts });
  }
  for (const [tid, e] of ref) assert.equal(n.comm(tid), e.comm, `tid ${tid}`);
});
