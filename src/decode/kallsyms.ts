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

/** Folded key of the hex digits t[from, to) without allocating; NaN if not hex. */
function hexKey(t: string, from: number, to: number): number {
  if (to - from > 16 || to <= from) return Number.NaN;
  let hi = 0;
  let lo = 0;
  const split = Math.max(from, to - 8);
  for (let i = from; i < to; i++) {
    const c = t.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return Number.NaN;
    if (i < split) hi = hi * 16 + d;
    else lo = lo * 16 + d;
  }
  return foldAddress(hi, lo);
}

export class KallsymsTable implements SymbolTable {
  readonly hrtimerWakeupKey: number;
  private readonly text: string;
  private keys: Float64Array | null = null;
  private nameStart: Int32Array | null = null;
  private nameEnd: Int32Array | null = null;

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
    const name = this.text.slice(this.nameStart![lo], this.nameEnd![lo]);
    const off = key - keys[lo];
    return off === 0 ? name : `${name}+0x${off.toString(16)}`;
  }

  private build(): void {
    if (this.keys) return;
    const t = this.text;
    const keys: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    let pos = 0;
    while (pos < t.length) {
      let eol = t.indexOf("\n", pos);
      if (eol < 0) eol = t.length;
      const sp1 = t.indexOf(" ", pos);
      if (sp1 > pos && sp1 < eol) {
        const sp2 = t.indexOf(" ", sp1 + 1);
        if (sp2 > sp1 && sp2 < eol) {
          // the name ends at a tab/space (module column) or the end of the line
          let nameEnd = sp2 + 1;
          while (nameEnd < eol) {
            const c = t.charCodeAt(nameEnd);
            if (c === 9 || c === 32 || c === 13) break;
            nameEnd++;
          }
          const key = hexKey(t, pos, sp1);
          if (key > 0) {
            keys.push(key);
            starts.push(sp2 + 1);
            ends.push(nameEnd);
          }
        }
      }
      pos = eol + 1;
    }
    let sorted = true;
    for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] <= keys[i];
    const order = Array.from(keys.keys());
    if (!sorted) order.sort((a, b) => keys[a] - keys[b]);
    this.keys = Float64Array.from(order, (i) => keys[i]);
    this.nameStart = Int32Array.from(order, (i) => starts[i]);
    this.nameEnd = Int32Array.from(order, (i) => ends[i]);
  }
}

/** A symbol table with nothing in it (trace without kallsyms). */
export const EMPTY_SYMBOLS: SymbolTable = { hrtimerWakeupKey: -1, name: () => "" };
