// Preload that prints, at exit, the CPU seconds of the main thread and of the whole process (all
// threads: decode workers, GC and JIT helpers). The main thread's time is the critical path of
// a run with decode workers: the wall time it tends to when every thread has a core of its own.
//
//   node --import ./bench/thread-cpu.ts bin/rtscope.js report FILE ...
process.on("exit", () => {
  const main = process.threadCpuUsage();
  const all = process.cpuUsage();
  process.stderr.write(
    `thread-cpu: main ${((main.user + main.system) / 1e6).toFixed(2)} s, process ${((all.user + all.system) / 1e6).toFixed(2)} s\n`,
  );
});
