// Which tasks are tracked (SPEC §1 "selection").

export interface Selection {
  /** single threads */
  tids: number[];
  /** whole thread groups (processes), including threads created later */
  tgids: number[];
  /** regular expressions matched against thread names, now or later */
  comms: RegExp[];
  /** every SCHED_FIFO / SCHED_RR / SCHED_DEADLINE thread */
  rt: boolean;
  /** every irq/N-name thread */
  irqThreads: boolean;
  /** descendants of these tids are tracked too (launched command) */
  descendantsOf: number[];
}

export function emptySelection(): Selection {
  return { tids: [], tgids: [], comms: [], rt: false, irqThreads: false, descendantsOf: [] };
}

export function selectionIsEmpty(s: Selection): boolean {
  return (
    s.tids.length === 0 &&
    s.tgids.length === 0 &&
    s.comms.length === 0 &&
    !s.rt &&
    !s.irqThreads &&
    s.descendantsOf.length === 0
  );
}

/** Human description, e.g. "--pid 42 --comm ^cyclic" ("all tasks" when empty). */
export function describeSelection(s: Selection): string {
  const parts: string[] = [];
  for (const t of s.tids) parts.push(`--pid ${t}`);
  for (const t of s.tgids) parts.push(`--tgid ${t}`);
  for (const c of s.comms) parts.push(`--comm ${c.source}`);
  if (s.rt) parts.push("--rt");
  if (s.irqThreads) parts.push("--irq-threads");
  for (const t of s.descendantsOf) parts.push(`-- (command pid ${t})`);
  return parts.length ? parts.join(" ") : "all tasks";
}
