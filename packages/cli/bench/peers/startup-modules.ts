/**
 * What a command's start-up spends on loading modules, from the JSON that
 * `require-timer.js` writes: Node's bootstrap, time in `require` (by
 * package, self time so nothing counts twice), and the rest of the run.
 *
 *   ES_REQUIRE_TIMES=/tmp/t.json node -r ./bench/peers/require-timer.js bin/encrypted-stream.js --help
 *   node -r ts-node/register/transpile-only bench/peers/startup-modules.ts /tmp/t.json
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Absolute path of the preload, for `node -r`. */
export const REQUIRE_TIMER = resolve(__dirname, 'require-timer.js');

interface Timings {
  preloadedAtMs: number;
  exitAtMs: number;
  modules: { file: string; inclusiveMs: number; selfMs: number; bytes: number; atMs: number }[];
}

/** The npm package (or workspace package, or `app`) a loaded file belongs to. */
export function packageOf(file: string): string {
  const modules = file.split('/node_modules/');
  if (modules.length > 1) {
    const tail = modules[modules.length - 1] as string;
    const parts = tail.split('/');
    return tail.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
  }
  const workspace = file.match(/\/packages\/([^/]+)\//);
  return workspace ? `@encrypted-stream/${workspace[1]}` : 'app';
}

/** The report on one timings file as text lines: totals, then the `top` packages by self time. */
export function formatStartup(file: string, top = 12): string[] {
  const t = JSON.parse(readFileSync(file, 'utf8')) as Timings;
  const byPackage = new Map<string, { ms: number; count: number; bytes: number }>();
  for (const m of t.modules) {
    const name = packageOf(m.file);
    const entry = byPackage.get(name) ?? { ms: 0, count: 0, bytes: 0 };
    entry.ms += m.selfMs;
    entry.count += 1;
    entry.bytes += m.bytes;
    byPackage.set(name, entry);
  }
  const requireMs = t.modules.reduce((a, m) => a + m.selfMs, 0);
  const bytes = t.modules.reduce((a, m) => a + m.bytes, 0);
  const lines = [
    `process ${t.exitAtMs.toFixed(0)} ms to exit: Node bootstrap ${t.preloadedAtMs.toFixed(0)} ms, ` +
      `require ${requireMs.toFixed(0)} ms (${t.modules.length} files, ${(bytes / 1024).toFixed(0)} KiB of source), ` +
      `the rest ${(t.exitAtMs - t.preloadedAtMs - requireMs).toFixed(0)} ms`,
    `require time by package (self, top ${top}):`,
  ];
  for (const [name, e] of [...byPackage].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
    lines.push(
      `  ${e.ms.toFixed(1).padStart(7)} ms  ${String(e.count).padStart(4)} files ${(e.bytes / 1024).toFixed(0).padStart(6)} KiB  ${name}`,
    );
  }
  return lines;
}

if (require.main === module) {
  for (const file of process.argv.slice(2)) {
    process.stdout.write(`${file}:\n${formatStartup(file).join('\n')}\n`);
  }
}
