// Mangled format and header_page texts give FormatParseError / HeaderPageError (or parse),
// never another exception; prev_state tables from mangled print fmts still normalise.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FormatParseError, parseFormat, prevStateTable } from "../../src/decode/format-file.ts";
import { HeaderPageError, parseHeaderPage } from "../../src/decode/header-page.ts";

const SWITCH = `name: sched_switch
ID: 372
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:__data_loc char[] name;	offset:24;	size:4;	signed:0;
	field:long prev_state;	offset:32;	size:8;	signed:1;

print fmt: "x", REC->prev_state & (1024-1) ? __print_flags(REC->prev_state & (1024-1), "|", { 1, "S"} , { 2, "D" }, { 512, "P" }) : "R", REC->prev_state & 1024 ? "+" : ""
`;
const HEADER =
  "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";
const ALPHABET = ' \t\n:;[]{}()|&+-<>"0123456789xabfSDRN_';

function mangle(text: string, seed: number): string {
  let x = seed;
  const r = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
  const chars = text.split("");
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * chars.length);
    const op = r();
    if (op < 0.4) chars[at] = ALPHABET[Math.floor(r() * ALPHABET.length)];
    else if (op < 0.7) chars.splice(at, 1 + Math.floor(r() * 8));
    else chars.splice(at, 0, ALPHABET[Math.floor(r() * ALPHABET.length)]);
  }
  return chars.join("");
}

describe("mangled metadata texts", () => {
  it("format files: 3000 variants", () => {
    let ok = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const text = mangle(SWITCH, seed);
      try {
        const f = parseFormat(text, "sched");
        const t = prevStateTable(f.printFmt);
        for (const v of [0, 1, 2, 512, 1024, 1025, 0x7fffffff]) {
          const s = t.normalise(v);
          assert.ok(Number.isInteger(s) && s >= 0, `${seed}: normalise(${v}) = ${s}`);
        }
        ok++;
      } catch (e) {
        if (!(e instanceof FormatParseError)) throw new Error(`seed ${seed}: ${(e as Error).stack}\n${text}`);
      }
    }
    assert.ok(ok > 0);
  });

  it("header_page: 3000 variants", () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const text = mangle(HEADER, seed);
      try {
        const l = parseHeaderPage(text, true);
        assert.ok(l.kernelLongSize === 4 || l.kernelLongSize === 8);
        assert.ok(l.subBufferSize > l.dataOffset);
      } catch (e) {
        if (!(e instanceof HeaderPageError)) throw new Error(`seed ${seed}: ${(e as Error).stack}\n${text}`);
      }
    }
  });
});
