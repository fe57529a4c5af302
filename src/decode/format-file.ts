// Parser for tracefs event `format` files (FORMATS.md §2.1): name, ID, the fields with
// offset/size/signedness, and the print fmt. Widths always come from `size`, never from the
// declared C type (a `long` is 4 bytes on 32-bit kernels; an ARM kernel declares
// `char prev_comm[32]` with size 16).

import { taskStateFromLetters } from "../model/event-kind.ts";

/**
 * How a field's bytes are located:
 * - scalar: an integer of `size` bytes at `offset`
 * - array: `count` elements of `elementSize` bytes at `offset` (char arrays are NUL-padded strings)
 * - flex: a tail array (`char buf[]`, size 0) running to the end of the record
 * - dataLoc: u32 at `offset`, low 16 bits = offset from the record start, high 16 = length;
 *   with size 2 (very old kernels) only an offset, the string running to its NUL
 * - relLoc: like dataLoc, the offset counted from the end of the 4-byte field
 */
export type FieldKind = "scalar" | "array" | "flex" | "dataLoc" | "relLoc";

export interface FormatField {
  name: string;
  /** the declared type without the name, e.g. "pid_t", "char[16]", "__data_loc char[]" */
  type: string;
  /** element type ("char", "u64", "unsigned long"...) */
  elementType: string;
  kind: FieldKind;
  offset: number;
  size: number;
  /** `signed:` of the file, or guessed from the type when the line has none (old kernels) */
  signed: boolean;
  signedGiven: boolean;
  /** element count for arrays (size / elementSize), 1 for scalars, 0 for flex/dynamic */
  count: number;
  elementSize: number;
  /** element type is char: show as text */
  isString: boolean;
  common: boolean;
}

export interface EventFormat {
  /** subsystem, e.g. "sched" ("ftrace" for ftrace-internal events) */
  system: string;
  name: string;
  id: number;
  /** common_* fields then event fields, in file order */
  fields: FormatField[];
  printFmt: string;
}

export class FormatParseError extends Error {
  override name = "FormatParseError";
  /** 1-based line of the format text at fault, 0 for the text as a whole */
  line = 0;
}

/** Byte offset of 1-based line `line` in `text` (0 for line 0 or 1). */
export function lineOffset(text: string, line: number): number {
  let at = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", at);
    if (nl < 0) break;
    at = nl + 1;
  }
  return Buffer.byteLength(text.slice(0, at));
}

const FIELD_RE =
  /^\s*field\s*(?:special)?\s*:(.*?);\s*offset:\s*(-?\d+)\s*;\s*size:\s*(-?\d+)\s*;(?:\s*signed:\s*(-?\d+)\s*;)?/;

/** Parses one format file's text. `system` is the subsystem it was stored under. */
export function parseFormat(text: string, system: string): EventFormat {
  let name = "";
  let id = -1;
  let printFmt = "";
  const fields: FormatField[] = [];
  const lines = text.split("\n");
  let inCommon = true;
  let sawFields = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const where = () => `format ${system}:${name || "?"} line ${i + 1}`;
    try {
      if (line.startsWith("name:")) {
        name = line.slice(5).trim();
        continue;
      }
      if (line.startsWith("ID:")) {
        const v = line.slice(3).trim();
        if (!/^\d+$/.test(v)) throw new FormatParseError(`${where()}: bad ID '${v}'`);
        id = Number(v);
        continue;
      }
      if (line.startsWith("print fmt:")) {
        // the print fmt is the rest of the file (one line in practice)
        printFmt = lines.slice(i).join("\n").slice(10).trim();
        break;
      }
      if (line.trim() === "") {
        if (sawFields) inCommon = false;
        continue;
      }
      if (/^\s*field/.test(line)) {
        const m = FIELD_RE.exec(line);
        if (!m) throw new FormatParseError(`${where()}: cannot read field line '${line.trim()}'`);
        const f = parseField(m[1].trim(), Number(m[2]), Number(m[3]), m[4], where);
        f.common = inCommon && f.name.startsWith("common_");
        fields.push(f);
        sawFields = true;
      }
    } catch (e) {
      if (e instanceof FormatParseError && e.line === 0) e.line = i + 1;
      throw e;
    }
  }
  if (!name) throw new FormatParseError(`format ${system}:? : no 'name:' line`);
  if (id < 0) throw new FormatParseError(`format ${system}:${name}: no 'ID:' line`);
  return { system, name, id, fields, printFmt };
}

const KNOWN_SIZES: Record<string, number> = {
  char: 1,
  "unsigned char": 1,
  "signed char": 1,
  u8: 1,
  s8: 1,
  bool: 1,
  short: 2,
  "unsigned short": 2,
  u16: 2,
  s16: 2,
  int: 4,
  "unsigned int": 4,
  u32: 4,
  s32: 4,
  pid_t: 4,
  u64: 8,
  s64: 8,
  "long long": 8,
  "unsigned long long": 8,
};

function guessSigned(type: string): boolean {
  if (/\bunsigned\b|^u\d+$|^bool$|\*/.test(type)) return false;
  return /^(signed\s+)?(char|short|int|long|long long)$|^s\d+$|^pid_t$/.test(type);
}

function parseField(
  decl: string,
  offset: number,
  size: number,
  signedText: string | undefined,
  where: () => string,
): FormatField {
  if (offset < 0 || size < 0) throw new FormatParseError(`${where()}: negative offset/size in '${decl}'`);
  let kind: FieldKind = "scalar";
  let rest = decl;
  if (rest.startsWith("__data_loc ")) {
    kind = "dataLoc";
    rest = rest.slice(11).trim();
  } else if (rest.startsWith("__rel_loc ")) {
    kind = "relLoc";
    rest = rest.slice(10).trim();
  }
  // name is the last identifier, optionally followed by [N]
  const m = /^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)\s*(\[([^\]]*)\])?$/.exec(rest);
  let elementType: string;
  let name: string;
  let arrayText: string | undefined;
  if (m && m[1] !== "") {
    elementType = m[1].trim();
    name = m[2];
    arrayText = m[3] !== undefined ? m[4].trim() : undefined;
  } else {
    // `__data_loc char[] name`: the brackets sit on the type
    const d = /^(.*?)(\[[^\]]*\])?\s+([A-Za-z_][A-Za-z0-9_]*)$/.exec(rest);
    if (!d) throw new FormatParseError(`${where()}: cannot read declaration '${decl}'`);
    elementType = d[1].trim();
    name = d[3];
    arrayText = d[2] !== undefined ? d[2].slice(1, -1).trim() : undefined;
  }
  // `char[] name` form (type carries the brackets)
  const typeArray = /^(.*?)\s*\[([^\]]*)\]$/.exec(elementType);
  if (typeArray) {
    elementType = typeArray[1].trim();
    arrayText ??= typeArray[2].trim();
  }
  elementType = elementType.replace(/^(const|volatile)\s+/, "");
  const isString = /^(unsigned\s+|signed\s+)?char$/.test(elementType);
  let count = 1;
  let elementSize = size;
  if (kind === "dataLoc" || kind === "relLoc") {
    if (size !== 4 && !(kind === "dataLoc" && size === 2)) {
      throw new FormatParseError(
        `${where()}: dynamic field '${name}' has size ${size}; expected 4 (or 2 on old kernels)`,
      );
    }
    count = 0;
    elementSize = KNOWN_SIZES[elementType] ?? 1;
  } else if (arrayText !== undefined) {
    if (arrayText === "" || size === 0) {
      kind = "flex";
      count = 0;
      elementSize = KNOWN_SIZES[elementType] ?? 1;
    } else {
      kind = "array";
      const n = /^\d+$/.test(arrayText) ? Number(arrayText) : Number.NaN;
      // trust size: element size from the declared count unless it disagrees (ARM char[32] size 16)
      const known = KNOWN_SIZES[elementType];
      if (known !== undefined) {
        elementSize = known;
        count = Math.floor(size / known);
      } else if (n > 0 && size % n === 0) {
        count = n;
        elementSize = size / n;
      } else {
        count = 1;
        elementSize = size;
      }
    }
  } else if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    // odd-sized scalars (structs) are kept as byte arrays
    kind = "array";
    count = size;
    elementSize = 1;
  }
  const signedGiven = signedText !== undefined;
  const signed = signedGiven ? signedText !== "0" : guessSigned(elementType);
  const type =
    kind === "dataLoc"
      ? `__data_loc ${elementType}[]`
      : kind === "relLoc"
        ? `__rel_loc ${elementType}[]`
        : arrayText !== undefined
          ? `${elementType}[${arrayText}]`
          : elementType;
  return {
    name,
    type,
    elementType,
    kind,
    offset,
    size,
    signed,
    signedGiven,
    count,
    elementSize,
    isString,
    common: false,
  };
}

/** prev_state decoding for one trace: its print fmt's letter table, mapped to TaskState bits. */
export interface PrevStateTable {
  /** bit value in this kernel → letter */
  letters: { bit: number; letter: string }[];
  /** the "preempted" (+) bit, 0 if unknown */
  preemptBit: number;
  /** true when the bits already are the modern encoding (no translation needed) */
  modern: boolean;
  /** Normalises a raw prev_state value to TaskState bits (0 = runnable / preempted). */
  normalise(raw: number): number;
}

/** Evaluates an integer constant expression of the kinds found in print fmts; NaN if it cannot. */
export function evalConstExpr(text: string): number {
  let pos = 0;
  const s = text;
  const ws = () => {
    while (pos < s.length && /\s/.test(s[pos])) pos++;
  };
  const primary = (): number => {
    ws();
    if (s[pos] === "(") {
      pos++;
      const v = orExpr();
      ws();
      if (s[pos] !== ")") return Number.NaN;
      pos++;
      return v;
    }
    const m = /^(0x[0-9a-fA-F]+|\d+)[uUlL]*/.exec(s.slice(pos));
    if (!m) return Number.NaN;
    pos += m[0].length;
    return Number(m[1]);
  };
  const add = (): number => {
    let v = primary();
    for (;;) {
      ws();
      const c = s[pos];
      if (c !== "+" && c !== "-") return v;
      pos++;
      const r = primary();
      v = c === "+" ? v + r : v - r;
    }
  };
  const shift = (): number => {
    let v = add();
    for (;;) {
      ws();
      const op = s.slice(pos, pos + 2);
      if (op !== "<<" && op !== ">>") return v;
      pos += 2;
      const r = add();
      v = op === "<<" ? v * 2 ** r : Math.floor(v / 2 ** r);
    }
  };
  const andExpr = (): number => {
    let v = shift();
    for (;;) {
      ws();
      if (s[pos] !== "&" || s[pos + 1] === "&") return v;
      pos++;
      v = Number(BigInt(v) & BigInt(shift()));
    }
  };
  const orExpr = (): number => {
    let v = andExpr();
    for (;;) {
      ws();
      if (s[pos] !== "|" || s[pos + 1] === "|") return v;
      pos++;
      v = Number(BigInt(v) | BigInt(andExpr()));
    }
  };
  try {
    const v = orExpr();
    ws();
    return pos === s.length && Number.isFinite(v) ? v : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const MODERN_LETTERS = ["S", "D", "T", "t", "X", "Z", "P", "I"];

/**
 * Reads the prev_state table from sched_switch's print fmt (FORMATS.md §5.3): the
 * `__print_flags(..., { bit, "L" }, ...)` pairs and the bit tested before `? "+"`.
 * Without a readable table the modern encoding is assumed.
 */
export function prevStateTable(printFmt: string): PrevStateTable {
  const letters: { bit: number; letter: string }[] = [];
  const pf = printFmt.indexOf("__print_flags(");
  if (pf >= 0) {
    const re = /\{\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*"([^"]*)"\s*\}/g;
    re.lastIndex = pf;
    // the table ends where the `: "R"` alternative starts
    const r = printFmt.indexOf('"R"', pf);
    const end = r > 0 ? r : printFmt.length;
    for (let m = re.exec(printFmt); m && m.index < end; m = re.exec(printFmt)) {
      letters.push({ bit: Number(m[1]), letter: m[2] });
    }
  }
  let preemptBit = 0;
  const plus = printFmt.indexOf('? "+"');
  if (plus > 0) {
    const head = printFmt.slice(0, plus);
    const amp = head.lastIndexOf("REC->prev_state &");
    if (amp >= 0) {
      const v = evalConstExpr(head.slice(amp + 17).trim());
      if (Number.isFinite(v) && v > 0) preemptBit = v;
    }
  }
  if (letters.length === 0) {
    for (let i = 0; i < MODERN_LETTERS.length; i++) letters.push({ bit: 1 << i, letter: MODERN_LETTERS[i] });
  }
  if (preemptBit === 0) {
    let max = 0;
    for (const l of letters) max = Math.max(max, l.bit);
    preemptBit = max * 2;
  }
  const modern =
    letters.length <= MODERN_LETTERS.length &&
    letters.every((l, i) => l.bit === 1 << i && l.letter === MODERN_LETTERS[i]);
  const bitsBelowPreempt = Math.max(1, Math.min(preemptBit, 1 << 16));
  let normalise: (raw: number) => number;
  if (modern) {
    normalise = (raw) => raw & 0xff & (preemptBit - 1);
  } else {
    // lookup table over the bits below the preempt bit
    const size = 2 ** Math.ceil(Math.log2(bitsBelowPreempt));
    const lut = new Int32Array(size);
    const map = letters.map((l) => ({ bit: l.bit, state: Math.max(0, taskStateFromLetters(l.letter)) }));
    for (let v = 0; v < size; v++) {
      let s = 0;
      for (const e of map) if (v & e.bit) s |= e.state;
      lut[v] = s;
    }
    const mask = size - 1;
    normalise = (raw) => lut[raw & mask];
  }
  return { letters, preemptBit, modern, normalise };
}

/** The modern table, for traces without a sched_switch format. */
export const MODERN_PREV_STATE: PrevStateTable = prevStateTable("");
