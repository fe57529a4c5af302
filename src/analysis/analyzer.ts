// The contract every analyzer meets (after the Chrome DevTools trace engine's handlers):
// created per pipeline (no module state, several pipelines may run in one process),
// fed every event of the merged stream in order by one loop, finished once.

import type { EventRecord } from "../model/event.ts";
import type { EventSink } from "../model/source.ts";

export interface Analyzer {
  /** Called for every event in timestamp order. Must not keep `rec`: copy what you need. */
  handle(rec: EventRecord): void;
  /** End of the stream; `endTs` is the last event's timestamp (relative ns). */
  finish(endTs: number): void;
}

/** One loop feeding every analyzer, in the order given (dependencies first). */
export class Pipeline implements EventSink {
  private readonly analyzers: Analyzer[];
  events = 0;
  firstTs = Number.NaN;
  lastTs = Number.NaN;

  constructor(analyzers: Analyzer[]) {
    this.analyzers = analyzers;
  }

  handle(rec: EventRecord): void {
    if (this.events === 0) this.firstTs = rec.ts;
    this.events++;
    this.lastTs = rec.ts;
    const list = this.analyzers;
    for (let i = 0; i < list.length; i++) list[i].handle(rec);
  }

  finish(): void {
    for (const a of this.analyzers) a.finish(Number.isNaN(this.lastTs) ? 0 : this.lastTs);
  }
}
