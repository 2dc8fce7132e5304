import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/**
 * The codec is built in layers, each importing only those beneath it:
 * format < crypto < engine < io < node. Only `node/` (which holds the native
 * crypto backend, Node's fast path, reached through package.json `imports`)
 * may touch `node:` modules or `Buffer`, so that everything else runs in any
 * JavaScript runtime.
 */
const SRC = resolve(__dirname, '../../src');
const LAYERS = ['format', 'crypto', 'engine', 'io', 'node'] as const;
const NODE_ALLOWED = ['node/'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The layer's rank, or undefined for the entry files at the top of src/. */
function rank(file: string): number | undefined {
  const top = relative(SRC, file).split(sep)[0] as (typeof LAYERS)[number];
  const at = LAYERS.indexOf(top);
  return at < 0 ? undefined : at;
}

const files = sources(SRC).map((file) => ({ file, path: relative(SRC, file).split(sep).join('/') }));
const specifiers = (text: string): string[] =>
  [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1] as string);
const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

describe('codec layers', () => {
  test('every source file sits in a layer or is an entry', () => {
    for (const { file, path } of files) {
      if (rank(file) === undefined) expect([path, path.includes('/')]).toEqual([path, false]);
    }
    expect(files.length).toBeGreaterThan(20);
  });

  test.each(files.filter(({ path }) => !NODE_ALLOWED.some((allowed) => path.startsWith(allowed))))(
    '$path uses no node: module and no Buffer',
    ({ file, path }) => {
      if (path === 'node.ts') return; // the node entry re-exports node/
      const text = readFileSync(file, 'utf8');
      expect(specifiers(text).filter((s) => s.startsWith('node:') || s === 'fs' || s === 'stream')).toEqual([]);
      expect(code(text).match(/\bBuffer\b/g) ?? []).toEqual([]);
    },
  );

  test('outside node/, the only packages imported are libsodium and #native-backend', () => {
    const outside = files.filter(
      ({ path }) => !NODE_ALLOWED.some((allowed) => path.startsWith(allowed)) && path !== 'node.ts',
    );
    const bare = new Set(
      outside.flatMap(({ file }) => specifiers(readFileSync(file, 'utf8')).filter((s) => !s.startsWith('.'))),
    );
    expect([...bare].sort()).toEqual(['#native-backend', 'libsodium-wrappers-sumo']);
  });

  test('#native-backend is node/ under Node and the libsodium-only stub elsewhere, built and from source', () => {
    const manifest = JSON.parse(readFileSync(resolve(SRC, '../package.json'), 'utf8'));
    expect(manifest.imports['#native-backend']).toEqual({
      '@encrypted-stream/source': {
        node: './src/node/native-backend.ts',
        default: './src/crypto/backend/no-native-backend.ts',
      },
      node: './dist/node/native-backend.js',
      default: './dist/crypto/backend/no-native-backend.js',
    });
  });

  test.each(['index.ts', 'low-level.ts'])('the %s entry reaches nothing of node/', (entry) => {
    expect(specifiers(readFileSync(join(SRC, entry), 'utf8')).filter((s) => s.startsWith('./node'))).toEqual([]);
  });

  test.each(files.filter(({ file }) => rank(file) !== undefined))('$path imports no higher layer', ({ file }) => {
    const own = rank(file) as number;
    const higher = specifiers(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(join(file, '..'), s))
      .filter((target) => !target.startsWith(SRC + sep) || (rank(target) ?? Number.POSITIVE_INFINITY) > own)
      .map((target) => relative(SRC, target));
    expect(higher).toEqual([]);
  });
});

describe('codec entries', () => {
  test('the root entry exports at most 25 names', () => {
    const text = readFileSync(join(SRC, 'index.ts'), 'utf8');
    const names = [...code(text).matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) =>
      (m[1] as string)
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    );
    expect(names.length).toBeLessThanOrEqual(25);
  });
});
