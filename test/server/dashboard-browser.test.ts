// The web dashboard in a real browser: Debian's Chromium, headless, driven by Playwright
// (playwright-core, the system's browser, nothing downloaded), against a real daemon (with a
// bearer token, so the page must ask for it) tracking a real SCHED_FIFO thread (cyclictest's
// measuring thread, found in /proc). Everything the page shows or does is checked against
// the daemon's API read over its unix socket: the task added from the page, SLO bounds set
// and cleared from the page (and a refused bound showing the API's own message), the table's
// figures, and a worst window's timeline, whose wakeup and switch-in marks are checked
// against those events found in the window's event listing by a reader written here (the
// SPEC's rules: the last sched_wakeup of the thread, then the first sched_switch to it or
// the first event it is seen running in).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { checkNoLeftoversAtEnd, installed, skipLive } from "../live/live-helpers.ts";
import { raw, type Served, sleep, startServe, stopServe, tempDir, waitFor } from "./serve-helpers.ts";

checkNoLeftoversAtEnd();

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const haveCyclictest = installed("cyclictest");
const skip =
  skipLive ||
  (haveCyclictest ? false : "cyclictest not installed") ||
  (CHROMIUM === undefined ? "chromium not installed (apt-get install chromium)" : false);
const tmp = tempDir("rtscope-dashboard-");
after(() => rmSync(tmp, { recursive: true, force: true }));
/** where the screenshots go: RTSCOPE_SCREENSHOTS=DIR keeps them, else a temporary folder */
const shots = process.env.RTSCOPE_SCREENSHOTS ?? join(tmp, "shots");

interface Ev {
  ts: number;
  cpu: number;
  event: string;
  currentTid: number;
  fields: Record<string, unknown>;
}

/** SCHED_FIFO threads of a process, from /proc/PID/task/TID/stat (field 41, policy 1). */
function fifoThreads(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.map(Number).filter((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return Number(rest[41 - 3]) === 1;
    } catch {
      return false;
    }
  });
}

/**
 * The reference reading of a latency window: the thread's last sched_wakeup before its
 * switch-in, the switch-in being the first sched_switch to it (or the first event it is seen
 * running in) after that wakeup. The last such pair in the window is the window's sample.
 */
function wakeAndSwitchIn(events: Ev[], tid: number): { wake: Ev; switchIn: Ev } | null {
  let wake: Ev | null = null;
  let pair: { wake: Ev; switchIn: Ev } | null = null;
  for (const e of [...events].sort((a, b) => a.ts - b.ts)) {
    if (e.event === "sched_wakeup" && e.fields.pid === tid) {
      wake = e;
      continue;
    }
    if (wake === null) continue;
    if ((e.event === "sched_switch" && e.fields.next_pid === tid) || e.currentTid === tid) {
      pair = { wake, switchIn: e };
      wake = null;
    }
  }
  return pair;
}

/**
 * Navigates, once more when the browser itself aborted the navigation (its network service
 * restarting under load); any answer from the daemon, or any other failure, is final.
 */
async function open(page: Page, url: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.goto(url, { waitUntil: "domcontentloaded" });
    } catch (e) {
      if (attempt >= 3 || !/net::ERR_ABORTED/.test(String(e))) throw e;
    }
  }
}

describe("the web dashboard in headless Chromium", { skip, timeout: 600_000 }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let cyc: ChildProcess;
  let tid = 0;
  const token = randomBytes(24).toString("base64url");
  const socket = join(tmp, "rtscope.sock");
  const requests: string[] = [];
  const problems: string[] = [];
  const api = async (path: string) => {
    const r = await raw({ socket, path });
    return { status: r.status, json: r.status === 200 ? r.json() : null, text: r.text };
  };

  before(async () => {
    mkdirSync(shots, { recursive: true });
    const tokenFile = join(tmp, "token");
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    served = await startServe(socket, ["--token-file", tokenFile]);
    cyc = spawn("cyclictest", ["-m", "-t1", "-p80", "-i1000", "-d0", "-q", "-D600"], { stdio: "ignore" });
    const pid = cyc.pid ?? -1;
    // the thread the wait saw: reading /proc again could see none (a clean-clone run got
    // undefined here and failed every page test after it)
    let seen: number[] = [];
    assert.ok(
      await waitFor(() => {
        seen = fifoThreads(pid);
        return seen.length === 1;
      }, 20_000),
      "cyclictest's SCHED_FIFO thread did not appear",
    );
    tid = seen[0];
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // root cannot use Chromium's sandbox; the page is our own, served from loopback
      // the network service in the browser process: on a machine loaded far beyond its cores a
      // separate one was seen restarting mid-navigation (net::ERR_ABORTED)
      args: ["--no-sandbox", "--disable-gpu", "--enable-features=NetworkServiceInProcess"],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 1300 } });
    // the machine may be loaded far beyond its cores: waits are for conditions, not times
    page.setDefaultTimeout(120_000);
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
  });
  after(async () => {
    await browser?.close();
    cyc?.kill("SIGKILL");
    if (served) await stopServe(served);
  });

  it("asks for the token, keeps it out of URLs, and loads under its CSP", async () => {
    const res = await open(page, `${served.url}/`);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
    await page.locator("#token-box").waitFor({ state: "visible" });
    await page.fill("#token", token);
    await page.click("#token-form button[type=submit]");
    await page.locator("#conn.ok").waitFor();
    assert.equal(await page.locator("#token-box").isHidden(), true);
  });

  it("adds the thread from the page: the daemon tracks it", async () => {
    await page.fill("#add-pid", String(tid));
    await page.selectOption("#add-scope", "thread");
    await page.click("#add-form button[type=submit]");
    await page.locator(`#tasks tr[data-pid="${tid}"]`).first().waitFor();
    const t = await api(`/api/tasks/${tid}`);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.scope, "thread");
    assert.equal(t.json.trace, true);
    await page.locator("#detail").waitFor({ state: "visible" });
  });

  it("sets and clears SLO bounds from the page; a refused bound shows the API's message", async () => {
    const row = (m: string) => page.locator(`#slo tr[data-metric="${m}"]`);
    await row("latency").locator("input").fill("30us");
    await row("latency").locator("button.set").click();
    assert.ok(
      await waitFor(async () => (await api(`/api/tasks/${tid}`)).json?.slo.latency === 30000, 10_000),
      "the latency bound set from the page did not reach the daemon",
    );
    await row("timer").locator("input").fill("250000");
    await row("timer").locator("button.set").click();
    assert.ok(await waitFor(async () => (await api(`/api/tasks/${tid}`)).json?.slo.timer === 250000, 10_000));
    await row("timer").locator("button.clear").click();
    assert.ok(
      await waitFor(async () => (await api(`/api/tasks/${tid}`)).json?.slo.timer === undefined, 10_000),
      "the timer bound cleared from the page is still set",
    );

    // the same refused request straight to the API: its status and message
    const refused = await raw({
      socket,
      method: "PUT",
      path: `/api/tasks/${tid}/slo/latency`,
      body: { bound: "20s" },
    });
    assert.equal(refused.status, 400);
    await row("latency").locator("input").fill("20s");
    await row("latency").locator("button.set").click();
    await page.locator("#slo-error:not(:empty)").waitFor();
    assert.equal(await page.textContent("#slo-error"), refused.json().error);
    assert.deepEqual((await api(`/api/tasks/${tid}`)).json.slo, { latency: 30000 }, "state unchanged");
  });

  it("the table shows the daemon's figures (the thread's final statistics)", async () => {
    await sleep(3000);
    cyc.kill("SIGINT");
    assert.ok(
      await waitFor(async () => (await api(`/api/tasks/${tid}`)).json?.exited === true, 15_000),
      "the thread's exit was not noticed",
    );
    const rowsOf = () =>
      page.$$eval(`#tasks tr[data-pid="${tid}"][data-metric]`, (trs) =>
        trs.map((tr) => {
          const cell = (c: string) => {
            const td = tr.querySelector(`td.${c}`);
            return { text: td?.textContent ?? "", value: td?.getAttribute("data-value") ?? "" };
          };
          return {
            metric: tr.getAttribute("data-metric") ?? "",
            count: cell("count"),
            p99: cell("p99"),
            max: cell("max"),
            bound: cell("bound"),
            violations: cell("violations"),
          };
        }),
      );
    const us = (ns: number) => (ns / 1000).toFixed(1);
    let mismatch = "";
    const same = await waitFor(async () => {
      const list = await api("/api/tasks");
      const task = list.json.tasks.find((t: { pid: number }) => t.pid === tid);
      const rows = await rowsOf();
      const metrics = Object.entries(task.metrics) as [string, Record<string, number>][];
      mismatch = JSON.stringify({ api: task.metrics, page: rows });
      if (rows.length !== metrics.length) return false;
      return metrics.every(([k, m], i) => {
        const r = rows[i];
        return (
          r.metric === k &&
          r.count.text === String(m.count) &&
          r.p99.text === us(m.p99) &&
          r.max.text === us(m.max) &&
          r.bound.text === (m.bound === undefined ? "–" : us(m.bound)) &&
          r.violations.text === String(m.violations)
        );
      });
    }, 15_000);
    assert.ok(same, `the table differs from GET /api/tasks: ${mismatch}`);
    const task = (await api("/api/tasks")).json.tasks.find((t: { pid: number }) => t.pid === tid);
    assert.ok(task.metrics.latency.count > 100, `latency samples: ${task.metrics.latency.count}`);
    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
  });

  it("draws the worst latency window: a lane per CPU, wakeup and switch-in where the events put them", async () => {
    const detail = (await api(`/api/tasks/${tid}`)).json;
    const cpus = detail.capture.cpus as number;
    const win = await api(`/api/tasks/${tid}/worst/latency`);
    assert.equal(win.status, 200, win.text);
    const w = win.json.windows[0].window as { events: Ev[]; wakeTs: number; switchInTs: number };
    const ref = wakeAndSwitchIn(w.events, tid);
    assert.ok(ref, "the window's events hold the wakeup and the switch-in");
    assert.equal(ref.wake.ts, w.wakeTs, "the API's wakeTs is the wakeup event's");
    assert.equal(ref.switchIn.ts, w.switchInTs, "the API's switchInTs is the switch-in event's");

    await page.locator('#worst tr[data-metric="latency"] button[data-role="max"]').click();
    const svg = page.locator("#timeline svg.timeline");
    await svg.waitFor();
    const drawn = await svg.evaluate((el) => {
      const num = (e: { getAttribute(a: string): string | null } | null, a: string) =>
        Number(e?.getAttribute(a));
      const lanes = [...el.querySelectorAll("g.lane")].map((g) => {
        const bg = g.querySelector("rect.lane-bg");
        return { cpu: num(g, "data-cpu"), y: num(bg, "y"), h: num(bg, "height") };
      });
      const mark = (cls: string) => {
        const l = el.querySelector(`line.mark.${cls}`);
        return {
          x: num(l, "x1"),
          x2: num(l, "x2"),
          y1: num(l, "y1"),
          y2: num(l, "y2"),
          ts: num(l, "data-ts"),
        };
      };
      const tracked = [...el.querySelectorAll("rect.segment.tracked")].map((r) => ({
        from: num(r, "data-from"),
        y: num(r, "y"),
      }));
      return {
        t0: num(el, "data-t0"),
        t1: num(el, "data-t1"),
        x0: num(el, "data-x0"),
        x1: num(el, "data-x1"),
        lanes,
        wake: mark("wakeup"),
        switchIn: mark("switch-in"),
        tracked,
      };
    });
    assert.deepEqual(
      drawn.lanes.map((l) => l.cpu),
      Array.from({ length: cpus }, (_, i) => i),
      "one lane per CPU",
    );
    // the time axis spans the events and the two marks
    const times = [...w.events.map((e) => e.ts), ref.wake.ts, ref.switchIn.ts];
    assert.equal(drawn.t0, Math.min(...times));
    assert.equal(drawn.t1, Math.max(...times));
    const xOf = (ts: number) => drawn.x0 + ((ts - drawn.t0) / (drawn.t1 - drawn.t0)) * (drawn.x1 - drawn.x0);
    const laneOf = (y: number) => drawn.lanes.find((l) => y >= l.y - 5 && y <= l.y + l.h + 5)?.cpu;
    for (const [name, m, e] of [
      ["wakeup", drawn.wake, ref.wake],
      ["switch-in", drawn.switchIn, ref.switchIn],
    ] as const) {
      assert.ok(Math.abs(m.x - xOf(e.ts)) < 1e-6, `${name} at x ${m.x}, its event puts it at ${xOf(e.ts)}`);
      assert.equal(m.x2, m.x, `${name} is a vertical mark`);
      assert.equal(laneOf((m.y1 + m.y2) / 2), e.cpu, `${name} on the lane of CPU ${e.cpu}`);
    }
    assert.ok(drawn.wake.x <= drawn.switchIn.x);
    // a sched_switch to the thread opens its segment there, on that CPU's lane
    if (ref.switchIn.event === "sched_switch") {
      const seg = drawn.tracked.find((s) => s.from === ref.switchIn.ts);
      assert.ok(seg, "the thread's segment starts at its switch-in");
      assert.equal(laneOf(seg.y), ref.switchIn.cpu);
    }
    const causes = await page.locator("#causes tbody tr").count();
    assert.equal(causes, (win.json.windows[0].window.causes as unknown[]).length, "one row per cause");
    await page.locator("#window").screenshot({ path: join(shots, "timeline.png") });
  });

  it("removes the task from the page; nothing came from elsewhere and the token was never in a URL", async () => {
    await page.click("#remove");
    assert.ok(
      await waitFor(async () => (await api(`/api/tasks/${tid}`)).status === 404, 10_000),
      "the task removed from the page is still tracked",
    );
    await page.locator(`#tasks tr[data-pid="${tid}"]`).first().waitFor({ state: "detached" });
    assert.ok(requests.length > 0);
    for (const url of requests) {
      assert.ok(url.startsWith(`${served.url}/`), `a request outside the daemon: ${url}`);
      assert.ok(!url.includes(token), `the token in a URL: ${url}`);
    }
    assert.deepEqual(problems, []);
  });
});
