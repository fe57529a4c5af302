// What the payload parsers share for one text trace: interned strings (comms, IRQ names),
// the symbol table built from the function names the trace prints, the timestamp base,
// and the prev_state table in force.

import type { SymbolTable } from "../../model/source.ts";
import { ByteInterner } from "./byte-interner.ts";

const PLUS = 43;
const SLASH = 47;
const SPACE = 32;

/**
 * Function names as text traces print them (`hrtimer_wakeup`, `hrtimer_wakeup+0x0/0x30`,
 * trace-cmd's `hrtimer_wakeup/0x0`, or an unresolved `0xffffffff81442220`) interned to small
 * keys; the offset/size suffix is dropped. Key 0 is "" (no function printed: the record's
 * default), key 1 is `hrtimer_wakeup`, interned up front so that it is always defined.
 */
export class TextSymbolTable implements SymbolTable {
  private readonly names = new ByteInterner(64);
  readonly hrtimerWakeupKey: number;

  constructor() {
    this.names.internString("");
    this.hrtimerWakeupKey = this.names.internString("hrtimer_wakeup");
  }

  /** Key of the symbol printed at b[s, e) (suffix `+off/size` or `/size` ignored). */
  intern(b: Uint8Array, s: number, e: number): number {
    let i = s;
    while (i < e) {
      const c = b[i];
      if (c === PLUS || c === SLASH || c === SPACE) break;
      i++;
    }
    return this.names.intern(b, s, i);
  }

  name(key: number): string {
    return key >= 0 && key < this.names.size ? this.names.strings[key] : "";
  }

  get size(): number {
    return this.names.size;
  }
}

export type StateTable = "new" | "old";

export class TextContext {
  readonly comms = new ByteInterner(1024);
  readonly irqNames = new ByteInterner(64);
  readonly symbols = new TextSymbolTable();
  /** whole seconds (or the integer clock's value without its last 9 digits) of tsBase */
  baseSec = 0;
  /** prev_state table for numeric values (see prev-state.ts) */
  stateTable: StateTable = "new";
  /** set when a numeric prev_state proved the old table after events were already decoded */
  stateTableSwitched = false;
  /** count of prev_state texts that were not understood */
  unknownStates = 0;

  comm(b: Uint8Array, s: number, e: number): string {
    return this.comms.strings[this.comms.intern(b, s, e)];
  }

  irqName(b: Uint8Array, s: number, e: number): string {
    return this.irqNames.strings[this.irqNames.intern(b, s, e)];
  }
}
