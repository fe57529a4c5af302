// serve and ctl on the command line without a daemon: help with examples and exit status,
// usage errors (exit 1) naming what was wrong.
import assert from "node:assert/strict";
import { test } from "node:test";
import { rtscope } from "../helpers/cli.ts";

test("serve and ctl are built and explain themselves", () => {
  const main = rtscope("--help");
  assert.match(main.stdout, /^ {2}serve +daemon: HTTP API, Prometheus metrics, event stream$/m);
  assert.match(main.stdout, /^ {2}ctl +control a running daemon .*$/m);
  assert.doesNotMatch(main.stdout, /^ {2}(serve|ctl) .*not available/m);
  for (const cmd of ["serve", "ctl"]) {
    const r = rtscope(cmd, "--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /\nExamples:\n/);
    assert.match(r.stdout, /\nExit status: /);
  }
});

test("usage errors exit 1 and say what is wrong", () => {
  const cases: [string[], RegExp][] = [
    [["ctl"], /no command \(add, del, slo, list, show, worst\)/],
    [["ctl", "frob"], /unknown command 'frob'/],
    [["ctl", "add"], /'ctl add' takes 1 argument, got 0/],
    [["ctl", "add", "12x"], /expected a process or thread id, got '12x'/],
    [
      ["ctl", "slo", "1", "jitter", "5us"],
      /unknown metric 'jitter'; metrics: latency, response, relief, timer, irq/,
    ],
    [["ctl", "del", "1", "--trace"], /--trace goes with add/],
    [["ctl", "add", "1", "--scope", "group"], /--scope thread\|process goes with add/],
    [["ctl", "worst", "1", "timer", "--format", "tracedat"], /binary: name the output file with -o FILE/],
    [["ctl", "list", "--url", "ftp://x"], /--url expects http:\/\/HOST:PORT/],
    [["serve", "--listen", "nowhere"], /--listen expects HOST:PORT/],
    [["serve", "--listen", "0.0.0.0:9464"], /needs a bearer token: --token-file PATH/],
    [["serve", "--listen", "off", "--socket", "off"], /leave nothing to listen on/],
    [["serve", "extra"], /unexpected argument 'extra'/],
  ];
  for (const [args, re] of cases) {
    const r = rtscope(...args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(" "));
  }
});
