// The fleet story end to end: a real Prometheus server (Debian package `prometheus`) on
// loopback, with its own data directory and a free port, scrapes a real daemon tracking
// cyclictest; a PromQL query through Prometheus's HTTP API returns the tracked threads'
// series (thread ids from cyclictest's /proc task list, not from rtscope), and the bucket
// at the SLO bound exists. The shipped alert rules pass `promtool check rules`.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { repoRoot } from "../helpers/paths.ts";
import { checkNoLeftoversAtEnd, installed, skipLive } from "../live/live-helpers.ts";
import { raw, startServe, stopServe, tempDir, waitFor } from "./serve-helpers.ts";

checkNoLeftoversAtEnd();

const tmp = tempDir("rtscope-prom-");
after(() => rmSync(tmp, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

describe("Prometheus", () => {
  it("promtool accepts the shipped alert rules", {
    skip: installed("promtool") ? false : "promtool not installed",
  }, () => {
    const r = spawnSync("promtool", ["check", "rules", join(repoRoot, "deploy/prometheus/alerts.yml")], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /SUCCESS: \d+ rules found/);
  });

  const skip =
    skipLive ||
    (installed("prometheus") ? false : "prometheus not installed") ||
    (installed("cyclictest") ? false : "cyclictest not installed");
  it("a real Prometheus scrapes the daemon; PromQL returns the tracked threads", { skip }, async () => {
    const served = await startServe(join(tmp, "prom.sock"));
    const load = spawn("cyclictest", ["-m", "-t2", "-p80", "-i1000", "-q"], { stdio: "ignore" });
    let prom: ChildProcess | null = null;
    try {
      const pid = load.pid ?? -1;
      let threads: number[] = [];
      await waitFor(() => {
        threads = readdirSync(`/proc/${pid}/task`)
          .map(Number)
          .filter((t) => t !== pid);
        return threads.length === 2;
      }, 10_000);
      assert.equal(threads.length, 2, "cyclictest's two measuring threads");
      const add = await raw({ socket: served.socket, method: "POST", path: "/api/tasks", body: { pid } });
      assert.equal(add.status, 201, add.text);
      const slo = await raw({
        socket: served.socket,
        method: "PUT",
        path: `/api/tasks/${pid}/slo/timer`,
        body: { bound: "37us" },
      });
      assert.equal(slo.status, 200, slo.text);

      const port = await freePort();
      const config = join(tmp, "prometheus.yml");
      writeFileSync(
        config,
        `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: rtscope\n    static_configs:\n      - targets: ['127.0.0.1:${served.port}']\n`,
      );
      prom = spawn(
        "prometheus",
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(tmp, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: "ignore" },
      );
      const query = async (q: string) => {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
          if (!res.ok) return [];
          const body = (await res.json()) as { data: { result: { metric: Record<string, string> }[] } };
          return body.data.result;
        } catch {
          return [];
        }
      };
      const q = `rtscope_task_latency_seconds_count{job="rtscope",pid="${pid}",metric="timer"} > 0`;
      let result: { metric: Record<string, string> }[] = [];
      const seen = await waitFor(async () => {
        result = await query(q);
        return threads.every((t) => result.some((r) => r.metric.tid === String(t)));
      }, 60_000);
      assert.ok(seen, `PromQL ${q} returned ${JSON.stringify(result)}`);
      for (const r of result) {
        assert.equal(r.metric.process, "cyclictest");
        assert.equal(r.metric.comm, "cyclictest");
      }
      // the bucket at the bound exists (edges include the SLO bounds in force)
      const bucket = await query(
        `rtscope_task_latency_seconds_bucket{pid="${pid}",metric="timer",le=~"0.000037|3.7e-05"}`,
      );
      assert.ok(bucket.length >= 2, `le=3.7e-05 buckets: ${JSON.stringify(bucket)}`);
      // the kernel's count of events written beside those read: the loss rate from the metrics
      const written = await query('rtscope_events_written_total{job="rtscope"} > 0');
      assert.equal(written.length, 1, "rtscope_events_written_total is exported and counts");
      const lossOver = await query('rtscope_lost_events_total{job="rtscope"} > rtscope_events_written_total');
      assert.equal(lossOver.length, 0, "lost <= written");
      const up = await query('up{job="rtscope"}');
      assert.equal(up.length, 1);
    } finally {
      prom?.kill("SIGKILL");
      load.kill("SIGKILL");
      await stopServe(served);
    }
  });
});
