/**
 * Preload (`node -r …/require-timer.js`) that times every CommonJS module a
 * process loads: inclusive time (read, compile, run, including what it
 * requires) and self time (without its children), written as JSON to
 * $ES_REQUIRE_TIMES at exit. Plain JavaScript: it must load before anything
 * else and add no transpiler to the start-up it measures.
 *
 * Node's own built-ins (`node:*`) come from its snapshot and do not pass
 * through Module.prototype.load: their cost lands in the requiring module's
 * self time.
 */

const Module = require('node:module');
const { statSync, writeFileSync } = require('node:fs');

const out = process.env.ES_REQUIRE_TIMES;
const preloadedAt = performance.now(); // ms since the process started: Node's own bootstrap
const records = [];
const stack = []; // open loads: { childMs } so a parent's self time excludes its children
const originalLoad = Module.prototype.load;

Module.prototype.load = function timedLoad(filename) {
  const frame = { childMs: 0 };
  stack.push(frame);
  const t0 = performance.now();
  try {
    return originalLoad.call(this, filename);
  } finally {
    const inclusive = performance.now() - t0;
    stack.pop();
    const up = stack[stack.length - 1];
    if (up) up.childMs += inclusive;
    let bytes = 0;
    try {
      bytes = statSync(filename).size;
    } catch {}
    records.push({ file: filename, inclusiveMs: inclusive, selfMs: inclusive - frame.childMs, bytes, atMs: t0 });
  }
};

if (out) {
  process.on('exit', () => {
    writeFileSync(out, JSON.stringify({ preloadedAtMs: preloadedAt, exitAtMs: performance.now(), modules: records }));
  });
}
