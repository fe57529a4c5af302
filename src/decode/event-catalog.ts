// The events of one trace: event id → kind and the precomputed offsets of the fields that
// kind needs, looked up by name once per format so that layout differences across kernels
// (sched_wakeup with `success`, comm as char[16] or __data_loc, 4-byte prev_state, missing
// fields) cost nothing per event. `fill()` decodes one record into the reusable EventRecord;
// strings are decoded only on request (StringDecoder).

import type { Diagnostics } from "../model/diagnostics.ts";
import { type EventRecord, type StringDecoder, StrSlot } from "../model/event.ts";
import { EVENT_KIND_BY_NAME, EventKind } from "../model/event-kind.ts";
import { TraceFormatError } from "../model/source.ts";
import type { EventFormat, FormatField, PrevStateTable } from "./format-file.ts";
import { FormatParseError, MODERN_PREV_STATE, parseFormat, prevStateTable } from "./format-file.ts";
import type { PageLayout } from "./header-page.ts";

// numeric slots a kind may need
const N = {
  Tid: 0,
  Prio: 1,
  TargetCpu: 2,
  OrigCpu: 3,
  Parent: 4,
  PrevPid: 5,
  PrevPrio: 6,
  PrevState: 7,
  NextPid: 8,
  NextPrio: 9,
  Irq: 10,
  IrqRet: 11,
  Vec: 12,
  Timer: 13,
  Function: 14,
  Expires: 15,
  SoftExpires: 16,
  Now: 17,
  Mode: 18,
  WhichClock: 19,
  Flags: 20,
  Ret: 21,
  CommonFlags: 22,
  CommonPreempt: 23,
  CommonPid: 24,
  CloneFlags: 25,
} as const;
const SLOTS = 26;

/** A format file's text and the system it was stored under. */
export interface FormatText {
  system: string;
  text: string;
  /** where the text is in its file, for errors (see TextPlace) */
  place?: TextPlace;
}

/**
 * Where a metadata text starts: a file offset; for a text inside a compressed section, the
 * section's offset and the byte of the decompressed content the text starts at.
 */
export interface TextPlace {
  offset: number;
  /** compressed section: its name ("event formats section") and the byte within it */
  section?: string;
  byte?: number;
}

/** A format text that failed to parse: the error, with the format it came from. */
export class FormatTextError extends FormatParseError {
  readonly format: FormatText;
  constructor(cause: FormatParseError, format: FormatText) {
    super(cause.message);
    this.line = cause.line;
    this.format = format;
  }
}

interface PendingFormat extends FormatText {
  name: string;
}

/** Systems with an event the analysis uses: their formats are read for their names at once. */
const USED_SYSTEMS = new Set([...EVENT_KIND_BY_NAME.keys()].map((k) => k.slice(0, k.indexOf(":"))));

const NAME_RE = /^name:\s*(\S+)/m;
const ID_RE = /^ID:\s*(\d+)/m;

/** Name and ID of a format text: the first two lines in practice, else found anywhere. */
function nameAndId(text: string): [string | undefined, string | undefined] {
  if (text.startsWith("name: ")) {
    const nl = text.indexOf("\n");
    if (nl > 6 && text.startsWith("ID: ", nl + 1)) {
      const nl2 = text.indexOf("\n", nl + 5);
      const id = text.slice(nl + 5, nl2 < 0 ? text.length : nl2).trim();
      const name = text.slice(6, nl).trim();
      if (/^\d+$/.test(id) && name !== "" && !name.includes(" ")) return [name, id];
    }
  }
  return [NAME_RE.exec(text)?.[1], ID_RE.exec(text)?.[1]];
}

/** field names per numeric slot and kind (first name found wins) */
function numericNames(kind: EventKind): [number, string[]][] {
  switch (kind) {
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
      return [
        [N.Tid, ["pid"]],
        [N.Prio, ["prio"]],
        [N.TargetCpu, ["target_cpu"]],
      ];
    case EventKind.SchedSwitch:
      return [
        [N.PrevPid, ["prev_pid"]],
        [N.PrevPrio, ["prev_prio"]],
        [N.PrevState, ["prev_state"]],
        [N.NextPid, ["next_pid"]],
        [N.NextPrio, ["next_prio"]],
      ];
    case EventKind.SchedMigrateTask:
      return [
        [N.Tid, ["pid"]],
        [N.Prio, ["prio"]],
        [N.OrigCpu, ["orig_cpu"]],
        [N.TargetCpu, ["dest_cpu"]],
      ];
    case EventKind.SchedProcessFork:
      return [
        [N.Parent, ["parent_pid"]],
        [N.Tid, ["child_pid"]],
      ];
    case EventKind.SchedProcessExec:
      return [
        [N.Tid, ["pid"]],
        [N.Parent, ["old_pid"]],
      ];
    case EventKind.SchedProcessExit:
      return [
        [N.Tid, ["pid"]],
        [N.Prio, ["prio"]],
      ];
    case EventKind.TaskNewtask:
      return [
        [N.Tid, ["pid"]],
        [N.CloneFlags, ["clone_flags"]],
      ];
    case EventKind.IrqHandlerEntry:
      return [[N.Irq, ["irq"]]];
    case EventKind.IrqHandlerExit:
      return [
        [N.Irq, ["irq"]],
        [N.IrqRet, ["ret"]],
      ];
    case EventKind.SoftirqEntry:
    case EventKind.SoftirqExit:
    case EventKind.SoftirqRaise:
      return [[N.Vec, ["vec"]]];
    case EventKind.HrtimerStart:
      return [
        [N.Timer, ["hrtimer"]],
        [N.Function, ["function"]],
        [N.Expires, ["expires"]],
        [N.SoftExpires, ["softexpires"]],
        [N.Mode, ["mode"]],
      ];
    case EventKind.HrtimerExpireEntry:
      return [
        [N.Timer, ["hrtimer"]],
        [N.Now, ["now"]],
        [N.Function, ["function"]],
      ];
    case EventKind.HrtimerExpireExit:
    case EventKind.HrtimerCancel:
      return [[N.Timer, ["hrtimer"]]];
    case EventKind.SysEnterSleep:
      return [
        [N.WhichClock, ["which_clock"]],
        [N.Flags, ["flags"]],
      ];
    case EventKind.SysExitSleep:
      return [[N.Ret, ["ret"]]];
    default:
      return [];
  }
}

const REQUIRED: Partial<Record<EventKind, number[]>> = {
  [EventKind.SchedSwitch]: [N.PrevPid, N.NextPid],
  [EventKind.SchedWakeup]: [N.Tid],
  [EventKind.SchedWaking]: [N.Tid],
  [EventKind.SchedWakeupNew]: [N.Tid],
  [EventKind.SchedMigrateTask]: [N.Tid],
  [EventKind.SchedProcessFork]: [N.Tid],
  [EventKind.SchedProcessExec]: [N.Tid],
  [EventKind.SchedProcessExit]: [N.Tid],
  [EventKind.TaskNewtask]: [N.Tid, N.CloneFlags],
  [EventKind.IrqHandlerEntry]: [N.Irq],
  [EventKind.IrqHandlerExit]: [N.Irq],
  [EventKind.SoftirqEntry]: [N.Vec],
  [EventKind.SoftirqExit]: [N.Vec],
  [EventKind.SoftirqRaise]: [N.Vec],
  [EventKind.HrtimerStart]: [N.Timer],
  [EventKind.HrtimerExpireEntry]: [N.Timer],
  [EventKind.HrtimerExpireExit]: [N.Timer],
  [EventKind.HrtimerCancel]: [N.Timer],
};

function stringNames(kind: EventKind): [StrSlot, string][] {
  switch (kind) {
    case EventKind.SchedSwitch:
      return [
        [StrSlot.Comm, "prev_comm"],
        [StrSlot.Comm2, "next_comm"],
      ];
    case EventKind.SchedWakeup:
    case EventKind.SchedWaking:
    case EventKind.SchedWakeupNew:
    case EventKind.SchedMigrateTask:
    case EventKind.SchedProcessExit:
      return [[StrSlot.Comm, "comm"]];
    case EventKind.SchedProcessFork:
      return [
        [StrSlot.Comm, "child_comm"],
        [StrSlot.Comm2, "parent_comm"],
      ];
    case EventKind.SchedProcessExec:
      return [[StrSlot.Comm, "filename"]];
    case EventKind.TaskNewtask:
      return [[StrSlot.Comm, "comm"]];
    case EventKind.IrqHandlerEntry:
      return [[StrSlot.IrqName, "name"]];
    default:
      return [];
  }
}

/** Everything needed to decode records of one event id. */
export class EventDecoder {
  readonly format: EventFormat;
  readonly kind: EventKind;
  /** "system:name" */
  readonly fullName: string;
  /** per numeric slot: offset (-1 = field absent), size, signed (0/1) */
  readonly off = new Int32Array(SLOTS).fill(-1);
  readonly size = new Int32Array(SLOTS);
  readonly sgn = new Int32Array(SLOTS);
  /** per string slot: the field, or null */
  readonly str: (FormatField | null)[] = [null, null, null, null];
  /** every numeric field of the kind is a 4-byte int: fill() takes its straight path */
  readonly wordFields: boolean;
  /**
   * The common fields sit where every kernel since 2.6.3x puts them (flags u8 at 2, preempt
   * count u8 at 3, pid s32 at 4): fill() reads them without looking up offsets and sizes.
   */
  readonly standardCommon: boolean;
  /** smallest payload length holding every needed field */
  readonly minLength: number;
  readonly byName: Map<string, FormatField>;

  constructor(format: EventFormat, kind: EventKind) {
    this.format = format;
    this.fullName = `${format.system}:${format.name}`;
    this.byName = new Map(format.fields.map((f) => [f.name, f]));
    let min = 0;
    const use = (slot: number, names: string[]) => {
      for (const n of names) {
        const f = this.byName.get(n);
        if (f?.kind !== "scalar") continue;
        this.off[slot] = f.offset;
        this.size[slot] = f.size;
        this.sgn[slot] = f.signed ? 1 : 0;
        min = Math.max(min, f.offset + f.size);
        return;
      }
    };
    use(N.CommonFlags, ["common_flags"]);
    use(N.CommonPreempt, ["common_preempt_count"]);
    use(N.CommonPid, ["common_pid"]);
    for (const [slot, names] of numericNames(kind)) use(slot, names);
    for (const [slot, name] of stringNames(kind)) {
      const f = this.byName.get(name);
      if (f && f.kind !== "scalar") this.str[slot] = f;
    }
    this.minLength = Math.max(min, 4);
    // (pids keep their format's signedness on the generic path: the straight path reads them signed)
    // prev_state is a long (8 bytes on 64-bit kernels): its low 32 bits hold every state bit
    this.wordFields = numericNames(kind).every(
      ([slot]) =>
        this.off[slot] < 0 ||
        (slot === N.PrevState && this.size[slot] === 8) ||
        (this.size[slot] === 4 &&
          (this.sgn[slot] === 1 || (slot !== N.Tid && slot !== N.PrevPid && slot !== N.NextPid))),
    );
    this.standardCommon =
      this.off[N.CommonFlags] === 2 &&
      this.size[N.CommonFlags] === 1 &&
      this.off[N.CommonPreempt] === 3 &&
      this.size[N.CommonPreempt] === 1 &&
      this.off[N.CommonPid] === 4 &&
      this.size[N.CommonPid] === 4 &&
      this.sgn[N.CommonPid] === 1;
    // a format without the fields its kind cannot do without is decoded generically
    const required = REQUIRED[kind];
    this.kind = required?.some((slot) => this.off[slot] < 0) ? EventKind.Other : kind;
  }
}

/** Reads an integer field; 8-byte values beyond 2^53 lose precision (use fieldValue for exact ones). */
function readNum(v: DataView, at: number, size: number, signed: number, le: boolean): number {
  switch (size) {
    case 1:
      return signed ? v.getInt8(at) : v.getUint8(at);
    case 2:
      return signed ? v.getInt16(at, le) : v.getUint16(at, le);
    case 4:
      return signed ? v.getInt32(at, le) : v.getUint32(at, le);
    case 8: {
      const lo = v.getUint32(le ? at : at + 4, le);
      const hi = signed ? v.getInt32(le ? at + 4 : at, le) : v.getUint32(le ? at + 4 : at, le);
      return hi * 4294967296 + lo;
    }
    default:
      return 0;
  }
}

export interface FieldEntry {
  name: string;
  type: string;
  value: number | bigint | string;
}

export class EventCatalog implements StringDecoder {
  readonly layout: PageLayout;
  readonly file: string;
  readonly diagnostics: Diagnostics;
  /** prev_state decoding of this trace's sched_switch */
  readonly prevState: PrevStateTable;
  private readonly decoders: (EventDecoder | undefined)[] = new Array(65536);
  private readonly unknownSeen = new Uint8Array(65536);
  private readonly le: boolean;
  private baseHi = 0;
  private baseLo = 0;
  /** file offset of the payload most recently filled (for errors in lazy string reads) */
  private lastData: Uint8Array | null = null;
  private lastOffset = 0;
  private lastFileOffset = -1;

  /** formats not parsed yet (events the analysis does not use): parsed when first seen */
  private readonly pending: (PendingFormat | undefined)[] = new Array(65536);
  /**
   * format texts of systems without an event the analysis uses, not even read for their name
   * and id until an event id turns up that no other format has (a trace.dat holds every
   * format of the kernel: 2,341 on the bench traces, 770 of them in sched, irq, timer,
   * syscalls and task; reading them all took 26-34 ms of a report's start while the code is
   * cold, and a trace.dat report builds a second catalog for the window read-back)
   */
  private unscanned: FormatText[] = [];

  /**
   * `formats`: parsed formats, or raw texts with their system. Texts of events the analysis
   * uses are parsed at once (their errors throw FormatParseError); the thousands of others
   * only when a record of theirs turns up (a broken one is then decoded generically).
   */
  constructor(
    formats: readonly (EventFormat | FormatText)[],
    layout: PageLayout,
    file: string,
    diagnostics: Diagnostics,
  ) {
    this.layout = layout;
    this.file = file;
    this.diagnostics = diagnostics;
    this.le = layout.littleEndian;
    let table = MODERN_PREV_STATE;
    for (const item of formats) {
      let f: EventFormat;
      if ("text" in item) {
        if (!USED_SYSTEMS.has(item.system)) {
          this.unscanned.push(item);
          continue;
        }
        const [name, idText] = nameAndId(item.text);
        const full = `${item.system}:${name}`;
        if (name !== undefined && idText !== undefined && !EVENT_KIND_BY_NAME.has(full)) {
          const id = Number(idText);
          if (id <= 65535) this.pending[id] = { system: item.system, text: item.text, name };
          continue;
        }
        try {
          f = parseFormat(item.text, item.system);
        } catch (e) {
          if (e instanceof FormatParseError) throw new FormatTextError(e, item);
          throw e;
        }
      } else {
        f = item;
      }
      if (f.id < 0 || f.id > 65535) continue;
      const full = `${f.system}:${f.name}`;
      const kind = EVENT_KIND_BY_NAME.get(full) ?? EventKind.Other;
      this.decoders[f.id] = new EventDecoder(f, kind);
      if (kind === EventKind.SchedSwitch) table = prevStateTable(f.printFmt);
    }
    this.prevState = table;
  }

  /**
   * Files the formats of the unused systems under their ids (once). One without a readable
   * name and ID is counted as a bad format, as a broken format of an unused event is when its
   * event turns up (it threw at open when every format was read there).
   */
  private scanUnscanned(): void {
    for (const item of this.unscanned) {
      const [name, idText] = nameAndId(item.text);
      if (name === undefined || idText === undefined) {
        this.diagnostics.add("bad_format", `${item.system}: a format without a readable name and ID`);
        continue;
      }
      const id = Number(idText);
      if (id <= 65535 && this.pending[id] === undefined && this.decoders[id] === undefined)
        this.pending[id] = { system: item.system, text: item.text, name };
    }
    this.unscanned = [];
  }

  /** Absolute timestamps inside events (hrtimer expires/now) are made relative to this base. */
  setBase(base: bigint): void {
    const b = BigInt.asUintN(64, base);
    this.baseHi = Number(b >> 32n);
    this.baseLo = Number(b & 0xffffffffn);
  }

  decoder(id: number): EventDecoder | undefined {
    return this.decoders[id] ?? this.parsePending(id);
  }

  /** Decoder for an event by "system:name" or bare name, or undefined. */
  findByName(name: string): EventDecoder | undefined {
    this.scanUnscanned();
    for (const d of this.decoders) if (d && (d.fullName === name || d.format.name === name)) return d;
    for (let id = 0; id < this.pending.length; id++) {
      const p = this.pending[id];
      if (p && (p.name === name || `${p.system}:${p.name}` === name)) return this.parsePending(id);
    }
    return undefined;
  }

  /** Parses a deferred format on first use; undefined if there is none (or it is broken). */
  private parsePending(id: number): EventDecoder | undefined {
    let p = this.pending[id];
    if (p === undefined && this.unscanned.length > 0) {
      this.scanUnscanned();
      p = this.pending[id];
    }
    if (p === undefined) return undefined;
    this.pending[id] = undefined;
    try {
      const d = new EventDecoder(parseFormat(p.text, p.system), EventKind.Other);
      this.decoders[id] = d;
      return d;
    } catch (e) {
      this.diagnostics.add("bad_format", (e as Error).message);
      return undefined;
    }
  }

  /**
   * Decodes the record at data[offset, offset+length) into `rec` (after clearDecoded: a record
   * that only binary sources fill);
   * rec.cpu and rec.ts are the caller's. `fileOffset` (of the payload) is for errors.
   */
  fill(
    rec: EventRecord,
    data: Uint8Array,
    view: DataView,
    offset: number,
    length: number,
    fileOffset = -1,
  ): void {
    rec.clearDecoded();
    // the same chunk's buffer for many records: a pointer store costs a GC write barrier, a compare does not
    if (rec.data !== data) {
      rec.data = data;
      rec.view = view;
    }
    rec.offset = offset;
    rec.length = length;
    if (rec.strings !== this) rec.strings = this;
    if (this.lastData !== data) this.lastData = data;
    this.lastOffset = offset;
    this.lastFileOffset = fileOffset;
    if (length < 8) {
      throw new TraceFormatError(
        this.file,
        fileOffset,
        `event record of ${length} bytes is too short for its common fields`,
      );
    }
    const le = this.le;
    const id = view.getUint16(offset, le);
    rec.id = id;
    let d = this.decoders[id];
    if (d === undefined) d = this.parsePending(id);
    if (d === undefined) {
      // common fields are standard (type u16, flags u8, preempt u8, pid s32) when no format says otherwise
      rec.flags = data[offset + 2];
      rec.preemptCount = data[offset + 3];
      rec.currentTid = view.getInt32(offset + 4, le);
      if (this.unknownSeen[id] === 0) {
        this.unknownSeen[id] = 1;
        this.diagnostics.add("unknown_event", `event id ${id}`);
      }
      return;
    }
    if (length < d.minLength) {
      throw new TraceFormatError(
        this.file,
        fileOffset,
        `${d.fullName} record of ${length} bytes is shorter than its format (${d.minLength} bytes)`,
      );
    }
    const off = d.off;
    const size = d.size;
    const sgn = d.sgn;
    rec.kind = d.kind;
    if (d.standardCommon) {
      rec.flags = data[offset + 2];
      rec.preemptCount = data[offset + 3];
      rec.currentTid = view.getInt32(offset + 4, le);
    } else {
      if (off[N.CommonFlags] >= 0) rec.flags = data[offset + off[N.CommonFlags]];
      if (off[N.CommonPreempt] >= 0) rec.preemptCount = data[offset + off[N.CommonPreempt]];
      rec.currentTid =
        off[N.CommonPid] >= 0
          ? readNum(view, offset + off[N.CommonPid], size[N.CommonPid], sgn[N.CommonPid], le)
          : 0;
    }
    switch (d.kind) {
      case EventKind.Other:
        return;
      case EventKind.SchedSwitch: {
        if (d.wordFields) {
          this.fillSwitchWords(rec, d, view, offset);
          return;
        }
        rec.prevTid = readNum(view, offset + off[N.PrevPid], size[N.PrevPid], sgn[N.PrevPid], le);
        rec.prevPrio =
          off[N.PrevPrio] >= 0 ? readNum(view, offset + off[N.PrevPrio], size[N.PrevPrio], 1, le) : 0;
        // the low 32 bits hold every state bit (8-byte longs included)
        const so = off[N.PrevState];
        rec.prevState =
          so >= 0
            ? this.prevState.normalise(
                view.getUint32(offset + so + (le || size[N.PrevState] !== 8 ? 0 : 4), le),
              )
            : 0;
        rec.nextTid = readNum(view, offset + off[N.NextPid], size[N.NextPid], sgn[N.NextPid], le);
        rec.nextPrio =
          off[N.NextPrio] >= 0 ? readNum(view, offset + off[N.NextPrio], size[N.NextPrio], 1, le) : 0;
        return;
      }
      case EventKind.SchedWakeup:
      case EventKind.SchedWaking:
      case EventKind.SchedWakeupNew:
      case EventKind.SchedMigrateTask:
      case EventKind.SchedProcessExit:
        if (d.wordFields) {
          this.fillTaskWords(rec, d, view, offset);
          return;
        }
        rec.tid = off[N.Tid] >= 0 ? readNum(view, offset + off[N.Tid], size[N.Tid], sgn[N.Tid], le) : 0;
        rec.prio = off[N.Prio] >= 0 ? readNum(view, offset + off[N.Prio], size[N.Prio], 1, le) : 0;
        rec.targetCpu =
          off[N.TargetCpu] >= 0 ? readNum(view, offset + off[N.TargetCpu], size[N.TargetCpu], 1, le) : -1;
        rec.origCpu =
          off[N.OrigCpu] >= 0 ? readNum(view, offset + off[N.OrigCpu], size[N.OrigCpu], 1, le) : -1;
        return;
      case EventKind.SchedProcessFork:
      case EventKind.SchedProcessExec:
        rec.tid = off[N.Tid] >= 0 ? readNum(view, offset + off[N.Tid], size[N.Tid], sgn[N.Tid], le) : 0;
        rec.parentTid =
          off[N.Parent] >= 0 ? readNum(view, offset + off[N.Parent], size[N.Parent], sgn[N.Parent], le) : 0;
        return;
      case EventKind.TaskNewtask: {
        rec.tid = readNum(view, offset + off[N.Tid], size[N.Tid], sgn[N.Tid], le);
        // the low word holds CLONE_THREAD
        rec.cloneFlags = readNum(view, offset + off[N.CloneFlags], size[N.CloneFlags], 0, le) % 4294967296;
        return;
      }
      case EventKind.IrqHandlerEntry:
      case EventKind.IrqHandlerExit:
        rec.irq = off[N.Irq] >= 0 ? readNum(view, offset + off[N.Irq], size[N.Irq], 1, le) : -1;
        rec.irqRet = off[N.IrqRet] >= 0 ? readNum(view, offset + off[N.IrqRet], size[N.IrqRet], 1, le) : 0;
        return;
      case EventKind.SoftirqEntry:
      case EventKind.SoftirqExit:
      case EventKind.SoftirqRaise:
        rec.vec = off[N.Vec] >= 0 ? readNum(view, offset + off[N.Vec], size[N.Vec], 0, le) : -1;
        return;
      case EventKind.HrtimerStart:
      case EventKind.HrtimerExpireEntry:
      case EventKind.HrtimerExpireExit:
      case EventKind.HrtimerCancel:
        this.fillTimer(rec, d, view, offset);
        return;
      case EventKind.SysEnterSleep:
        rec.sleepClock =
          off[N.WhichClock] >= 0 ? readNum(view, offset + off[N.WhichClock], size[N.WhichClock], 1, le) : -1;
        rec.sleepFlags = off[N.Flags] >= 0 ? readNum(view, offset + off[N.Flags], size[N.Flags], 1, le) : 0;
        return;
      case EventKind.SysExitSleep:
        rec.sysRet = off[N.Ret] >= 0 ? readNum(view, offset + off[N.Ret], size[N.Ret], 1, le) : 0;
        return;
    }
  }

  /**
   * sched_switch when every field but prev_state is a 4-byte int (every kernel so far):
   * straight reads, no size dispatch. prev_state (4 or 8 bytes) is read by its low 32 bits.
   */
  private fillSwitchWords(rec: EventRecord, d: EventDecoder, view: DataView, offset: number): void {
    const off = d.off;
    const le = this.le;
    rec.prevTid = view.getInt32(offset + off[N.PrevPid], le);
    rec.nextTid = view.getInt32(offset + off[N.NextPid], le);
    let at = off[N.PrevPrio];
    rec.prevPrio = at >= 0 ? view.getInt32(offset + at, le) : 0;
    at = off[N.NextPrio];
    rec.nextPrio = at >= 0 ? view.getInt32(offset + at, le) : 0;
    at = off[N.PrevState];
    if (at >= 0 && !le && d.size[N.PrevState] === 8) at += 4;
    rec.prevState = at >= 0 ? this.prevState.normalise(view.getUint32(offset + at, le)) : 0;
  }

  /** wakeup / waking / wakeup_new / migrate / exit when every field is a 4-byte int. */
  private fillTaskWords(rec: EventRecord, d: EventDecoder, view: DataView, offset: number): void {
    const off = d.off;
    const le = this.le;
    let at = off[N.Tid];
    rec.tid = at >= 0 ? view.getInt32(offset + at, le) : 0;
    at = off[N.Prio];
    rec.prio = at >= 0 ? view.getInt32(offset + at, le) : 0;
    at = off[N.TargetCpu];
    rec.targetCpu = at >= 0 ? view.getInt32(offset + at, le) : -1;
    at = off[N.OrigCpu];
    rec.origCpu = at >= 0 ? view.getInt32(offset + at, le) : -1;
  }

  /**
   * hrtimer fields (addresses folded as kallsyms.ts foldAddress does). Kept apart from fill() and written out in full so that the 53-bit
   * doubles go straight into the record (a helper returning them would box each one).
   */
  private fillTimer(rec: EventRecord, d: EventDecoder, view: DataView, offset: number): void {
    const off = d.off;
    const size = d.size;
    const le = this.le;
    const hiAt = le ? 4 : 0;
    const loAt = le ? 0 : 4;
    let at = off[N.Timer];
    if (at < 0) rec.timerKey = 0;
    else if (size[N.Timer] === 8)
      rec.timerKey =
        (view.getUint32(offset + at + hiAt, le) & 0x1fffff) * 4294967296 +
        view.getUint32(offset + at + loAt, le);
    else rec.timerKey = view.getUint32(offset + at, le);
    at = off[N.Function];
    if (at < 0) rec.timerFn = 0;
    else if (size[N.Function] === 8)
      rec.timerFn =
        (view.getUint32(offset + at + hiAt, le) & 0x1fffff) * 4294967296 +
        view.getUint32(offset + at + loAt, le);
    else rec.timerFn = view.getUint32(offset + at, le);
    const bHi = this.baseHi;
    const bLo = this.baseLo;
    // s64 absolute times minus the base, exact by 32-bit halves
    at = off[N.Expires];
    if (at < 0) rec.expires = 0;
    else if (size[N.Expires] === 8)
      rec.expires =
        (view.getInt32(offset + at + hiAt, le) - bHi) * 4294967296 +
        (view.getUint32(offset + at + loAt, le) - bLo);
    else rec.expires = readNum(view, offset + at, size[N.Expires], 1, le) - (bHi * 4294967296 + bLo);
    at = off[N.SoftExpires];
    if (at < 0) rec.softExpires = 0;
    else if (size[N.SoftExpires] === 8)
      rec.softExpires =
        (view.getInt32(offset + at + hiAt, le) - bHi) * 4294967296 +
        (view.getUint32(offset + at + loAt, le) - bLo);
    else rec.softExpires = readNum(view, offset + at, size[N.SoftExpires], 1, le) - (bHi * 4294967296 + bLo);
    at = off[N.Now];
    if (at < 0) rec.now = 0;
    else if (size[N.Now] === 8)
      rec.now =
        (view.getInt32(offset + at + hiAt, le) - bHi) * 4294967296 +
        (view.getUint32(offset + at + loAt, le) - bLo);
    else rec.now = readNum(view, offset + at, size[N.Now], 1, le) - (bHi * 4294967296 + bLo);
    rec.timerMode = off[N.Mode] >= 0 ? readNum(view, offset + off[N.Mode], size[N.Mode], 0, le) : 0;
  }

  readString(rec: EventRecord, slot: StrSlot): string {
    const d = this.decoders[rec.id];
    if (slot === StrSlot.EventName) return d ? d.fullName : rec.id >= 0 ? `unknown:${rec.id}` : "";
    const f = d?.str[slot];
    if (!f || !rec.data || !rec.view) return "";
    return this.stringField(rec, f);
  }

  private errorOffset(rec: EventRecord, within: number): number {
    return rec.data === this.lastData && rec.offset === this.lastOffset && this.lastFileOffset >= 0
      ? this.lastFileOffset + within
      : -1;
  }

  /** Locates a non-scalar field's bytes: [start, end) relative to the record. */
  private locate(rec: EventRecord, f: FormatField): [number, number] {
    const view = rec.view!;
    const le = this.le;
    if (f.offset + f.size > rec.length) {
      throw new TraceFormatError(
        this.file,
        this.errorOffset(rec, f.offset),
        `field ${f.name} (offset ${f.offset}, size ${f.size}) lies outside its ${rec.length}-byte record`,
      );
    }
    switch (f.kind) {
      case "array":
      case "scalar":
        return [f.offset, f.offset + f.size];
      case "flex":
        return [f.offset, rec.length];
      case "dataLoc":
      case "relLoc": {
        let start: number;
        let len: number;
        if (f.size === 2) {
          start = view.getUint16(rec.offset + f.offset, le);
          len = -1;
        } else {
          const w = view.getUint32(rec.offset + f.offset, le);
          start = w & 0xffff;
          len = w >>> 16;
          if (f.kind === "relLoc") start += f.offset + f.size;
        }
        if (len < 0) len = rec.length - start;
        if (start > rec.length || start + len > rec.length) {
          throw new TraceFormatError(
            this.file,
            this.errorOffset(rec, f.offset),
            `${f.kind === "relLoc" ? "__rel_loc" : "__data_loc"} field ${f.name} points at bytes ${start}..${start + len}, outside its ${rec.length}-byte record`,
          );
        }
        return [start, start + len];
      }
    }
  }

  private stringField(rec: EventRecord, f: FormatField): string {
    const [start, end] = this.locate(rec, f);
    const data = rec.data!;
    const base = rec.offset;
    let stop = base + start;
    const limit = base + end;
    let ascii = true;
    while (stop < limit && data[stop] !== 0) {
      if (data[stop] > 0x7e) ascii = false;
      stop++;
    }
    if (!ascii) return new TextDecoder().decode(data.subarray(base + start, stop));
    let s = "";
    for (let i = base + start; i < stop; i++) s += String.fromCharCode(data[i]);
    return s;
  }

  /** Slow generic accessor: a field of the current record by name (exports, debugging). */
  fieldValue(rec: EventRecord, name: string): number | bigint | string | undefined {
    const d = rec.id >= 0 ? this.decoders[rec.id] : undefined;
    const f = d?.byName.get(name);
    if (!f || !rec.view) return undefined;
    return this.valueOf(rec, f);
  }

  /** Every field of the current record, common fields first. */
  fields(rec: EventRecord): FieldEntry[] {
    const d = rec.id >= 0 ? this.decoders[rec.id] : undefined;
    if (!d || !rec.view) return [];
    return d.format.fields.map((f) => ({ name: f.name, type: f.type, value: this.valueOf(rec, f) }));
  }

  private valueOf(rec: EventRecord, f: FormatField): number | bigint | string {
    const view = rec.view!;
    const le = this.le;
    if (f.kind === "scalar") {
      if (f.offset + f.size > rec.length) {
        throw new TraceFormatError(
          this.file,
          this.errorOffset(rec, f.offset),
          `field ${f.name} lies outside its ${rec.length}-byte record`,
        );
      }
      const at = rec.offset + f.offset;
      if (f.size === 8) {
        const v = f.signed ? view.getBigInt64(at, le) : view.getBigUint64(at, le);
        return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
      }
      return readNum(view, at, f.size, f.signed ? 1 : 0, le);
    }
    if (f.isString) return this.stringField(rec, f);
    const [start, end] = this.locate(rec, f);
    const es =
      f.elementSize === 1 || f.elementSize === 2 || f.elementSize === 4 || f.elementSize === 8
        ? f.elementSize
        : 1;
    const out: string[] = [];
    for (let at = rec.offset + start; at + es <= rec.offset + end; at += es) {
      if (es === 8) out.push(String(f.signed ? view.getBigInt64(at, le) : view.getBigUint64(at, le)));
      else out.push(String(readNum(view, at, es, f.signed ? 1 : 0, le)));
    }
    return `[${out.join(",")}]`;
  }
}
