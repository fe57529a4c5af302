// The part of an ftrace text line before the payload, read in place from the line bytes:
//
//   tracefs `trace`:     <comm>-<pid> [(<tgid>|-----)] [<cpu>] <flags> <sec>.<usec>: <event>: <payload>
//   trace-cmd report:    [<instance>: ]<comm>-<pid> [<cpu>] [<flags>] <sec>.<frac>: <event>: <payload>
//   trace-cmd report -l: [<instance>: ]<comm8>-<pid> <cpu><flags> <sec>.<frac>: <event>: <payload>
//   syscall events in tracefs: `<ts>: sys_clock_nanosleep(which_clock: 1, ...)`, `<ts>: sys_clock_nanosleep -> 0x0`
//
// The timestamp is the anchor: the first `<digits>[.<digits>]:` preceded by a space. From
// there the cpu, flags, tgid and pid are read backwards, so the comm (which may hold
// spaces, dashes, digits and colons: `memfd:sealed-91-3279`) never needs to be parsed: the
// pid is the last `-<digits>` before the cpu. Columns are never assumed (FORMATS §5.13).

import { FNV_OFFSET, FNV_PRIME } from "./byte-interner.ts";

const SPACE = 32;
const DASH = 45;
const DOT = 46;
const COLON = 58;
const ZERO = 48;
const NINE = 57;
const LBRACK = 91;
const RBRACK = 93;
const LPAREN = 40;
const RPAREN = 41;

/** How the event name ended: `name:` (usual), `name(` (syscall entry) or `name ->` (syscall exit). */
export const NameForm = { Colon: 0, Paren: 1, Arrow: 2, Bare: 3 } as const;

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1e6, 1e7, 1e8, 1e9];

export class LineHeader {
  pid = 0;
  /** the TGID column (`record-tgid`/print-tgid); -1 when absent or `-----` */
  tgid = -1;
  cpu = 0;
  /** common_flags bits decoded from the flags column; -1 when the column is absent */
  flags = -1;
  /** preempt count (low nibble preempt depth, high nibble migrate-disable depth); -1 when absent */
  preemptCount = -1;
  /** timestamp: whole seconds (or, for integer clocks, the value without its last 9 digits) */
  tsHi = 0;
  /** timestamp: nanoseconds within the second (or the last 9 digits of an integer clock) */
  tsLo = 0;
  /** fraction digits: 6 (µs), 9 (ns, `trace-cmd report -t`), 0 = integer clock */
  fracDigits = 0;
  /** the event name bytes to intern: includes `(` or ` ->` for the syscall forms */
  nameStart = 0;
  nameEnd = 0;
  nameForm: number = NameForm.Colon;
  /** FNV-1a hash of the name bytes [nameStart, nameEnd) (see byte-interner.ts) */
  nameHash = 0;
  /** first payload byte (after the separator and padding) */
  payloadStart = 0;
  /** column of the timestamp colon in the last line that needed a scan (a guess for the next) */
  colonColumn = 0;
  /** scratch: index of the timestamp's dot, -1 for integer clocks */
  dotAt = -1;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** Flags column characters → common_flags bits and preempt count. */
function readFlags(b: Uint8Array, s: number, e: number, h: LineHeader): boolean {
  const n = e - s;
  if (n === 0) {
    h.flags = -1;
    h.preemptCount = -1;
    return true;
  }
  if (n > 6) return false;
  let f = 0;
  switch (b[s]) {
    case 100: // d: irqs off
      f |= 0x01;
      break;
    case 68: // D: irqs and BH off
      f |= 0x01 | 0x80;
      break;
    case 98: // b: BH off
      f |= 0x80;
      break;
    case 46: // .
    case 88: // X: irqs-off not supported
      break;
    default:
      return false;
  }
  if (n > 1) {
    switch (b[s + 1]) {
      case 78: // N: need-resched and preempt-need-resched
        f |= 0x04 | 0x20;
        break;
      case 110: // n
        f |= 0x04;
        break;
      case 112: // p
        f |= 0x20;
        break;
      case 76: // L: lazy need-resched
        f |= 0x02;
        break;
      case 66: // B: need-resched and lazy
        f |= 0x04 | 0x02;
        break;
      case 46:
        break;
      default:
        return false;
    }
  }
  if (n > 2) {
    switch (b[s + 2]) {
      case 90: // Z: NMI inside hardirq
        f |= 0x40 | 0x08;
        break;
      case 122: // z: NMI
        f |= 0x40;
        break;
      case 72: // H: hardirq inside softirq
        f |= 0x08 | 0x10;
        break;
      case 104: // h
        f |= 0x08;
        break;
      case 115: // s
        f |= 0x10;
        break;
      case 46:
        break;
      default:
        return false;
    }
  }
  let pc = -1;
  if (n > 3) {
    pc = hexNibble(b[s + 3]);
    if (pc < 0) return false;
  }
  if (n > 4) {
    const m = hexNibble(b[s + 4]);
    if (m < 0) return false;
    pc |= m << 4;
  }
  h.flags = f;
  h.preemptCount = pc;
  return true;
}

function hexNibble(c: number): number {
  if (c === DOT) return 0;
  if (c >= ZERO && c <= NINE) return c - ZERO;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Start of the timestamp ending at the colon b[i] (`<space><digits>[.<digits>]:`), or -1.
 * Sets h.dotAt (-1 for an integer clock).
 */
function anchorStart(b: Uint8Array, s: number, i: number, h: LineHeader): number {
  let j = i - 1;
  while (j >= s && isDigit(b[j])) j--;
  let d = -1;
  if (j >= s && b[j] === DOT && j < i - 1) {
    d = j;
    j--;
    const intEnd = j;
    while (j >= s && isDigit(b[j])) j--;
    if (j === intEnd) return -1; // no digits before the dot
  } else if (j === i - 1) return -1; // no digits at all
  if (j < s || b[j] !== SPACE) return -1;
  h.dotAt = d;
  return j + 1;
}

/** Reads [s, e) as decimal (no sign). */
function decimal(b: Uint8Array, s: number, e: number): number {
  let v = 0;
  for (let i = s; i < e; i++) v = v * 10 + (b[i] - ZERO);
  return v;
}

/**
 * Parses the header of the event line b[s, e) into `h`. Returns false when the line is not
 * an event line (no timestamp anchor, no cpu, no pid).
 */
export function parseLineHeader(b: Uint8Array, s: number, e: number, h: LineHeader): boolean {
  // 1. The timestamp: first ':' followed by a space or the end, preceded by
  //    <space><digits>[.<digits>]. Text traces are column-aligned, so the colon's column in
  //    the previous line is tried first; a comm holding such a pattern would defeat the
  //    forward scan just the same.
  let colon = -1;
  let tsStart = -1;
  const g = s + h.colonColumn;
  if (g < e && b[g] === COLON && (g + 1 === e || b[g + 1] === SPACE)) {
    tsStart = anchorStart(b, s, g, h);
    if (tsStart >= 0) colon = g;
  }
  if (colon < 0) {
    for (let i = s; i < e; i++) {
      if (b[i] !== COLON) continue;
      if (i + 1 < e && b[i + 1] !== SPACE) continue;
      tsStart = anchorStart(b, s, i, h);
      if (tsStart >= 0) {
        colon = i;
        break;
      }
    }
    if (colon < 0) return false;
    h.colonColumn = colon - s;
  }
  const dot = h.dotAt;

  // 2. Timestamp value, in two exact parts.
  if (dot >= 0) {
    const fd = colon - dot - 1;
    if (fd > 9 || dot - tsStart > 15) return false;
    h.tsHi = decimal(b, tsStart, dot);
    h.tsLo = decimal(b, dot + 1, colon) * POW10[9 - fd];
    h.fracDigits = fd;
  } else {
    const split = Math.max(colon - 9, tsStart);
    if (split - tsStart > 15) return false;
    h.tsHi = decimal(b, tsStart, split);
    h.tsLo = decimal(b, split, colon);
    h.fracDigits = 0;
  }

  // 3. Backwards: [cpu] and flags, or -l's <cpu><flags>.
  let k = tsStart - 1;
  while (k >= s && b[k] === SPACE) k--;
  if (k < s) return false;
  let t0 = k; // token [t0, k]
  while (t0 > s && b[t0 - 1] !== SPACE) t0--;
  if (b[k] === RBRACK) {
    if (!readCpuBrackets(b, t0, k, h)) return false;
    h.flags = -1;
    h.preemptCount = -1;
    k = t0 - 1;
  } else {
    let p = t0 - 1;
    while (p >= s && b[p] === SPACE) p--;
    if (p >= s && b[p] === RBRACK) {
      let q0 = p;
      while (q0 > s && b[q0 - 1] !== SPACE) q0--;
      if (!readCpuBrackets(b, q0, p, h)) return false;
      if (!readFlags(b, t0, k + 1, h)) return false;
      k = q0 - 1;
    } else {
      // -l: `%3d` cpu glued to the flags
      let c = t0;
      while (c <= k && isDigit(b[c])) c++;
      if (c === t0) return false;
      h.cpu = decimal(b, t0, c);
      if (!readFlags(b, c, k + 1, h)) return false;
      k = t0 - 1;
    }
  }

  // 4. Optional TGID column `(  959)` / `(-----)`.
  while (k >= s && b[k] === SPACE) k--;
  h.tgid = -1;
  if (k >= s && b[k] === RPAREN) {
    const close = k;
    while (k >= s && b[k] !== LPAREN) k--;
    if (k < s) return false;
    let d = k + 1;
    while (d < close && b[d] === SPACE) d++;
    let e2 = d;
    while (e2 < close && isDigit(b[e2])) e2++;
    if (e2 > d && e2 === close) h.tgid = decimal(b, d, e2);
    k--;
    while (k >= s && b[k] === SPACE) k--;
  }

  // 5. The pid: the digits after the last '-' of the comm-pid token.
  const pidEnd = k + 1;
  while (k >= s && isDigit(b[k])) k--;
  if (k === pidEnd - 1 || k < s || b[k] !== DASH) return false;
  h.pid = decimal(b, k + 1, pidEnd);

  // 6. The event name and where its payload starts; its FNV-1a hash on the way, for the
  //    name table.
  let p = colon + 1;
  while (p < e && b[p] === SPACE) p++;
  h.nameStart = p;
  let hash = FNV_OFFSET;
  while (p < e) {
    const c = b[p];
    if (c === COLON || c === LPAREN || c === SPACE) break;
    hash = Math.imul(hash ^ c, FNV_PRIME);
    p++;
  }
  if (p < e && b[p] === COLON) {
    h.nameEnd = p;
    h.nameForm = NameForm.Colon;
    p++;
  } else if (p < e && b[p] === LPAREN) {
    hash = Math.imul(hash ^ LPAREN, FNV_PRIME);
    h.nameEnd = p + 1;
    h.nameForm = NameForm.Paren;
    p++;
  } else if (p + 2 < e && b[p + 1] === DASH && b[p + 2] === 62 /* > */) {
    hash = Math.imul(Math.imul(Math.imul(hash ^ SPACE, FNV_PRIME) ^ DASH, FNV_PRIME) ^ 62, FNV_PRIME);
    h.nameEnd = p + 3;
    h.nameForm = NameForm.Arrow;
    p += 3;
  } else {
    h.nameEnd = p;
    h.nameForm = NameForm.Bare;
  }
  h.nameHash = hash;
  while (p < e && b[p] === SPACE) p++;
  h.payloadStart = p;
  return true;
}

function readCpuBrackets(b: Uint8Array, t0: number, close: number, h: LineHeader): boolean {
  if (b[t0] !== LBRACK || close - t0 < 2) return false;
  for (let i = t0 + 1; i < close; i++) if (!isDigit(b[i])) return false;
  h.cpu = decimal(b, t0 + 1, close);
  return true;
}
