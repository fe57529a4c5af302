// Event names as text lines print them → EventKind, through the byte interner (no string
// per line). Text has no system prefix (`sched_switch`, not `sched:sched_switch`), and
// tracefs prints syscall events in their own shape: `sys_clock_nanosleep(...)` for entry and
// `sys_clock_nanosleep -> 0x0` for exit; the interned bytes include `(` / ` ->` for those.

import { EVENT_KIND_BY_NAME, EventKind } from "../../model/event-kind.ts";
import { ByteInterner } from "./byte-interner.ts";

export class EventNameTable {
  private readonly names = new ByteInterner(128);
  private readonly kinds: EventKind[] = [];
  private readonly display: string[] = [];

  constructor() {
    for (const [full, kind] of EVENT_KIND_BY_NAME) this.define(full.slice(full.indexOf(":") + 1), kind);
    // tracefs syscall forms (the kernel's syscall print functions)
    for (const [full, kind] of EVENT_KIND_BY_NAME) {
      const name = full.slice(full.indexOf(":") + 1);
      if (name.startsWith("sys_enter_")) this.define(`sys_${name.slice(10)}(`, kind);
      else if (name.startsWith("sys_exit_")) this.define(`sys_${name.slice(9)} ->`, kind);
    }
  }

  private define(name: string, kind: EventKind): void {
    const id = this.names.internString(name);
    this.learn(id);
    this.kinds[id] = kind;
  }

  /** Id of the name bytes b[s, e), whose FNV-1a hash the line parser computed. */
  id(b: Uint8Array, s: number, e: number, hash: number): number {
    const id = this.names.internHashed(b, s, e, hash);
    if (id >= this.kinds.length) this.learn(id);
    return id;
  }

  kind(id: number): EventKind {
    return this.kinds[id];
  }

  /** Readable name: `sched_switch`, `sys_enter_clock_nanosleep`, `sys_exit_clock_nanosleep`. */
  displayName(id: number): string {
    return this.display[id];
  }

  private learn(id: number): void {
    const raw = this.names.strings[id];
    let name = raw;
    if (raw.endsWith("(") && raw.startsWith("sys_")) name = `sys_enter_${raw.slice(4, -1)}`;
    else if (raw.endsWith(" ->") && raw.startsWith("sys_")) name = `sys_exit_${raw.slice(4, -3)}`;
    while (this.kinds.length <= id) {
      this.kinds.push(EventKind.Other);
      this.display.push("");
    }
    this.display[id] = name;
  }
}
