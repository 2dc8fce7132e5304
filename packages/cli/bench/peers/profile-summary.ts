/**
 * Where a Node process's main-thread CPU went, from the `.cpuprofile` files
 * `node --cpu-prof` writes: self-time per category (cipher, Buffer copies,
 * fs, HTTP, SDK middleware, streams, promises, module loading, GC, our own
 * code …), the top functions by self-time, and our own functions by
 * inclusive time (which of our call sites the cost hangs under).
 *
 *   node -r ts-node/register/transpile-only bench/peers/profile-summary.ts [--bytes N] DIR|FILE…
 *
 * `--bytes N` adds seconds per GiB for an operation that moved N bytes. The
 * profile sees only the main thread: libuv's threadpool (fs reads and writes,
 * fsync) and V8's helper threads show in the process's CPU time, not here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 CPU profile this summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self-time categories, in the order they are printed. */
export const CATEGORIES = [
  'cipher / native crypto',
  'Buffer copies / allocation',
  'fs reads / writes / fsync',
  'HTTP, sockets (node)',
  'AWS SDK / smithy middleware',
  'Node streams machinery',
  'promises / microtasks / timers',
  'module loading / compilation',
  'GC',
  'our code: codec',
  'our code: s3',
  'our code: cli',
  'V8 (program): compiler, ICs, runtime',
  'node internals, other',
  'other JS / native',
] as const;

/** One of {@link CATEGORIES}. */
export type Category = (typeof CATEGORIES)[number];

/** What one profile (or several, added up) says. */
export interface ProfileSummary {
  /** Wall-clock span of the profile, ms. */
  readonly spanMs: number;
  /** Sampled time in which the main thread was busy (everything but idle), ms. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly byCategory: ReadonlyMap<Category, number>;
  /** Self-time per function, `name url:line` → ms. */
  readonly byFunction: ReadonlyMap<string, { ms: number; category: Category }>;
  /** Inclusive time of our own functions (codec, s3, cli), ms. */
  readonly oursInclusive: ReadonlyMap<string, number>;
}

const CRYPTO_NATIVES = new Set(['update', 'final', 'setAuthTag', 'getAuthTag', 'setAAD', 'initiv', 'init']);

/**
 * Helpers that serve every layer (path joins, URL parsing, validators, event
 * emitters, primordials): their time belongs to whoever called them.
 */
const SHARED_HELPERS =
  /^node:(path|url|util|events|internal\/(url|util|validators|errors|per_context|event_target|options|assert))(\/|$)/;

/**
 * Whether a frame is a module being loaded: a `require` call, the ES module
 * loader (an `import()`, which pre-parses CommonJS files with
 * cjs-module-lexer), or that lexer. Everything beneath, including the module's
 * top-level code (libsodium instantiating its WebAssembly), is start-up.
 */
function loadsModules(functionName: string, url: string): boolean {
  return (
    (functionName === 'require' && url.startsWith('node:internal/modules')) ||
    url.startsWith('node:internal/modules/esm') ||
    url.startsWith('node:internal/deps/cjs-module-lexer')
  );
}

/**
 * The category a frame's own URL or name decides, or undefined for a native
 * frame (empty URL) or a shared helper: that one takes its caller's, since
 * V8 shows a C++ binding (`update`, `writeBuffers`, `writev`) under the JS
 * that called it.
 */
function ownCategory(functionName: string, url: string): Category | undefined {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8 (program): compiler, ICs, runtime';
  if (SHARED_HELPERS.test(url)) return undefined;
  if (url === '') {
    if (functionName === 'processTicksAndRejections' || functionName === 'runMicrotasks') {
      return 'promises / microtasks / timers';
    }
    if (functionName === 'compileFunction' || functionName === 'compileForInternalLoader') {
      return 'module loading / compilation';
    }
    return undefined;
  }
  if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return 'cipher / native crypto';
  if (url === 'node:buffer' || url.startsWith('node:internal/buffer')) return 'Buffer copies / allocation';
  if (url === 'node:fs' || url === 'node:fs/promises' || url.startsWith('node:internal/fs')) {
    return 'fs reads / writes / fsync';
  }
  if (
    /^node:(_http_|http|https|net|tls|_tls_|dns)/.test(url) ||
    /^node:internal\/(http|net|dns|stream_base_commons|tls|js_stream_socket)/.test(url)
  ) {
    return 'HTTP, sockets (node)';
  }
  if (/\/(@aws-sdk|@smithy|@aws-crypto|fast-xml-parser|strnum|tslib|bowser|uuid)\//.test(url)) {
    return 'AWS SDK / smithy middleware';
  }
  if (url === 'node:stream' || /^node:internal\/(streams|webstreams)/.test(url)) return 'Node streams machinery';
  if (/^node:(internal\/)?(process\/task_queues|timers|async_hooks|internal\/async_hooks)/.test(url)) {
    return 'promises / microtasks / timers';
  }
  if (/^node:internal\/(modules|bootstrap|main|vm)/.test(url) || url === 'node:vm') {
    return 'module loading / compilation';
  }
  if (url.includes('/packages/codec/')) return 'our code: codec';
  if (url.includes('/packages/s3/')) return 'our code: s3';
  if (url.includes('/packages/cli/') || url.includes('/packages/gateway/')) return 'our code: cli';
  if (url.startsWith('node:')) return 'node internals, other';
  return 'other JS / native';
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const inPackages = url.match(/\/packages\/(.*)$/);
  if (inPackages) return inPackages[1] as string;
  const inModules = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?(.*)$/);
  return inModules ? (inModules[1] as string) : url.replace(/^file:\/\//, '');
}

/** Summarises one parsed profile. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const underLoader = new Map<number, boolean>();
  const isUnderLoader = (id: number): boolean => {
    const known = underLoader.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)?.callFrame;
    const up = parent.get(id);
    const result =
      (frame !== undefined && loadsModules(frame.functionName, frame.url)) || (up !== undefined && isUnderLoader(up));
    underLoader.set(id, result);
    return result;
  };
  const category = new Map<number, Category>();
  const categoryOf = (id: number): Category => {
    const known = category.get(id);
    if (known) return known;
    const node = byId.get(id);
    const { functionName = '', url = '' } = node?.callFrame ?? {};
    let result = isUnderLoader(id) ? 'module loading / compilation' : ownCategory(functionName, url);
    if (!result) {
      // A native frame: bindings named like crypto calls are the cipher even when called from our code directly.
      const up = parent.get(id);
      const inherited = up === undefined ? undefined : categoryOf(up);
      result =
        CRYPTO_NATIVES.has(functionName) && inherited?.startsWith('our code')
          ? 'cipher / native crypto'
          : (inherited ?? 'other JS / native');
    }
    category.set(id, result);
    return result;
  };

  const byCategory = new Map<Category, number>();
  const byFunction = new Map<string, { ms: number; category: Category }>();
  const oursInclusive = new Map<string, number>();
  let idleMs = 0;
  let busyMs = 0;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the gap *before* sample i: a sample lasts until the next one.
    const ms = (i + 1 < timeDeltas.length ? (timeDeltas[i + 1] as number) : 0) / 1000;
    const id = samples[i] as number;
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const cat = categoryOf(id);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + ms);
    const name = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    const entry = byFunction.get(name) ?? { ms: 0, category: cat };
    entry.ms += ms;
    byFunction.set(name, entry);
    // Inclusive time of our functions: each counted once per sample, however deep it recurs.
    const seen = new Set<string>();
    for (let up: number | undefined = id; up !== undefined; up = parent.get(up)) {
      const frame = byId.get(up)?.callFrame;
      if (!frame || !/\/packages\/(codec|s3|cli|gateway)\//.test(frame.url)) continue;
      const key = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      oursInclusive.set(key, (oursInclusive.get(key) ?? 0) + ms);
    }
  }
  return {
    spanMs: (profile.endTime - profile.startTime) / 1000,
    busyMs,
    idleMs,
    byCategory,
    byFunction,
    oursInclusive,
  };
}

/** Adds summaries up (a command that wrote several profiles, e.g. with workers). */
export function addSummaries(summaries: readonly ProfileSummary[]): ProfileSummary {
  const byCategory = new Map<Category, number>();
  const byFunction = new Map<string, { ms: number; category: Category }>();
  const oursInclusive = new Map<string, number>();
  for (const s of summaries) {
    for (const [k, v] of s.byCategory) byCategory.set(k, (byCategory.get(k) ?? 0) + v);
    for (const [k, v] of s.byFunction) {
      const e = byFunction.get(k) ?? { ms: 0, category: v.category };
      e.ms += v.ms;
      byFunction.set(k, e);
    }
    for (const [k, v] of s.oursInclusive) oursInclusive.set(k, (oursInclusive.get(k) ?? 0) + v);
  }
  const sum = (f: (s: ProfileSummary) => number) => summaries.reduce((a, s) => a + f(s), 0);
  return {
    spanMs: Math.max(0, ...summaries.map((s) => s.spanMs)),
    busyMs: sum((s) => s.busyMs),
    idleMs: sum((s) => s.idleMs),
    byCategory,
    byFunction,
    oursInclusive,
  };
}

/** Every `.cpuprofile` under `paths` (files, or folders searched recursively). */
export function findProfiles(paths: readonly string[]): string[] {
  const found: string[] = [];
  for (const path of paths) {
    if (statSync(path).isDirectory()) {
      found.push(...findProfiles(readdirSync(path).map((name) => join(path, name))));
    } else if (path.endsWith('.cpuprofile')) {
      found.push(path);
    }
  }
  return found.sort();
}

/** Reads and adds up the profiles under `paths`. */
export function summarizePaths(paths: readonly string[]): ProfileSummary {
  const files = findProfiles(paths);
  if (files.length === 0) throw new Error(`no .cpuprofile under ${paths.join(', ')}`);
  return addSummaries(files.map((f) => summarizeProfile(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile)));
}

/**
 * The summary as text lines: categories (ms, % of busy, s/GiB when `bytes`
 * is given), then the `top` functions by self-time and our `top` functions by
 * inclusive time.
 */
export function formatSummary(summary: ProfileSummary, options: { bytes?: number; top?: number } = {}): string[] {
  const { bytes, top = 12 } = options;
  const perGiB = (ms: number) => (bytes ? `  ${((ms / 1000) * (1024 ** 3 / bytes)).toFixed(3)} s/GiB` : '');
  const pct = (ms: number) => `${((100 * ms) / (summary.busyMs || 1)).toFixed(1).padStart(5)} %`;
  const lines = [
    `main thread: busy ${(summary.busyMs / 1000).toFixed(3)} s, idle ${(summary.idleMs / 1000).toFixed(3)} s, span ${(summary.spanMs / 1000).toFixed(3)} s${perGiB(summary.busyMs)}`,
    'self-time by category:',
  ];
  for (const cat of CATEGORIES) {
    const ms = summary.byCategory.get(cat) ?? 0;
    if (ms > 0) lines.push(`  ${cat.padEnd(40)} ${ms.toFixed(0).padStart(7)} ms ${pct(ms)}${perGiB(ms)}`);
  }
  lines.push(`top ${top} functions by self-time:`);
  const functions = [...summary.byFunction].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  for (const [name, { ms, category }] of functions) {
    lines.push(`  ${ms.toFixed(0).padStart(7)} ms ${pct(ms)}  ${name}  [${category}]`);
  }
  const ours = [...summary.oursInclusive].sort((a, b) => b[1] - a[1]).slice(0, top);
  if (ours.length > 0) {
    lines.push(`our functions by inclusive time (top ${top}):`);
    for (const [name, ms] of ours) lines.push(`  ${ms.toFixed(0).padStart(7)} ms ${pct(ms)}  ${name}`);
  }
  return lines;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--bytes');
  const bytes = at >= 0 ? Number(args.splice(at, 2)[1]) : undefined;
  if (args.length === 0) {
    process.stderr.write('usage: profile-summary.ts [--bytes N] DIR|FILE.cpuprofile …\n');
    process.exitCode = 2;
  } else {
    for (const line of formatSummary(summarizePaths(args), bytes ? { bytes } : {})) process.stdout.write(`${line}\n`);
  }
}
