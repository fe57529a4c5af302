// `--samples FILE`: every sample as one CSV row, written as the analysis produces it
// (SPEC §2), for plotting and for checking any number against the raw events. Rows go into
// a string buffer that is written out every 64 KiB: memory stays bounded whatever the run's
// length, and there is no write call per row.
//
// Columns (README "Every sample as CSV"):
//   tid, tgid, comm     the thread (comm quoted when it holds a comma, a quote or a newline)
//   metric              latency, response, relief, timer, irq; `activation` for a cut row
//   start, end          absolute trace timestamps, ns (timer: the expiry on the trace clock)
//   value               end - start, ns (empty for a cut row)
//   irq, thread         timer only: expiry -> hrtimer_expire_entry, expire_entry -> end
//   hardirq, wakeup, handling   irq only: handler entry -> exit -> thread switch-in -> sleep
//   inferred            1 when the switch-in was not recorded (SPEC §1), else 0
//   cut                 cut rows only: loss, cpu-without-data, missed-switch, missed-run
//                       (the activation from its wakeup at `start` gave no sample)

import { closeSync, openSync, writeSync } from "node:fs";
import type { CutReason, SampleSink } from "../analysis/sample-observer.ts";
import type { MetricKey } from "../model/report.ts";
import { absoluteTs } from "../model/units.ts";

export const SAMPLES_CSV_HEADER =
  "tid,tgid,comm,metric,start,end,value,irq,thread,hardirq,wakeup,handling,inferred,cut\n";

const FLUSH_AT = 64 * 1024;

export class SamplesCsvWriter implements SampleSink {
  readonly path: string;
  private readonly fd: number;
  private readonly tsBase: bigint;
  private buf = SAMPLES_CSV_HEADER;
  /** rows written (samples and cut rows) */
  rows = 0;
  /** last comm quoted, and its CSV form (threads repeat) */
  private lastComm = "";
  private lastCommCsv = "";

  constructor(path: string, tsBase: bigint) {
    this.path = path;
    this.tsBase = tsBase;
    this.fd = openSync(path, "w");
  }

  sample(
    tid: number,
    tgid: number,
    comm: string,
    metric: MetricKey,
    start: number,
    end: number,
    value: number,
    a: number,
    b: number,
    c: number,
    inferred: boolean,
  ): void {
    let parts: string;
    if (metric === "timer") parts = `${Math.round(a)},${Math.round(b)},,,`;
    else if (metric === "irq") parts = `,,${Math.round(a)},${Math.round(b)},${Math.round(c)}`;
    else parts = ",,,,";
    this.row(
      `${tid},${tgid},${this.csvComm(comm)},${metric},${absoluteTs(this.tsBase, start)},${absoluteTs(this.tsBase, end)},${Math.round(value)},${parts},${inferred ? 1 : 0},\n`,
    );
  }

  cut(tid: number, tgid: number, comm: string, start: number, end: number, reason: CutReason): void {
    this.row(
      `${tid},${tgid},${this.csvComm(comm)},activation,${absoluteTs(this.tsBase, start)},${absoluteTs(this.tsBase, end)},,,,,,,0,${reason}\n`,
    );
  }

  /** Writes what is buffered and closes the file. */
  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private row(line: string): void {
    this.rows++;
    this.buf += line;
    if (this.buf.length >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const data = Buffer.from(this.buf, "utf8");
    this.buf = "";
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off);
  }

  private csvComm(comm: string): string {
    if (comm !== this.lastComm) {
      this.lastComm = comm;
      this.lastCommCsv = /[",\n\r]/.test(comm) ? `"${comm.replaceAll('"', '""')}"` : comm;
    }
    return this.lastCommCsv;
  }
}
