import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let cachedGc: (() => void) | undefined;

/**
 * A full garbage collection: `global.gc` when node runs with --expose-gc,
 * otherwise V8's gc exposed at run time (setFlagsFromString + a fresh context).
 */
export function forceGc(): void {
  if (!cachedGc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') cachedGc = exposed;
    else {
      setFlagsFromString('--expose-gc');
      cachedGc = runInNewContext('gc') as () => void;
    }
  }
  cachedGc();
  cachedGc();
}

/** RSS in MiB after a full GC. */
export function settledRssMiB(): number {
  forceGc();
  return process.memoryUsage().rss / 2 ** 20;
}
