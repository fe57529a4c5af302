// Data problems are data: every problem a source or analyzer finds is a named counter with
// a severity and a sentence telling the user what it means and what to do. Every output
// carries them (report header, JSON, Prometheus).

export type Severity = "info" | "warning" | "data-loss" | "error";

export interface DiagnosticEntry {
  /** stable key, e.g. "lost_events", "inferred_switch_in", "unknown_event" */
  key: string;
  severity: Severity;
  /** CPU it concerns, or -1 */
  cpu: number;
  /** how many times; -1 = unknown (e.g. lost events with no stored count) */
  count: number;
  message: string;
  /** file offsets of the first few occurrences, when the problem sits at a place in a file */
  offsets?: number[];
}

/** Offsets kept per diagnostic: enough to find the damage with a hex dump, bounded. */
export const MAX_DIAGNOSTIC_OFFSETS = 5;

export class Diagnostics {
  private readonly byKey = new Map<string, DiagnosticEntry>();

  /**
   * Adds `count` to the counter (key, cpu); a -1 count makes the total unknown. `offset` (a file
   * offset, -1 none) is kept among the first few of the entry.
   */
  add(key: string, severity: Severity, message: string, count = 1, cpu = -1, offset = -1): void {
    const k = `${key}/${cpu}`;
    let e = this.byKey.get(k);
    if (!e) {
      e = { key, severity, cpu, count, message };
      this.byKey.set(k, e);
    } else {
      e.count = e.count < 0 || count < 0 ? -1 : e.count + count;
    }
    if (offset >= 0) {
      e.offsets ??= [];
      if (e.offsets.length < MAX_DIAGNOSTIC_OFFSETS) e.offsets.push(offset);
    }
  }

  get(key: string, cpu = -1): DiagnosticEntry | undefined {
    return this.byKey.get(`${key}/${cpu}`);
  }

  /** Sum of a key over every CPU; -1 if any count is unknown; 0 if absent. */
  total(key: string): number {
    let sum = 0;
    for (const e of this.byKey.values()) {
      if (e.key !== key) continue;
      if (e.count < 0) return -1;
      sum += e.count;
    }
    return sum;
  }

  list(): DiagnosticEntry[] {
    return [...this.byKey.values()].map((e) => (e.offsets ? { ...e, offsets: [...e.offsets] } : { ...e }));
  }

  merge(other: Diagnostics): void {
    for (const e of other.list()) {
      this.add(e.key, e.severity, e.message, e.count, e.cpu);
      for (const o of e.offsets ?? []) this.add(e.key, e.severity, e.message, 0, e.cpu, o);
    }
  }
}
