// The flight recorder's name table (analysis/thread-names.ts) is bounded: the names of
// exited threads are forgotten once MAX_EXITED_NAMES threads exited after them and their
// exit is EXITED_NAME_KEEP_NS old; living threads and recently exited ones keep theirs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { EXITED_NAME_KEEP_NS, MAX_EXITED_NAMES, ThreadNames } from "../../src/analysis/thread-names.ts";
import { EventRecord } from "../../src/model/event.ts";
import { EventKind } from "../../src/model/event-kind.ts";

const rec = new EventRecord();

function note(names: ThreadNames, kind: EventKind, tid: number, ts: number, comm = `w${tid}`): void {
  rec.clear();
  rec.kind = kind;
  rec.ts = ts;
  rec.tid = tid;
  rec.text[0] = comm;
  names.note(rec);
}

test("names of exited threads are forgotten past the bound, oldest first; others stay", () => {
  const names = new ThreadNames(100e6);
  note(names, EventKind.SchedProcessFork, 50, 0, "living");
  const n = MAX_EXITED_NAMES + 10;
  // threads 1000.. fork and exit one after the other, 1 ms apart: within the keep time all stay
  for (let i = 0; i < n; i++) {
    note(names, EventKind.SchedProcessFork, 1000 + i, i * 1e6);
    note(names, EventKind.SchedProcessExit, 1000 + i, i * 1e6 + 5e5);
  }
  assert.equal(names.size, n + 2, "every name kept while the exits are recent (+ <idle> and living)");
  assert.equal(names.comm(1000), "w1000");
  // one more exit long after: the oldest 11 go (MAX_EXITED_NAMES newer exits behind them)
  const late = EXITED_NAME_KEEP_NS + n * 1e6;
  note(names, EventKind.SchedProcessFork, 9999, late);
  note(names, EventKind.SchedProcessExit, 9999, late + 1);
  assert.equal(names.forgotten, 11);
  assert.equal(names.size, MAX_EXITED_NAMES + 2, "4096 exited (1011.. and 9999), <idle>, living");
  assert.equal(names.comm(1000), "");
  assert.equal(names.comm(1010), "");
  assert.equal(names.comm(1011), "w1011");
  assert.equal(names.comm(50), "living");
  assert.equal(names.comm(0), "<idle>");
});

test("a tid reused by a new thread keeps the new thread's name", () => {
  const names = new ThreadNames(100e6);
  note(names, EventKind.SchedProcessFork, 1000, 0, "old");
  note(names, EventKind.SchedProcessExit, 1000, 1);
  // the tid comes back as a new thread before the old exit is forgotten
  note(names, EventKind.SchedProcessFork, 1000, 2, "new");
  for (let i = 0; i < MAX_EXITED_NAMES + 1; i++) {
    note(names, EventKind.SchedProcessFork, 2000 + i, 10 + 2 * i);
    note(names, EventKind.SchedProcessExit, 2000 + i, 11 + 2 * i);
  }
  note(names, EventKind.SchedProcessFork, 3000, EXITED_NAME_KEEP_NS + 1e6);
  note(names, EventKind.SchedProcessExit, 3000, EXITED_NAME_KEEP_NS + 2e6);
  // the old 1000's exit, 2000's and 2001's left the bound; 1000 is a new thread now
  assert.equal(names.forgotten, 2);
  assert.equal(names.comm(1000), "new");
  assert.equal(names.comm(2000), "");
  assert.equal(names.comm(2001), "");
  assert.equal(names.comm(2002), "w2002");
});

test("a forgotten tid seen again by a switch is named at first sight, not skipped as checked", () => {
  // a refresh interval longer than the keep time: the last check of the forgotten thread (its
  // final switch-out) is still recent when its tid comes back
  const names = new ThreadNames(100e9);
  note(names, EventKind.SchedProcessFork, 1000, 0, "old");
  note(names, EventKind.SchedProcessExit, 1000, 1);
  rec.clear();
  rec.kind = EventKind.SchedSwitch;
  rec.ts = 2;
  rec.prevTid = 1000;
  rec.nextTid = 0;
  rec.text[0] = "old";
  rec.text[1] = "<idle>";
  names.note(rec);
  for (let i = 0; i < MAX_EXITED_NAMES + 1; i++) {
    note(names, EventKind.SchedProcessFork, 2000 + i, 10 + 2 * i);
    note(names, EventKind.SchedProcessExit, 2000 + i, 11 + 2 * i);
  }
  const late = EXITED_NAME_KEEP_NS + 1e6;
  note(names, EventKind.SchedProcessFork, 3000, late);
  note(names, EventKind.SchedProcessExit, 3000, late + 1);
  assert.equal(names.comm(1000), "", "forgotten");
  // within the refresh interval of the old thread's last check: a reused tid is still read
  rec.clear();
  rec.kind = EventKind.SchedSwitch;
  rec.ts = late + 2;
  rec.prevTid = 1000;
  rec.nextTid = 0;
  rec.text[0] = "reused";
  rec.text[1] = "<idle>";
  names.note(rec);
  assert.equal(names.comm(1000), "reused");
});
