// Event lines of `trace-cmd report -t` text (instance prefix, ns timestamps), read with a
// regex of their own: an oracle independent of rtscope's text parser.

// "shrec:  stress-ng-cycli-18822 [001] 15149.202889320: sys_exit_clock_nanosleep: 0x0"
const LINE = /^\S+:\s+(.+?)-(\d+)\s+\[(\d+)\]\s+(\d+)\.(\d{9}):\s+(\w+):\s+(.*)$/;

export interface ReportLine {
  /** timestamp, ns */
  ts: bigint;
  /** the running task's pid (common_pid) */
  pid: number;
  event: string;
  /** the payload as trace-cmd prints it */
  body: string;
}

/** The event lines of `text` in order; other lines are passed over. */
export function* reportLines(text: string): Generator<ReportLine> {
  for (const l of text.split("\n")) {
    const m = LINE.exec(l);
    if (!m) continue;
    yield { ts: BigInt(m[4]) * 1_000_000_000n + BigInt(m[5]), pid: Number(m[2]), event: m[6], body: m[7] };
  }
}
