// `rtscope serve`: the daemon (SPEC §2 "Daemon"). One live capture that tracks nothing
// until tasks are added (ctl add / POST /api/tasks), the HTTP API on a unix socket and on
// loopback, Prometheus metrics, the event stream. Ends on SIGTERM/SIGINT (or --duration):
// the capture is read to its end, the instance removed, the socket unlinked; a second
// signal quits at once (the instance is still removed). Started after a SIGKILL, it
// removes the dead daemon's instance and stale socket and goes on.

import { readFileSync, statSync, unlinkSync } from "node:fs";
import type { Server } from "node:http";
import { type AccessPolicy, isLoopbackAddress, LOOPBACK_HOSTS } from "../server/access.ts";
import { buildApi } from "../server/api.ts";
import { Daemon } from "../server/daemon.ts";
import { DaemonMetrics, DEFAULT_MAX_SERIES_THREADS } from "../server/metrics.ts";
import { defaultSocketPath, listenUnix } from "../server/socket.ts";
import { DEFAULT_MAX_STREAM_CLIENTS, EventStream } from "../server/stream.ts";
import { taskSummary } from "../server/views.ts";
import { defaultDbPath, RunStore, StoreError } from "../store/run-store.ts";
import { DEFAULT_READER_PRIORITY } from "../tracefs/capture-session.ts";
import { onCleanup } from "../tracefs/cleanup.ts";
import { removeStaleInstances } from "../tracefs/instance.ts";
import { findTracefs } from "../tracefs/tracefs-root.ts";
import {
  ANALYSIS_HELP,
  ANALYSIS_OPTIONS,
  HELP_OPTIONS,
  parseCommandLine,
  parseCount,
  parseWakeupEvent,
  parseWindowSettings,
  UsageError,
  WINDOW_HELP,
  WINDOW_OPTIONS,
} from "./options.ts";
import { LIVE_OPTIONS, parseLiveValues } from "./record.ts";

export const summary = "daemon: HTTP API, Prometheus metrics, event stream";

const DEFAULT_LISTEN = "127.0.0.1:9464";

export const help = `Usage: rtscope serve [--listen HOST:PORT|off] [--socket PATH|off] [--token-file PATH]
                     [--allow-host NAME] [--buffer-size KB] [--cpu LIST] [--priority N|normal]

Runs rtscope as a daemon: one live capture (a private tracefs instance) that tracks the
tasks added at run time, like the seed module's add_pid/del_pid/set_slo_*_bound files:
  rtscope ctl add PID [--trace]     (POST /api/tasks)
and serves, as JSON over HTTP, every tracked task's statistics, SLO bounds and worst-case
windows, Prometheus metrics at /metrics and server-sent events at /api/stream. Needs root.

Listening:
  --listen HOST:PORT     TCP address (default ${DEFAULT_LISTEN}; port 0 picks a free one;
                         'off' for none). An address other than loopback needs --token-file
  --socket PATH          unix socket, mode 0600 (default ${defaultSocketPath()};
                         $XDG_RUNTIME_DIR/rtscope.sock when set, else /run/rtscope/rtscope.sock;
                         'off' for none). ctl uses it by default
  --token-file PATH      a bearer token (one line, at least 16 characters): every TCP request
                         then needs 'Authorization: Bearer TOKEN'; the socket needs none
  --allow-host NAME      a host name the Host header may carry on loopback (default only
                         localhost, 127.0.0.1, ::1: protection against DNS rebinding)
  --max-series-threads N threads with their own Prometheus series (default ${DEFAULT_MAX_SERIES_THREADS}; the rest
                         are summed into one series labelled _other)
  --max-stream-clients N event-stream clients at once (default ${DEFAULT_MAX_STREAM_CLIENTS})

Run history:
  --db PATH              the run database (default ${defaultDbPath()}); at the end
                         (SIGTERM/SIGINT, --duration) the run is stored there: its tasks,
                         histograms and worst windows (rtscope runs list, GET /api/runs)
  --no-store             do not store the run

Live capture:
  --duration TIME        stop after TIME (default: until SIGTERM/SIGINT)
  --buffer-size KB       per-CPU ring buffer in KiB (default: sized to cover a 1 s reader stall,
                         at most 1/64 of the memory; rtscope record --help says how)
  --cpu LIST             pin rtscope itself to these CPUs (housekeeping CPUs, e.g. 0)
  --priority N|normal    rtscope's reader (its main thread) as SCHED_FIFO N, or at normal priority (default as root:
                         SCHED_FIFO ${DEFAULT_READER_PRIORITY}, so that no normal-priority load starves the reader)
  --no-syscalls          do not trace clock_nanosleep/nanosleep (timer metric ends at switch-in)

${WINDOW_HELP}

${ANALYSIS_HELP}

API (JSON; bad input gets 4xx with a message naming the field, and changes nothing):
  GET /api/health   GET /api/tasks   POST /api/tasks {pid, trace?, scope?}
  GET|DELETE /api/tasks/PID   PUT|DELETE /api/tasks/PID/slo/METRIC {bound}
  GET /api/tasks/PID/worst/METRIC[?format=json|text|tracedat|perfetto&window=max|first|worst]
  GET /api/runs   GET /api/runs/ID   GET /api/compare?base=ID&new=ID (rtscope compare's JSON)
  GET /api/stream (server-sent events)   GET /metrics (Prometheus)
  POST /api/admit {selection, newcomerPid, slo?, baseline?, duration?, tolerance?, strict?}
                    rtscope admit through the daemon (its JSON result, after both phases);
                    one at a time (409), in an instance of its own beside the daemon's

Admit:
  --allow-admit-commands POST /api/admit may start a command ({command: [...]}) instead of
                         resuming a stopped pid; needs --token-file, and the request the token
                         (on the unix socket too). Without it, only a newcomer pid is taken

Web dashboard: http://127.0.0.1:9464/ in a browser (the --listen address): live task table,
histograms and percentiles, SLO editing, worst windows and their timelines. It needs no
token to load; with --token-file it asks for the token and sends it with each API request.

Examples:
  sudo rtscope serve
  sudo rtscope serve --listen 0.0.0.0:9464 --token-file /etc/rtscope/token --cpu 0
  sudo rtscope serve --listen off --socket /run/rtscope/rtscope.sock
  curl --unix-socket /run/rtscope/rtscope.sock http://localhost/api/tasks

Exit status: 0 stopped by a signal or --duration, 1 usage error, 2 runtime error (no root,
no tracefs, address in use...).
`;

const OPTIONS = {
  ...HELP_OPTIONS,
  ...ANALYSIS_OPTIONS,
  ...LIVE_OPTIONS,
  ...WINDOW_OPTIONS,
  listen: { type: "string" },
  socket: { type: "string" },
  "token-file": { type: "string" },
  "allow-host": { type: "string", multiple: true },
  "max-series-threads": { type: "string" },
  "max-stream-clients": { type: "string" },
  db: { type: "string" },
  "no-store": { type: "boolean" },
  "allow-admit-commands": { type: "boolean" },
} as const;

interface ListenAddress {
  host: string;
  port: number;
}

/** "127.0.0.1:9464", "[::1]:9464", "localhost:0" → host and port. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535)
    throw new UsageError(
      `--listen expects HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464), got '${text}'`,
      "serve",
    );
  return { host: m[1] ?? m[2], port };
}

function isLoopbackHost(host: string): boolean {
  return host === "localhost" || isLoopbackAddress(host);
}

function readToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new UsageError(`--token-file ${path}: ${(e as Error).message}`, "serve");
  }
  if (text.length < 16 || /\s/.test(text))
    throw new UsageError(
      `--token-file ${path}: the token must be one word of at least 16 characters`,
      "serve",
    );
  if ((statSync(path).mode & 0o077) !== 0)
    process.stderr.write(`rtscope serve: warning: ${path} is readable by other users (chmod 600 it)\n`);
  return text;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine("serve", argv, OPTIONS, { positionals: false });
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  const listen = values.listen === "off" ? null : parseListen(values.listen ?? DEFAULT_LISTEN);
  const socketPath = values.socket === "off" ? null : (values.socket ?? defaultSocketPath());
  if (listen === null && socketPath === null)
    throw new UsageError("--listen off and --socket off leave nothing to listen on", "serve");
  const token = values["token-file"] !== undefined ? readToken(values["token-file"]) : null;
  if (values["allow-admit-commands"] === true && token === null)
    throw new UsageError(
      "--allow-admit-commands needs --token-file (commands only for who holds the token)",
      "serve",
    );
  if (listen !== null && !isLoopbackHost(listen.host) && token === null)
    throw new UsageError(
      `listening on ${listen.host} (not loopback) needs a bearer token: --token-file PATH`,
      "serve",
    );
  const policy: AccessPolicy = {
    token,
    allowedHosts: new Set([...LOOPBACK_HOSTS, ...(values["allow-host"] ?? []).map((h) => h.toLowerCase())]),
  };
  const maxThreads = parseCount(
    values["max-series-threads"],
    "--max-series-threads",
    DEFAULT_MAX_SERIES_THREADS,
    { min: 1, max: 10_000 },
    "serve",
  );
  const maxClients = parseCount(
    values["max-stream-clients"],
    "--max-stream-clients",
    DEFAULT_MAX_STREAM_CLIENTS,
    { min: 1, max: 1000 },
    "serve",
  );
  const live = parseLiveValues(values, "serve");
  const window = parseWindowSettings(values, "serve");

  // a daemon killed with SIGKILL left its instance: say what is cleaned up
  const stale = removeStaleInstances(findTracefs());
  for (const name of stale.removed)
    process.stderr.write(`rtscope serve: removed the stale tracefs instance ${name}\n`);
  let store: RunStore | null = null;
  let storeProblem = "--no-store";
  if (values["no-store"] !== true) {
    const db = values.db ?? defaultDbPath();
    try {
      store = RunStore.open(db);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      // the capture matters more than its history: go on without storing
      storeProblem = e.message;
      process.stderr.write(`rtscope serve: runs will not be stored: ${e.message}\n`);
    }
  }
  const daemon = Daemon.start({
    live,
    wakeupEvent: parseWakeupEvent(values["wakeup-event"], "serve"),
    window,
  });
  const stream = new EventStream(maxClients);
  const metrics = new DaemonMetrics(daemon, maxThreads);
  daemon.onViolation = (v) => stream.violation(v);
  daemon.watch.onProblem = (p) => {
    process.stderr.write(`rtscope serve: ${p.message}\n`);
    stream.send("tracefs", p);
  };
  const api = buildApi({
    daemon,
    metrics,
    stream,
    policy,
    store,
    storeProblem,
    admit: {
      allowCommands: values["allow-admit-commands"] === true,
      live,
      window,
      wakeupEvent: parseWakeupEvent(values["wakeup-event"], "serve"),
    },
  });
  let unixServer: Server | null = null;
  let unregisterSocket = () => {};
  const tick = setInterval(() => {
    daemon.tick();
    const s = daemon.run.session.source.stats();
    stream.stats({
      uptime: Math.round((Date.now() - daemon.startedAt) / 1000),
      events: s.events,
      eventsPerSec: Math.round(s.eventsPerSec),
      lostEvents: s.lostEvents,
      cpuPercent: Math.round(s.cpuPercent * 10) / 10,
      tasks: daemon.list().map((e) => taskSummary(e, daemon.threadStats(e))),
    });
  }, 1000);
  const where: string[] = [];
  try {
    await api.app.ready();
    if (listen !== null) {
      await api.app.listen({ host: listen.host, port: listen.port });
      const a = api.app.server.address();
      if (a !== null && typeof a === "object")
        where.push(`http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
    }
    if (socketPath !== null) {
      unixServer = api.createUnixServer();
      await listenUnix(unixServer, socketPath);
      unregisterSocket = onCleanup(() => {
        try {
          unlinkSync(socketPath);
        } catch {
          // already gone
        }
      });
      where.push(`unix:${socketPath}`);
    }
    process.stderr.write(
      `rtscope serve: listening on ${where.join(" and ")} (tracefs instance ${daemon.run.session.source.instance.path})\n`,
    );
    const report = await daemon.finished;
    api.abortAdmission();
    const stopped = `rtscope serve: stopped (${daemon.run.session.stopReason ?? "end"}); ${daemon.list().length} task(s) tracked`;
    if (store === null) {
      process.stderr.write(`${stopped}\n`);
      return 0;
    }
    try {
      const run = daemon.runReport(report);
      const id = store.saveRun({
        report: run.report,
        meta: { origin: "serve", startedAt: daemon.startedAt, endedAt: Date.now() },
        histogram: run.histogram,
      });
      process.stderr.write(`${stopped}, stored as run ${id} in ${store.path}\n`);
      return 0;
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      process.stderr.write(`${stopped}; the run was not stored: ${e.message}\n`);
      return 2;
    }
  } finally {
    clearInterval(tick);
    daemon.stop();
    await daemon.finished.catch(() => undefined);
    stream.close();
    if (unixServer !== null) {
      unixServer.closeAllConnections();
      unixServer.close();
    }
    await api.app.close();
    // closing the server unlinks its socket; the cleanup covers a forced exit
    unregisterSocket();
    store?.close();
  }
}
