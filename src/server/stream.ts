// GET /api/stream: server-sent events. `stats` once a second (the task summaries and the
// capture's counters), `violation` for each SLO violation as it happens, `tracefs` when
// the instance was found disturbed. Clients are bounded (a dashboard or two, ctl, a
// script): one more gets 503. Violations are written at most VIOLATIONS_PER_SECOND a
// second; beyond that they are counted and the next `stats` says how many were left out.
// A client that does not read (its socket buffer full) is dropped rather than buffered.

import type { ServerResponse } from "node:http";
import { stringifyJson } from "../output/json-report.ts";

export const DEFAULT_MAX_STREAM_CLIENTS = 8;
const VIOLATIONS_PER_SECOND = 200;
/** bytes a slow client may have unsent before it is dropped */
const MAX_BACKLOG = 1 << 20;

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  readonly maxClients: number;
  private sentThisSecond = 0;
  /** violations left out since the last stats event */
  private suppressed = 0;

  constructor(maxClients = DEFAULT_MAX_STREAM_CLIENTS) {
    this.maxClients = maxClients;
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /** Takes over a response: headers sent, kept until the client goes or the daemon stops. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": rtscope event stream\n\n");
    this.clients.add(res);
    res.on("close", () => this.clients.delete(res));
  }

  /** The once-a-second event; resets the violation budget. */
  stats(data: Record<string, unknown>): void {
    this.sentThisSecond = 0;
    const s = this.suppressed;
    this.suppressed = 0;
    this.send("stats", s > 0 ? { ...data, violationsNotStreamed: s } : data);
  }

  violation(data: object): void {
    if (this.clients.size === 0) return;
    if (this.sentThisSecond >= VIOLATIONS_PER_SECOND) {
      this.suppressed++;
      return;
    }
    this.sentThisSecond++;
    this.send("violation", data);
  }

  send(event: string, data: object): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${stringifyJson(data, 0)}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > MAX_BACKLOG) {
        res.destroy();
        this.clients.delete(res);
        continue;
      }
      res.write(frame);
    }
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
