// The run database's schema, as migrations: MIGRATIONS[i] takes a database from
// user_version i to i + 1. Append a migration for every change; never edit one that has
// shipped (databases in the field are at its version).
//
// runs     one row per stored run: where and when, what was selected, the SLO bounds, the
//          report's source, diagnostics and IRQ-line durations (JSON)
// tasks    one row per task of a run, in report order (idx): identity, policy, counters, the
//          worst windows (zstd-compressed JSON, events one line each) and worst lists (JSON)
// metrics  one row per task and metric: the summary's aggregates, the SLO verdict and the
//          HDR histogram (HdrHistogram V2 encoding, src/store/histogram-codec.ts)
//
// admissions  one row per `rtscope admit`: its two phases (runs of origin admit), the verdict
//          and admit's result as JSON and as text, so that it can be read again
//
// Timestamps (max_at, first_at, worst_at) are trace timestamps in ns, 64-bit integers.

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    -- AUTOINCREMENT: the id of a removed run is never given to another one
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    origin      TEXT    NOT NULL,          -- record | serve
    host        TEXT    NOT NULL,
    kernel      TEXT    NOT NULL,          -- uname -r and machine
    preemption  TEXT    NOT NULL,          -- preemption model
    selection   TEXT    NOT NULL,
    slo         TEXT    NOT NULL,          -- JSON bounds in ns by metric key
    started_at  INTEGER NOT NULL,          -- wall clock, ms since the epoch
    ended_at    INTEGER NOT NULL,
    command     TEXT,                      -- JSON argv of a launched command
    version     TEXT    NOT NULL,          -- rtscope version that made the report
    source      TEXT    NOT NULL,          -- JSON: the report's source
    diagnostics TEXT    NOT NULL,          -- JSON
    irq_lines   TEXT                       -- JSON
  );
  CREATE TABLE tasks (
    run_id               INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    idx                  INTEGER NOT NULL,
    tid                  INTEGER NOT NULL,
    tgid                 INTEGER NOT NULL,
    comm                 TEXT    NOT NULL,
    policy               TEXT    NOT NULL,
    prio                 INTEGER NOT NULL,
    wakeups              INTEGER NOT NULL,
    voluntary_switches   INTEGER NOT NULL,
    involuntary_switches INTEGER NOT NULL,
    migrations           INTEGER NOT NULL,
    runtime              INTEGER NOT NULL,
    incomplete           INTEGER NOT NULL,
    worst                BLOB,             -- zstd(JSON { metric: window })
    worst_list           TEXT,             -- JSON { metric: [{value, start, end, cpu}] }
    PRIMARY KEY (run_id, idx)
  );
  CREATE TABLE metrics (
    run_id     INTEGER NOT NULL,
    task_idx   INTEGER NOT NULL,
    metric     TEXT    NOT NULL,
    count      INTEGER NOT NULL,
    min        INTEGER NOT NULL,
    mean       INTEGER NOT NULL,
    max        INTEGER NOT NULL,
    max_at     INTEGER NOT NULL,
    p50        INTEGER NOT NULL,
    p90        INTEGER NOT NULL,
    p99        INTEGER NOT NULL,
    p999       INTEGER NOT NULL,
    p9999      INTEGER NOT NULL,
    inferred   INTEGER NOT NULL,
    slo_bound  INTEGER,                    -- NULL: no bound; then the three below are NULL too
    violations INTEGER,
    first_at   INTEGER,
    worst_at   INTEGER,
    parts      TEXT,                       -- JSON: timer {irq, thread}, irq {hardirq, wakeup, handling}
    histogram  BLOB,
    PRIMARY KEY (run_id, task_idx, metric),
    FOREIGN KEY (run_id, task_idx) REFERENCES tasks(run_id, idx) ON DELETE CASCADE
  );
  CREATE INDEX runs_started ON runs(started_at);
  `,
  // 1 → 2: a task's prio is the user-visible rtprio or nice; the kernel prio and a visible
  // PI boost get columns of their own (rows of version 1 hold the kernel prio in prio)
  `
  ALTER TABLE tasks ADD COLUMN kernel_prio INTEGER;
  ALTER TABLE tasks ADD COLUMN boosted_kernel_prio INTEGER;
  `,
  // a thread's start (fork or first event) and exit, trace timestamps in ns: two threads that
  // used one tid one after the other are told apart by their start
  `
  ALTER TABLE tasks ADD COLUMN start INTEGER;
  ALTER TABLE tasks ADD COLUMN exited INTEGER;
  `,
  // how a launched command ended (the report's `command`), and a task's cut activations by
  // reason and IRQs served by a run already in progress (counters.cut, counters.irqCoalesced)
  `
  ALTER TABLE runs ADD COLUMN command_status TEXT;
  ALTER TABLE tasks ADD COLUMN cut TEXT;
  ALTER TABLE tasks ADD COLUMN irq_coalesced INTEGER;
  `,
  // an admission links its baseline and with-newcomer runs; removing either run removes the
  // link (the other run stays)
  `
  CREATE TABLE admissions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    baseline_run INTEGER NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE,
    newcomer_run INTEGER NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE,
    verdict      TEXT    NOT NULL,     -- admitted | rejected | not-admitted
    result       TEXT    NOT NULL,     -- admit --format json
    text         TEXT    NOT NULL      -- admit's text result
  );
  `,
];
