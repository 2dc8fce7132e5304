/**
 * put of a file interrupted (SIGKILL, Ctrl-C) and resumed by running the same
 * command again; a changed source is refused. The built binary against the
 * real S3 server, through a pass-through proxy that holds each UploadPart a
 * little, so the upload is reliably interrupted mid-way on any machine.
 */
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ListPartsCommand } from '@aws-sdk/client-s3';
import {
  type CliResult,
  EXIT,
  expectExit,
  expectOk,
  expectOneLineError,
  jsonOf,
  type RunOptions,
  run,
  start,
} from './helpers/cli';
import { randomData, sha256, useTempDir } from './helpers/files';
import { openUploads, s3Flags, s3Settings, useBucket } from './helpers/s3';
import { type SlowProxy, startSlowProxy } from './helpers/slow-proxy';

const MiB = 1024 * 1024;
const SIZE = 60 * MiB; // 12 parts of 5 MiB
const PARTS = 12;
const PART_DELAY_MS = 400;

const dir = useTempDir('resume');
const bucket = useBucket('resume');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;
let proxy: SlowProxy;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'resume-key']));
  proxy = await startSlowProxy(s3Settings().endpoint, PART_DELAY_MS);
});

afterAll(async () => {
  await proxy?.close();
});

beforeEach(() => {
  proxy.partDelayMs = PART_DELAY_MS;
});

/** The put command every run of a test repeats, through the proxy. */
const putArgs = (file: string, key: string, stateDir: string, ...extra: string[]) => [
  'put',
  file,
  url(key),
  '-k',
  keyring,
  ...s3Flags(proxy.endpoint),
  '--part-size',
  '5MiB',
  '--concurrency',
  '2',
  '--state-dir',
  stateDir,
  '--json',
  ...extra,
];

interface Journal {
  source: { size: number; mtimeMs: number };
  resumeToken: string;
  partHashes: Record<string, string>;
}

/** The journals in a state directory (the CLI names them upload-HASH.json). */
function journals(stateDir: string): { file: string; journal: Journal }[] {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^upload-[0-9a-f]+\.json$/.test(name))
    .flatMap((name) => {
      try {
        return [{ file: join(stateDir, name), journal: JSON.parse(readFileSync(join(stateDir, name), 'utf8')) }];
      } catch {
        return []; // replaced while reading
      }
    });
}

const recordedParts = (stateDir: string) =>
  Math.max(0, ...journals(stateDir).map((j) => Object.keys(j.journal.partHashes).length));

/**
 * Starts `args`, waits until the journal records `parts` parts S3 acknowledged,
 * then sends `signal`. Fails if the upload finished first.
 */
async function interruptAfterParts(
  args: string[],
  stateDir: string,
  parts: number,
  signal: NodeJS.Signals,
  options: RunOptions = {},
): Promise<CliResult> {
  const running = start(args, options);
  let finished: CliResult | undefined;
  void running.done.then((result) => {
    finished = result;
  });
  const deadline = Date.now() + 60_000;
  while (!finished && recordedParts(stateDir) < parts) {
    if (Date.now() > deadline) throw new Error(`no ${parts} parts recorded in ${stateDir} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (finished) {
    throw new Error(`the upload ended before it could be interrupted: exit ${finished.code}\n${finished.stderr}`);
  }
  running.child.kill(signal);
  return running.done;
}

/** Downloads `key` (straight from the server) and compares it with `expected`. */
async function expectObject(key: string, expected: Buffer) {
  const out = path(`${key.replace(/\W/g, '_')}.downloaded`);
  expectOk(await run(['get', url(key), out, '-k', keyring, ...s3Flags(), '-q']));
  const got = readFileSync(out);
  expect(got.length).toBe(expected.length);
  expect(sha256(got)).toBe(sha256(expected));
}

async function partsStored(key: string): Promise<number> {
  const [upload] = (await openUploads(bucket.client, bucket.name)).filter((u) => u.Key === key);
  if (!upload) return 0;
  const listed = await bucket.client.send(
    new ListPartsCommand({ Bucket: bucket.name, Key: key, UploadId: upload.UploadId }),
  );
  return listed.Parts?.length ?? 0;
}

test('SIGKILL mid-upload, then the same command again resumes: partsResumed > 0, identical data', async () => {
  const key = 'killed/backup.bin';
  const file = path('killed.bin');
  const state = path('state-killed');
  const data = randomData(SIZE);
  writeFileSync(file, data);

  const killed = await interruptAfterParts(putArgs(file, key, state), state, 3, 'SIGKILL');
  expect(killed.signal).toBe('SIGKILL');
  // The upload is open on the server with the acknowledged parts; the journal remembers them.
  expect(await openUploads(bucket.client, bucket.name)).toHaveLength(1);
  expect(await partsStored(key)).toBeGreaterThanOrEqual(3);
  const [saved] = journals(state);
  expect(saved).toBeDefined();
  expect(statSync(saved!.file).mode & 0o777).toBe(0o600);
  expect(saved!.journal.source.size).toBe(SIZE);
  // It holds the resume token (a wrapped data key), never the master key.
  const masterKey = Object.values(JSON.parse(readFileSync(keyring, 'utf8')).keys)[0] as string;
  expect(readFileSync(saved!.file, 'utf8')).not.toContain(masterKey);

  proxy.partDelayMs = 0;
  const resumed = jsonOf<Record<string, number>>(await run(putArgs(file, key, state)));
  expect(resumed).toMatchObject({ plaintextBytes: SIZE, parts: PARTS });
  expect(resumed.partsResumed).toBeGreaterThanOrEqual(3);
  expect(resumed.partsResumed! + resumed.partsUploaded!).toBe(PARTS);

  await expectObject(key, data);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]);
  expect(journals(state)).toEqual([]);
});

test('a source changed since the interruption is refused (exit 6); --restart starts over', async () => {
  const key = 'changed/backup.bin';
  const file = path('changed.bin');
  const state = path('state-changed');
  const original = randomData(SIZE);
  writeFileSync(file, original);
  const mtime = 1_700_000_000; // whole seconds, so it can be restored exactly below
  utimesSync(file, mtime, mtime);

  const killed = await interruptAfterParts(putArgs(file, key, state), state, 3, 'SIGKILL');
  expect(killed.signal).toBe('SIGKILL');

  // Edited in place with the same size and the mtime put back: caught by the part hashes.
  const [recorded] = Object.keys(journals(state)[0]!.journal.partHashes).map(Number);
  const changed = Buffer.from(original);
  randomData(64).copy(changed, (recorded! - 1) * 5 * MiB + 1234);
  const fd = openSync(file, 'r+');
  writeSync(fd, changed, (recorded! - 1) * 5 * MiB + 1234, 64, (recorded! - 1) * 5 * MiB + 1234);
  closeSync(fd);
  utimesSync(file, mtime, mtime);
  expectOneLineError(
    await run(putArgs(file, key, state)),
    EXIT.SOURCE_CHANGED,
    new RegExp(`part ${recorded} of .* differs from what was uploaded.*--restart`),
  );

  // Touched too: caught by the file's identity before anything is read.
  utimesSync(file, new Date(), new Date());
  expectOneLineError(
    await run(putArgs(file, key, state)),
    EXIT.SOURCE_CHANGED,
    /changed since the interrupted upload.*--restart/,
  );
  // Nothing was mixed: the object does not exist, the interrupted upload is still open.
  expect(await openUploads(bucket.client, bucket.name)).toHaveLength(1);

  proxy.partDelayMs = 0;
  const restarted = jsonOf<Record<string, number>>(await run(putArgs(file, key, state, '--restart')));
  expect(restarted).toMatchObject({ plaintextBytes: SIZE, parts: PARTS, partsUploaded: PARTS, partsResumed: 0 });
  await expectObject(key, changed);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]); // the old upload was aborted
  expect(journals(state)).toEqual([]);
});

test.each(['SIGINT', 'SIGTERM'] as const)(
  '%s during a file put: exit 130 with how to resume; running again completes',
  async (signal) => {
    const key = `interrupted/${signal}.bin`;
    const file = path(`${signal}.bin`);
    const state = path(`state-${signal}`);
    const data = randomData(SIZE);
    writeFileSync(file, data);

    const interrupted = await interruptAfterParts(putArgs(file, key, state), state, 2, signal);
    expectOneLineError(
      interrupted,
      EXIT.INTERRUPTED,
      new RegExp(`interrupted; run the same command again to resume the upload to s3://${bucket.name}/${key}`),
    );
    expect(interrupted.stdout.toString()).toBe(''); // no result: it did not finish
    expect(recordedParts(state)).toBeGreaterThanOrEqual(2);

    proxy.partDelayMs = 0;
    const again = jsonOf<Record<string, number>>(await run(putArgs(file, key, state)));
    expect(again).toMatchObject({ plaintextBytes: SIZE, parts: PARTS });
    expect(again.partsResumed).toBeGreaterThanOrEqual(2);
    await expectObject(key, data);
    expect(await openUploads(bucket.client, bucket.name)).toEqual([]);
    expect(journals(state)).toEqual([]);
  },
);

test('the interrupted exit is prompt: in-flight parts are aborted, not waited for', async () => {
  const key = 'interrupted/prompt.bin';
  const file = path('prompt.bin');
  const state = path('state-prompt');
  writeFileSync(file, randomData(SIZE));
  proxy.partDelayMs = 5_000; // every part request is held long after the signal
  const running = start(putArgs(file, key, state));
  const deadline = Date.now() + 30_000;
  // Wait until the first part requests are on their way (the upload exists on the server).
  while (!(await openUploads(bucket.client, bucket.name)).some((u) => u.Key === key)) {
    if (Date.now() > deadline) throw new Error('the upload never started');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  const t0 = performance.now();
  running.child.kill('SIGINT');
  const result = await running.done;
  expectExit(result, EXIT.INTERRUPTED);
  expect(performance.now() - t0).toBeLessThan(3_000);
  // Clean up what a user would: run it again to completion.
  proxy.partDelayMs = 0;
  expectOk(await run(putArgs(file, key, state)));
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]);
});
