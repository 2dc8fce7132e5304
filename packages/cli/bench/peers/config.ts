/**
 * Settings of the peers bench, all from the environment so that a run is
 * reproduced by its command line alone.
 */

const MiB = 1024 * 1024;

/** What one run of the peers bench does. */
export interface PeersConfig {
  /** Bytes of the local file that `encrypt`/`decrypt` and age work on. */
  readonly localBytes: number;
  /** Bytes of the file uploaded and downloaded through S3. */
  readonly s3Bytes: number;
  /** Rounds; every side runs once per round, in an order that alternates between rounds. */
  readonly rounds: number;
  /** Ranged reads per side per round (they are short, so a few give a steadier median). */
  readonly rangeReps: number;
  /** Start-up runs (`--help`, `head`) per side per round. */
  readonly startupReps: number;
  /** Bytes of the ranged read, taken from the middle of the S3 object. */
  readonly rangeBytes: number;
  /** Multipart part size for every uploader (ours, rclone, lib-storage), so they do the same requests. */
  readonly partBytes: number;
  /** Parts in flight for every uploader. */
  readonly concurrency: number;
  /** Work directory (kept when given), else a fresh temp directory removed at the end. */
  readonly dir: string | undefined;
  /** Where to write `--cpu-prof` profiles of our commands (one extra, untimed run each); off when undefined. */
  readonly profileDir: string | undefined;
  /** Whether this is the quick smoke run (small sizes, one round). */
  readonly quick: boolean;
  /** Skip the S3 part (local files and start-up only). */
  readonly skipS3: boolean;
  /** Also run our commands and the main peers under Linux `perf` (whole-process CPU by category). */
  readonly perf: boolean;
  /** Warm the memory a bulk run needs just before it starts (see `warm-memory.ts`); BENCH_WARM=0 turns it off. */
  readonly warm: boolean;
}

function positiveNumber(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${text}"`);
  return value;
}

function flag(name: string): boolean {
  return /^(1|true|yes|on)$/i.test(process.env[name] ?? '');
}

/**
 * Reads the bench settings:
 *
 * - `BENCH_QUICK=1`: smoke run, 64 MiB local, 32 MiB S3, one round, one repetition of the short runs;
 * - `BENCH_LOCAL_MB` (1024), `BENCH_S3_MB` (512), `BENCH_ROUNDS` (3), `BENCH_RANGE_REPS` (3),
 *   `BENCH_STARTUP_REPS` (5), `BENCH_RANGE_KB` (1024), `BENCH_PART_MB` (8), `BENCH_CONCURRENCY` (4);
 * - `BENCH_DIR` (kept), `BENCH_PROFILE_DIR` (profiles of our commands), `BENCH_PERF=1` (with
 *   BENCH_PROFILE_DIR: ours and the peers under `perf record` too), `BENCH_SKIP_S3=1`,
 *   `BENCH_WARM=0` (no memory warm-up before bulk runs).
 *
 * Sizes are MiB (2^20 bytes); explicit sizes win over the quick mode's.
 */
export function readConfig(): PeersConfig {
  const quick = flag('BENCH_QUICK');
  return {
    localBytes: Math.round(positiveNumber('BENCH_LOCAL_MB', quick ? 64 : 1024) * MiB),
    s3Bytes: Math.round(positiveNumber('BENCH_S3_MB', quick ? 32 : 512) * MiB),
    rounds: Math.floor(positiveNumber('BENCH_ROUNDS', quick ? 1 : 3)),
    rangeReps: Math.floor(positiveNumber('BENCH_RANGE_REPS', quick ? 1 : 3)),
    startupReps: Math.floor(positiveNumber('BENCH_STARTUP_REPS', quick ? 2 : 5)),
    rangeBytes: Math.round(positiveNumber('BENCH_RANGE_KB', 1024) * 1024),
    partBytes: Math.round(positiveNumber('BENCH_PART_MB', 8) * MiB),
    concurrency: Math.floor(positiveNumber('BENCH_CONCURRENCY', 4)),
    dir: process.env.BENCH_DIR || undefined,
    profileDir: process.env.BENCH_PROFILE_DIR || undefined,
    quick,
    skipS3: flag('BENCH_SKIP_S3'),
    perf: flag('BENCH_PERF'),
    warm: !/^(0|false|no|off)$/i.test(process.env.BENCH_WARM ?? ''),
  };
}

/**
 * Where the ranged read of `count` bytes starts in an object of `size`
 * bytes: the middle, off any chunk boundary (an aligned range is a special
 * case, one chunk more at the end), clamped into the object.
 */
export function rangeStart(size: number, count: number): number {
  return Math.max(0, Math.min(size - count, Math.floor(size / 2) - Math.floor(count / 2) + 4099));
}
