/**
 * A V8 code cache for the CLI's own bundle files (dist/main.js and the
 * chunks): the first run of a version compiles them as usual and saves V8's
 * code cache; later runs hand it back to V8 and skip most of the parsing and
 * compiling, which is most of a short command's start-up (the S3 SDK chunk
 * alone is ~1 MB). Node 22 has this built in (`module.enableCompileCache`);
 * Node 20 does not.
 *
 * A code cache is code: V8 checks only its version, flags and the source's
 * length, so whoever can write a cache file chooses what runs. Hence the cache
 * lives in the user's own cache directory, and a directory or file that is not
 * the user's alone (owner, mode 0700/0600, no symlink) is never read or
 * written. File names hash the Node version and the exact source, so another
 * version of the CLI or of Node never meets an old cache. Any failure leaves
 * the normal compile path; nothing is printed.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import Module from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';

/** Options of {@link installCompileCache}. */
export interface CompileCacheOptions {
  /** Files under this directory are compiled through the cache (the CLI's dist/). */
  readonly root: string;
  /** Where cache files live (default: see {@link defaultCacheDirectory}). */
  readonly directory?: string;
}

/** What the cache did in this process (for tests and debugging). */
export interface CompileCacheStats {
  /** Files whose saved cache V8 accepted. */
  hits: number;
  /** Files compiled without a usable cache (none yet, refused, or rejected by V8). */
  misses: number;
}

type Compile = (this: Module, content: string, filename: string) => unknown;

const stats: CompileCacheStats = { hits: 0, misses: 0 };

/** This process's counts. */
export function compileCacheStats(): Readonly<CompileCacheStats> {
  return { ...stats };
}

/**
 * `$XDG_CACHE_HOME/encrypted-stream/v8-code-cache`, else
 * `~/.cache/encrypted-stream/v8-code-cache`; `undefined` (no cache) when
 * `ENCRYPTED_STREAM_COMPILE_CACHE=0` or the platform has no user ids.
 */
export function defaultCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ENCRYPTED_STREAM_COMPILE_CACHE === '0' || typeof process.getuid !== 'function') return undefined;
  const base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'encrypted-stream', 'v8-code-cache');
}

/** Whether `mode`/`uid` describe something only this user can write (and, for files, read). */
const private_ = (uid: number, mode: number) => uid === process.getuid?.() && (mode & 0o077) === 0;

/** Creates (0700) or checks the cache directory; `false` when it is not this user's alone. */
function privateDirectory(directory: string): boolean {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    // The directory and the one holding it: either, if others could write it, could be swapped.
    return [directory, dirname(directory)].every((d) => {
      const stat = lstatSync(d);
      return stat.isDirectory() && private_(stat.uid, stat.mode);
    });
  } catch {
    return false;
  }
}

/** The saved cache, if it is a regular file of this user's alone (not followed through a symlink). */
function readTrusted(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const stat = fstatSync(fd);
    return stat.isFile() && private_(stat.uid, stat.mode) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes `data` as `file` (0600) through a temporary file and a rename, so no reader sees half a cache. */
function writePrivate(file: string, data: Buffer): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch {
    rmSync(temp, { force: true }); // half a file is never renamed into place
  }
}

/**
 * Where the cache of `filename` with `content` is kept: a name that changes
 * with the source, its path, the Node version and the architecture.
 */
export function cacheFile(directory: string, filename: string, content: string): string {
  const name = createHash('sha256').update(`${process.version}\0${process.arch}\0${filename}\0${content}`);
  return join(directory, `${name.digest('hex').slice(0, 40)}.v8`);
}

/**
 * Compiles the CommonJS files under `options.root` through a code cache in a
 * private directory (see the module comment); other files compile as usual.
 * Call before the first of those files is required. Returns whether the cache
 * is in use.
 */
export function installCompileCache(options: CompileCacheOptions): boolean {
  const directory = options.directory ?? defaultCacheDirectory();
  if (!directory || !privateDirectory(directory)) return false;
  const root = options.root.endsWith(sep) ? options.root : `${options.root}${sep}`;
  const prototype = Module.prototype as unknown as { _compile: Compile };
  const compile = prototype._compile;
  const pending: { file: string; script: Script }[] = [];
  prototype._compile = function compileCached(this: Module, content: string, filename: string) {
    if (!filename.startsWith(root)) return compile.call(this, content, filename);
    const file = cacheFile(directory, filename, content);
    const cachedData = readTrusted(file);
    const script = new Script(Module.wrap(content), {
      filename,
      ...(cachedData ? { cachedData } : {}),
      // import() inside the file resolves as it would without the cache (Node ≥ 20.12).
      ...(vmConstants?.USE_MAIN_CONTEXT_DEFAULT_LOADER
        ? { importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER as never }
        : {}),
    });
    if (cachedData && !script.cachedDataRejected) stats.hits++;
    else {
      stats.misses++;
      // Saved at exit, so the functions compiled while the command ran are in it too.
      if (pending.push({ file, script }) === 1) process.once('exit', () => savePending(pending));
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    const require = Module.createRequire(filename);
    return wrapper.call(this.exports, this.exports, require, this, filename, dirname(filename));
  };
  return true;
}

function savePending(pending: readonly { file: string; script: Script }[]): void {
  for (const { file, script } of pending) {
    try {
      writePrivate(file, script.createCachedData());
    } catch {
      // a cache is optional
    }
  }
}
