import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Every entry of the package must load in a browser: from `index.ts`,
 * `presign.ts` and `upload.ts`, following relative imports and the package's
 * `#imports` as a browser resolves them (their `default`), no file may import
 * a `node:` module (or the codec's `/node` entry) or use `Buffer`. Node's
 * variants live in `src/node/` and are reached only through `#imports`.
 * (`import type` is erased, so it is allowed.) The Chromium test bundles the
 * entries for real; this one names the offending file at once.
 */
const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
type Target = string | { [condition: string]: Target };
const ENTRIES = ['index.ts', 'presign.ts', 'upload.ts'];

const code = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
/** Module specifiers of value imports and re-exports (not `import type` / `export type`). */
const valueSpecifiers = (text: string): string[] =>
  [...code(text).matchAll(/(?:^|;|\n)\s*(import|export)(\s+type\b)?[^'";]*?from\s*'([^']+)'|import\s*\(\s*'([^']+)'/g)]
    .filter((m) => !m[2])
    .map((m) => (m[3] ?? m[4]) as string);

/** What a browser bundler resolves `#name` to from source: the `default` of the source condition. */
function browserTarget(name: string): string {
  const target = manifest.imports?.[name] as Target | undefined;
  const source = typeof target === 'object' ? target['@encrypted-stream/source'] : undefined;
  const chosen = typeof source === 'object' ? source.default : undefined;
  if (typeof chosen !== 'string') throw new Error(`${name} has no source default in package.json imports`);
  return join(ROOT, chosen);
}

/** The source files a browser bundle of `entry` reaches, with their value imports. */
function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const specifiers = valueSpecifiers(readFileSync(file, 'utf8'));
    seen.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith('#')) visit(browserTarget(specifier));
      else if (specifier.startsWith('.')) visit(resolve(dirname(file), `${specifier}.ts`));
    }
  };
  visit(join(SRC, entry));
  return seen;
}

describe('the browser path', () => {
  test.each(ENTRIES)('%s reaches no node: module, no codec/node and no Buffer', (entry) => {
    const files = reachable(entry);
    expect(files.size).toBeGreaterThan(entry === 'index.ts' ? 20 : 5);
    const offences: string[] = [];
    for (const [file, specifiers] of files) {
      const path = relative(SRC, file);
      for (const s of specifiers) {
        if (s.startsWith('node:') || s === '@encrypted-stream/codec/node' || ['fs', 'stream', 'events'].includes(s)) {
          offences.push(`${path} imports ${s}`);
        }
      }
      if (/\bBuffer\b/.test(code(readFileSync(file, 'utf8')))) offences.push(`${path} uses Buffer`);
      if (path.startsWith('node/')) offences.push(`${path} is Node's variant`);
    }
    expect(offences).toEqual([]);
  });

  test('the checker sees what it must: the Node variants would fail it', () => {
    const node = join(SRC, 'node/body-streams.ts');
    expect(valueSpecifiers(readFileSync(node, 'utf8'))).toEqual(
      expect.arrayContaining(['node:fs', 'node:stream', '@encrypted-stream/codec/node']),
    );
    expect(valueSpecifiers("import type { Readable } from 'node:stream';\nexport type { X } from './x';")).toEqual([]);
  });

  test('every #import has a Node and a browser variant, from source and built, with the same exports', () => {
    for (const [name, target] of Object.entries(manifest.imports as Record<string, Target>)) {
      const file = name.slice(1);
      expect([name, target]).toEqual([
        name,
        {
          '@encrypted-stream/source': { node: `./src/node/${file}.ts`, default: `./src/web/${file}.ts` },
          node: `./dist/node/${file}.js`,
          default: `./dist/web/${file}.js`,
        },
      ]);
      const exported = (path: string) =>
        [
          ...code(readFileSync(join(ROOT, path), 'utf8')).matchAll(
            /export\s+(?:async\s+)?(?:function|class|const|interface|type)\s+(\w+)|export\s*\{\s*(\w+)/g,
          ),
        ]
          .map((m) => m[1] ?? m[2])
          .sort();
      expect(exported(`src/web/${file}.ts`)).toEqual(exported(`src/node/${file}.ts`));
    }
  });

  test('src/ holds no other directories than node/ and web/, and web/ mirrors node/', () => {
    const dirs = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(dirs.sort()).toEqual(['node', 'web']);
    expect(readdirSync(join(SRC, 'web')).sort()).toEqual(readdirSync(join(SRC, 'node')).sort());
    for (const entry of ENTRIES) expect(existsSync(join(SRC, entry))).toBe(true);
  });
});
