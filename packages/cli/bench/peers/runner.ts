/**
 * The bench's record of one run: every measured process by operation and
 * side, every output check, every failure. A failed process or a wrong
 * output is noted and the run goes on (so the table still shows the rest),
 * and the bench exits 1 at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { sha256File } from './files';
import { type CommandLine, measureProcess, type ProcessSample } from './measure-process';
import { type Summary, summarize } from './stats';
import type { Operation } from './targets';
import { warmMemory } from './warm-memory';

/** Runs processes and checks outputs, keeping what they cost and what failed. */
export class Runner {
  readonly #samples = new Map<string, ProcessSample[]>();
  readonly #statsFile: string;
  readonly #log: (message: string) => void;
  readonly #warmBytes: (operation: Operation) => number;
  /** Failed runs and mismatched outputs, one line each. */
  readonly failures: string[] = [];
  /** Outputs compared with their input so far. */
  checkedOutputs = 0;

  /**
   * `statsFile`: scratch file for GNU time's report; `warmBytes`: memory to
   * warm before a run of each operation (0: none).
   */
  constructor(
    statsFile: string,
    log: (message: string) => void,
    warmBytes: (operation: Operation) => number = () => 0,
  ) {
    this.#statsFile = statsFile;
    this.#log = log;
    this.#warmBytes = warmBytes;
  }

  /**
   * Runs `line` as `side`'s `operation` and records what it cost; undefined
   * (and a failure noted) when it fails, or when the side has no such command.
   */
  async run(operation: Operation, side: string, line: CommandLine | undefined): Promise<ProcessSample | undefined> {
    if (!line) return undefined;
    // Earlier runs' dirty pages are written back now, not inside the next side's time.
    spawnSync('sync');
    warmMemory(this.#warmBytes(operation));
    const label = `    ${operation.padEnd(8)} ${side.padEnd(18)}`;
    try {
      const sample = await measureProcess(line, this.#statsFile);
      const key = `${operation}|${side}`;
      this.#samples.set(key, [...(this.#samples.get(key) ?? []), sample]);
      this.#log(
        `${label} ${sample.wall.toFixed(3).padStart(7)} s  CPU ${sample.cpu.toFixed(2).padStart(5)} s  RSS ${sample.peakRssMiB.toFixed(0).padStart(4)} MiB`,
      );
      return sample;
    } catch (error) {
      this.failures.push(`${side} ${operation}: ${(error as Error).message}`);
      this.#log(`${label} FAILED: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Compares the file at `path` with the expected SHA-256, then removes it. */
  async verify(path: string, expected: string, what: string): Promise<void> {
    const ok = existsSync(path) && (await sha256File(path)) === expected;
    this.checkedOutputs++;
    if (!ok) {
      this.failures.push(`${what}: output differs from the input (sha256)`);
      this.#log(`    ${what}: OUTPUT MISMATCH`);
    }
    rmSync(path, { force: true });
  }

  /** The summary of `side`'s runs of `operation`, if it ran. */
  lookup = (operation: Operation, side: string): Summary | undefined => {
    const list = this.#samples.get(`${operation}|${side}`);
    return list && list.length > 0 ? summarize(list) : undefined;
  };
}
