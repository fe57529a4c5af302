// trace.dat option payloads (FORMATS.md §3.3, as trace-cmd writes them) built here byte by
// byte, in both byte orders; the decoded values are the ones written, and a bad payload fails
// at the offset the test gave it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TraceFormatError } from "../../src/model/source.ts";
import { applyOption, MAX_CPUS, newOptionState, OptionId } from "../../src/sources/trace-dat/options.ts";

/** Little builder: numbers in the given byte order, C strings NUL-terminated. */
class Bytes {
  private readonly out: number[] = [];
  private readonly le: boolean;
  constructor(le: boolean) {
    this.le = le;
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, this.le);
    this.out.push(...b);
    return this;
  }
  u64(v: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, this.le);
    this.out.push(...b);
    return this;
  }
  str(s: string): this {
    this.out.push(...new TextEncoder().encode(s), 0);
    return this;
  }
  get bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

for (const le of [true, false]) {
  const order = le ? "little-endian" : "big-endian";

  test(`v7 BUFFER: offset, name, clock, page size and the CPU table (${order})`, () => {
    const st = newOptionState();
    const p = new Bytes(le)
      .u64(0x1234_5678n)
      .str("rtscope-x")
      .str("mono")
      .u32(4096)
      .u32(2)
      .u32(0)
      .u64(8192n)
      .u64(300n)
      .u32(3)
      .u64(12288n)
      .u64(0n).bytes;
    applyOption(st, OptionId.BUFFER, p, 500, 7, "t.dat", le);
    assert.deepEqual(st.buffers, [
      {
        name: "rtscope-x",
        offset: 0x1234_5678,
        clock: "mono",
        pageSize: 4096,
        cpus: [
          { cpu: 0, offset: 8192, size: 300 },
          { cpu: 3, offset: 12288, size: 0 },
        ],
        optionOffset: 500,
      },
    ]);
  });

  test(`v6 BUFFER, CPUCOUNT, TSC2NSEC, TRACEID, v7 section offsets, BUFFER_TEXT (${order})`, () => {
    const st = newOptionState();
    applyOption(st, OptionId.BUFFER, new Bytes(le).u64(777n).str("inst").bytes, 0, 6, "t.dat", le);
    assert.deepEqual(st.buffers[0], {
      name: "inst",
      offset: 777,
      clock: "",
      pageSize: 0,
      cpus: [],
      optionOffset: 0,
    });
    applyOption(st, OptionId.CPUCOUNT, new Bytes(le).u32(8).bytes, 0, 6, "t.dat", le);
    assert.equal(st.cpuCount, 8);
    applyOption(
      st,
      OptionId.TSC2NSEC,
      new Bytes(le)
        .u32(1_000_000)
        .u32(21)
        .u64(2n ** 63n).bytes,
      0,
      7,
      "t.dat",
      le,
    );
    assert.deepEqual(st.tsc2nsec, { mult: 1_000_000, shift: 21, offset: 2n ** 63n });
    applyOption(st, OptionId.TRACEID, new Bytes(le).u64(0xfedc_ba98_7654_3210n).bytes, 0, 7, "t.dat", le);
    assert.equal(st.traceId, 0xfedc_ba98_7654_3210n);
    applyOption(st, OptionId.KALLSYMS, new Bytes(le).u64(40_960n).bytes, 0, 7, "t.dat", le);
    applyOption(st, OptionId.HEADER_INFO, new Bytes(le).u64(100n).bytes, 0, 6, "t.dat", le);
    assert.deepEqual([...st.sectionOffsets], [[OptionId.KALLSYMS, 40_960]], "section offsets are v7 only");
    applyOption(
      st,
      OptionId.BUFFER_TEXT,
      new Bytes(le).u64(9000n).str("lat").str("local").bytes,
      0,
      7,
      "t.dat",
      le,
    );
    applyOption(st, OptionId.BUFFER_TEXT, new Bytes(le).u64(9100n).str("noclock").bytes, 0, 7, "t.dat", le);
    assert.deepEqual(st.latencyBuffers, [
      { name: "lat", clock: "local", offset: 9000 },
      { name: "noclock", clock: "", offset: 9100 },
    ]);
  });
}

test("text options stop at their NUL; CPUSTAT accumulates; short TSC2NSEC and unknown ids are skipped", () => {
  const st = newOptionState();
  const text = (s: string) => new TextEncoder().encode(s);
  applyOption(st, OptionId.TRACECLOCK, text("[local] global mono\n\0junk"), 0, 6, "t.dat", true);
  applyOption(st, OptionId.UNAME, text("Linux vm 6.18.44\0"), 0, 6, "t.dat", true);
  applyOption(st, OptionId.CPUSTAT, text("CPU: 0\n\0"), 0, 6, "t.dat", true);
  applyOption(st, OptionId.CPUSTAT, text("CPU: 1\n\0"), 0, 6, "t.dat", true);
  applyOption(st, OptionId.RTSCOPE_TGIDS, text("10 10\n11 10\n\0"), 0, 7, "t.dat", true);
  applyOption(st, OptionId.TSC2NSEC, new Uint8Array(12), 0, 7, "t.dat", true);
  applyOption(st, 0x4242, new Uint8Array(3), 0, 7, "t.dat", true);
  applyOption(st, OptionId.TIME_SHIFT, new Uint8Array(0), 0, 7, "t.dat", true);
  assert.equal(st.traceClockText, "[local] global mono\n");
  assert.equal(st.uname, "Linux vm 6.18.44");
  assert.deepEqual(st.cpuStats, ["CPU: 0\n", "CPU: 1\n"]);
  assert.equal(st.savedTgids, "10 10\n11 10\n");
  assert.equal(st.tsc2nsec, null);
  assert.equal(st.timeShift, true);
  assert.equal(st.warnings.length, 1);
});

test("an absurd CPU count, a CPU table longer than its payload, a name without NUL: errors at the payload's offset", () => {
  const fails = (id: number, p: Uint8Array, version: 6 | 7, message: RegExp) =>
    assert.throws(
      () => applyOption(newOptionState(), id, p, 4242, version, "t.dat", true),
      (e: unknown) => e instanceof TraceFormatError && e.offset === 4242 && message.test(e.message),
    );
  fails(
    OptionId.CPUCOUNT,
    new Bytes(true).u32(MAX_CPUS + 1).bytes,
    6,
    /CPUCOUNT option says 65537 CPUs: absurd/,
  );
  // 3 CPUs announced, 20 bytes each needed, 20 given
  const short = new Bytes(true).u64(0n).str("b").str("mono").u32(4096).u32(3).u32(0).u64(0n).u64(0n).bytes;
  fails(OptionId.BUFFER, short, 7, /the 3 items of "BUFFER option CPU count": 60 bytes needed/);
  fails(
    OptionId.BUFFER,
    new Bytes(true).u64(0n).bytes.slice(0, 8),
    6,
    /BUFFER option name: string not terminated/,
  );
});
