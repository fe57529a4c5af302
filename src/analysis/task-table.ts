// The table of threads: tid → TaskState through a typed array (no Map lookup per event),
// names, thread groups, the fork tree, and the selection verdict of each thread.
//
// Thread groups: sched_process_fork cannot tell a new thread from a new process. The tgid
// comes from `taskInfo` (live: /proc), `initialTgids` (saved tgids of a trace rtscope
// wrote), the text TGID column (ftrace's record-tgid option), task_newtask's clone flags
// (CLONE_THREAD: a thread of its creator's group) and exec (an exec'd task leads its group);
// otherwise a thread is shown as its own process (tgid = tid) with `tgidKnown` false, and
// `--tgid` says which tasks it could not place (analyze.ts diagnostics). `descendantsOf`
// (fork tree) covers everything a launched command creates.

import { assertIdInRange } from "../model/id-limits.ts";
import { irqLineOf, type SelectionMatcher } from "./selection-matcher.ts";
import { applyTaskInfo, type TaskInfoLookup } from "./task-info.ts";
import { RunState, TaskState } from "./task-state.ts";

/** How often a thread's name is re-read from its events, to notice prctl renames (ns). */
export const COMM_REFRESH_NS = 100e6;
/** Tracked threads kept after their tid was reused (a daemon's 24-hour run stays bounded). */
export const MAX_RETIRED = 4096;
/**
 * Exited tracked threads kept for the report, by default. Each costs 1-4 KiB (its state,
 * a buffer of 64 samples per metric it measured, packed histograms; bench/task-memory.ts):
 * without a bound, tracking every thread of a machine that runs short-lived tasks
 * (hackbench, a build, a shell loop) grows for as long as the capture runs.
 */
export const MAX_EXITED = 4096;

/** What the table and the activation analyzer tell about a thread's tracking (a daemon listens). */
export interface TaskListener {
  /** the thread became tracked (its selection matched) */
  taskTracked?(t: TaskState): void;
  /** a tracked thread exited (sched_process_exit) */
  taskExited?(t: TaskState): void;
  /**
   * an exited tracked thread was dropped for the `maxExited` bound while still the owner of
   * its tid: whatever is kept per tid for its report (worst windows) can go too
   */
  taskDropped?(t: TaskState): void;
}

export class TaskTable {
  /** tid → slot + 1 (0 = unknown) */
  private slotOfTid = new Int32Array(1 << 16);
  /** by slot; null = a slot freed when its untracked thread died (reused first) */
  readonly tasks: (TaskState | null)[] = [];
  private readonly freeSlots: number[] = [];
  /** tracked threads whose tid was reused by a new thread: kept for the report (bounded) */
  readonly retired: TaskState[] = [];
  /** retired threads dropped to keep memory bounded (oldest first) */
  retiredDropped = 0;
  /** exited tracked threads beyond `maxExited` dropped to keep memory bounded (oldest first) */
  exitedDropped = 0;
  /** how many exited tracked threads are kept (their rows stay in the report) */
  maxExited = MAX_EXITED;
  /** exited tracked threads in the order they died, from `exitedHead` on (null: dropped) */
  private readonly exited: (TaskState | null)[] = [];
  private exitedHead = 0;
  /** names of released (dead, untracked) threads, for "nothing measured" messages (bounded) */
  readonly releasedNames = new Set<string>();
  /** CPU count for per-task CPU sets (grows on demand) */
  cpus: number;
  readonly matcher: SelectionMatcher;
  private readonly initialComms: ReadonlyMap<number, string>;
  private readonly initialTgids: ReadonlyMap<number, number> | undefined;
  private readonly taskInfo: TaskInfoLookup | undefined;
  private readonly parentOf = (tid: number): number => {
    const t = this.get(tid);
    return t === undefined ? -1 : t.parentTid;
  };
  /** told when a thread becomes tracked, in the order they were added */
  private readonly listeners: TaskListener[] = [];
  /** relative ts of the event being handled (a new thread's start), set by the activation analyzer */
  now = Number.NaN;

  constructor(
    matcher: SelectionMatcher,
    cpus: number,
    initialComms: ReadonlyMap<number, string>,
    initialTgids?: ReadonlyMap<number, number>,
    taskInfo?: TaskInfoLookup,
  ) {
    this.matcher = matcher;
    this.cpus = Math.max(1, cpus);
    this.initialComms = initialComms;
    this.initialTgids = initialTgids;
    this.taskInfo = taskInfo;
  }

  get(tid: number): TaskState | undefined {
    if (tid < 0 || tid >= this.slotOfTid.length) return undefined;
    const s = this.slotOfTid[tid];
    return s === 0 ? undefined : (this.tasks[s - 1] as TaskState);
  }

  /**
   * The thread, created (named, grouped and judged) when first seen. A tracked thread that
   * died (last switch-out in X/Z) keeps its entry; a later thread with its tid is a new one.
   */
  getOrCreate(tid: number): TaskState {
    if (tid >= 0 && tid < this.slotOfTid.length) {
      const s = this.slotOfTid[tid];
      if (s !== 0) {
        const t = this.tasks[s - 1] as TaskState;
        if (t.state !== RunState.Dead) return t;
      }
    }
    return this.create(tid, -1);
  }

  /**
   * The task a sched_process_fork names: the one task_newtask created just before (same
   * creator, not yet run), else a new one.
   */
  forked(tid: number, parentTid: number): TaskState {
    const t = this.get(tid);
    if (t !== undefined && t.parentTid === parentTid && t.newborn) return t;
    return this.create(tid, parentTid);
  }

  /** A new thread under `tid` (fork): a reused tid retires the old thread's state. */
  create(tid: number, parentTid: number): TaskState {
    assertIdInRange("thread id", tid);
    if (tid >= this.slotOfTid.length) {
      let n = this.slotOfTid.length;
      while (n <= tid) n *= 2;
      const grown = new Int32Array(n);
      grown.set(this.slotOfTid);
      this.slotOfTid = grown;
    }
    const old = this.get(tid);
    let slot: number;
    if (old !== undefined) {
      if (
        old.tracked &&
        (old.wakeups > 0 || old.voluntary > 0 || old.involuntary > 0 || old.state === RunState.Dead)
      )
        this.retire(old);
      slot = old.slot;
    } else {
      slot = this.freeSlots.pop() ?? this.tasks.length;
    }
    const t = new TaskState(tid, slot, this.cpus);
    if (slot === this.tasks.length) this.tasks.push(t);
    else this.tasks[slot] = t;
    this.slotOfTid[tid] = slot + 1;
    t.parentTid = parentTid;
    t.startTs = this.now;
    const info = this.taskInfo?.(tid);
    const comm = info?.comm ?? (parentTid < 0 ? this.initialComms.get(tid) : undefined);
    if (comm !== undefined) t.comm = comm;
    const tgid = info?.tgid ?? (parentTid < 0 ? this.initialTgids?.get(tid) : undefined);
    if (tgid !== undefined) {
      t.tgid = tgid;
      t.tgidKnown = true;
    }
    if (info !== undefined) applyTaskInfo(t, info);
    if (parentTid >= 0) {
      t.state = RunState.Sleeping; // a new thread waits for wakeup_new
      t.newborn = true;
    }
    t.irqLine = irqLineOf(t.comm);
    this.decide(t);
    return t;
  }

  private retire(t: TaskState): void {
    if (this.retired.length >= MAX_RETIRED) {
      this.retired.shift();
      this.retiredDropped++;
    }
    this.retired.push(t);
  }

  /**
   * A thread died (its last switch-out): an untracked one gives its slot back, so that a long
   * run with many short-lived threads stays bounded; a tracked one stays for the report.
   */
  release(t: TaskState): void {
    if (t.tracked) return;
    if (this.get(t.tid) !== t) return;
    if (this.releasedNames.size < MAX_RETIRED) this.releasedNames.add(t.comm);
    this.slotOfTid[t.tid] = 0;
    this.tasks[t.slot] = null;
    this.freeSlots.push(t.slot);
  }

  /**
   * A tracked thread died (its last switch-out in X/Z). Past `maxExited` exited threads the
   * oldest one is dropped, whether its tid still points to it or it was retired since.
   */
  died(t: TaskState): void {
    this.exited.push(t);
    while (this.exited.length - this.exitedHead > this.maxExited) {
      const oldest = this.exited[this.exitedHead] as TaskState;
      // released at once: the array is compacted only now and then
      this.exited[this.exitedHead++] = null;
      this.drop(oldest);
    }
    if (this.exitedHead >= 1024 && this.exitedHead * 2 >= this.exited.length) {
      this.exited.splice(0, this.exitedHead);
      this.exitedHead = 0;
    }
  }

  private drop(t: TaskState): void {
    if (this.get(t.tid) === t) {
      this.slotOfTid[t.tid] = 0;
      this.tasks[t.slot] = null;
      this.freeSlots.push(t.slot);
      for (const l of this.listeners) l.taskDropped?.(t);
    } else {
      // retired since (its tid was reused), or already dropped from the retired rows
      const i = this.retired.indexOf(t);
      if (i < 0) return;
      this.retired.splice(i, 1);
    }
    this.exitedDropped++;
  }

  /** New name (first read, rename, exec): re-judge the thread if it is not tracked yet. */
  setComm(t: TaskState, comm: string, ts: number): void {
    t.commAt = ts;
    if (comm === t.comm || comm === "") return;
    t.comm = comm;
    t.irqLine = irqLineOf(comm);
    if (!t.tracked) this.decide(t);
  }

  /** Prio from an event; the first RT prio may select the thread (--rt). */
  setPrio(t: TaskState, prio: number): void {
    t.prio = prio;
    if (!(prio >= t.minPrio)) t.minPrio = prio;
    if (prio < 100 && !t.everRt) {
      t.everRt = true;
      // a thread created normal that switched to RT (cyclictest's threads): /proc's policy
      // read at its creation is stale, read it again (once per thread)
      if (t.policy !== "") {
        const policy = this.taskInfo?.(t.tid)?.policy;
        if (policy) t.policy = policy;
      }
      if (!t.tracked) this.decide(t);
    }
  }

  setTgid(t: TaskState, tgid: number): void {
    t.tgid = tgid;
    t.tgidKnown = true;
    if (!t.tracked) this.decide(t);
  }

  addListener(l: TaskListener): void {
    this.listeners.push(l);
  }

  /**
   * Stops tracking a thread: it is not selected again (unless a selection names it anew)
   * and its statistics and activation state are dropped.
   */
  untrack(t: TaskState): void {
    t.tracked = false;
    t.removed = true;
    t.active = false;
    t.reliefStart = Number.NaN;
    for (let m = 0; m < t.metrics.length; m++) t.metrics[m] = null;
    t.wakeups = t.voluntary = t.involuntary = t.migrations = t.cpuChanges = t.runtime = t.incomplete = 0;
  }

  /** A new thread (CLONE_THREAD) of the group its creator belongs to, known or not. */
  setThreadOf(t: TaskState, creatorTid: number): void {
    const c = this.get(creatorTid);
    if (c === undefined) return;
    t.tgid = c.tgid;
    t.tgidKnown = c.tgidKnown;
    if (!t.tracked) this.decide(t);
  }

  /** Applies the selection; once tracked, a thread stays tracked (unless removed). */
  decide(t: TaskState): void {
    if (t.tracked || t.removed) return;
    if (this.matcher.matches(t, this.parentOf)) {
      t.tracked = true;
      for (const l of this.listeners) l.taskTracked?.(t);
    }
  }

  /** Re-judges every untracked thread (the selection was widened at run time). */
  redecideAll(): void {
    for (const t of this.tasks) if (t !== null) this.decide(t);
  }

  /** tid → tgid of the given threads whose group is known (not guessed). */
  knownTgids(tids: Iterable<number>): Map<number, number> {
    const out = new Map<number, number>();
    for (const tid of tids) {
      const t = this.get(tid);
      if (t?.tgidKnown) out.set(tid, t.tgid);
    }
    return out;
  }

  /** Every tracked thread, retired ones included. */
  trackedTasks(): TaskState[] {
    const out: TaskState[] = [];
    for (const t of this.retired) out.push(t);
    for (const t of this.tasks) if (t?.tracked) out.push(t);
    return out;
  }
}
