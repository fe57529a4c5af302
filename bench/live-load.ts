// Load generator for the live benchmark: pairs of threads ping-ponging through futexes
// (Atomics.wait/notify), paced to a target number of round trips per second. Every hop is a
// wakeup and a context switch in the kernel, so the scheduler events it causes grow with the
// rate asked. Runs as its own process so that its CPU time is not counted as rtscope's.
//
//   node bench/live-load.ts ROUND_TRIPS_PER_SECOND SECONDS [PAIRS]

import { isMainThread, Worker, workerData } from "node:worker_threads";

interface Job {
  cell: SharedArrayBuffer;
  role: "ping" | "pong";
  rate: number;
  seconds: number;
}

if (isMainThread) {
  const rate = Number(process.argv[2] ?? 10000);
  const seconds = Number(process.argv[3] ?? 3);
  const pairs = Math.max(1, Number(process.argv[4] ?? 1));
  const workers: Promise<void>[] = [];
  for (let p = 0; p < pairs; p++) {
    const cell = new SharedArrayBuffer(8);
    for (const role of ["ping", "pong"] as const) {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { cell, role, rate: rate / pairs, seconds } as Job,
      });
      workers.push(new Promise((r) => w.on("exit", () => r())));
    }
  }
  await Promise.all(workers);
} else {
  const job = workerData as Job;
  const a = new Int32Array(job.cell);
  const end = performance.now() + job.seconds * 1000;
  if (job.role === "pong") {
    // answer every ping until the pinger says stop (2)
    for (;;) {
      Atomics.wait(a, 0, 0);
      if (Atomics.load(a, 0) === 2) break;
      Atomics.store(a, 0, 0);
      Atomics.notify(a, 0);
    }
  } else {
    const start = performance.now();
    let trips = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 16; i++) {
        Atomics.store(a, 0, 1);
        Atomics.notify(a, 0);
        Atomics.wait(a, 0, 1);
      }
      trips += 16;
      const ahead = start + (trips / job.rate) * 1000 - performance.now();
      if (ahead > 0.2) Atomics.wait(a, 1, 0, ahead);
    }
    Atomics.store(a, 0, 2);
    Atomics.notify(a, 0);
  }
}
