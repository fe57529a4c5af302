// From when the trace covers every CPU (Perfetto's rule). Per-CPU buffers of an overwrite-
// mode recording start at different times; before every CPU has data, a task may run on a
// CPU whose events are not there yet and its activation would produce a bogus number.
//
// Rule used: activations that start before every CPU has shown data are incomplete (no
// sample). When the source knows (SourceInfo.validFromTs) that time is taken as given;
// otherwise it is the first event of the last CPU to show one, waiting at most `graceNs`
// of trace time (an idle CPU may have no events at all: after the grace period it is taken
// to have no data, reported as `cpu_no_data`); then a CPU whose first event comes after that
// point cuts every open activation (`cpu_data_late`), and an activation whose wakeup
// targets a CPU without data yet is incomplete.

export const COVERAGE_GRACE_NS = 1e9;

export class CpuCoverage {
  seen: Uint8Array;
  /** relative ts of each CPU's first event (NaN = none yet) */
  firstTs: Float64Array;
  seenCount = 0;
  readonly cpus: number;
  /** every CPU has data (or the grace period ran out) */
  valid = false;
  validFrom = Number.POSITIVE_INFINITY;
  /** still deciding validity: `note` must see every event */
  waiting = true;
  private streamStart = Number.NaN;
  private readonly givenValidFrom: number;
  private readonly graceNs: number;
  /** CPUs whose data began after validity started */
  readonly lateCpus: number[] = [];
  /** CPUs with no data when validity was declared by the grace period */
  readonly noDataCpus: number[] = [];

  constructor(cpus: number, validFromTs?: number, graceNs = COVERAGE_GRACE_NS) {
    this.cpus = Math.max(1, cpus);
    this.seen = new Uint8Array(this.cpus);
    this.firstTs = new Float64Array(this.cpus).fill(Number.NaN);
    this.givenValidFrom =
      validFromTs !== undefined && Number.isFinite(validFromTs) ? validFromTs : Number.NaN;
    this.graceNs = graceNs;
  }

  /** Whether events on `cpu` can be trusted to be there: the source vouched, or it has shown data. */
  covers(cpu: number): boolean {
    return !Number.isNaN(this.givenValidFrom) || this.has(cpu);
  }

  /** Whether `cpu` has shown data. */
  has(cpu: number): boolean {
    return cpu >= 0 && cpu < this.seen.length && this.seen[cpu] !== 0;
  }

  /**
   * Call when `waiting` or when `seen[cpu]` is 0. Returns true when a CPU's data began after
   * validity started: the caller cuts every open activation.
   */
  note(cpu: number, ts: number): boolean {
    if (Number.isNaN(this.streamStart)) this.streamStart = ts;
    let late = false;
    if (cpu >= this.seen.length) this.grow(cpu + 1);
    if (this.seen[cpu] === 0) {
      this.seen[cpu] = 1;
      this.firstTs[cpu] = ts;
      this.seenCount++;
      // a source that gives the start vouches for every CPU from then on (a CPU's first
      // event may simply come later, e.g. live): only our own guess can be wrong
      if (this.valid && Number.isNaN(this.givenValidFrom)) {
        this.lateCpus.push(cpu);
        late = true;
      }
    }
    if (this.waiting) {
      if (!Number.isNaN(this.givenValidFrom)) {
        if (ts >= this.givenValidFrom) this.start(this.givenValidFrom);
      } else if (this.seenCount >= this.cpus) {
        this.start(ts);
      } else if (ts - this.streamStart > this.graceNs) {
        for (let c = 0; c < this.seen.length; c++) if (this.seen[c] === 0) this.noDataCpus.push(c);
        this.start(ts);
      }
    }
    return late;
  }

  private start(ts: number): void {
    this.valid = true;
    this.waiting = false;
    this.validFrom = ts;
  }

  private grow(n: number): void {
    const s = new Uint8Array(n);
    s.set(this.seen);
    this.seen = s;
    const f = new Float64Array(n).fill(Number.NaN);
    f.set(this.firstTs);
    this.firstTs = f;
  }
}
