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
  /** stretches of time the entry concerns (absolute trace timestamps, ns): capture gaps */
  spans?: { from: number; to: number }[];
}

export class Diagnostics {
  private readonly byKey = new Map<string, DiagnosticEntry>();

  /** Adds `count` to the counter (key, cpu); a -1 count makes the total unknown. */
  add(key: string, severity: Severity, message: string, count = 1, cpu = -1): void {
    const k = `${key}/${cpu}`;
    const e = this.byKey.get(k);
    if (!e) {
      this.byKey.set(k, { key, severity, cpu, count, message });
      return;
    }
    e.count = e.count < 0 || count < 0 ? -1 : e.count + count;
  }

  /** Replaces the entry (key, cpu): for entries whose message is rewritten as things change. */
  set(entry: DiagnosticEntry): void {
    this.byKey.set(`${entry.key}/${entry.cpu}`, { ...entry });
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
    return [...this.byKey.values()].map((e) =>
      e.spans ? { ...e, spans: e.spans.map((x) => ({ ...x })) } : { ...e },
    );
  }

  merge(other: Diagnostics): void {
    for (const e of other.list()) {
      if (e.spans && !this.get(e.key, e.cpu)) this.set(e);
      else this.add(e.key, e.severity, e.message, e.count, e.cpu);
    }
  }
}
