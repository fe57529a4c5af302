// Symbol lookups (hrtimer callbacks in window listings) against a reference read of the same
// kallsyms text written here: every line parsed with a regular expression, addresses as
// BigInt folded to 53 bits, a stable sort, the last symbol at or below the address.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { KallsymsTable } from "../../src/decode/kallsyms.ts";

interface Sym {
  key: number;
  name: string;
}

function reference(text: string): Sym[] {
  const out: Sym[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]{1,16}) (\S+) ([^\t \r]+)/.exec(line);
    if (!m) continue;
    const key = Number(BigInt.asUintN(53, BigInt(`0x${m[1]}`)));
    if (key > 0) out.push({ key, name: m[3] });
  }
  return out
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.key - b.s.key || a.i - b.i)
    .map((x) => x.s);
}

function lookup(syms: Sym[], key: number): string {
  let best = -1;
  for (let i = 0; i < syms.length && syms[i].key <= key; i++) best = i;
  if (best < 0) return "";
  const off = key - syms[best].key;
  return off === 0 ? syms[best].name : `${syms[best].name}+0x${off.toString(16)}`;
}

function check(text: string, what: string, samples: number): void {
  const table = new KallsymsTable(text);
  const syms = reference(text);
  assert.equal(table.size, syms.length, `${what}: symbol count`);
  const keys: number[] = [0, 1];
  let seed = 99;
  for (let k = 0; k < samples; k++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const s = syms[seed % syms.length];
    keys.push(s.key, s.key + 1, s.key + 0x123, s.key - 1);
  }
  // a sorted walk of the reference answers every sampled key in one pass
  const order = [...keys].sort((a, b) => a - b);
  let best = -1;
  const want = new Map<number, string>();
  for (const key of order) {
    while (best + 1 < syms.length && syms[best + 1].key <= key) best++;
    if (best < 0) want.set(key, "");
    else {
      const off = key - syms[best].key;
      want.set(key, off === 0 ? syms[best].name : `${syms[best].name}+0x${off.toString(16)}`);
    }
  }
  for (const key of keys) assert.equal(table.name(key), want.get(key), `${what}: 0x${key.toString(16)}`);
}

test("names from a small kallsyms: modules, unsorted lines, duplicates, malformed lines", () => {
  const text = [
    "ffffffff81000000 T _text",
    "ffffffff81001000 t hrtimer_wakeup",
    "ffffffffc0002000 t mod_fn\t[some_mod]",
    "ffffffff81000800 T early_fn",
    "ffffffff81001000 t alias_of_wakeup",
    "not an address line",
    "ffffffff8100200z t bad_hex",
    "ffffffff81003000 t trailing_cr\r",
    "0000000000000000 A zero",
    "ffffffff81004000 tt two_char_type",
    "",
  ].join("\n");
  const syms = reference(text);
  const table = new KallsymsTable(text);
  assert.equal(table.size, syms.length);
  for (const s of syms)
    for (const key of [s.key, s.key + 5, s.key - 1])
      assert.equal(table.name(key), lookup(syms, key), key.toString(16));
  assert.equal(table.name(Number(BigInt.asUintN(53, 0xffffffffc0002010n))), "mod_fn+0x10");
  assert.equal(table.hrtimerWakeupKey, syms.find((s) => s.name === "hrtimer_wakeup")?.key);
});

test("names from this machine's /proc/kallsyms", {
  skip: !existsSync("/proc/kallsyms") && "no /proc/kallsyms",
}, () => {
  const text = readFileSync("/proc/kallsyms", "utf8");
  if (/^0+ /.test(text) && !/^[0-9a-f]*[1-9a-f][0-9a-f]* /m.test(text)) return; // addresses hidden (kptr_restrict)
  check(text, "/proc/kallsyms", 2000);
});
