// POST /api/admit: `rtscope admit` through the daemon; the answer is admit's JSON result
// (`admit --format json`), once both phases are over (the request lasts baseline + duration).
//
// - The newcomer is a pid only (a process started stopped; admit resumes it after the
//   baseline): a daemon running as root must not start commands for whoever reaches its
//   socket. `command` is accepted only when the daemon was started with
//   --allow-admit-commands, which requires --token-file, and the request carries the token
//   (over the unix socket too).
// - One admission at a time (409 while one runs): two newcomers at once would each be the
//   other's unexplained interference, and each admission costs a capture of its own.
// - Its own capture: a second tracefs instance (rtscope-<pid>-admit) beside the daemon's, so
//   that the daemon's tracked tasks, their statistics and windows are untouched and the
//   admission is measured exactly as the CLI measures it (every event of the workload and
//   newcomer, windows for every workload thread). The price is a second ring buffer and
//   reader while it runs.
// - The phases are stored as linked runs when the daemon has a run store.
// - The client going away, or the daemon stopping, ends the admission early (partial).

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  type AdmitOptions,
  admit,
  NewcomerError,
  parseTolerance,
  phaseLength,
  storeAdmission,
} from "../cli/admit.ts";
import type { WindowSettings } from "../cli/options.ts";
import { UsageError } from "../cli/options.ts";
import type { LiveSettings } from "../cli/record.ts";
import { METRIC_KEYS, type MetricKey, type SloBounds } from "../model/report.ts";
import { emptySelection, type Selection, selectionIsEmpty } from "../model/selection.ts";
import { formatAdmitJson } from "../output/admit-report.ts";
import { type RunStore, StoreError } from "../store/run-store.ts";
import { DaemonError } from "./daemon.ts";

/** The longest phase the API accepts: the request lasts both. */
const MAX_PHASE_NS = 3600e9;

const ID = { type: "integer", minimum: 1, maximum: 4194304 } as const;
const IDS = { type: "array", items: ID, maxItems: 64 } as const;
const TEXT = { type: "string", minLength: 1, maxLength: 64 } as const;
const BOUND = { type: ["integer", "string"], maxLength: 32 } as const;

export const ADMIT_BODY = {
  type: "object",
  properties: {
    selection: {
      type: "object",
      properties: {
        pid: IDS,
        tgid: IDS,
        comm: { type: "array", items: { type: "string", minLength: 1, maxLength: 200 }, maxItems: 16 },
        rt: { type: "boolean" },
        irqThreads: { type: "boolean" },
      },
      additionalProperties: false,
    },
    slo: {
      type: "object",
      properties: Object.fromEntries(METRIC_KEYS.map((k) => [k, BOUND])),
      additionalProperties: false,
    },
    baseline: TEXT,
    duration: TEXT,
    tolerance: TEXT,
    strict: { type: "boolean" },
    newcomerPid: ID,
    command: { type: "array", items: { type: "string", maxLength: 256 }, minItems: 1, maxItems: 64 },
  },
  required: ["selection"],
  additionalProperties: false,
} as const;

export interface AdmitBody {
  selection: { pid?: number[]; tgid?: number[]; comm?: string[]; rt?: boolean; irqThreads?: boolean };
  slo?: Partial<Record<MetricKey, number | string>>;
  baseline?: string;
  duration?: string;
  tolerance?: string;
  strict?: boolean;
  newcomerPid?: number;
  command?: string[];
}

export interface AdmitRouteOptions {
  /** serve --allow-admit-commands: `command` accepted (with the token) */
  allowCommands: boolean;
  /** the daemon's bearer token, null = none */
  token: string | null;
  store: RunStore | null;
  live: LiveSettings;
  window: WindowSettings;
  wakeupEvent: "wakeup" | "waking";
  /** a bound as the API takes it (integer ns or "50us"), or a 400 */
  parseBound(v: number | string, field: string): number;
  send(reply: FastifyReply, status: number, body: unknown): FastifyReply;
}

/** `field`: the check's UsageError as a 400 naming the field. */
function field<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UsageError || e instanceof DaemonError)
      throw new DaemonError(400, `body.${name}: ${(e as Error).message}`);
    throw e;
  }
}

/** The body as admit's options (a 400 naming the field when one is wrong). */
export function admitOptionsOf(b: AdmitBody, o: AdmitRouteOptions): AdmitOptions {
  const selection: Selection = emptySelection();
  selection.tids = [...(b.selection.pid ?? [])];
  selection.tgids = [...(b.selection.tgid ?? [])];
  for (const c of b.selection.comm ?? []) selection.comms.push(field("selection.comm", () => safeRegExp(c)));
  selection.rt = b.selection.rt === true;
  selection.irqThreads = b.selection.irqThreads === true;
  if (selectionIsEmpty(selection))
    throw new DaemonError(400, "body.selection: name the workload (pid, tgid, comm, rt or irqThreads)");
  const slo: SloBounds = {};
  for (const [k, v] of Object.entries(b.slo ?? {}))
    slo[k as MetricKey] = o.parseBound(v as number | string, `body.slo.${k}`);
  const phase = (name: "baseline" | "duration"): number => {
    const ns = field(name, () => phaseLength(b[name], name));
    if (ns > MAX_PHASE_NS) throw new DaemonError(400, `body.${name} must be at most 1 h`);
    return ns;
  };
  if ((b.newcomerPid === undefined) === (b.command === undefined))
    throw new DaemonError(400, "body: give the newcomer as newcomerPid (or command), one of them");
  return {
    selection,
    slo,
    format: "json",
    baselineNs: phase("baseline"),
    durationNs: phase("duration"),
    tolerance: field("tolerance", () => parseTolerance(b.tolerance)),
    strict: b.strict === true,
    newcomerCommand: b.command ?? [],
    newcomerPid: b.newcomerPid,
    wakeupEvent: o.wakeupEvent,
    live: o.live,
    window: o.window,
  };
}

function safeRegExp(text: string): RegExp {
  try {
    return new RegExp(text);
  } catch (e) {
    throw new UsageError(`invalid regular expression '${text}': ${(e as Error).message}`);
  }
}

function bearerOf(req: FastifyRequest): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  return m ? m[1] : null;
}

/** Registers POST /api/admit; returns what ends a running admission (the daemon stopping). */
export function registerAdmitRoute(app: FastifyInstance, o: AdmitRouteOptions): { abort(): void } {
  let running: { controller: AbortController; startedAt: number; endsBy: number } | null = null;
  app.post("/api/admit", { schema: { body: ADMIT_BODY } }, async (req, reply) => {
    const b = req.body as AdmitBody;
    if (b.command !== undefined) {
      if (!o.allowCommands || o.token === null)
        throw new DaemonError(
          403,
          "body.command: this daemon does not start commands; give newcomerPid (a process started stopped), or start the daemon with --allow-admit-commands and --token-file",
        );
      // checked here for the unix socket too (the access hook checks TCP only)
      if (bearerOf(req) !== o.token)
        throw new DaemonError(401, "body.command needs the bearer token (Authorization: Bearer TOKEN)");
    }
    const opts = admitOptionsOf(b, o);
    if (running !== null)
      throw new DaemonError(
        409,
        `an admission is already running (since ${new Date(running.startedAt).toISOString()}, until about ${new Date(running.endsBy).toISOString()}); one at a time`,
      );
    const controller = new AbortController();
    const now = Date.now();
    running = { controller, startedAt: now, endsBy: now + (opts.baselineNs + opts.durationNs) / 1e6 };
    // the client gone: nobody reads the verdict (a partial one is still stored)
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    req.raw.socket.setTimeout(0);
    try {
      const outcome = await admit(opts, { embedded: true, signal: controller.signal });
      if (o.store !== null)
        try {
          storeAdmission(o.store, outcome);
        } catch (e) {
          if (!(e instanceof StoreError)) throw e;
        }
      return reply.code(200).type("application/json; charset=utf-8").send(formatAdmitJson(outcome.result));
    } catch (e) {
      if (e instanceof NewcomerError)
        throw new DaemonError(/no such process/.test(e.message) ? 404 : 409, e.message);
      throw e;
    } finally {
      running = null;
    }
  });
  return {
    abort() {
      running?.controller.abort();
    },
  };
}
