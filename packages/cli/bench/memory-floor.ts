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
 * Peak RSS is the kernel's (GNU time's %M), median of 3 runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeRandomFile } from './peers/files';
import { GNU_TIME } from './peers/install-tools';

const DIST = resolve(__dirname, '../dist');
const BIN = resolve(__dirname, '../bin/encrypted-stream.js');
const MiB = 1024 * 1024;

/** Peak RSS in MiB of `node args…`, median of 3 runs. */
function peakMiB(args: readonly string[]): number {
  const peaks = [0, 1, 2].map(() => {
    // GNU time reports on stderr, after whatever the command wrote there.
    const run = spawnSync(GNU_TIME, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8' });
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

function main(): void {
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
