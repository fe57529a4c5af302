// The HTTP API of `rtscope serve` (SPEC §2 "Daemon") on Fastify. Every body, parameter and
// query is checked against a JSON schema before a handler runs: wrong types, unknown or
// missing fields, out-of-range values get 400 with a message naming the field, and nothing
// changes. Types are never coerced ("12" is not a pid) and unknown fields are refused, not
// dropped. Bodies are limited to BODY_LIMIT bytes (413) and must be JSON (415).

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import pkg from "../../package.json" with { type: "json" };
import { compareRuns, DEFAULT_FLOOR_NS, DEFAULT_TOLERANCE } from "../analysis/compare.ts";
import { markOwnWindow } from "../analysis/own-interference.ts";
import type { WindowRole } from "../analysis/worst-windows.ts";
import { METRIC_KEYS, type MetricKey } from "../model/report.ts";
import { parseDuration } from "../model/units.ts";
import { formatCompareJson } from "../output/compare-report.ts";
import { reportToJsonObject, stringifyJson } from "../output/json-report.ts";
import { formatPerfettoText } from "../output/perfetto-text.ts";
import { writeTraceDat } from "../output/trace-dat-writer.ts";
import { formatWindowsJson } from "../output/window-json.ts";
import { formatWorstWindow } from "../output/window-text.ts";
import type { RunStore } from "../store/run-store.ts";
import { ownThreads } from "../tracefs/proc-tasks.ts";
import { mergeWindowEvents } from "../windows/window-merge.ts";
import { type AccessPolicy, checkAccess } from "./access.ts";
import { type AdmitRouteOptions, registerAdmitRoute } from "./admit-route.ts";
import { type Daemon, DaemonError, type TaskEntry } from "./daemon.ts";
import { isDashboardPath, registerDashboard } from "./dashboard.ts";
import type { DaemonMetrics } from "./metrics.ts";
import type { EventStream } from "./stream.ts";
import { taskDetail, taskSummary } from "./views.ts";

export const BODY_LIMIT = 1024;
/** The largest SLO bound accepted: the histograms' range. */
export const MAX_BOUND_NS = 10e9;

const PID = { type: "string", pattern: "^[1-9][0-9]{0,9}$" } as const;
const METRIC = { type: "string", enum: METRIC_KEYS } as const;
const PID_PARAMS = {
  type: "object",
  properties: { pid: PID },
  required: ["pid"],
  additionalProperties: false,
} as const;
const METRIC_PARAMS = {
  type: "object",
  properties: { pid: PID, metric: METRIC },
  required: ["pid", "metric"],
  additionalProperties: false,
} as const;
const NO_QUERY = { type: "object", additionalProperties: false } as const;

const ADD_BODY = {
  type: "object",
  properties: {
    pid: { type: "integer", minimum: 1, maximum: 4194304 },
    trace: { type: "boolean" },
    scope: { type: "string", enum: ["thread", "process"] },
  },
  required: ["pid"],
  additionalProperties: false,
} as const;
const SLO_BODY = {
  type: "object",
  properties: { bound: { type: ["integer", "string"], maxLength: 32 } },
  required: ["bound"],
  additionalProperties: false,
} as const;
const WORST_QUERY = {
  type: "object",
  properties: {
    format: { type: "string", enum: ["json", "text", "tracedat", "perfetto"] },
    window: { type: "string", enum: ["max", "first", "worst"] },
  },
  additionalProperties: false,
} as const;
const RUN_PARAMS = {
  type: "object",
  properties: { id: { type: "string", pattern: "^[1-9][0-9]{0,15}$" } },
  required: ["id"],
  additionalProperties: false,
} as const;
const COMPARE_QUERY = {
  type: "object",
  properties: {
    base: { type: "string", pattern: "^[1-9][0-9]{0,15}$" },
    new: { type: "string", pattern: "^[1-9][0-9]{0,15}$" },
  },
  required: ["base", "new"],
  additionalProperties: false,
} as const;

export interface ApiOptions {
  daemon: Daemon;
  /** POST /api/admit's settings (absent: no admit route) */
  admit?: Pick<AdmitRouteOptions, "allowCommands" | "live" | "window" | "wakeupEvent">;
  /** the run history, null when it could not be opened (`storeProblem` says why) or --no-store */
  store: RunStore | null;
  storeProblem: string;
  metrics: DaemonMetrics;
  stream: EventStream;
  policy: AccessPolicy;
}

export interface Api {
  app: FastifyInstance;
  /** ends a running admission (the daemon stopping) */
  abortAdmission(): void;
  /** a second server (the unix socket) answering through the same routes, without the TCP checks */
  createUnixServer(): Server;
}

/** "body/scope" + "must be ..." → "body.scope must be ..." */
function fieldOf(dataVar: string, instancePath: string): string {
  return `${dataVar}${instancePath.replace(/\//g, ".")}`;
}

interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function schemaMessage(errors: SchemaError[], dataVar: string): Error {
  const e = errors[0];
  const field = fieldOf(dataVar, e.instancePath);
  let msg: string;
  switch (e.keyword) {
    case "additionalProperties":
      msg = `${field}: unknown field '${String(e.params.additionalProperty)}'`;
      break;
    case "required":
      msg = `${field}: missing field '${String(e.params.missingProperty)}'`;
      break;
    case "enum":
      msg = `${field} must be one of ${(e.params.allowedValues as string[]).join(", ")}`;
      break;
    case "pattern":
      msg = /pid$/.test(field)
        ? `${field} must be a process or thread id (a positive integer)`
        : `${field} must be a positive integer id`;
      break;
    default:
      msg = `${field} ${e.message ?? "is invalid"}`;
  }
  return new Error(msg);
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type("application/json; charset=utf-8").send(stringifyJson(body));
}

function pidOf(req: FastifyRequest): number {
  return Number((req.params as { pid: string }).pid);
}

/** A bound as the API takes it: integer ns or a duration text ("50us"), 1 ns to 10 s. */
export function parseBound(v: number | string, field = "body.bound"): number {
  let ns: number;
  if (typeof v === "number") ns = v;
  else {
    try {
      ns = parseDuration(v, field);
    } catch (e) {
      throw new DaemonError(400, (e as Error).message);
    }
  }
  if (!(ns >= 1 && ns <= MAX_BOUND_NS))
    throw new DaemonError(400, `${field} must be between 1 ns and 10 s, got ${JSON.stringify(v)}`);
  return ns;
}

export function buildApi(o: ApiOptions): Api {
  const { daemon: d, metrics, stream, policy } = o;
  const summaryOf = (e: TaskEntry) => taskSummary(e, d.threadStats(e));
  const store = (): RunStore => {
    if (o.store === null) throw new DaemonError(503, `no run history: ${o.storeProblem}`);
    return o.store;
  };
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  const unixSockets = new WeakSet<Socket>();
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // the JSON parser refuses __proto__/constructor keys (400)
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    ajv: {
      customOptions: {
        allowUnionTypes: true,
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
      },
    },
    schemaErrorFormatter: (errors, dataVar) => schemaMessage(errors as unknown as SchemaError[], dataVar),
    serverFactory: (h) => {
      handler = h;
      return createServer(h);
    },
    logger: false,
  });

  app.addHook("onRequest", async (req, reply) => {
    if (unixSockets.has(req.raw.socket)) return;
    const refusal = checkAccess(
      { headers: req.headers, remoteAddress: req.raw.socket.remoteAddress },
      policy,
      (req.method === "GET" || req.method === "HEAD") && isDashboardPath(req.url),
    );
    if (refusal !== null) {
      if (refusal.status === 401) reply.header("www-authenticate", 'Bearer realm="rtscope"');
      return send(reply, refusal.status, { error: refusal.message });
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err instanceof DaemonError) return send(reply, err.status, { error: err.message });
    if (err.validation !== undefined) return send(reply, 400, { error: err.message });
    const status = err.statusCode ?? 500;
    if (status >= 500) process.stderr.write(`rtscope serve: internal error: ${err.stack ?? err.message}\n`);
    return send(reply, status, { error: status >= 500 ? `internal error: ${err.message}` : err.message });
  });
  app.setNotFoundHandler((req, reply) =>
    send(reply, 404, { error: `no such endpoint: ${req.method} ${req.url}` }),
  );

  app.get("/api/health", { schema: { querystring: NO_QUERY } }, async (_req, reply) => {
    const s = d.run.session.source.stats();
    return send(reply, 200, {
      ok: true,
      version: pkg.version,
      uptime: Math.round((Date.now() - d.startedAt) / 1000),
      tracefs: {
        instance: d.run.session.source.instance.path,
        ok: d.watch.ok,
        problems: d.watch.problems,
      },
      lostEvents: s.lostEvents,
      events: s.events,
      // the kernel's count, so that the loss rate is read from the reply itself
      written: s.written,
      eventsPerSec: Math.round(s.eventsPerSec),
      cpuPercent: Math.round(s.cpuPercent * 10) / 10,
      tasks: d.list().length,
      streamClients: stream.size,
    });
  });

  app.get("/api/tasks", { schema: { querystring: NO_QUERY } }, async (_req, reply) =>
    send(reply, 200, { tasks: d.list().map((e) => summaryOf(e)) }),
  );

  app.post("/api/tasks", { schema: { body: ADD_BODY, querystring: NO_QUERY } }, async (req, reply) => {
    const b = req.body as { pid: number; trace?: boolean; scope?: "thread" | "process" };
    const e = d.add(b.pid, { trace: b.trace, scope: b.scope });
    return send(reply, 201, taskDetail(d, e));
  });

  app.get("/api/tasks/:pid", { schema: { params: PID_PARAMS, querystring: NO_QUERY } }, async (req, reply) =>
    send(reply, 200, taskDetail(d, d.entry(pidOf(req)))),
  );

  app.delete(
    "/api/tasks/:pid",
    { schema: { params: PID_PARAMS, querystring: NO_QUERY } },
    async (req, reply) => {
      const e = d.entry(pidOf(req));
      // the view is taken before tracking stops (it reads the live statistics)
      const view = taskDetail(d, e);
      d.del(e.pid);
      return send(reply, 200, view);
    },
  );

  app.put(
    "/api/tasks/:pid/slo/:metric",
    { schema: { params: METRIC_PARAMS, body: SLO_BODY, querystring: NO_QUERY } },
    async (req, reply) => {
      const bound = parseBound((req.body as { bound: number | string }).bound);
      const e = d.setSlo(pidOf(req), (req.params as { metric: MetricKey }).metric, bound);
      return send(reply, 200, summaryOf(e));
    },
  );

  app.delete(
    "/api/tasks/:pid/slo/:metric",
    { schema: { params: METRIC_PARAMS, querystring: NO_QUERY } },
    async (req, reply) => {
      const metric = (req.params as { metric: MetricKey }).metric;
      const e = d.entry(pidOf(req));
      if (e.slo[metric] === undefined) throw new DaemonError(404, `pid ${e.pid} has no ${metric} bound`);
      d.setSlo(e.pid, metric, undefined);
      return send(reply, 200, summaryOf(e));
    },
  );

  app.get(
    "/api/tasks/:pid/worst/:metric",
    { schema: { params: METRIC_PARAMS, querystring: WORST_QUERY } },
    async (req, reply) => {
      const metric = (req.params as { metric: MetricKey }).metric;
      const q = req.query as { format?: string; window?: string };
      const role: WindowRole =
        q.window === "first" ? "first-violation" : q.window === "worst" ? "worst-violation" : "max";
      const { window, tid, comm } = d.worst(pidOf(req), metric, role);
      const windows = d.run.windows;
      const info = d.run.session.source.info;
      const symbols = d.run.session.source.symbols;
      // the causes, with the daemon's own threads marked as such
      const explained = () => markOwnWindow(windows?.render(window) ?? never(), new Set(ownThreads()));
      switch (q.format ?? "json") {
        case "tracedat": {
          const bytes = writeTraceDat(mergeWindowEvents([window]), info.tsBase, {
            cpus: info.cpus,
            symbols,
            clock: info.clock,
            uname: info.kernel ? `Linux ${info.kernel}` : undefined,
          }).bytes;
          return reply
            .code(200)
            .type("application/octet-stream")
            .header("content-disposition", `attachment; filename="rtscope-${tid}-${metric}.dat"`)
            .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        }
        case "perfetto":
          return reply
            .code(200)
            .type("text/plain; charset=utf-8")
            .send(formatPerfettoText(mergeWindowEvents([window]), info.tsBase, { cpus: info.cpus, symbols }));
        case "text":
          return reply
            .code(200)
            .type("text/plain; charset=utf-8")
            .send(`${formatWorstWindow(explained(), { tid, comm }, metric)}\n`);
        default:
          return reply
            .code(200)
            .type("application/json; charset=utf-8")
            .send(formatWindowsJson([{ tid, comm, metric, window: explained() }], pkg.version));
      }
    },
  );

  app.get("/api/runs", { schema: { querystring: NO_QUERY } }, async (_req, reply) =>
    send(reply, 200, { runs: store().listRuns() }),
  );
  app.get("/api/runs/:id", { schema: { params: RUN_PARAMS, querystring: NO_QUERY } }, async (req, reply) => {
    const id = Number((req.params as { id: string }).id);
    const run = store().getRun(id);
    if (run === undefined) throw new DaemonError(404, `no run ${id} in ${store().path}`);
    const admission = store().admissionOf(id);
    return send(reply, 200, {
      id: run.id,
      meta: run.meta,
      report: reportToJsonObject(run.report),
      ...(admission ? { admission } : {}),
    });
  });
  // compare's rules (rtscope compare) on two stored runs: the JSON of `compare --format json`
  app.get("/api/compare", { schema: { querystring: COMPARE_QUERY } }, async (req, reply) => {
    const q = req.query as { base: string; new: string };
    const [base, next] = [q.base, q.new].map((text) => {
      const id = Number(text);
      const run = store().getRun(id);
      if (run === undefined) throw new DaemonError(404, `no run ${id} in ${store().path}`);
      return { label: `run ${id}`, report: run.report, histogram: run.histogram };
    });
    const c = compareRuns(base, next, { tolerance: DEFAULT_TOLERANCE, floorNs: DEFAULT_FLOOR_NS });
    return reply.code(200).type("application/json; charset=utf-8").send(formatCompareJson(c));
  });

  app.get("/api/stream", { schema: { querystring: NO_QUERY } }, async (req, reply) => {
    if (stream.full)
      return send(reply, 503, { error: `too many event-stream clients (at most ${stream.maxClients})` });
    reply.hijack();
    stream.attach(reply.raw);
    req.raw.socket.setTimeout(0);
  });

  registerDashboard(app);
  const admitRoute =
    o.admit === undefined
      ? null
      : registerAdmitRoute(app, { ...o.admit, token: policy.token, store: o.store, parseBound, send });

  app.get("/metrics", async (_req, reply) => {
    const text = await metrics.scrape();
    return reply.code(200).type(metrics.contentType).send(text);
  });

  return {
    app,
    abortAdmission: () => admitRoute?.abort(),
    createUnixServer(): Server {
      if (handler === null) throw new Error("the API is not ready");
      const h = handler;
      const server = createServer(h);
      server.on("connection", (s: Socket) => unixSockets.add(s));
      return server;
    },
  };
}

function never(): never {
  throw new DaemonError(500, "worst-case windows are off in this daemon");
}
