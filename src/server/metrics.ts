// GET /metrics (SPEC §2 "Fleets"): prom-client's registry with rtscope's own CPU and
// memory (its default process metrics, prefixed rtscope_), and families read from the
// analysis at scrape time, never per event:
//   rtscope_task_latency_seconds{pid,process,tid,comm,metric}   histogram (cumulative, the
//       tracked task's HDR histogram read at the edges: 1 µs..1 s and the bound in force)
//   rtscope_task_latency_max_seconds{...}                      gauge
//   rtscope_task_slo_bound_seconds{...}                        gauge (tasks with a bound)
//   rtscope_task_slo_violations_total{...}                     counter (restarts when the bound changes)
//   rtscope_task_exited{pid,process,tid,comm}                  gauge 1 when the thread has exited
//   rtscope_events_total, rtscope_lost_events_total, rtscope_events_written_total, rtscope_tracked_threads,
//   rtscope_series_threads_aggregated, rtscope_tracefs_problems_total, rtscope_build_info
// Labels name the process and the thread (thread ids change at every restart; dashboards
// group by name). Cardinality is bounded: past `maxThreads` threads, the rest are summed
// into one series with every identity label "_other" (counts and violations added, max of
// maxima) and counted in rtscope_series_threads_aggregated.

import type { Histogram } from "hdr-histogram-js";
import { collectDefaultMetrics, Registry } from "prom-client";
import pkg from "../../package.json" with { type: "json" };
import { countsAtOrBelow } from "../analysis/histogram.ts";
import { METRIC_KEYS, type MetricKey } from "../model/report.ts";
import type { Daemon } from "./daemon.ts";
import { bucketEdges, processName } from "./views.ts";

export const DEFAULT_MAX_SERIES_THREADS = 64;

type Labels = Record<string, string>;

interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** A metric family whose values are set before each scrape (prom-client's Metric shape). */
class Family {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  values: Value[] = [];
  readonly aggregator = "sum";
  constructor(name: string, help: string, type: string) {
    this.name = name;
    this.help = help;
    this.type = type;
  }
  get(): { name: string; help: string; type: string; values: Value[]; aggregator: string } {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values,
      aggregator: this.aggregator,
    };
  }
}

/** One series' worth of a metric: summed across aggregated threads. */
interface SeriesAcc {
  labels: Labels;
  le: number[];
  counts: number[];
  count: number;
  sumNs: number;
  max: number;
  bound: number;
  violations: number;
  hists: Histogram[];
}

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly d: Daemon;
  private readonly maxThreads: number;
  private readonly hist = new Family(
    "rtscope_task_latency_seconds",
    "Per tracked thread and metric (latency, response, relief, timer, irq): samples by upper bound, seconds",
    "histogram",
  );
  private readonly max = new Family("rtscope_task_latency_max_seconds", "Largest sample, seconds", "gauge");
  private readonly bound = new Family(
    "rtscope_task_slo_bound_seconds",
    "SLO bound in force, seconds",
    "gauge",
  );
  private readonly violations = new Family(
    "rtscope_task_slo_violations_total",
    "Samples above the SLO bound (counted from the last change of the bound)",
    "counter",
  );
  private readonly exited = new Family(
    "rtscope_task_exited",
    "1 when the tracked thread has exited",
    "gauge",
  );
  private readonly events = new Family("rtscope_events_total", "Trace events read", "counter");
  private readonly lost = new Family("rtscope_lost_events_total", "Trace events the kernel lost", "counter");
  private readonly written = new Family(
    "rtscope_events_written_total",
    "Trace events the kernel wrote into rtscope's buffers (read + lost + not read yet), at the last stats poll",
    "counter",
  );
  private readonly threads = new Family("rtscope_tracked_threads", "Threads of tracked tasks", "gauge");
  private readonly aggregated = new Family(
    "rtscope_series_threads_aggregated",
    "Threads summed into the _other series (beyond the label cardinality limit)",
    "gauge",
  );
  private readonly problems = new Family(
    "rtscope_tracefs_problems_total",
    "Times the tracefs instance was found disturbed from outside",
    "counter",
  );
  private readonly build = new Family("rtscope_build_info", "rtscope version", "gauge");

  constructor(d: Daemon, maxThreads = DEFAULT_MAX_SERIES_THREADS) {
    this.d = d;
    this.maxThreads = maxThreads;
    collectDefaultMetrics({ register: this.registry, prefix: "rtscope_" });
    for (const f of [
      this.hist,
      this.max,
      this.bound,
      this.violations,
      this.exited,
      this.events,
      this.lost,
      this.written,
      this.threads,
      this.aggregated,
      this.problems,
      this.build,
    ])
      this.registry.registerMetric(f as never);
  }

  /** The Prometheus text exposition of everything, read now. */
  async scrape(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private refresh(): void {
    const series = new Map<string, SeriesAcc>();
    const exited: Value[] = [];
    let seen = 0;
    let aggregatedThreads = 0;
    for (const e of this.d.list()) {
      const threads = this.d.threadStats(e);
      const process = processName(e, threads);
      for (const th of threads) {
        const r = th.report;
        const own = seen < this.maxThreads;
        seen++;
        if (!own) aggregatedThreads++;
        const id: Labels = own
          ? { pid: String(e.pid), process, tid: String(r.tid), comm: r.comm }
          : { pid: "_other", process: "_other", tid: "_other", comm: "_other" };
        if (own && e.exited) exited.push({ labels: id, value: 1 });
        METRIC_KEYS.forEach((key: MetricKey, m) => {
          const s = r.metrics[key];
          const h = th.histograms[m];
          if (s === undefined || h === undefined) return;
          const k = `${id.tid}/${key}`;
          let acc = series.get(k);
          if (acc === undefined) {
            acc = {
              labels: { ...id, metric: key },
              le: [],
              counts: [],
              count: 0,
              sumNs: 0,
              max: 0,
              bound: Number.NaN,
              violations: 0,
              hists: [],
            };
            series.set(k, acc);
          }
          acc.hists.push(h);
          acc.count += s.count;
          acc.sumNs += s.mean * s.count;
          acc.max = Math.max(acc.max, s.max);
          if (s.slo !== undefined) {
            // an aggregate's bound is the tightest of its threads'
            acc.bound = Number.isNaN(acc.bound) ? s.slo.bound : Math.min(acc.bound, s.slo.bound);
            acc.violations += s.slo.violations;
          }
        });
      }
    }
    const hist: Value[] = [];
    const max: Value[] = [];
    const bound: Value[] = [];
    const viol: Value[] = [];
    for (const acc of series.values()) {
      const le = bucketEdges(Number.isNaN(acc.bound) ? [] : [acc.bound]);
      const counts = new Array<number>(le.length).fill(0);
      for (const h of acc.hists) {
        const c = countsAtOrBelow(h, le);
        for (let i = 0; i < le.length; i++) counts[i] += c[i];
      }
      for (let i = 0; i < le.length; i++)
        hist.push({
          metricName: `${this.hist.name}_bucket`,
          labels: { ...acc.labels, le: String(le[i] / 1e9) },
          value: counts[i],
        });
      hist.push({
        metricName: `${this.hist.name}_bucket`,
        labels: { ...acc.labels, le: "+Inf" },
        value: acc.count,
      });
      hist.push({ metricName: `${this.hist.name}_sum`, labels: acc.labels, value: acc.sumNs / 1e9 });
      hist.push({ metricName: `${this.hist.name}_count`, labels: acc.labels, value: acc.count });
      max.push({ labels: acc.labels, value: acc.max / 1e9 });
      if (!Number.isNaN(acc.bound)) {
        bound.push({ labels: acc.labels, value: acc.bound / 1e9 });
        viol.push({ labels: acc.labels, value: acc.violations });
      }
    }
    this.hist.values = hist;
    this.max.values = max;
    this.bound.values = bound;
    this.violations.values = viol;
    this.exited.values = exited;
    const stats = this.d.run.session.source.stats();
    this.events.values = [{ labels: {}, value: stats.events }];
    this.lost.values = [{ labels: {}, value: Math.max(0, stats.lostEvents) }];
    this.written.values = [{ labels: {}, value: stats.written }];
    this.threads.values = [{ labels: {}, value: seen }];
    this.aggregated.values = [{ labels: {}, value: aggregatedThreads }];
    this.problems.values = [{ labels: {}, value: this.d.watch.count }];
    this.build.values = [{ labels: { version: pkg.version }, value: 1 }];
  }
}
