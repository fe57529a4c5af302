// Every endpoint of a real daemon against bad input: wrong types, missing and unknown
// fields, negative and absurd bounds, unknown pids and metrics, oversize and non-JSON
// bodies, and (over TCP) requests without the token, with a foreign Host or Origin. Each
// gets its 4xx with a message naming the field, and the daemon's state (its task list and
// each task's bounds) is the same afterwards. The tracked task is a sleeping process, so
// its statistics do not move while the requests run.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkNoLeftoversAtEnd, skipLive } from "../live/live-helpers.ts";
import { raw, type Served, sleepingProcess, startServe, stopServe, tempDir } from "./serve-helpers.ts";

checkNoLeftoversAtEnd();

const tmp = tempDir("rtscope-serve-api-");
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  message: RegExp;
}

describe("the API refuses bad input and changes nothing", { skip: skipLive }, () => {
  let served: Served;
  let sleepy: ChildProcess;
  let pid = 0;
  const socket = join(tmp, "api.sock");
  before(async () => {
    served = await startServe(socket, ["--max-stream-clients", "1"]);
    sleepy = await sleepingProcess();
    pid = sleepy.pid ?? -1;
    const add = await raw({ socket, method: "POST", path: "/api/tasks", body: { pid } });
    assert.equal(add.status, 201, add.text);
    const slo = await raw({
      socket,
      method: "PUT",
      path: `/api/tasks/${pid}/slo/latency`,
      body: { bound: "50us" },
    });
    assert.equal(slo.status, 200, slo.text);
  });
  after(async () => {
    sleepy?.kill("SIGKILL");
    if (served) await stopServe(served);
  });

  const state = async () => {
    const r = await raw({ socket, path: "/api/tasks" });
    assert.equal(r.status, 200);
    return r.json();
  };

  it("every endpoint: 4xx with the field named, state unchanged", async () => {
    const before = await state();
    assert.equal(before.tasks.length, 1);
    assert.deepEqual(before.tasks[0].slo, { latency: 50000 });
    const p = `/api/tasks/${pid}`;
    const cases: Case[] = [
      {
        name: "pid as text",
        method: "POST",
        path: "/api/tasks",
        body: { pid: String(pid) },
        status: 400,
        message: /body\.pid must be integer/,
      },
      {
        name: "negative pid",
        method: "POST",
        path: "/api/tasks",
        body: { pid: -1 },
        status: 400,
        message: /body\.pid must be >= 1/,
      },
      {
        name: "fractional pid",
        method: "POST",
        path: "/api/tasks",
        body: { pid: 1.5 },
        status: 400,
        message: /body\.pid must be integer/,
      },
      {
        name: "absurd pid",
        method: "POST",
        path: "/api/tasks",
        body: { pid: 1e12 },
        status: 400,
        message: /body\.pid must be <= 4194304/,
      },
      {
        name: "no pid",
        method: "POST",
        path: "/api/tasks",
        body: {},
        status: 400,
        message: /missing field 'pid'/,
      },
      {
        name: "unknown field",
        method: "POST",
        path: "/api/tasks",
        body: { pid, tracee: true },
        status: 400,
        message: /unknown field 'tracee'/,
      },
      {
        name: "trace as text",
        method: "POST",
        path: "/api/tasks",
        body: { pid, trace: "yes" },
        status: 400,
        message: /body\.trace must be boolean/,
      },
      {
        name: "unknown scope",
        method: "POST",
        path: "/api/tasks",
        body: { pid, scope: "group" },
        status: 400,
        message: /body\.scope must be one of thread, process/,
      },
      {
        name: "body an array",
        method: "POST",
        path: "/api/tasks",
        body: [pid],
        status: 400,
        message: /body must be object/,
      },
      {
        name: "pid that does not exist",
        method: "POST",
        path: "/api/tasks",
        body: { pid: 4194000 },
        status: 404,
        message: /pid 4194000: no such process or thread/,
      },
      {
        name: "pid already tracked",
        method: "POST",
        path: "/api/tasks",
        body: { pid },
        status: 409,
        message: /already tracked/,
      },
      {
        name: "oversize body",
        method: "POST",
        path: "/api/tasks",
        body: JSON.stringify({ pid, pad: "x".repeat(4096) }),
        status: 413,
        message: /too large/i,
      },
      {
        name: "not JSON",
        method: "POST",
        path: "/api/tasks",
        body: "pid=1",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        status: 415,
        message: /Unsupported Media Type/i,
      },
      {
        name: "broken JSON",
        method: "POST",
        path: "/api/tasks",
        body: '{"pid": ',
        status: 400,
        message: /JSON/,
      },
      {
        name: "prototype poisoning",
        method: "POST",
        path: "/api/tasks",
        body: `{"pid": ${pid}, "__proto__": {"x": 1}}`,
        status: 400,
        message: /not valid JSON|prototype/i,
      },
      {
        name: "query on add",
        method: "POST",
        path: "/api/tasks?trace=1",
        body: { pid },
        status: 400,
        message: /querystring: unknown field 'trace'/,
      },
      {
        name: "pid not a number",
        method: "GET",
        path: "/api/tasks/abc",
        status: 400,
        message: /params\.pid must be a process or thread id/,
      },
      { name: "pid zero", method: "GET", path: "/api/tasks/0", status: 400, message: /params\.pid/ },
      {
        name: "pid untracked",
        method: "GET",
        path: "/api/tasks/4194000",
        status: 404,
        message: /pid 4194000 is not tracked/,
      },
      {
        name: "del untracked",
        method: "DELETE",
        path: "/api/tasks/4194000",
        status: 404,
        message: /not tracked/,
      },
      {
        name: "del with a query",
        method: "DELETE",
        path: `${p}?force=1`,
        status: 400,
        message: /unknown field 'force'/,
      },
      {
        name: "unknown metric",
        method: "PUT",
        path: `${p}/slo/jitter`,
        body: { bound: 1000 },
        status: 400,
        message: /params\.metric must be one of latency, response, relief, timer, irq/,
      },
      {
        name: "negative bound",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: { bound: -5 },
        status: 400,
        message: /body\.bound must be between 1 ns and 10 s/,
      },
      {
        name: "zero bound",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: { bound: 0 },
        status: 400,
        message: /body\.bound must be between/,
      },
      {
        name: "absurd bound",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: { bound: 20_000_000_000 },
        status: 400,
        message: /body\.bound must be between/,
      },
      {
        name: "absurd bound text",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: { bound: "3600s" },
        status: 400,
        message: /body\.bound must be between/,
      },
      {
        name: "bound without sense",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: { bound: "fast" },
        status: 400,
        message: /invalid body\.bound 'fast'/,
      },
      {
        name: "bound boolean",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: { bound: true },
        status: 400,
        message: /body\.bound must be integer,string/,
      },
      {
        name: "bound fractional ns",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: { bound: 1.5 },
        status: 400,
        message: /body\.bound must be integer,string/,
      },
      {
        name: "no bound",
        method: "PUT",
        path: `${p}/slo/timer`,
        body: {},
        status: 400,
        message: /missing field 'bound'/,
      },
      {
        name: "bound for untracked",
        method: "PUT",
        path: "/api/tasks/4194000/slo/timer",
        body: { bound: 1000 },
        status: 404,
        message: /not tracked/,
      },
      {
        name: "clear a bound never set",
        method: "DELETE",
        path: `${p}/slo/timer`,
        status: 404,
        message: /has no timer bound/,
      },
      {
        name: "clear unknown metric",
        method: "DELETE",
        path: `${p}/slo/jitter`,
        status: 400,
        message: /params\.metric/,
      },
      {
        name: "worst of untraced",
        method: "GET",
        path: `${p}/worst/latency`,
        status: 404,
        message: /added without trace/,
      },
      {
        name: "worst format",
        method: "GET",
        path: `${p}/worst/latency?format=pdf`,
        status: 400,
        message: /querystring\.format must be one of/,
      },
      {
        name: "worst window",
        method: "GET",
        path: `${p}/worst/latency?window=best`,
        status: 400,
        message: /querystring\.window must be one of/,
      },
      { name: "run id", method: "GET", path: "/api/runs/abc", status: 400, message: /params\.id/ },
      {
        name: "compare without new",
        method: "GET",
        path: "/api/compare?base=1",
        status: 400,
        message: /missing field 'new'/,
      },
      {
        name: "health with a query",
        method: "GET",
        path: "/api/health?x=1",
        status: 400,
        message: /unknown field 'x'/,
      },
      {
        name: "unknown endpoint",
        method: "GET",
        path: "/api/nothing",
        status: 404,
        message: /no such endpoint/,
      },
      { name: "wrong method", method: "PATCH", path: p, status: 404, message: /no such endpoint/ },
    ];
    for (const c of cases) {
      const r = await raw({ socket, method: c.method, path: c.path, body: c.body, headers: c.headers });
      assert.equal(r.status, c.status, `${c.name}: ${r.status} ${r.text}`);
      assert.match(r.json().error, c.message, c.name);
      assert.deepEqual(await state(), before, `${c.name} changed the state`);
    }
  });

  it("the event stream is bounded: one client more gets 503", async () => {
    const first = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      import("node:http").then(({ request }) => {
        const req = request({ socketPath: socket, path: "/api/stream" }, resolve);
        req.on("error", reject);
        req.end();
      });
    });
    try {
      assert.equal(first.statusCode, 200);
      assert.match(String(first.headers["content-type"]), /text\/event-stream/);
      // a stats event within a few seconds, with the tracked task
      const data = await new Promise<string>((resolve) => {
        let buf = "";
        first.on("data", (d: Buffer) => {
          buf += d;
          const m = /event: stats\ndata: (.*)\n\n/.exec(buf);
          if (m) resolve(m[1]);
        });
      });
      assert.equal(JSON.parse(data).tasks[0].pid, pid);
      const second = await raw({ socket, path: "/api/stream" });
      assert.equal(second.status, 503);
      assert.match(second.json().error, /too many event-stream clients \(at most 1\)/);
    } finally {
      first.destroy();
    }
  });

  it("TCP on loopback: a foreign Host (DNS rebinding) or Origin (cross-site) is refused", async () => {
    const ok = await raw({
      port: served.port,
      path: "/api/health",
      headers: { host: `127.0.0.1:${served.port}` },
    });
    assert.equal(ok.status, 200, ok.text);
    const rebind = await raw({
      port: served.port,
      path: "/api/health",
      headers: { host: "attacker.example" },
    });
    assert.equal(rebind.status, 403);
    assert.match(rebind.json().error, /Host 'attacker.example' refused \(DNS rebinding/);
    const cross = await raw({
      port: served.port,
      method: "POST",
      path: "/api/tasks",
      body: { pid: process.pid },
      headers: { host: `127.0.0.1:${served.port}`, origin: "http://attacker.example" },
    });
    assert.equal(cross.status, 403);
    assert.match(cross.json().error, /cross-site request refused/);
    const fetchSite = await raw({
      port: served.port,
      path: "/api/tasks",
      headers: { host: `localhost:${served.port}`, "sec-fetch-site": "cross-site" },
    });
    assert.equal(fetchSite.status, 403);
    const st = await state();
    assert.equal(st.tasks.length, 1, "nothing was added");
  });
});

describe("a non-loopback listen needs the token", { skip: skipLive }, () => {
  it("serve refuses 0.0.0.0 without --token-file", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(
      process.execPath,
      [
        join(import.meta.dirname, "../../src/cli/main.ts"),
        "serve",
        "--listen",
        "0.0.0.0:0",
        "--socket",
        "off",
      ],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not loopback\) needs a bearer token: --token-file PATH/);
  });

  it("requests without the right token get 401, with it 200", async () => {
    const tokenFile = join(tmp, "token");
    writeFileSync(tokenFile, "s3cret-token-for-the-test\n", { mode: 0o600 });
    const served = await startServe(join(tmp, "tok.sock"), [
      "--listen",
      "0.0.0.0:0",
      "--token-file",
      tokenFile,
    ]);
    try {
      const addrs = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && a.family === "IPv4" && !a.internal)
        .map((a) => a?.address as string);
      const hosts = ["127.0.0.1", ...addrs];
      for (const host of hosts) {
        const none = await raw({ host, port: served.port, path: "/api/tasks" });
        assert.equal(none.status, 401, `${host}: ${none.text}`);
        assert.match(String(none.headers["www-authenticate"]), /Bearer/);
        const wrong = await raw({
          host,
          port: served.port,
          method: "POST",
          path: "/api/tasks",
          body: { pid: process.pid },
          headers: { authorization: "Bearer not-the-token-at-all" },
        });
        assert.equal(wrong.status, 401, `${host}: ${wrong.text}`);
        const right = await raw({
          host,
          port: served.port,
          path: "/api/tasks",
          headers: { authorization: "Bearer s3cret-token-for-the-test" },
        });
        assert.equal(right.status, 200, `${host}: ${right.text}`);
        assert.deepEqual(right.json().tasks, [], "the refused add changed nothing");
      }
      // the socket needs no token (its mode is the guard)
      const viaSocket = await raw({ socket: join(tmp, "tok.sock"), path: "/api/health" });
      assert.equal(viaSocket.status, 200);
    } finally {
      await stopServe(served);
    }
  });
});
