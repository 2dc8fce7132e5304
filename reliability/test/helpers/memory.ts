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

/**
 * RSS in MiB once memory settled: a full GC, a pause for V8's concurrent
 * sweeping and freeing of pages (read at once, RSS still counts pages the GC
 * has just emptied), and another full GC.
 */
export async function settledRssMiB(): Promise<number> {
  forceGc();
  await new Promise((resolve) => setTimeout(resolve, 500));
  forceGc();
  return process.memoryUsage().rss / 2 ** 20;
}
