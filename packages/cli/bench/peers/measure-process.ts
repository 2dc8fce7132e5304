/**
 * One whole process, measured from outside as a user would see it: wall
 * clock (our monotonic clock around the spawn; GNU time's `%e` has only
 * 10 ms resolution, too coarse for start-up), user and system CPU seconds and
 * peak RSS (GNU time's `%U %S %M`, from the kernel's rusage of the child).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { GNU_TIME } from './install-tools';

/** A command line with its environment; `stdoutFile` receives its stdout (`rclone cat`). */
export interface CommandLine {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly stdoutFile?: string;
}

/** What one process cost. */
export interface ProcessSample {
  /** Wall-clock seconds from spawn to exit. */
  readonly wall: number;
  /** User + system CPU seconds of the process and the children it waited for. */
  readonly cpu: number;
  readonly user: number;
  readonly sys: number;
  /** Peak resident set size, MiB (the largest single process: GNU time reports the max over waited children). */
  readonly peakRssMiB: number;
}

/**
 * Runs `line` under GNU time and resolves to what it cost; rejects with the
 * tail of its stderr when it exits non-zero. `statsFile` is scratch space for
 * GNU time's report (kept apart from the command's own stderr).
 */
export function measureProcess(line: CommandLine, statsFile: string): Promise<ProcessSample> {
  return new Promise((resolve, reject) => {
    rmSync(statsFile, { force: true });
    const out = line.stdoutFile === undefined ? 'ignore' : openSync(line.stdoutFile, 'w');
    const closeOut = () => {
      if (typeof out === 'number') closeSync(out);
    };
    const t0 = performance.now();
    const child = spawn(GNU_TIME, ['-f', '%U %S %M', '-o', statsFile, '--', line.command, ...line.args], {
      env: line.env,
      stdio: ['ignore', out, 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (piece: Buffer) => {
      stderr = (stderr + piece.toString()).slice(-4000); // only the tail matters for a failure message
    });
    child.on('error', (error) => {
      closeOut();
      reject(error);
    });
    child.on('close', (code, signal) => {
      const wall = (performance.now() - t0) / 1000;
      closeOut();
      if (code !== 0) {
        const name = `${line.command.split('/').pop()} ${line.args.slice(0, 3).join(' ')}`;
        reject(new Error(`${name} … exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      // GNU time prefixes "Command exited with non-zero status" lines on failure: the figures are the last line.
      const last = readFileSync(statsFile, 'utf8').trim().split('\n').pop() ?? '';
      const [user, sys, rssKiB] = last.split(/\s+/).map(Number);
      if (![user, sys, rssKiB].every((n) => Number.isFinite(n))) {
        reject(new Error(`unreadable GNU time report: "${last}"`));
        return;
      }
      resolve({
        wall,
        user: user as number,
        sys: sys as number,
        cpu: (user as number) + (sys as number),
        peakRssMiB: (rssKiB as number) / 1024,
      });
    });
  });
}
