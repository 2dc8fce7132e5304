/**
 * The bench's optional profiling pass (BENCH_PROFILE_DIR): one more run of
 * each of our commands under `node --cpu-prof`, kept out of the table, each
 * printed with its process CPU next to the main thread's sampled time and the
 * summary by category; then which modules `--help` and `head` load, timed by
 * the require-timer preload.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Settings } from '@encrypted-stream/test-support';
import { type PeersConfig, rangeStart } from './config';
import type { CommandLine } from './measure-process';
import { formatSummary, summarizePaths } from './profile-summary';
import type { Runner } from './runner';
import { oursSide } from './sides';
import { formatStartup, REQUIRE_TIMER } from './startup-modules';
import type { Operation } from './targets';

/** What the profiling pass works on. */
export interface ProfilePassInputs {
  readonly runner: Runner;
  readonly config: PeersConfig;
  /** Scratch directory for outputs. */
  readonly workDir: string;
  /** Where the `.cpuprofile` files and module timings go (one folder per command). */
  readonly profileDir: string;
  readonly keyring: string;
  readonly local: { readonly file: string; readonly hash: string };
  readonly s3?: {
    readonly settings: S3Settings;
    readonly bucket: string;
    readonly file: string;
    readonly hash: string;
    /** Deletes what was uploaded. */
    readonly empty: () => Promise<void>;
  };
}

const MiB = 1024 * 1024;

/** Runs the pass and prints it (Markdown) to stdout. */
export async function profilePass(inputs: ProfilePassInputs): Promise<void> {
  const { runner, config, workDir, profileDir, keyring, local, s3 } = inputs;
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out();
  out(`## Profiles of our commands (node --cpu-prof, one run each; files in ${profileDir})`);
  out();
  out('Sampled times are the main thread wall clock in each state: on busy cores they include time the');
  out('thread waited for a core, so read the shares; the process CPU line is the absolute figure.');
  const ours = (flags: string[]) =>
    oursSide({
      keyring,
      ...(s3 ? { s3: { settings: s3.settings, bucket: s3.bucket, stateDir: join(workDir, 'state') } } : {}),
      partBytes: config.partBytes,
      concurrency: config.concurrency,
      nodeFlags: flags,
    });
  const profiled = (op: string) => ours(['--cpu-prof', `--cpu-prof-dir=${join(profileDir, op)}`]);
  const cipher = join(workDir, 'profile.es');
  const plain = join(workDir, 'profile.out');
  const count = Math.min(config.rangeBytes, config.s3Bytes);
  const start = rangeStart(config.s3Bytes, count);
  const key = 'profile.bin';
  const steps: { op: Operation; line: CommandLine | undefined; bytes: number; check?: () => Promise<void> }[] = [
    { op: 'help', line: profiled('help').noop?.(), bytes: 0 },
    { op: 'encrypt', line: profiled('encrypt').encrypt?.(local.file, cipher), bytes: config.localBytes },
    {
      op: 'decrypt',
      line: profiled('decrypt').decrypt?.(cipher, plain),
      bytes: config.localBytes,
      check: () => runner.verify(plain, local.hash, 'profiled decrypt'),
    },
  ];
  if (s3) {
    steps.push(
      { op: 'put', line: profiled('put').put?.(s3.file, key), bytes: config.s3Bytes },
      { op: 'head', line: profiled('head').head?.(key), bytes: 0 },
      {
        op: 'get',
        line: profiled('get').get?.(key, plain),
        bytes: config.s3Bytes,
        check: () => runner.verify(plain, s3.hash, 'profiled get'),
      },
      { op: 'range', line: profiled('range').range?.(key, start, count, plain), bytes: count },
    );
  }
  try {
    for (const step of steps) {
      rmSync(join(profileDir, step.op), { recursive: true, force: true });
      const sample = await runner.run(step.op, 'encrypted-stream (profiled)', step.line);
      if (!sample) continue;
      await step.check?.();
      const summary = summarizePaths([join(profileDir, step.op)]);
      out();
      out(`### ${step.op}${step.bytes ? ` (${(step.bytes / MiB).toFixed(0)} MiB)` : ''}`);
      out(
        `process: wall ${sample.wall.toFixed(3)} s, CPU ${sample.cpu.toFixed(2)} s (user ${sample.user.toFixed(2)}, sys ${sample.sys.toFixed(2)}), ` +
          `peak RSS ${sample.peakRssMiB.toFixed(0)} MiB`,
      );
      out('```');
      for (const line of formatSummary(summary, { ...(step.bytes ? { bytes: step.bytes } : {}), top: 15 })) out(line);
      out('```');
    }
    // Module loading on the start-up paths: --help, and head of the object the profiled put left.
    const plainRun = ours([]);
    const startup = [
      { name: '--help', line: plainRun.noop?.() },
      { name: 'head', line: s3 ? plainRun.head?.(key) : undefined },
    ];
    for (const { name, line } of startup) {
      if (!line) continue;
      const file = join(profileDir, `require-times-${name.replace(/^-*/, '')}.json`);
      const run = spawnSync(line.command, ['-r', REQUIRE_TIMER, ...line.args], {
        env: { ...line.env, ES_REQUIRE_TIMES: file },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      out();
      out(`### modules loaded by \`${name}\` (require-timer preload)`);
      if (run.status !== 0 || !existsSync(file)) {
        out(`(failed: exit ${run.status ?? run.signal})`);
        continue;
      }
      out('```');
      for (const l of formatStartup(file, 15)) out(l);
      out('```');
    }
  } finally {
    rmSync(cipher, { force: true });
    rmSync(plain, { force: true });
    await s3?.empty();
  }
}
