// Corrupted sub-buffers must give a TraceFormatError (file + offset) or decode to something,
// never another exception: random byte flips over real pages (schedviz raw capture), decoded
// through the merge and the catalog, strings included.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EventCatalog } from "../../src/decode/event-catalog.ts";
import { parseFormat } from "../../src/decode/format-file.ts";
import { Diagnostics } from "../../src/model/diagnostics.ts";
import { type EventRecord, StrSlot } from "../../src/model/event.ts";
import { TraceFormatError } from "../../src/model/source.ts";
import { CpuMerge, PageQueue } from "../../src/sources/cpu-merge.ts";
import { publicTraces } from "../helpers/paths.ts";
import { COMMON_FIELDS, layout64 } from "./common-fields.ts";

const file = join(publicTraces, "raw-pages", "schedviz_cpu0_64bit.raw");
const layout = layout64();
const FORMATS = [
  `name: sched_switch\nID: 297\nformat:\n${COMMON_FIELDS}\n\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:1;\n\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:1;\n\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n\nprint fmt: ""\n`,
  // a __data_loc comm so that corrupt locators are exercised
  `name: sched_wakeup\nID: 299\nformat:\n${COMMON_FIELDS}\n\tfield:__data_loc char[] comm;\toffset:8;\tsize:4;\tsigned:0;\n\tfield:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;\n\tfield:int prio;\toffset:28;\tsize:4;\tsigned:1;\n\tfield:int target_cpu;\toffset:36;\tsize:4;\tsigned:1;\n\nprint fmt: ""\n`,
];

/** xorshift: reproducible randomness */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

describe("corrupted pages", { skip: existsSync(file) ? false : "shared traces not available" }, () => {
  it("200 corrupted copies: only TraceFormatErrors, with offsets inside the data", () => {
    const original = new Uint8Array(readFileSync(file));
    const rand = rng(12345);
    let errors = 0;
    for (let round = 0; round < 200; round++) {
      const buf = original.slice();
      const flips = 1 + Math.floor(rand() * 20);
      for (let i = 0; i < flips; i++) {
        // bias toward headers: page starts and early bytes
        const page = Math.floor(rand() * 21) * 4096;
        const at = page + (rand() < 0.3 ? Math.floor(rand() * 24) : Math.floor(rand() * 4096));
        buf[at] = Math.floor(rand() * 256);
      }
      const diag = new Diagnostics();
      const catalog = new EventCatalog(
        FORMATS.map((t) => parseFormat(t, "sched")),
        layout,
        "fuzz.raw",
        diag,
      );
      const q = new PageQueue();
      for (let p = 0; p < buf.length; p += 4096) q.append(buf, p, 4096, p);
      const merge = new CpuMerge([{ cpu: 0, source: q }], layout, catalog, diag, "fuzz.raw", 0n);
      try {
        merge.run({
          handle(r: EventRecord) {
            r.str(StrSlot.Comm);
            r.str(StrSlot.Comm2);
            r.str(StrSlot.EventName);
            catalog.fields(r);
          },
        });
      } catch (e) {
        if (!(e instanceof TraceFormatError)) throw e;
        assert.equal(e.file, "fuzz.raw");
        assert.ok(e.offset >= 0 && e.offset < buf.length, `offset ${e.offset}`);
        errors++;
      }
    }
    assert.ok(errors > 0);
  });
});
