import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { CHUNK_OVERHEAD, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import { consume, encryptedClient, newKeyring, prng, recordFigure, useBucket } from '../helpers';
import { bigFile } from './big-file';
import { partCount, uploadMissingParts } from './parts';
import { readState } from './state';
import type { UploaderConfig } from './uploader';

/**
 * Crash and resume: a child process uploads a big file with EncryptedMultipartUpload
 * (8 MiB parts, 4 in parallel), persisting its resume token and finished parts;
 * the test SIGKILLs it at random points, several times (each new child resumes
 * from the token), then resumes once more in this process, uploads only the parts
 * S3 does not list, completes, and checks the object reads back byte-identical.
 * Between crashes no object is readable (HeadObject 404).
 *
 * CRASH_KILLS (default 3), CRASH_MB (default 500), CRASH_SEED (default: time).
 */

const MiB = 2 ** 20;
const KILLS = Number(process.env.CRASH_KILLS ?? 3);
const SIZE = Number(process.env.CRASH_MB ?? 500) * MiB;
const PART = 8 * MiB;
const CONCURRENCY = 4;
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
const ROOT = resolve(__dirname, '../..');

interface KillPlan {
  readonly how: 'after-parts' | 'after-delay';
  /** Parts finished (after-parts) or milliseconds after `ready` (after-delay). */
  readonly at: number;
  /** Kill after this many finished parts whatever the plan, so that the child never runs to the end. */
  readonly cap: number;
}

interface ChildRun extends KillPlan {
  killed: boolean;
  started: number[];
  done: number[];
  exitCode: number | null;
  stderr: string;
}

describe('crash: SIGKILL during an encrypted multipart upload, then resume', () => {
  const bucket = useBucket('crash');
  const { keyring } = newKeyring('crash-key');
  const direct = encryptedClient({ keyring });
  const key = 'big/crash-object.bin';
  let workDir = '';
  let live: ChildProcess | undefined;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'es-crash-'));
  });
  afterAll(() => {
    if (live && live.exitCode === null) live.kill('SIGKILL');
    direct.client.destroy();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** Runs one child until it is killed per `plan` (or ends by itself). */
  function runChild(config: UploaderConfig, plan: KillPlan): Promise<ChildRun> {
    const run: ChildRun = { ...plan, killed: false, started: [], done: [], exitCode: null, stderr: '' };
    return new Promise((resolvePromise, reject) => {
      const child = spawn(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', '-r', './test/crash/workspace-paths.js', 'test/crash/uploader.ts'],
        {
          cwd: ROOT,
          env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), CRASH_CONFIG: JSON.stringify(config) },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      live = child;
      const kill = () => {
        if (child.exitCode === null && !run.killed) {
          run.killed = true;
          child.kill('SIGKILL');
        }
      };
      let buffered = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text: string) => {
        buffered += text;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const [word, value] = buffered.slice(0, nl).split(' ');
          buffered = buffered.slice(nl + 1);
          if (word === 'ready' && plan.how === 'after-delay') setTimeout(kill, plan.at);
          if (word === 'start') run.started.push(Number(value));
          if (word === 'done') {
            run.done.push(Number(value));
            if ((plan.how === 'after-parts' && run.done.length >= plan.at) || run.done.length >= plan.cap) kill();
          }
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        run.stderr += text;
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        run.exitCode = code;
        live = undefined;
        resolvePromise(run);
      });
    });
  }

  it(
    `survives ${KILLS} SIGKILLs uploading ${SIZE / MiB} MiB and resumes to a byte-identical object`,
    async () => {
      const started = Date.now();
      const file = bigFile('crash-input', SIZE);
      const generated = Date.now();
      const rng = prng(SEED);
      const statePath = join(workDir, 'upload-state.json');
      const config: UploaderConfig = {
        bucket: bucket.name,
        key,
        file: file.path,
        size: SIZE,
        partSize: PART,
        concurrency: CONCURRENCY,
        statePath,
        keyring: keyring.toJSON(),
      };
      const total = partCount(SIZE, PART);
      const runs: ChildRun[] = [];
      let missing = total;
      for (let i = 0; i < KILLS; i++) {
        // Alternate kill points: after k finished parts, or after a random delay; either way
        // before the child could finish (at most a share of what is left).
        const cap = Math.max(1, Math.floor(missing / (KILLS - i + 1)));
        const plan: KillPlan =
          i % 2 === 0
            ? { how: 'after-parts', at: rng.int(1, cap), cap }
            : { how: 'after-delay', at: rng.int(100, 1500), cap };
        const run = await runChild(config, plan);
        runs.push(run);
        if (!run.killed) {
          expect(run.stderr).not.toMatch(/uploader failed/);
          expect(run.exitCode).toBe(0);
        }

        // Never a readable object before completion, whatever the crash left.
        await expect(
          bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key })),
        ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
        // Every part the state file records as done is on S3, with a full encrypted part's size.
        const state = readState(statePath);
        expect(state.token).toBeDefined();
        const mpu = await EncryptedMultipartUpload.resume(bucket.client, state.token as string, { keyring });
        const listed = new Map((await mpu.listParts()).map((p) => [p.PartNumber, p.Size]));
        for (const n of state.done) expect(listed.has(n)).toBe(true);
        const fullPart = (PART / DEFAULT_CHUNK_SIZE) * (DEFAULT_CHUNK_SIZE + CHUNK_OVERHEAD);
        for (const [n, size] of listed) if (n !== total) expect(size).toBe(fullPart);
        missing = total - listed.size;
      }

      // Final resume, in this process: only what S3 lacks is sent.
      const state = readState(statePath);
      const mpu = await EncryptedMultipartUpload.resume(bucket.client, state.token as string, { keyring });
      const before = await mpu.listParts();
      const uploaded = await uploadMissingParts(mpu, { path: file.path, size: SIZE }, CONCURRENCY);
      expect(uploaded.length).toBe(total - before.length);
      expect(uploaded.every((n) => !before.some((p) => p.PartNumber === n))).toBe(true);
      await mpu.complete();

      // Byte-identical: SHA-256 of the decrypted stream against the file's.
      const head = await direct.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
      expect(head.ContentLength).toBe(SIZE);
      const out = await direct.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
      const hash = createHash('sha256');
      const read = await consume(out.Body, (piece) => hash.update(piece));
      const ok = read === SIZE && hash.digest('hex') === file.sha256;

      const attempts = runs.reduce((n, r) => n + r.started.length, 0) + uploaded.length;
      const kills = runs.filter((r) => r.killed).length;
      const summary = {
        seed: SEED,
        runs: runs.map((r) => ({
          how: r.how,
          at: r.at,
          killed: r.killed,
          started: r.started.length,
          done: r.done.length,
        })),
        finalUploads: uploaded.length,
        partUploadsStarted: attempts,
        parts: total,
        generateSeconds: (generated - started) / 1000,
        totalSeconds: (Date.now() - started) / 1000,
      };
      process.stdout.write(`crash: ${JSON.stringify(summary)}\n`);
      recordFigure('crash', 'kills', kills);
      recordFigure('crash', 'resumes', runs.length); // children 2…n resumed from the token, plus the final resume here
      recordFigure('crash', 'parts', total);
      recordFigure('crash', 'parts re-uploaded', attempts - total);
      recordFigure('crash', 'seed', SEED);
      recordFigure('crash', 'ok', ok);
      if (total > 2 * KILLS) expect(kills).toBe(KILLS);
      expect(ok).toBe(true);
    },
    15 * 60_000,
  );
});
