// trace.dat option records (FORMATS.md §3.3): the same ids in v6 (one list before the CPU
// table) and v7 (options sections chained by DONE). Payloads are decoded into OptionState;
// unknown ids are skipped by their size, as trace-cmd does.

import { TraceFormatError } from "../../model/source.ts";
import { BlockByteReader, cText } from "./byte-reader.ts";

export const OptionId = {
  DONE: 0,
  DATE: 1,
  CPUSTAT: 2,
  BUFFER: 3,
  TRACECLOCK: 4,
  UNAME: 5,
  HOOK: 6,
  OFFSET: 7,
  CPUCOUNT: 8,
  VERSION: 9,
  PROCMAPS: 10,
  TRACEID: 11,
  TIME_SHIFT: 12,
  GUEST: 13,
  TSC2NSEC: 14,
  STRINGS: 15,
  HEADER_INFO: 16,
  FTRACE_EVENTS: 17,
  EVENT_FORMATS: 18,
  KALLSYMS: 19,
  PRINTK: 20,
  CMDLINES: 21,
  BUFFER_TEXT: 22,
  /**
   * rtscope's own: the thread groups of the tasks in a trace rtscope wrote ("tid tgid" lines,
   * like the kernel's saved_tgids). trace-cmd skips option ids it does not know by their size.
   */
  RTSCOPE_TGIDS: 0x7274,
} as const;

/** Upper bound on CPU numbers and counts (Linux NR_CPUS is at most 8192). */
export const MAX_CPUS = 65536;

export interface Tsc2Nsec {
  mult: number;
  shift: number;
  /** exposed raw, as trace-cmd does not apply it automatically */
  offset: bigint;
}

/** One per-CPU data region as listed in the file. */
export interface CpuData {
  cpu: number;
  /** file offset of the CPU's data (v7 compressed: of its chunk stream) */
  offset: number;
  /** bytes in the file (v7 compressed: size of the chunk stream, not of the pages) */
  size: number;
}

export interface RawBufferOption {
  name: string;
  /** v6: offset of the instance's "flyrecord" tag; v7: offset of its section header */
  offset: number;
  /** v7 only */
  clock: string;
  pageSize: number;
  cpus: CpuData[];
  /** file offset of the option payload, for errors */
  optionOffset: number;
}

export interface OptionState {
  date: string;
  offset: string;
  tsc2nsec: Tsc2Nsec | null;
  uname: string;
  version: string;
  /** RTSCOPE_TGIDS text, "" when absent */
  savedTgids: string;
  /** null when the TRACECLOCK option is absent (v6: then no clock text follows the CPU table) */
  traceClockText: string | null;
  cpuStats: string[];
  cpuCount: number | null;
  traceId: bigint | null;
  buffers: RawBufferOption[];
  /** v7 BUFFER_TEXT (latency) options */
  latencyBuffers: { name: string; clock: string; offset: number }[];
  /** v7 metadata section offsets by id (16..21) */
  sectionOffsets: Map<number, number>;
  timeShift: boolean;
  warnings: string[];
}

export function newOptionState(): OptionState {
  return {
    date: "",
    offset: "",
    tsc2nsec: null,
    uname: "",
    version: "",
    savedTgids: "",
    traceClockText: null,
    cpuStats: [],
    cpuCount: null,
    traceId: null,
    buffers: [],
    latencyBuffers: [],
    sectionOffsets: new Map(),
    timeShift: false,
    warnings: [],
  };
}

/**
 * Applies one option. `payloadOffset` is the payload's file offset (for v7 compressed options
 * sections, the section's offset) and only serves error messages.
 */
export function applyOption(
  st: OptionState,
  id: number,
  payload: Uint8Array,
  payloadOffset: number,
  version: 6 | 7,
  path: string,
  littleEndian: boolean,
): void {
  const r = new BlockByteReader(path, payload, payloadOffset, `option ${id} payload`, littleEndian);
  switch (id) {
    case OptionId.DATE:
      st.date = cText(payload);
      break;
    case OptionId.RTSCOPE_TGIDS:
      st.savedTgids = cText(payload);
      break;
    case OptionId.OFFSET:
      st.offset = cText(payload);
      break;
    case OptionId.CPUSTAT:
      st.cpuStats.push(cText(payload));
      break;
    case OptionId.TRACECLOCK:
      st.traceClockText = cText(payload);
      break;
    case OptionId.UNAME:
      st.uname = cText(payload);
      break;
    case OptionId.VERSION:
      st.version = cText(payload);
      break;
    case OptionId.CPUCOUNT: {
      const n = r.u32("CPUCOUNT option");
      if (n > MAX_CPUS)
        throw new TraceFormatError(path, payloadOffset, `CPUCOUNT option says ${n} CPUs: absurd`);
      st.cpuCount = n;
      break;
    }
    case OptionId.TRACEID:
      if (payload.length >= 8) st.traceId = r.u64big("TRACEID option");
      break;
    case OptionId.TSC2NSEC:
      // trace-cmd ignores a short payload; so do we.
      if (payload.length >= 16) {
        const mult = r.u32("TSC2NSEC mult");
        const shift = r.u32("TSC2NSEC shift");
        st.tsc2nsec = { mult, shift, offset: r.u64big("TSC2NSEC offset") };
      }
      break;
    case OptionId.TIME_SHIFT:
      st.timeShift = true;
      st.warnings.push("TIME_SHIFT option (host/guest clock sync) present: its corrections are not applied");
      break;
    case OptionId.BUFFER:
      st.buffers.push(version === 6 ? bufferV6(r, payloadOffset) : bufferV7(r, payloadOffset));
      break;
    case OptionId.BUFFER_TEXT:
      if (version === 7) {
        const offset = r.u64("BUFFER_TEXT offset");
        const name = r.cstring("BUFFER_TEXT name", 4096);
        const clock = r.remaining() > 0 ? r.cstring("BUFFER_TEXT clock", 4096) : "";
        st.latencyBuffers.push({ name, clock, offset });
      }
      break;
    case OptionId.HEADER_INFO:
    case OptionId.FTRACE_EVENTS:
    case OptionId.EVENT_FORMATS:
    case OptionId.KALLSYMS:
    case OptionId.PRINTK:
    case OptionId.CMDLINES:
      if (version === 7) st.sectionOffsets.set(id, r.u64(`option ${id} section offset`));
      break;
    default:
      // HOOK, PROCMAPS, GUEST, BTF, modules, last boot info and ids we do not know: skipped by size.
      break;
  }
}

function bufferV6(r: BlockByteReader, optionOffset: number): RawBufferOption {
  const offset = r.u64("BUFFER option offset");
  const name = r.cstring("BUFFER option name", 4096);
  return { name, offset, clock: "", pageSize: 0, cpus: [], optionOffset };
}

function bufferV7(r: BlockByteReader, optionOffset: number): RawBufferOption {
  const offset = r.u64("BUFFER option offset");
  const name = r.cstring("BUFFER option name", 4096);
  const clock = r.cstring("BUFFER option clock", 4096);
  const pageSize = r.u32("BUFFER option page size");
  const n = r.count("BUFFER option CPU count", MAX_CPUS, 20);
  const cpus: CpuData[] = [];
  for (let i = 0; i < n; i++) {
    const cpu = r.u32("BUFFER option CPU id");
    const off = r.u64("BUFFER option CPU data offset");
    const size = r.u64("BUFFER option CPU data size");
    cpus.push({ cpu, offset: off, size });
  }
  return { name, offset, clock, pageSize, cpus, optionOffset };
}
