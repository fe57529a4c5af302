// Kernel symbols from kallsyms text (`ffffffff81234560 t hrtimer_wakeup [module]`), from a
// trace file or /proc/kallsyms. Kernel addresses are 64-bit; the analysis keys them as
// 53-bit numbers (foldAddress) so that no BigInt is needed per event. Kernel text lives in
// the top 2 GiB or so of the address space, where folding keeps every symbol distinct.
//
// A kallsyms can be 10 MB: construction only finds hrtimer_wakeup; the sorted address table
// for name lookups is built on first use.

import type { SymbolTable } from "../model/source.ts";

/** 53-bit key of a kernel address given as two unsigned 32-bit halves. */
export function foldAddress(hi: number, lo: number): number {
  return (hi & 0x1fffff) * 4294967296 + (lo >>> 0);
}

/** Folds a hex address string (with or without 0x, up to 16 digits); NaN if not hex. */
export function foldHexAddress(hex: string): number {
  const h = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (h.length === 0 || h.length > 16 || !/^[0-9a-fA-F]+$/.test(h)) return Number.NaN;
  const lo = Number.parseInt(h.length > 8 ? h.slice(-8) : h, 16);
  const hi = h.length > 8 ? Number.parseInt(h.slice(0, -8), 16) : 0;
  return foldAddress(hi, lo);
}

export class KallsymsTable implements SymbolTable {
  readonly hrtimerWakeupKey: number;
  private readonly text: string;
  private keys: Float64Array | null = null;
  private nameStart: Int32Array | null = null;

  constructor(text: string) {
    this.text = text;
    this.hrtimerWakeupKey = this.findKey("hrtimer_wakeup");
  }

  /** Number of symbol lines (builds the lookup table). */
  get size(): number {
    this.build();
    return this.keys!.length;
  }

  /** Key of a symbol by exact name, -1 if absent (scans the text; not for hot paths). */
  findKey(name: string): number {
    const t = this.text;
    for (let at = t.indexOf(` ${name}`); at >= 0; at = t.indexOf(` ${name}`, at + 1)) {
      const after = at + 1 + name.length;
      const c = after < t.length ? t.charCodeAt(after) : 10;
      if (c !== 10 && c !== 9 && c !== 32 && c !== 13) continue; // a longer name
      // the name must be the third column: "<addr> <type> <name>"
      const lineStart = t.lastIndexOf("\n", at) + 1;
      const m = /^([0-9a-fA-F]+)\s+\S\s+$/.exec(t.slice(lineStart, at + 1));
      if (!m) continue;
      const key = foldHexAddress(m[1]);
      if (key > 0) return key;
    }
    return -1;
  }

  name(key: number): string {
    this.build();
    const keys = this.keys!;
    // last index with keys[i] <= key
    let lo = 0;
    let hi = keys.length - 1;
    if (hi < 0 || key < keys[0]) return "";
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (keys[mid] <= key) lo = mid;
      else hi = mid - 1;
    }
    const name = this.nameAt(this.nameStart![lo]);
    const off = key - keys[lo];
    return off === 0 ? name : `${name}+0x${off.toString(16)}`;
  }

  /** The name starting at `at`: up to a tab or space (the module column), CR or the line's end. */
  private nameAt(at: number): string {
    const t = this.text;
    let end = at;
    while (end < t.length) {
      const c = t.charCodeAt(end);
      if (c === 10 || c === 9 || c === 32 || c === 13) break;
      end++;
    }
    return t.slice(at, end);
  }

  /**
   * The sorted address table: each line's address and where its name starts (a name's end is
   * found when it is looked up). Built on the first lookup: 5.4 MB and 122 k symbols here take
   * ~40 ms then, the largest single item of a small report with windows.
   */
  private build(): void {
    if (this.keys) return;
    const t = this.text;
    const len = t.length;
    let cap = 4096;
    let keys = new Float64Array(cap);
    let starts = new Int32Array(cap);
    let n = 0;
    let pos = 0;
    while (pos < len) {
      let eol = t.indexOf("\n", pos);
      if (eol < 0) eol = len;
      // "<address> <type> <name>[\t[module]]": the address runs to the first space
      let hi = 0;
      let lo = 0;
      let i = pos;
      let ok = true;
      for (; i < eol; i++) {
        const c = t.charCodeAt(i);
        if (c === 32) break;
        const d =
          c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
        if (d < 0) {
          ok = false;
          break;
        }
        // the low 8 digits in lo, the ones before them in hi (foldAddress's halves), as uint32s:
        // a double's % here cost more than the rest of the table
        hi = ((hi << 4) | (lo >>> 28)) >>> 0;
        lo = (((lo & 0x0fffffff) << 4) | d) >>> 0;
      }
      const digits = i - pos;
      if (ok && i < eol && digits > 0 && digits <= 16) {
        // the type is one character (every kernel): then the name starts 3 further
        let sp2 = t.charCodeAt(i + 2) === 32 && i + 2 < eol ? i + 2 : t.indexOf(" ", i + 1);
        if (sp2 >= eol) sp2 = -1;
        const key = foldAddress(hi, lo);
        if (sp2 > i && key > 0) {
          if (n === cap) {
            cap *= 2;
            const k2 = new Float64Array(cap);
            k2.set(keys);
            keys = k2;
            const s2 = new Int32Array(cap);
            s2.set(starts);
            starts = s2;
          }
          keys[n] = key;
          starts[n] = sp2 + 1;
          n++;
        }
      }
      pos = eol + 1;
    }
    keys = keys.subarray(0, n);
    starts = starts.subarray(0, n);
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = keys[i - 1] <= keys[i];
    if (!sorted) {
      const order = new Uint32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
      const k = keys;
      order.sort((a, b) => k[a] - k[b]);
      const k2 = new Float64Array(n);
      const s2 = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        k2[i] = keys[order[i]];
        s2[i] = starts[order[i]];
      }
      keys = k2;
      starts = s2;
    }
    this.keys = keys;
    this.nameStart = starts;
  }
}

/** A symbol table with nothing in it (trace without kallsyms). */
export const EMPTY_SYMBOLS: SymbolTable = { hrtimerWakeupKey: -1, name: () => "" };
