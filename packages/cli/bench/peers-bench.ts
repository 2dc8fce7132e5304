/**
 * Peers bench (issue 13): our built CLI against the tools a user would pick
 * instead, whole processes, on the same files, in one run:
 *
 *   - local file → file, 1 GiB: `encrypted-stream encrypt` / `decrypt` vs `age`;
 *   - S3, 512 MiB: `put` / `get` vs rclone with a crypt remote over the same
 *     server, plain rclone, and the plain AWS SDK (lib-storage `Upload`,
 *     `GetObject`); a 1 MiB ranged read from the middle (`get --range` vs
 *     `rclone cat --offset --count` vs a ranged `GetObject`);
 *   - start-up: `encrypted-stream --help` (vs bare `node -e 0`) and `head`
 *     (vs `rclone lsjson --stat`, SDK `HeadObject`).
 *
 * Each round runs every side once, the order alternating between rounds
 * (reversed, or rotated for the four S3 sides) so that a slow phase of the
 * shared machine does not always hit the same side. Every output is checked
 * by SHA-256 against the input (a slice for ranged reads). Per process: wall
 * time, user+sys CPU and peak RSS (GNU time). Medians are printed, with the
 * spread between rounds, then the issue's targets with met/missed.
 *
 *   pnpm --filter @encrypted-stream/cli run build
 *   bash scripts/s3-server.sh down; bash scripts/s3-server.sh up   # advised: an empty, fresh store
 *   cd packages/cli && node --conditions=@encrypted-stream/source -r ts-node/register/transpile-only bench/peers-bench.ts
 *
 * Settings (environment): see `peers/config.ts`; BENCH_QUICK=1 is a smoke
 * run. BENCH_PROFILE_DIR=DIR adds one untimed run of each of our commands
 * under `node --cpu-prof` and prints where the CPU went, and which modules
 * start-up loads; with BENCH_PERF=1 also ours, age and rclone crypt under
 * `perf record` (whole process, kernel included). `age`, `rclone` and GNU `time` are installed with apt-get
 * when missing (as root). The S3 server comes from `findS3Settings`
 * (S3_ENDPOINT & co, else `scripts/s3-server.sh env`); every object the
 * bench uploads is deleted after each side, as RGW's memstore fills up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  abortAllUploads,
  assertReachable,
  createBucket,
  deleteAllObjects,
  destroyBucket,
  findS3Settings,
  plainClient,
  type S3Settings,
} from '@encrypted-stream/test-support';
import { type PeersConfig, rangeStart, readConfig } from './peers/config';
import { sha256File, writeRandomFile } from './peers/files';
import { ensureTools, versionOf } from './peers/install-tools';
import { perfPass } from './peers/perf-pass';
import { profilePass } from './peers/profile-pass';
import { rcloneRemotes } from './peers/rclone-remotes';
import { type ComparisonRow, printReport } from './peers/report';
import { Runner } from './peers/runner';
import { ageSide, CLI_BIN, nodeFloorSide, oursSide, rcloneSide, type Side, sdkSide } from './peers/sides';

const MiB = 1024 * 1024;

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

/** The round's order of `sides`: rotated by the round, so each side goes first in turn. */
function rotated<T>(sides: readonly T[], round: number): T[] {
  const k = round % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

/** A file and the SHA-256 its outputs must match. */
interface Input {
  readonly file: string;
  readonly hash: string;
}

/** The S3 half of a run. */
interface S3Run {
  readonly settings: S3Settings;
  readonly client: ReturnType<typeof plainClient>;
  readonly bucket: string;
  readonly sides: readonly Side[];
  readonly input: Input;
  /** SHA-256 of the bytes the ranged read returns. */
  readonly sliceHash: string;
}

/** Deletes everything the bench put in the bucket (and open uploads): RGW's memstore is RAM. */
async function emptyBucket(s3: S3Run) {
  await abortAllUploads(s3.client, s3.bucket);
  await deleteAllObjects(s3.client, s3.bucket);
}

/** `--help` of ours and the bare-node floor, alternating within and between rounds. */
async function startupRound(runner: Runner, config: PeersConfig, sides: readonly Side[], round: number) {
  for (let i = 0; i < config.startupReps; i++) {
    for (const side of rotated(sides, round + i)) await runner.run('help', side.name, side.noop?.());
  }
}

/** Each local side encrypts the input, decrypts its own ciphertext; the result is checked. */
async function localRound(runner: Runner, dir: string, sides: readonly Side[], input: Input, round: number) {
  for (const side of rotated(sides, round)) {
    const cipher = join(dir, `cipher.${side.slug}`);
    const plain = join(dir, `plain.${side.slug}`);
    if (await runner.run('encrypt', side.name, side.encrypt?.(input.file, cipher))) {
      if (await runner.run('decrypt', side.name, side.decrypt?.(cipher, plain))) {
        await runner.verify(plain, input.hash, `${side.name} decrypt`);
      }
    }
    rmSync(cipher, { force: true });
    rmSync(plain, { force: true });
  }
}

/** Each S3 side: put, head, get (checked), ranged gets (checked); then its objects are deleted. */
async function s3Round(runner: Runner, config: PeersConfig, dir: string, s3: S3Run, round: number) {
  const count = Math.min(config.rangeBytes, config.s3Bytes);
  const start = rangeStart(config.s3Bytes, count);
  for (const side of rotated(s3.sides, round)) {
    const key = `${side.slug}-${round}.bin`;
    const file = join(dir, `download.${side.slug}`);
    try {
      if (!(await runner.run('put', side.name, side.put?.(s3.input.file, key)))) continue;
      for (let i = 0; i < config.startupReps; i++) await runner.run('head', side.name, side.head?.(key));
      if (await runner.run('get', side.name, side.get?.(key, file))) {
        await runner.verify(file, s3.input.hash, `${side.name} get`);
      }
      for (let i = 0; i < config.rangeReps; i++) {
        if (await runner.run('range', side.name, side.range?.(key, start, count, file))) {
          await runner.verify(file, s3.sliceHash, `${side.name} ranged get`);
        }
      }
    } finally {
      rmSync(file, { force: true });
      await emptyBucket(s3).catch((error) => log(`    emptying ${s3.bucket} failed: ${error}`));
    }
  }
}

/** The table's rows: each of our operations against each peer that has it. */
function comparisonRows(config: PeersConfig, withS3: boolean): ComparisonRow[] {
  const localMiB = (config.localBytes / MiB).toFixed(0);
  const s3MiB = (config.s3Bytes / MiB).toFixed(0);
  const count = Math.min(config.rangeBytes, config.s3Bytes);
  const rows: ComparisonRow[] = [
    { operation: 'encrypt', label: `encrypt ${localMiB} MiB file → file`, peer: 'age', bytes: config.localBytes },
    { operation: 'decrypt', label: `decrypt ${localMiB} MiB file → file`, peer: 'age', bytes: config.localBytes },
  ];
  const peers = ['rclone crypt', 'rclone (plain)', 'AWS SDK (plain)'];
  if (withS3) {
    for (const operation of ['put', 'get'] as const) {
      for (const peer of peers) {
        rows.push({ operation, label: `\`${operation}\` ${s3MiB} MiB`, peer, bytes: config.s3Bytes });
      }
    }
    for (const peer of peers) {
      rows.push({ operation: 'range', label: `\`get --range\` ${count / 1024} KiB, middle`, peer, bytes: count });
    }
    for (const peer of peers) rows.push({ operation: 'head', label: '`head`', peer, bytes: 0 });
  }
  rows.push({ operation: 'help', label: 'start-up: `--help`', peer: 'node -e 0 (floor)', bytes: 0 });
  return rows;
}

function gitDescribe(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return '?';
  }
}

/** The lines above the table: what ran, on what, under which load. */
function preamble(config: PeersConfig, runner: Runner, loadAtStart: number[], s3: S3Run | undefined): string[] {
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  return [
    `## Peers bench, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (commit ${gitDescribe()})`,
    '',
    `${config.quick ? 'QUICK SMOKE RUN. ' : ''}Whole processes, medians of ${config.rounds} round(s) ` +
      `(ranged reads ×${config.rangeReps}, start-up and head ×${config.startupReps} per round), order alternating ` +
      `between rounds; every output checked by SHA-256 (${runner.checkedOutputs} outputs).`,
    `Local file ${(config.localBytes / MiB).toFixed(0)} MiB, S3 object ${(config.s3Bytes / MiB).toFixed(0)} MiB, ` +
      `${(config.partBytes / MiB).toFixed(0)} MiB parts × ${config.concurrency} in flight for every uploader; MiB = 2^20 bytes.`,
    'CPU = user + sys (GNU time), median; peak RSS = max over rounds; spread = (max − min) / median of the wall times.',
    `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load average ${load(loadAtStart)} at the start, ` +
      `${load(loadavg())} at the end. Node ${process.version}, age ${versionOf('age', ['--version'])}, ` +
      `${versionOf('rclone', ['version'])}${s3 ? `, S3 ${s3.settings.endpoint}` : ''}.`,
    'Ours fsyncs its output before the rename; age and rclone do not.',
    config.warm
      ? 'Before each bulk run the memory it needs was touched and freed (VM balloon artefact, see peers/warm-memory.ts).'
      : 'No memory warm-up (BENCH_WARM=0): the VM balloon artefact adds up to ~1.5 s of sys time per GiB written at random.',
  ];
}

/** Creates the bucket and the four S3 sides; undefined without a server (or with BENCH_SKIP_S3). */
async function setUpS3(config: PeersConfig, dir: string, ours: (s3: OursS3) => Side): Promise<S3Run | undefined> {
  const settings = config.skipS3 ? undefined : findS3Settings();
  if (!settings) {
    log(
      config.skipS3 ? 'BENCH_SKIP_S3: S3 rows skipped' : 'no S3 server (bash scripts/s3-server.sh up): S3 rows skipped',
    );
    return undefined;
  }
  await assertReachable(settings);
  const file = join(dir, 's3-source.bin');
  writeRandomFile(file, config.s3Bytes);
  const count = Math.min(config.rangeBytes, config.s3Bytes);
  const start = rangeStart(config.s3Bytes, count);
  const client = plainClient();
  const bucket = await createBucket(client, 'peers-bench');
  const remotes = rcloneRemotes(settings, bucket, join(dir, 'rclone.conf'), config.partBytes, config.concurrency);
  log(`S3 at ${settings.endpoint}, bucket ${bucket}; a freshly restarted server gives steadier figures`);
  return {
    settings,
    client,
    bucket,
    input: { file, hash: await sha256File(file) },
    sliceHash: await sha256File(file, start, start + count),
    sides: [
      ours({ settings, bucket, stateDir: join(dir, 'state') }),
      rcloneSide(remotes, true),
      rcloneSide(remotes, false),
      sdkSide(settings, bucket, config.partBytes, config.concurrency),
    ],
  };
}

/** Our side's S3 settings. */
type OursS3 = { settings: S3Settings; bucket: string; stateDir: string };

async function main() {
  const config = readConfig();
  ensureTools(log);
  if (!existsSync(resolve(CLI_BIN, '../../dist/main.js'))) {
    throw new Error('packages/cli/dist is missing: pnpm --filter @encrypted-stream/cli run build');
  }
  const loadAtStart = loadavg();
  const dir = config.dir ?? mkdtempSync(join(tmpdir(), 'es-peers-bench-'));
  mkdirSync(dir, { recursive: true });
  // The page cache an output needs, or the buffers of an upload, plus slack; start-up runs need no warming.
  const warmBytes = (operation: string) =>
    !config.warm
      ? 0
      : operation === 'encrypt' || operation === 'decrypt'
        ? config.localBytes + 64 * MiB
        : operation === 'get'
          ? config.s3Bytes + 64 * MiB
          : operation === 'put'
            ? 256 * MiB
            : 0;
  const runner = new Runner(join(dir, 'time.txt'), log, warmBytes);
  let s3: S3Run | undefined;
  try {
    log(`work directory ${dir}; generating inputs …`);
    const localFile = join(dir, 'local-source.bin');
    writeRandomFile(localFile, config.localBytes);
    const local: Input = { file: localFile, hash: await sha256File(localFile) };
    const keyring = join(dir, 'keyring.json');
    rmSync(keyring, { force: true });
    execFileSync(process.execPath, [CLI_BIN, 'keygen', '--keyring', keyring, '-q'], { stdio: 'inherit' });
    const identity = join(dir, 'age-identity.txt');
    rmSync(identity, { force: true });
    execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    const recipient = execFileSync('age-keygen', ['-y', identity], { encoding: 'utf8' }).trim();

    const ours = (s3Settings?: OursS3) =>
      oursSide({
        keyring,
        ...(s3Settings ? { s3: s3Settings } : {}),
        partBytes: config.partBytes,
        concurrency: config.concurrency,
      });
    s3 = await setUpS3(config, dir, ours);
    const oursSideForAll = s3 ? (s3.sides[0] as Side) : ours();
    const localSides = [oursSideForAll, ageSide(identity, recipient)];
    const startupSides = [oursSideForAll, nodeFloorSide()];

    for (let round = 0; round < config.rounds; round++) {
      log(`round ${round + 1} of ${config.rounds}:`);
      await startupRound(runner, config, startupSides, round);
      await localRound(runner, dir, localSides, local, round);
      if (s3) await s3Round(runner, config, dir, s3, round);
    }

    printReport(preamble(config, runner, loadAtStart, s3), comparisonRows(config, s3 !== undefined), runner.lookup);
    if (config.profileDir) {
      const run = s3;
      mkdirSync(config.profileDir, { recursive: true });
      await profilePass({
        runner,
        config,
        workDir: dir,
        profileDir: resolve(config.profileDir),
        keyring,
        local,
        ...(run
          ? {
              s3: {
                settings: run.settings,
                bucket: run.bucket,
                file: run.input.file,
                hash: run.input.hash,
                empty: () => emptyBucket(run),
              },
            }
          : {}),
      });
      if (config.perf) {
        await perfPass({
          runner,
          config,
          workDir: dir,
          profileDir: resolve(config.profileDir),
          local: { ...local, sides: localSides },
          ...(run
            ? {
                s3: {
                  ...run.input,
                  // ours and rclone crypt: the comparison the issue's targets are about
                  sides: run.sides.slice(0, 2),
                  empty: () => emptyBucket(run),
                },
              }
            : {}),
        });
      }
    }
    if (runner.failures.length > 0) {
      process.stdout.write(
        `\nFAILURES (${runner.failures.length}):\n${runner.failures.map((f) => `  - ${f}`).join('\n')}\n`,
      );
      if (s3 && runner.failures.some((f) => /put|get/.test(f))) {
        process.stdout.write(
          '  (an S3 failure may be a full memstore: bash scripts/s3-server.sh down && bash scripts/s3-server.sh up)\n',
        );
      }
      process.exitCode = 1;
    }
  } finally {
    if (s3) {
      const { client, bucket } = s3;
      await destroyBucket(client, bucket).catch((error) => log(`cleanup of ${bucket} failed: ${error}`));
      client.destroy();
    }
    if (config.dir) {
      for (const f of ['local-source.bin', 's3-source.bin']) rmSync(join(dir, f), { force: true });
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main().catch((error) => {
  console.error(`peers-bench: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
