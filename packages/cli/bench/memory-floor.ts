/**
 * Where the CLI's peak memory comes from, measured: the RSS a Node process
 * has before it moves a byte (Node alone, with the CLI's bundle, with
 * libsodium, with the S3 client), and, for a local `encrypt`, how much of the
 * peak is buffers already dropped but not yet collected (process.memoryUsage
 * sampled every 2 ms in the process: node:crypto returns a fresh buffer per
 * chunk, and V8 frees those only on its external-memory trigger).
 *
 *   pnpm --filter @encrypted-stream/cli bench:memory      (BENCH_MB: file size, default 256)
 *
 * With an S3 server configured (`eval "$(bash scripts/s3-server.sh env)"`),
 * also `put` of the same file at 8 MiB parts × 1, 4 and 8 in flight: the
 * figures `put --help` quotes.
 *
 * Peak RSS is the kernel's (GNU time's %M), median of 3 runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBucket, destroyBucket, findS3Settings, plainClient } from '@encrypted-stream/test-support';
import { writeRandomFile } from './peers/files';
import { GNU_TIME } from './peers/install-tools';
import { awsEnv } from './peers/sides';

const DIST = resolve(__dirname, '../dist');
const BIN = resolve(__dirname, '../bin/encrypted-stream.js');
const MiB = 1024 * 1024;

/** Peak RSS in MiB of `node args…`, median of 3 runs. */
function peakMiB(args: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const peaks = [0, 1, 2].map(() => {
    // GNU time reports on stderr, after whatever the command wrote there.
    const run = spawnSync(GNU_TIME, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', env });
    if (run.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${run.stderr}`);
    return Number(run.stderr.trim().split('\n').pop());
  });
  return ([...peaks].sort((a, b) => a - b)[1] as number) / 1024;
}

/** A bare process that loads one of the CLI's chunks and uses it: `expression` of `chunk` (its packages by name). */
const using = (chunk: string, expression: string) => [
  '-e',
  `const chunk = require(${JSON.stringify(join(DIST, 'chunks', `${chunk}.js`))}); ${expression}`,
];

async function main(): Promise<void> {
  const size = Number(process.env.BENCH_MB ?? 256) * MiB;
  const dir = mkdtempSync(join(tmpdir(), 'es-memory-'));
  try {
    const input = join(dir, 'in');
    const keyring = join(dir, 'keyring.json');
    writeRandomFile(input, size);
    execFileSync(process.execPath, [BIN, 'keygen', '--keyring', keyring], { stdio: 'ignore' });
    const rows: [string, number][] = [
      ['node -e 0', peakMiB(['-e', '0'])],
      ['CLI --help (main + codec chunks)', peakMiB([BIN, '--help'])],
      ['libsodium, ready', peakMiB(using('libsodium', "chunk['libsodium-wrappers-sumo'].ready.then(() => {})"))],
      [
        'S3 client, constructed',
        peakMiB(using('sdk-s3', "new chunk['@aws-sdk/client-s3'].S3Client({ region: 'us-east-1' })")),
      ],
      [
        `encrypt ${size / MiB} MiB file → file`,
        peakMiB([BIN, 'encrypt', input, '-o', join(dir, 'out'), '-k', keyring, '-q']),
      ],
    ];
    for (const [what, mib] of rows) console.log(`${what.padEnd(40)} ${mib.toFixed(1).padStart(7)} MiB peak RSS`);
    // The same encrypt, sampling its own memory: buffers dropped but not yet collected show as arrayBuffers.
    const sampler =
      'const m={rss:0,arrayBuffers:0,heapTotal:0};' +
      'setInterval(()=>{const u=process.memoryUsage();for(const k in m)m[k]=Math.max(m[k],u[k])},2).unref();' +
      "process.on('exit',()=>process.stderr.write(JSON.stringify(m)));";
    const sampled = spawnSync(
      process.execPath,
      [
        '-e',
        `${sampler}process.argv.splice(1,0,${JSON.stringify(BIN)});require(${JSON.stringify(BIN)})`,
        '--',
        ...['encrypt', input, '-o', join(dir, 'out2'), '-k', keyring, '-q'],
      ],
      { encoding: 'utf8' },
    );
    if (sampled.status !== 0) throw new Error(`sampled encrypt failed: ${sampled.stderr}`);
    const peak = JSON.parse(sampled.stderr) as { rss: number; arrayBuffers: number; heapTotal: number };
    const live = 2 * 4 + 8; // two 4 MiB read blocks, an 8 MiB write queue (codec/src/node: block-reader, file-writer)
    console.log(
      `encrypt, sampled every 2 ms: rss ${(peak.rss / MiB).toFixed(1)} MiB, JS heap ${(peak.heapTotal / MiB).toFixed(1)} MiB, ` +
        `ArrayBuffers ${(peak.arrayBuffers / MiB).toFixed(1)} MiB of which at most ${live} MiB are live blocks and queue`,
    );
    await putPeaks(input, keyring, join(dir, 'state'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `put` of `input` at 8 MiB parts × 1, 4 and 8 in flight, when an S3 server is configured. */
async function putPeaks(input: string, keyring: string, stateDir: string): Promise<void> {
  const settings = findS3Settings();
  if (!settings) {
    console.log('put: no S3 server configured (eval "$(bash scripts/s3-server.sh env)"): skipped');
    return;
  }
  const client = plainClient();
  const bucket = await createBucket(client, 'memory-bench');
  try {
    const env = { ...awsEnv(settings), ENCRYPTED_STREAM_STATE_DIR: stateDir };
    const flags = ['--endpoint', settings.endpoint, ...(settings.forcePathStyle ? ['--path-style'] : [])];
    for (const concurrency of [1, 4, 8]) {
      const args = [BIN, 'put', input, `s3://${bucket}/f`, '--part-size', '8MiB', '--concurrency', String(concurrency)];
      const mib = peakMiB([...args, ...flags, '-k', keyring, '-q'], env);
      console.log(
        `${`put, 8 MiB parts × ${concurrency} in flight`.padEnd(40)} ${mib.toFixed(1).padStart(7)} MiB peak RSS`,
      );
    }
  } finally {
    await destroyBucket(client, bucket);
    client.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
