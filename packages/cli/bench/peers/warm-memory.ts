/**
 * Evens out a VM artefact before each bulk run. This project's machines are
 * VMs whose balloon driver reports freed guest memory to the host a few
 * seconds after it is freed; the next process to touch that memory pays the
 * host's page faults as its own system time. Measured with plain `dd` of
 * 1 GiB: 0.5–0.8 s sys right after an earlier file was deleted, 1.9–2.1 s
 * (and 8 s wall) after a 10 s pause. Without this, whichever side writes
 * first after a pause (hashing, a slow round) pays seconds more. Touching
 * and freeing the memory a run will need just before it starts hands every
 * side the same warm pages. It helps the first seconds of a run (encrypt's
 * kernel copies: 0.38 s/GiB warm against 0.67–0.82 cold); a run that keeps
 * taking fresh memory for longer (decrypt writing 1 GiB over 3–5 s) still
 * meets reported pages: compare user CPU for such rows.
 */
import { spawnSync } from 'node:child_process';

/** Touches `bytes` of fresh memory in a short-lived process, then frees it (the process exits). */
export function warmMemory(bytes: number): void {
  if (bytes <= 0) return;
  // allocUnsafe + fill: Buffer.alloc would take zero pages from calloc/mmap without touching them.
  spawnSync(process.execPath, ['-e', 'Buffer.allocUnsafe(Number(process.argv[1])).fill(1)', String(bytes)], {
    stdio: 'ignore',
  });
}
