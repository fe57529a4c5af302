// What a live source can tell about a thread that the events do not (from /proc).

export interface TaskInfo {
  tgid?: number;
  /** "FIFO" | "RR" | "DEADLINE" | "OTHER" | "BATCH" | "IDLE" */
  policy?: string;
  comm?: string;
}

/** Called once per thread when it is first seen. */
export type TaskInfoLookup = (tid: number) => TaskInfo | undefined;
