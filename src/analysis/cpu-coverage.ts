// Where the trace has data, for per-activation validity (SPEC §1, §3). An activation gives
// samples only when
// - every CPU it involves (the waking CPU, the CPU it was woken onto, the CPU of the hard
//   IRQ that woke an IRQ thread, the CPUs it migrated to or ran on) had data for its whole
//   span: from the activation's start on. Per-CPU buffers of an overwrite-mode recording
//   start at different times, and idle or offline CPUs of a phone or an isolated-CPU box may
//   show nothing for seconds: only what a CPU without data could have hidden is doubtful, so
//   a late CPU cuts only the activations that involve it (a task may have run there unseen);
// - no events were lost on ANY CPU during it: a lost event anywhere can be the migration,
//   switch-in or sleep of any runnable thread. The sources place a loss record at the START
//   of its gap (cpu-merge.ts) with the gap's end: every activation open then is cut, and so
//   is every activation starting before the gap's end (`lossUntil`).
//
// A CPU's data begins at its first event, unless the source vouches for an earlier start
// (`validFromTs`: live capture from 0; a text trace whose header says nothing was
// overwritten, entries-in-buffer = entries-written, from the start: a CPU without events
// there was idle). `##### CPU N buffer started ####` lines change nothing to this: the
// kernel prints one for each CPU's first entry once the buffer overran anywhere, and in that
// case each CPU's data is taken from its first event anyway.

export class CpuCoverage {
  /** per CPU: first event seen (or vouched by the source) */
  seen: Uint8Array;
  /** per CPU: relative ts from which its data is complete; NaN = none yet */
  dataFrom: Float64Array;
  /** the latest end of a loss gap: activations starting before it are cut */
  lossUntil = Number.NEGATIVE_INFINITY;
  /** CPUs count from the trace's header (CPUs that never show an event are "without data") */
  readonly cpus: number;
  private readonly vouchedFrom: number;

  constructor(cpus: number, validFromTs?: number) {
    this.cpus = Math.max(1, cpus);
    this.vouchedFrom = validFromTs !== undefined && !Number.isNaN(validFromTs) ? validFromTs : Number.NaN;
    this.seen = new Uint8Array(this.cpus);
    this.dataFrom = new Float64Array(this.cpus).fill(Number.NaN);
    if (!Number.isNaN(this.vouchedFrom)) {
      this.seen.fill(1);
      this.dataFrom.fill(this.vouchedFrom);
    }
  }

  /** Call for an event on a CPU with `seen[cpu] === 0` (or beyond the arrays). */
  note(cpu: number, ts: number): void {
    if (cpu >= this.seen.length) this.grow(cpu + 1);
    if (this.seen[cpu] !== 0) return;
    this.seen[cpu] = 1;
    this.dataFrom[cpu] = Number.isNaN(this.vouchedFrom) ? ts : Math.min(ts, this.vouchedFrom);
  }

  /** Whether `cpu` has shown data. */
  has(cpu: number): boolean {
    return cpu >= 0 && cpu < this.seen.length && this.seen[cpu] !== 0;
  }

  /** Whether `cpu`'s data was complete from `since` on. */
  covered(cpu: number, since: number): boolean {
    return cpu >= 0 && cpu < this.dataFrom.length && this.dataFrom[cpu] <= since;
  }

  /** Whether every CPU of the trace had data from `since` on (nothing can have hidden a run). */
  allCovered(since: number): boolean {
    const d = this.dataFrom;
    if (d.length < this.cpus) return false;
    for (let c = 0; c < d.length; c++) if (!(d[c] <= since)) return false;
    return true;
  }

  /** A loss gap ends at `until`: activations starting before it cannot be trusted. */
  lossGap(until: number): void {
    if (until > this.lossUntil) this.lossUntil = until;
  }

  /** CPUs of the trace that never showed an event (at the end of the stream). */
  silentCpus(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.cpus; c++) if (!this.has(c)) out.push(c);
    return out;
  }

  /** CPUs whose data began after the first CPU's (relative ts of their first event). */
  lateCpus(): { cpu: number; from: number }[] {
    let first = Number.POSITIVE_INFINITY;
    for (let c = 0; c < this.dataFrom.length; c++) if (this.dataFrom[c] < first) first = this.dataFrom[c];
    const out: { cpu: number; from: number }[] = [];
    for (let c = 0; c < this.dataFrom.length; c++)
      if (this.dataFrom[c] > first) out.push({ cpu: c, from: this.dataFrom[c] });
    return out;
  }

  private grow(n: number): void {
    const s = new Uint8Array(n);
    s.set(this.seen);
    this.seen = s;
    const f = new Float64Array(n).fill(Number.NaN);
    f.set(this.dataFrom);
    this.dataFrom = f;
  }
}
