/**
 * The bench's optional whole-process pass (BENCH_PROFILE_DIR with
 * BENCH_PERF=1): each bulk operation of ours and of its main peer (age for
 * local files, rclone crypt for S3) once under `perf record`, outputs
 * checked, CPU by category printed side by side. It shows what the V8
 * profile cannot: kernel copies, page faults, the threadpool, GC threads.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PeersConfig } from './config';
import type { CommandLine } from './measure-process';
import { formatPerf, perfAvailable, perfRecordArgs, summarizePerf } from './perf-summary';
import type { Runner } from './runner';
import type { Side } from './sides';
import { warmMemory } from './warm-memory';

/** What the perf pass works on. */
export interface PerfPassInputs {
  readonly runner: Runner;
  readonly config: PeersConfig;
  readonly workDir: string;
  /** Where the `perf.data` files go. */
  readonly profileDir: string;
  readonly local: { readonly file: string; readonly hash: string; readonly sides: readonly Side[] };
  readonly s3?: {
    readonly file: string;
    readonly hash: string;
    readonly sides: readonly Side[];
    /** Deletes what was uploaded. */
    readonly empty: () => Promise<void>;
  };
}

/** Runs `line` under `perf record` into `data`; false when it fails. */
function recordPerf(line: CommandLine, data: string): boolean {
  const out = line.stdoutFile === undefined ? 'ignore' : openSync(line.stdoutFile, 'w');
  try {
    const result = spawnSync('perf', [...perfRecordArgs(data), line.command, ...line.args], {
      env: line.env,
      stdio: ['ignore', out, 'inherit'],
    });
    return result.status === 0;
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
}

/** Runs the pass and prints it (Markdown) to stdout. */
export async function perfPass(inputs: PerfPassInputs): Promise<void> {
  const { runner, config, workDir, profileDir, local, s3 } = inputs;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out();
  out('## Whole-process CPU by category (perf record -e cpu-clock, every thread and the kernel; one run each)');
  if (!perfAvailable()) {
    out('perf is not installed (apt-get install linux-perf): skipped');
    return;
  }
  const show = (title: string, data: string, bytes: number) => {
    out();
    out(`### ${title}`);
    out('```');
    for (const line of formatPerf(summarizePerf(data), bytes)) out(line);
    out('```');
  };
  const step = async (title: string, line: CommandLine | undefined, bytes: number, check?: () => Promise<void>) => {
    if (!line) return;
    const data = join(profileDir, `${title.replace(/[^a-z0-9]+/gi, '-')}.perf.data`);
    if (config.warm) warmMemory(bytes + 64 * 1024 * 1024); // the same warm pages for every side, as in the rounds
    if (!recordPerf(line, data)) {
      runner.failures.push(`perf run of ${title} failed`);
      out(`\n### ${title}\n(failed)`);
      return;
    }
    await check?.();
    show(title, data, bytes);
  };
  for (const side of local.sides) {
    const cipher = join(workDir, `perf-cipher.${side.slug}`);
    const plain = join(workDir, `perf-plain.${side.slug}`);
    await step(`${side.name} encrypt`, side.encrypt?.(local.file, cipher), config.localBytes);
    await step(`${side.name} decrypt`, side.decrypt?.(cipher, plain), config.localBytes, () =>
      runner.verify(plain, local.hash, `${side.name} decrypt (perf)`),
    );
    rmSync(cipher, { force: true });
    rmSync(plain, { force: true });
  }
  if (!s3) return;
  try {
    for (const side of s3.sides) {
      const key = `perf-${side.slug}.bin`;
      const file = join(workDir, `perf-download.${side.slug}`);
      await step(`${side.name} put`, side.put?.(s3.file, key), config.s3Bytes);
      await step(`${side.name} get`, side.get?.(key, file), config.s3Bytes, () =>
        runner.verify(file, s3.hash, `${side.name} get (perf)`),
      );
      rmSync(file, { force: true });
    }
  } finally {
    await s3.empty();
  }
}
