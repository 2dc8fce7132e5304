/**
 * Command-line benchmark, one run on ONE generated file (random bytes,
 * BENCH_MB MiB, default 1024), wall clock of whole commands as a user runs
 * them (median of BENCH_REPS runs, default 2):
 *
 *   - local files: `encrypted-stream encrypt` / `decrypt` against age
 *     (X25519 recipient, no passphrase) and rclone crypt (a crypt remote over a
 *     local directory, configured through environment variables);
 *   - S3: `encrypted-stream put` / `get` against the plain SDK (lib-storage
 *     `Upload` with the same part size and concurrency, and a plain GetObject
 *     streamed to a file), each run in its own Node process like the CLI.
 *
 * Every decrypted or downloaded output is checked against the source's SHA-256.
 * Needs the built packages (`pnpm run build`), `age` and `rclone` on PATH
 * (`apt-get install -y age rclone`; missing tools are reported and their rows
 * skipped) and an S3 server (`S3_ENDPOINT` & co, else `scripts/s3-server.sh env`:
 * `findS3Settings` of `@encrypted-stream/test-support`).
 *
 *   cd /work/main && pnpm run build
 *   BENCH_MB=1024 pnpm --filter @encrypted-stream/cli bench
 *
 * Other knobs: BENCH_PART_MB (8), BENCH_CONCURRENCY (4), BENCH_DIR (a temp dir).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBucket, destroyBucket, findS3Settings, plainClient } from '@encrypted-stream/test-support';
import { writeRandomFile } from './peers/files';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // Node 20 is what this project supports

const MiB = 1024 * 1024;
const MB = 1e6;
const SIZE_MB = Number(process.env.BENCH_MB ?? 1024);
const SIZE = SIZE_MB * MiB;
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 2));
const PART_MB = Number(process.env.BENCH_PART_MB ?? 8);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const BIN = resolve(__dirname, '../bin/encrypted-stream.js');

interface Row {
  tool: string;
  operation: string;
  seconds?: number;
  runs: number[];
  verified?: boolean;
  note?: string;
}

const rows: Row[] = [];
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

/** Runs a command to completion; rejects with its stderr on a non-zero exit. Resolves to wall-clock seconds. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (piece: Buffer) => {
      stderr += piece.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - t0) / 1000;
      if (code === 0) resolvePromise(seconds);
      else reject(new Error(`${command} ${args.join(' ')}: exit ${code ?? signal}\n${stderr.trim()}`));
    });
  });
}

/** SHA-256 of a file, streamed. */
async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** Whether `command` runs (`command --version` or similar exits 0). */
function available(command: string, args: string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return !result.error && result.status === 0;
}

/**
 * Times `reps` runs of one operation: `prepare` before each (untimed, e.g.
 * removing the previous output), `run` timed, `verify` after the last.
 */
async function measure(
  tool: string,
  operation: string,
  steps: { prepare?: () => void | Promise<void>; run: () => Promise<number>; verify?: () => Promise<boolean> },
): Promise<Row> {
  const row: Row = { tool, operation, runs: [] };
  rows.push(row);
  try {
    for (let i = 0; i < REPS; i++) {
      await steps.prepare?.();
      row.runs.push(await steps.run());
    }
    row.seconds = median(row.runs);
    if (steps.verify) row.verified = await steps.verify();
    log(
      `  ${tool.padEnd(26)} ${operation.padEnd(14)} ${row.runs.map((s) => s.toFixed(2)).join(' / ')} s${row.verified === false ? '  OUTPUT MISMATCH' : ''}`,
    );
  } catch (error) {
    row.note = (error as Error).message.split('\n').slice(0, 2).join(' ');
    log(`  ${tool.padEnd(26)} ${operation.padEnd(14)} FAILED: ${row.note}`);
  }
  return row;
}

/** The plain-SDK baseline, run with `node -e` in its own process (like the CLI): upload or download one file. */
const BASELINE = `
const { createReadStream, createWriteStream } = require('node:fs');
const { pipeline } = require('node:stream/promises');
const { S3Client, GetObjectCommand } = require(process.env.BENCH_CLIENT_S3);
const { Upload } = require(process.env.BENCH_LIB_STORAGE);
const [mode, bucket, key, file, partSize, queueSize] = process.argv.slice(1);
const client = new S3Client({ endpoint: process.env.BENCH_ENDPOINT, forcePathStyle: process.env.BENCH_PATH_STYLE === 'true' });
(async () => {
  if (mode === 'put') {
    await new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1 << 20 }) },
      partSize: Number(partSize), queueSize: Number(queueSize) }).done();
  } else {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await pipeline(out.Body, createWriteStream(file));
  }
})().then(() => process.exit(0), (error) => { console.error(error); process.exit(1); });
`;

function printTable() {
  const ours = new Map(rows.filter((r) => r.tool === 'encrypted-stream').map((r) => [r.operation, r.seconds]));
  const header = ['tool', 'operation', 'seconds', 'MB/s', 'time vs ours', 'output'];
  const lines = rows.map((r) => {
    const mine = ours.get(r.operation);
    return [
      r.tool,
      r.operation,
      r.seconds === undefined ? '-' : r.seconds.toFixed(2),
      r.seconds === undefined ? '-' : (SIZE / MB / r.seconds).toFixed(0),
      r.seconds === undefined || mine === undefined ? '-' : `${(r.seconds / mine).toFixed(2)}x`,
      r.note ? `FAILED: ${r.note.slice(0, 60)}` : r.verified === undefined ? '' : r.verified ? 'sha256 ok' : 'MISMATCH',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: string[]) =>
    `| ${cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  console.log('');
  console.log(
    `${SIZE_MB} MiB (${(SIZE / MB).toFixed(0)} MB) random file, median of ${REPS} run(s), wall clock of whole commands; MB = 10^6 bytes;`,
  );
  console.log(
    '"time vs ours" = that row\'s seconds / encrypted-stream\'s seconds for the same operation (>1: slower than ours).',
  );
  console.log(`S3: ${PART_MB} MiB parts, concurrency ${CONCURRENCY}, both sides.`);
  console.log(
    `${cpus().length} CPU(s), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the end (other work on the machine slows every row alike only roughly).`,
  );
  console.log('');
  console.log(format(header));
  console.log(
    `|${widths.map((w, i) => (i >= 2 && i <= 4 ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`,
  );
  for (const line of lines) console.log(format(line));
}

async function main() {
  if (!existsSync(resolve(__dirname, '../dist/main.js'))) {
    throw new Error('packages/cli/dist is missing: build first (cd /work/main && pnpm run build)');
  }
  const work = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'es-cli-bench-'));
  const source = join(work, 'source.bin');
  const cliEnv = { ...process.env, NODE_NO_WARNINGS: '1' };
  const cli = (args: string[], env: NodeJS.ProcessEnv = cliEnv) => timed(process.execPath, [BIN, ...args], env);
  const remove = (...paths: string[]) => {
    for (const p of paths) rmSync(p, { force: true, recursive: true });
  };
  const sameAsSource = (path: string) => async () => {
    const ok = (await sha256File(path)) === sourceHash;
    remove(path);
    return ok;
  };
  let sourceHash = '';

  try {
    log(`generating ${SIZE_MB} MiB of random data in ${source} …`);
    writeRandomFile(source, SIZE);
    sourceHash = await sha256File(source);

    const keyring = join(work, 'keyring.json');
    await cli(['keygen', '-k', keyring, '-q']);

    // ---- local files ----
    log('local files:');
    const ours = join(work, 'source.es');
    await measure('encrypted-stream', 'encrypt', {
      prepare: () => remove(ours),
      run: () => cli(['encrypt', source, '-o', ours, '-k', keyring, '-q']),
    });
    const haveAge = available('age', ['--version']) && available('age-keygen', ['--version']);
    const haveRclone = available('rclone', ['version']);
    const missing = [!haveAge && 'age', !haveRclone && 'rclone'].filter(Boolean);
    if (missing.length > 0) {
      log(
        `  ${missing.join(' and ')} not found on PATH: their rows are skipped (install: apt-get install -y ${missing.join(' ')})`,
      );
    }

    const ageIdentity = join(work, 'age-identity.txt');
    const ageOut = join(work, 'source.age');
    if (haveAge) {
      execFileSync('age-keygen', ['-o', ageIdentity], { stdio: 'ignore' });
      const recipient = execFileSync('age-keygen', ['-y', ageIdentity], { encoding: 'utf8' }).trim();
      await measure('age', 'encrypt', {
        prepare: () => remove(ageOut),
        run: () => timed('age', ['-r', recipient, '-o', ageOut, source]),
      });
    }

    const cryptDir = join(work, 'rclone-crypt');
    const rcloneConfig = join(work, 'rclone.conf');
    let rcloneEnv: NodeJS.ProcessEnv = {};
    if (haveRclone) {
      writeFileSync(rcloneConfig, ''); // no user config: the remote comes from the environment only
      const password = execFileSync('rclone', ['obscure', randomBytes(18).toString('base64url')], {
        encoding: 'utf8',
      }).trim();
      rcloneEnv = {
        ...process.env,
        RCLONE_CONFIG: rcloneConfig,
        RCLONE_CONFIG_LOCALCRYPT_TYPE: 'crypt',
        RCLONE_CONFIG_LOCALCRYPT_REMOTE: cryptDir,
        RCLONE_CONFIG_LOCALCRYPT_PASSWORD: password,
        RCLONE_CONFIG_LOCALCRYPT_FILENAME_ENCRYPTION: 'off',
        RCLONE_CONFIG_LOCALCRYPT_DIRECTORY_NAME_ENCRYPTION: 'false',
      };
      await measure('rclone crypt', 'encrypt', {
        prepare: () => remove(cryptDir), // else copyto skips an identical destination
        run: () => timed('rclone', ['copyto', source, 'localcrypt:source.bin', '-q'], rcloneEnv),
      });
    }

    const decrypted = join(work, 'decrypted.bin');
    await measure('encrypted-stream', 'decrypt', {
      prepare: () => remove(decrypted),
      run: () => cli(['decrypt', ours, '-o', decrypted, '-k', keyring, '-q']),
      verify: sameAsSource(decrypted),
    });
    if (haveAge) {
      await measure('age', 'decrypt', {
        prepare: () => remove(decrypted),
        run: () => timed('age', ['-d', '-i', ageIdentity, '-o', decrypted, ageOut]),
        verify: sameAsSource(decrypted),
      });
    }
    if (haveRclone) {
      await measure('rclone crypt', 'decrypt', {
        prepare: () => remove(decrypted),
        run: () => timed('rclone', ['copyto', 'localcrypt:source.bin', decrypted, '-q'], rcloneEnv),
        verify: sameAsSource(decrypted),
      });
    }
    const sizeOf = (path: string) => (existsSync(path) ? String(statSync(path).size) : '?');
    log(
      `  ciphertext bytes: encrypted-stream ${sizeOf(ours)}, age ${sizeOf(ageOut)}, rclone ${sizeOf(join(cryptDir, 'source.bin.bin'))} (source ${SIZE})`,
    );
    remove(ours, ageOut, cryptDir);

    // ---- S3 ----
    const s3 = findS3Settings();
    if (!s3) {
      log('no S3 server (set S3_ENDPOINT & co, or bash scripts/s3-server.sh up): S3 rows skipped');
    } else {
      log(`S3 at ${s3.endpoint}:`);
      const awsEnv = {
        ...cliEnv,
        AWS_ACCESS_KEY_ID: s3.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
        AWS_REGION: s3.region,
        AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
        AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        BENCH_ENDPOINT: s3.endpoint,
        BENCH_PATH_STYLE: String(s3.forcePathStyle),
        BENCH_CLIENT_S3: require.resolve('@aws-sdk/client-s3'),
        BENCH_LIB_STORAGE: require.resolve('@aws-sdk/lib-storage'),
      };
      const client = plainClient();
      const bucket = await createBucket(client, 'cli-bench');
      const s3Flags = ['--endpoint', s3.endpoint, ...(s3.forcePathStyle ? ['--path-style'] : []), '-k', keyring, '-q'];
      const stateDir = join(work, 'state');
      const downloaded = join(work, 'downloaded.bin');
      try {
        await measure('encrypted-stream', 'put (S3)', {
          run: () =>
            cli(
              [
                'put',
                source,
                `s3://${bucket}/ours.bin`,
                '--part-size',
                `${PART_MB}MiB`,
                '--concurrency',
                String(CONCURRENCY),
                '--state-dir',
                stateDir,
                ...s3Flags,
              ],
              awsEnv,
            ),
        });
        await measure('SDK Upload (plain)', 'put (S3)', {
          run: () =>
            timed(
              process.execPath,
              ['-e', BASELINE, 'put', bucket, 'plain.bin', source, String(PART_MB * MiB), String(CONCURRENCY)],
              awsEnv,
            ),
        });
        await measure('encrypted-stream', 'get (S3)', {
          prepare: () => remove(downloaded),
          run: () => cli(['get', `s3://${bucket}/ours.bin`, downloaded, ...s3Flags], awsEnv),
          verify: sameAsSource(downloaded),
        });
        await measure('SDK GetObject (plain)', 'get (S3)', {
          prepare: () => remove(downloaded),
          run: () => timed(process.execPath, ['-e', BASELINE, 'get', bucket, 'plain.bin', downloaded], awsEnv),
          verify: sameAsSource(downloaded),
        });
      } finally {
        await destroyBucket(client, bucket).catch((error) => log(`cleanup of ${bucket} failed: ${error}`));
        client.destroy();
      }
    }
    printTable();
    if (rows.some((r) => r.verified === false || r.note)) process.exitCode = 1;
  } finally {
    if (!process.env.BENCH_DIR) remove(work);
    else remove(source);
  }
}

main().catch((error) => {
  console.error(`cli-bench: ${(error as Error).message}`);
  process.exitCode = 1;
});
