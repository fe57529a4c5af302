// Byte-level reading of `key=value` payloads (kernel print fmt output, trace-cmd -N/-R and
// plugin output). Works on the line buffer in place: no substring, no split, no regex.
// Numbers may be decimal (leading zeros are decimal: `target_cpu=001`), negative, or hex
// with `0x`. 64-bit values are read in two parts so that nothing is rounded.

export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Index of the first `needle` in b[s..e), or -1. */
export function indexOfBytes(b: Uint8Array, s: number, e: number, needle: Uint8Array): number {
  const last = e - needle.length;
  const n0 = needle[0];
  for (let i = s; i <= last; i++) {
    if (b[i] !== n0) continue;
    let j = 1;
    while (j < needle.length && b[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

const SPACE = 32;
const DASH = 45;
const ZERO = 48;
const NINE = 57;

function hexDigit(c: number): number {
  if (c >= ZERO && c <= NINE) return c - ZERO;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

export class FieldScanner {
  b: Uint8Array = new Uint8Array(0);
  /** payload start and end (exclusive) */
  start = 0;
  end = 0;
  /** index after the last value read */
  pos = 0;
  /** false when the last number read had no digits */
  ok = true;

  reset(b: Uint8Array, start: number, end: number): void {
    this.b = b;
    this.start = start;
    this.end = end;
    this.pos = start;
    this.ok = true;
  }

  /**
   * Index of `key` (e.g. `pid=`) at or after `from`, starting the payload or following a
   * space, comma or parenthesis (so `pid=` does not match inside `prev_pid=`); -1 if absent.
   */
  find(key: Uint8Array, from: number): number {
    const b = this.b;
    const k0 = key[0];
    const kl = key.length;
    const last = this.end - kl;
    for (let i = from; i <= last; i++) {
      if (b[i] !== k0) continue;
      if (i > this.start) {
        const p = b[i - 1];
        if (p !== SPACE && p !== 44 && p !== 40) continue;
      }
      let j = 1;
      while (j < kl && b[i + j] === key[j]) j++;
      if (j === kl) return i;
    }
    return -1;
  }

  /** Index just after `key` (its value), searching from `from`; -1 if absent. */
  value(key: Uint8Array, from: number): number {
    const i = this.find(key, from);
    return i < 0 ? -1 : i + key.length;
  }

  /** Skips spaces from `at`. */
  skipSpaces(at: number): number {
    const b = this.b;
    while (at < this.end && b[at] === SPACE) at++;
    return at;
  }

  /** Signed decimal or 0x-hex integer at `at` (exact up to 2^53); sets pos and ok. */
  int(at: number): number {
    const b = this.b;
    const end = this.end;
    let i = at;
    let neg = false;
    if (i < end && b[i] === DASH) {
      neg = true;
      i++;
    }
    let v = 0;
    const d0 = i;
    if (i + 1 < end && b[i] === ZERO && (b[i + 1] | 0x20) === 120) {
      i += 2;
      const h0 = i;
      while (i < end && hexDigit(b[i]) >= 0) i++;
      const split = Math.max(i - 8, h0);
      let hi = 0;
      for (let k = h0; k < split; k++) hi = hi * 16 + hexDigit(b[k]);
      let lo = 0;
      for (let k = split; k < i; k++) lo = lo * 16 + hexDigit(b[k]);
      // a long's worth of hex with the top bit set is a negative value printed unsigned
      // (syscall returns: 0xfffffffffffffffc = -4); exact through the two halves
      if (i - h0 === 16 && hi >= 0x80000000) hi -= 4294967296;
      v = hi * 4294967296 + lo;
      this.ok = i > h0;
    } else {
      while (i < end) {
        const c = b[i];
        if (c < ZERO || c > NINE) break;
        v = v * 10 + (c - ZERO);
        i++;
      }
      this.ok = i > d0;
    }
    this.pos = i;
    return neg ? -v : v;
  }

  /**
   * An absolute nanosecond count (u64 decimal) minus `baseSec` whole seconds, exactly:
   * the digits before the last nine are seconds, the last nine nanoseconds.
   */
  nsSince(at: number, baseSec: number): number {
    const b = this.b;
    const end = this.end;
    let i = at;
    while (i < end && b[i] >= ZERO && b[i] <= NINE) i++;
    this.pos = i;
    this.ok = i > at;
    const split = Math.max(i - 9, at);
    let hi = 0;
    for (let k = at; k < split; k++) hi = hi * 10 + (b[k] - ZERO);
    let lo = 0;
    for (let k = split; k < i; k++) lo = lo * 10 + (b[k] - ZERO);
    return (hi - baseSec) * 1e9 + lo;
  }

  /**
   * A pointer printed in hex (`0xffff8881...` from trace-cmd, or the kernel's hashed
   * `00000000f73de14b` without 0x) folded into 53 bits: a stable identity, not an address.
   */
  pointerKey(at: number): number {
    const b = this.b;
    const end = this.end;
    let i = at;
    if (i + 1 < end && b[i] === ZERO && (b[i + 1] | 0x20) === 120) i += 2;
    const h0 = i;
    while (i < end && hexDigit(b[i]) >= 0) i++;
    this.pos = i;
    this.ok = i > h0;
    const split = Math.max(i - 8, h0);
    let hi = 0;
    for (let k = h0; k < split; k++) hi = ((hi << 4) | hexDigit(b[k])) >>> 0;
    let lo = 0;
    for (let k = split; k < i; k++) lo = lo * 16 + hexDigit(b[k]);
    // keep 21 bits of the high word, mixing in the bits that do not fit
    return ((hi & 0x1fffff) ^ (hi >>> 21)) * 4294967296 + lo;
  }

  /** End of a space-delimited token starting at `at`. */
  tokenEnd(at: number): number {
    const b = this.b;
    while (at < this.end && b[at] !== SPACE) at++;
    return at;
  }
}
