// The contract every analyzer meets (after the Chrome DevTools trace engine's handlers):
// created per pipeline (no module state, several pipelines may run in one process), fed
// every event of the merged stream in order by one loop, after the analyzers it depends on,
// finished once; its results read through `data()` at any time, also while events flow.

import type { EventRecord } from "../model/event.ts";
import type { EventSink } from "../model/source.ts";

export interface Analyzer<Data = unknown> {
  /** for messages ("activations", "flight recorder") */
  readonly name: string;
  /**
   * The analyzers whose state for an event must be up to date before this one handles it
   * (instances of the same pipeline). `orderAnalyzers` puts them first and refuses a
   * pipeline that lacks one or where they form a cycle.
   */
  readonly dependsOn: readonly Analyzer[];
  /** Called for every event in timestamp order. Must not keep `rec`: copy what you need. */
  handle(rec: EventRecord): void;
  /** End of the stream; `endTs` is the last event's timestamp (relative ns). */
  finish?(endTs: number): void;
  /** The results so far (no copy: read it, do not keep it across events). */
  data(): Data;
}

/** A pipeline that cannot run: a dependency missing from it, or a cycle. */
export class PipelineError extends Error {}

/**
 * The analyzers in feeding order: each after everything it depends on, otherwise in the
 * order given (so that the same list always gives the same order).
 */
export function orderAnalyzers(analyzers: readonly Analyzer[]): Analyzer[] {
  const given = new Set(analyzers);
  const done = new Set<Analyzer>();
  const path: Analyzer[] = [];
  const out: Analyzer[] = [];
  const visit = (a: Analyzer): void => {
    if (done.has(a)) return;
    if (path.includes(a)) {
      const cycle = [...path.slice(path.indexOf(a)), a].map((x) => x.name).join(" -> ");
      throw new PipelineError(`analyzer dependency cycle: ${cycle}`);
    }
    path.push(a);
    for (const d of a.dependsOn) {
      if (!given.has(d))
        throw new PipelineError(`analyzer ${a.name} depends on ${d.name}, which is not in the pipeline`);
      visit(d);
    }
    path.pop();
    done.add(a);
    out.push(a);
  };
  for (const a of analyzers) visit(a);
  return out;
}

/** One loop feeding every analyzer, dependencies first (see orderAnalyzers). */
export class Pipeline implements EventSink {
  private readonly analyzers: Analyzer[];
  events = 0;
  firstTs = Number.NaN;
  lastTs = Number.NaN;

  private readonly feed: EventSink;

  constructor(analyzers: readonly Analyzer[]) {
    this.analyzers = orderAnalyzers(analyzers);
    this.feed = feedOf(this.analyzers);
  }

  /** The feeding order. */
  get order(): readonly Analyzer[] {
    return this.analyzers;
  }

  handle(rec: EventRecord): void {
    if (this.events === 0) this.firstTs = rec.ts;
    this.events++;
    this.lastTs = rec.ts;
    this.feed.handle(rec);
  }

  finish(): void {
    const endTs = Number.isNaN(this.lastTs) ? 0 : this.lastTs;
    for (const a of this.analyzers) a.finish?.(endTs);
  }
}

// One call site per analyzer position instead of one loop site for all: a site that always
// calls the same analyzer class can inline it, a loop site calling three cannot do as well.
class Feed1 implements EventSink {
  private readonly a0: Analyzer;
  constructor(list: readonly Analyzer[]) {
    this.a0 = list[0];
  }
  handle(rec: EventRecord): void {
    this.a0.handle(rec);
  }
}
class Feed2 implements EventSink {
  private readonly a0: Analyzer;
  private readonly a1: Analyzer;
  constructor(list: readonly Analyzer[]) {
    this.a0 = list[0];
    this.a1 = list[1];
  }
  handle(rec: EventRecord): void {
    this.a0.handle(rec);
    this.a1.handle(rec);
  }
}
class Feed3 implements EventSink {
  private readonly a0: Analyzer;
  private readonly a1: Analyzer;
  private readonly a2: Analyzer;
  constructor(list: readonly Analyzer[]) {
    this.a0 = list[0];
    this.a1 = list[1];
    this.a2 = list[2];
  }
  handle(rec: EventRecord): void {
    this.a0.handle(rec);
    this.a1.handle(rec);
    this.a2.handle(rec);
  }
}
class FeedAll implements EventSink {
  private readonly list: readonly Analyzer[];
  constructor(list: readonly Analyzer[]) {
    this.list = list;
  }
  handle(rec: EventRecord): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) list[i].handle(rec);
  }
}

function feedOf(list: readonly Analyzer[]): EventSink {
  switch (list.length) {
    case 1:
      return new Feed1(list);
    case 2:
      return new Feed2(list);
    case 3:
      return new Feed3(list);
    default:
      return new FeedAll(list);
  }
}
