/**
 * The V8 code cache of the built CLI (src/compile-cache.ts): it is written
 * privately, used on the next run, and never read from a place or a file
 * another user could have written — since a code cache is code.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { cacheFile } from '../../src/compile-cache';
import { expectOk, run } from '../helpers/cli';
import { freshDir, useTempDir } from '../helpers/files';

const dir = useTempDir('compile-cache');
const COMPILE_CACHE = join(__dirname, '../../dist/compile-cache.js');

const cacheDirOf = (xdg: string) => join(xdg, 'encrypted-stream', 'v8-code-cache');
const files = (directory: string) =>
  readdirSync(directory)
    .sort()
    .map((name) => {
      const stat = statSync(join(directory, name));
      return { name, mode: stat.mode & 0o777, ino: stat.ino, mtime: stat.mtimeMs };
    });

describe('the built CLI', () => {
  test('the first run writes the cache (0600 files in a 0700 directory); the next one uses it, same output', async () => {
    const xdg = freshDir(dir.path, 'first');
    const env = { XDG_CACHE_HOME: xdg };
    const first = await run(['--help'], { env });
    expectOk(first);
    const cached = files(cacheDirOf(xdg));
    expect(cached.length).toBeGreaterThanOrEqual(2); // main.js and the codec chunk at least
    for (const file of cached) expect(file.mode).toBe(0o600);
    expect(statSync(cacheDirOf(xdg)).mode & 0o777).toBe(0o700);
    expect(statSync(join(xdg, 'encrypted-stream')).mode & 0o777).toBe(0o700);
    const second = await run(['--help'], { env });
    expectOk(second);
    expect(second.stdout.toString()).toBe(first.stdout.toString());
    expect(second.stderr.toString()).toBe('');
    // Accepted by V8, so not written again.
    expect(files(cacheDirOf(xdg))).toEqual(cached);
    const without = await run(['--help'], { env: { ...env, ENCRYPTED_STREAM_COMPILE_CACHE: '0' } });
    expect(without.stdout.toString()).toBe(first.stdout.toString());
  });

  test('ENCRYPTED_STREAM_COMPILE_CACHE=0 writes nothing', async () => {
    const xdg = freshDir(dir.path, 'off');
    expectOk(await run(['--help'], { env: { XDG_CACHE_HOME: xdg, ENCRYPTED_STREAM_COMPILE_CACHE: '0' } }));
    expect(readdirSync(xdg)).toEqual([]);
  });

  test.each([0o755, 0o770, 0o707])(
    'a cache directory of mode %o (others may read or write it) is not used',
    async (mode) => {
      const xdg = freshDir(dir.path, `mode-${mode.toString(8)}`);
      mkdirSync(cacheDirOf(xdg), { recursive: true, mode: 0o700 });
      chmodSync(cacheDirOf(xdg), mode);
      expectOk(await run(['--help'], { env: { XDG_CACHE_HOME: xdg } }));
      expect(readdirSync(cacheDirOf(xdg))).toEqual([]);
    },
  );

  test('a parent directory others may write is not used either', async () => {
    const xdg = freshDir(dir.path, 'parent');
    mkdirSync(cacheDirOf(xdg), { recursive: true, mode: 0o700 });
    chmodSync(join(xdg, 'encrypted-stream'), 0o777);
    expectOk(await run(['--help'], { env: { XDG_CACHE_HOME: xdg } }));
    expect(readdirSync(cacheDirOf(xdg))).toEqual([]);
  });
});

describe('a planted cache file', () => {
  // A module, and a variant of the same length: V8 accepts a cache made for the
  // variant (it checks only the source's length), so a writable cache is code.
  const GOOD = "module.exports = 'good';\n";
  const EVIL = "module.exports = 'evil';\n";

  /** Requires `module` in a fresh Node with the compile cache installed over `root`; prints its export. */
  const load = (root: string, directory: string, module: string) =>
    execFileSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(COMPILE_CACHE)}).installCompileCache({ root: ${JSON.stringify(root)}, directory: ${JSON.stringify(directory)} });
         process.stdout.write(require(${JSON.stringify(module)}));`,
      ],
      { encoding: 'utf8' },
    );

  /** A module file under a fresh root, the cache directory (0700), and where its cache file goes. */
  function setUp(name: string) {
    const root = freshDir(dir.path, `${name}-root`);
    const directory = join(freshDir(dir.path, `${name}-cache`), 'v8');
    mkdirSync(directory, { mode: 0o700 });
    chmodSync(join(directory, '..'), 0o700);
    const module = join(root, 'm.js');
    writeFileSync(module, GOOD);
    // What an attacker would plant: V8's cache of the variant, under the real file's cache name.
    const script = new Script(Module.wrap(EVIL), { filename: module });
    script.runInThisContext();
    return { root, directory, module, poison: script.createCachedData(), target: cacheFile(directory, module, GOOD) };
  }

  test('readable or writable by others: ignored, the file compiles from its source', () => {
    const { root, directory, module, poison, target } = setUp('shared');
    writeFileSync(target, poison, { mode: 0o644 });
    chmodSync(target, 0o644);
    expect(load(root, directory, module)).toBe('good');
    chmodSync(target, 0o620);
    expect(load(root, directory, module)).toBe('good');
  });

  test('a symlink to a private file: ignored', () => {
    const { root, directory, module, poison, target } = setUp('link');
    const elsewhere = join(dir.path, 'link-target.v8');
    writeFileSync(elsewhere, poison, { mode: 0o600 });
    symlinkSync(elsewhere, target);
    expect(load(root, directory, module)).toBe('good');
  });

  test('private to the user (0600 in a 0700 directory): trusted — which is why only the user may write there', () => {
    const { root, directory, module, poison, target } = setUp('private');
    writeFileSync(target, poison, { mode: 0o600 });
    expect(load(root, directory, module)).toBe('evil');
  });

  test('files outside the root never go through the cache', () => {
    const { directory, module, poison, target } = setUp('outside');
    writeFileSync(target, poison, { mode: 0o600 });
    expect(load(freshDir(dir.path, 'other-root'), directory, module)).toBe('good');
  });
});
