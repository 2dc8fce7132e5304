/**
 * put of a file interrupted (SIGKILL, Ctrl-C) and resumed by running the same
 * command again; a changed source, an outdated journal and an altered one are
 * refused (the journal and its key file, helpers/journal.ts). The built binary against the real S3 server, through a
 * pass-through proxy that holds each UploadPart a little, so the upload is
 * reliably interrupted mid-way on any machine.
 */
import {
  appendFileSync,
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import { listOpenUploads as openUploads, s3Settings, useBucket } from '@encrypted-stream/test-support';
import { loadKeyring } from '../src/keyring-file';
import { EXIT, expectExit, expectOk, expectOneLineError, jsonOf, run, start } from './helpers/cli';
import { randomData, sha256, useTempDir } from './helpers/files';
import {
  editJournal,
  interruptAfterParts,
  type Journal,
  recordedParts,
  stateFiles,
  tamperJournal,
  theJournal,
} from './helpers/journal';
import { s3Flags } from './helpers/s3';
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

/** The identity fields of `file` as the CLI records them (bigint stat, decimal strings). */
function identityOf(file: string): Pick<Journal['source'], 'size' | 'mtimeNs' | 'ctimeNs' | 'ino' | 'dev'> {
  const s = statSync(file, { bigint: true });
  return {
    size: String(s.size),
    mtimeNs: String(s.mtimeNs),
    ctimeNs: String(s.ctimeNs),
    ino: String(s.ino),
    dev: String(s.dev),
  };
}

/** Overwrites `length` bytes of `file` at `offset` in place with random bytes; returns the new contents. */
function editInPlace(file: string, contents: Buffer, offset: number, length: number): Buffer {
  const changed = Buffer.from(contents);
  randomData(length).copy(changed, offset);
  const fd = openSync(file, 'r+');
  writeSync(fd, changed, offset, length, offset);
  closeSync(fd);
  return changed;
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
  const saved = theJournal(state);
  expect(statSync(saved.file).mode & 0o777).toBe(0o600);
  expect(saved.journal).toMatchObject({ version: 3, bucket: bucket.name, key, partSize: 5 * MiB, chunkSize: 65536 });
  expect(saved.journal.source).toEqual({ path: file, ...identityOf(file) });
  // Source identity and part numbers only: no digest of the plaintext at all (no --verify-source),
  // and never the master key (the resume token holds the wrapped data key; the journal the data key,
  // sealed under its key file, 32 random bytes beside it, 0600 too).
  expect(Object.keys(saved.journal).sort()).toEqual(
    [
      'bucket',
      'chunkSize',
      'dataKey',
      'endpoint',
      'key',
      'mac',
      'parts',
      'partSize',
      'resumeToken',
      'source',
      'uploadId',
      'version',
    ].sort(),
  );
  expect(Buffer.from(saved.journal.dataKey, 'base64url')).toHaveLength(12 + 32 + 16);
  expect(statSync(saved.keyFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(saved.keyFile)).toHaveLength(32);
  const text = readFileSync(saved.file, 'utf8');
  for (let n = 1; n <= 3; n++) expect(text).not.toContain(sha256(data.subarray((n - 1) * 5 * MiB, n * 5 * MiB)));
  const masterKey = Object.values(JSON.parse(readFileSync(keyring, 'utf8')).keys)[0] as string;
  expect(text).not.toContain(masterKey);

  proxy.partDelayMs = 0;
  const resumed = jsonOf<Record<string, number>>(await run(putArgs(file, key, state)));
  expect(resumed).toMatchObject({ plaintextBytes: SIZE, parts: PARTS });
  expect(resumed.partsResumed).toBeGreaterThanOrEqual(3);
  expect(resumed.partsResumed! + resumed.partsUploaded!).toBe(PARTS);

  await expectObject(key, data);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]);
  expect(stateFiles(state)).toEqual([]); // the journal and its key file
  // The object records its plaintext size (authenticated in the header).
  expect(jsonOf(await run(['head', url(key), '-k', keyring, ...s3Flags(), '--json']))).toMatchObject({
    plaintextBytes: SIZE,
    sizeAuthenticated: true,
  });
});

test('a source changed since the interruption is refused (exit 6); --restart starts over', async () => {
  const key = 'changed/backup.bin';
  const file = path('changed.bin');
  const state = path('state-changed');
  const original = randomData(SIZE);
  writeFileSync(file, original);
  const mtime = 1_700_000_000; // whole seconds, so it can be put back exactly below
  utimesSync(file, mtime, mtime);

  const killed = await interruptAfterParts(putArgs(file, key, state), state, 3, 'SIGKILL');
  expect(killed.signal).toBe('SIGKILL');
  const before = readFileSync(theJournal(state).file);

  // --verify-source cannot check parts that were uploaded without it.
  expectOneLineError(
    await run(putArgs(file, key, state, '--verify-source')),
    EXIT.SOURCE_CHANGED,
    /started without --verify-source.*--restart/,
  );
  // touch: the modification time changed.
  utimesSync(file, new Date(), new Date());
  expectOneLineError(
    await run(putArgs(file, key, state)),
    EXIT.SOURCE_CHANGED,
    /changed since the interrupted upload to s3:\/\/\S+ \(its modification time differs\); not mixing .*--restart/,
  );
  // Edited in place, its mtime put back: the status-change time (set by the kernel only) still tells.
  const [recorded] = theJournal(state).journal.parts;
  const changed = editInPlace(file, original, (recorded! - 1) * 5 * MiB + 1234, 64);
  utimesSync(file, mtime, mtime);
  expect(identityOf(file).mtimeNs).toBe(theJournal(state).journal.source.mtimeNs);
  expectOneLineError(await run(putArgs(file, key, state)), EXIT.SOURCE_CHANGED, /\(its status-change time differs\)/);
  // Nothing was mixed or lost: no object, the upload still open, the journal unchanged.
  expect(await openUploads(bucket.client, bucket.name)).toHaveLength(1);
  expect(readFileSync(theJournal(state).file).equals(before)).toBe(true);
  await expect(bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }))).rejects.toThrow();

  proxy.partDelayMs = 0;
  const restarted = jsonOf<Record<string, number>>(await run(putArgs(file, key, state, '--restart')));
  expect(restarted).toMatchObject({ plaintextBytes: SIZE, parts: PARTS, partsUploaded: PARTS, partsResumed: 0 });
  await expectObject(key, changed);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]); // the old upload was aborted
  expect(stateFiles(state)).toEqual([]);
});

test('a source written to during the upload: not completed (exit 6), the upload kept for --restart', async () => {
  const key = 'during/backup.bin';
  const file = path('during.bin');
  const state = path('state-during');
  const data = randomData(SIZE);
  writeFileSync(file, data);
  const running = start(putArgs(file, key, state));
  const deadline = Date.now() + 60_000;
  while (recordedParts(state) < 2) {
    if (Date.now() > deadline) throw new Error('no parts recorded within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const grown = Buffer.concat([data, Buffer.from('appended while uploading')]);
  // Appended in place: same inode, new size and times; the parts read so far are of the old version.
  // (writeFileSync would truncate first, and a part read at that moment sees a shrunk file.)
  appendFileSync(file, grown.subarray(data.length));
  expectOneLineError(
    await running.done,
    EXIT.SOURCE_CHANGED,
    /changed during the upload to s3:\/\/\S+ \(its size differs\); not completing it \(use --restart/,
  );
  await expect(bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }))).rejects.toThrow();
  expect(await openUploads(bucket.client, bucket.name)).toEqual([expect.objectContaining({ Key: key })]);

  proxy.partDelayMs = 0;
  expectOneLineError(await run(putArgs(file, key, state)), EXIT.SOURCE_CHANGED, /\(its size differs\)/);
  expectOk(await run(putArgs(file, key, state, '--restart')));
  await expectObject(key, grown);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]);
});

test('--verify-source keeps keyed part digests and re-checks them on resume', async () => {
  const key = 'verified/backup.bin';
  const file = path('verified.bin');
  const state = path('state-verified');
  const original = randomData(SIZE);
  writeFileSync(file, original);

  await interruptAfterParts(putArgs(file, key, state, '--verify-source'), state, 3, 'SIGKILL');
  const { journal } = theJournal(state);
  expect(Object.keys(journal.partDigests!).map(Number).sort()).toEqual([...journal.parts].sort());
  for (const n of journal.parts) {
    const digest = journal.partDigests![String(n)]!;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // Keyed: not the part's plain SHA-256, which anyone could compute from a guess.
    expect(digest).not.toBe(sha256(original.subarray((n - 1) * 5 * MiB, n * 5 * MiB)));
  }

  // A change the identity cannot show (a filesystem that keeps no timestamps, a clock set back):
  // simulated by recording the edited file's identity in the journal. The digests catch it,
  // with or without the flag (the journal keeps them, so resume keeps checking).
  const recorded = journal.parts[0]!;
  const changed = editInPlace(file, original, (recorded - 1) * 5 * MiB + 99, 16);
  editJournal(state, (j) => ({ ...j, source: { ...j.source, ...identityOf(file) } }));
  for (const extra of [['--verify-source'], []]) {
    expectOneLineError(
      await run(putArgs(file, key, state, ...extra)),
      EXIT.SOURCE_CHANGED,
      new RegExp(`part ${recorded} of .* differs from what was uploaded.*--restart`),
    );
  }

  // Put back, the parts check out and the upload resumes (still keeping digests).
  writeFileSync(file, original);
  editJournal(state, (j) => ({ ...j, source: { ...j.source, ...identityOf(file) } }));
  proxy.partDelayMs = 0;
  const resumed = jsonOf<Record<string, number>>(await run(putArgs(file, key, state)));
  expect(resumed.partsResumed).toBeGreaterThanOrEqual(3);
  await expectObject(key, original);
  expect(changed.equals(original)).toBe(false);
  expect(stateFiles(state)).toEqual([]);
});

test('a rerun with another part or chunk size is refused (exit 2), the old parts kept; --restart starts over with it', async () => {
  const key = 'options/backup.bin';
  const file = path('options.bin');
  const state = path('state-options');
  const data = randomData(SIZE);
  writeFileSync(file, data);
  await interruptAfterParts(putArgs(file, key, state), state, 2, 'SIGKILL');
  const journal = readFileSync(theJournal(state).file);
  const stored = await partsStored(key);
  const destination = `s3://${bucket.name}/${key}`.replace(/[.]/g, '\\.');
  const refused = (given: string, recorded: string) =>
    new RegExp(
      `^encrypted-stream: the interrupted upload of \\S+ to ${destination} used ${recorded}, not ${given}: run it with ${recorded} to resume, or add --restart to start over with the new options$`,
    );
  // Later options win (parseArgs), so these override putArgs' --part-size 5MiB.
  expectOneLineError(
    await run(putArgs(file, key, state, '--part-size', '6MiB')),
    EXIT.USAGE,
    refused('--part-size 6MiB', '--part-size 5MiB'),
  );
  expectOneLineError(
    await run(putArgs(file, key, state, '--chunk-size', '1MiB')),
    EXIT.USAGE,
    refused('--chunk-size 1MiB', '--chunk-size 64KiB'),
  );
  // Leaving --part-size out asks for the default (8 MiB for this file): not silently the old 5 MiB either.
  const withoutPartSize = putArgs(file, key, state).filter(
    (arg, i, all) => arg !== '--part-size' && all[i - 1] !== '--part-size',
  );
  expectOneLineError(await run(withoutPartSize), EXIT.USAGE, refused('--part-size 8MiB', '--part-size 5MiB'));
  // A journal of 1 MiB parts (as versions that did not check S3's limits wrote): only --restart helps.
  editJournal(state, (j) => ({ ...j, partSize: MiB }));
  expectOneLineError(
    await run(putArgs(file, key, state)),
    EXIT.USAGE,
    /used --part-size 1MiB, below S3's 5 MiB minimum part, so it cannot complete: add --restart to start over$/,
  );
  writeFileSync(theJournal(state).file, journal, { mode: 0o600 });
  // Nothing was uploaded or forgotten: same parts on S3, the same journal, no object.
  expect(await partsStored(key)).toBe(stored);
  expect(readFileSync(theJournal(state).file).equals(journal)).toBe(true);
  await expect(bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }))).rejects.toThrow();

  proxy.partDelayMs = 0;
  const restarted = jsonOf<Record<string, number>>(
    await run(putArgs(file, key, state, '--part-size', '6MiB', '--restart')),
  );
  expect(restarted).toMatchObject({ plaintextBytes: SIZE, parts: 10, partsUploaded: 10, partsResumed: 0 });
  await expectObject(key, data);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]); // the 5 MiB upload was aborted
  expect(stateFiles(state)).toEqual([]);
});

describe('a journal that was altered is refused (exit 4): nothing is uploaded anywhere', () => {
  const key = 'altered/backup.bin';
  const elsewhere = 'altered/elsewhere.bin';
  let file: string; // in the temporary directory, which exists only once the tests run
  let state: string;
  let data: Buffer;
  let original: Journal;
  let journalFile: string;
  let keyFile: string;
  let journalKey: Buffer;

  beforeAll(async () => {
    file = path('altered.bin');
    state = path('state-altered');
    data = randomData(SIZE);
    writeFileSync(file, data);
    await interruptAfterParts(putArgs(file, key, state), state, 3, 'SIGKILL');
    ({ file: journalFile, keyFile, journal: original } = theJournal(state));
    journalKey = readFileSync(keyFile);
  });

  // Each test alters the journal or its key file; the next starts from the originals (unless the upload completed).
  afterEach(() => {
    if (existsSync(journalFile)) {
      writeFileSync(journalFile, JSON.stringify(original), { mode: 0o600 });
      writeFileSync(keyFile, journalKey, { mode: 0o600 });
      chmodSync(keyFile, 0o600);
    }
  });

  /** Runs the put again and expects the refusal, with nothing written to either key. */
  async function expectRefused(pattern: RegExp) {
    const partsBefore = await partsStored(key);
    expectOneLineError(await run(putArgs(file, key, state)), EXIT.INTEGRITY, pattern);
    expect(await partsStored(key)).toBe(partsBefore);
    for (const k of [key, elsewhere]) {
      await expect(bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: k }))).rejects.toThrow();
    }
  }

  const tokenFields = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  const tokenOf = (fields: object) => Buffer.from(JSON.stringify(fields)).toString('base64url');

  test('any field edited without its key file: the MAC fails', async () => {
    const failed =
      /resume journal .* is not valid: it failed authentication under its key file .*nothing was uploaded.*--restart/;
    const edits: ((j: Journal) => object)[] = [
      (j) => ({ ...j, parts: [...j.parts, 12] }), // a part never uploaded, to be skipped
      (j) => ({ ...j, source: { ...j.source, mtimeNs: '1' } }), // another version of the source
      (j) => ({ ...j, partDigests: {} }),
      (j) => ({ ...j, dataKey: Buffer.alloc(60).toString('base64url') }),
      (j) => ({ ...j, extra: true }),
      ({ mac: _mac, ...j }) => j,
    ];
    for (const edit of edits) {
      tamperJournal(state, edit);
      await expectRefused(failed);
    }
  });

  test('its key file missing, readable by others, or another one', async () => {
    renameSync(keyFile, `${keyFile}.away`);
    await expectRefused(/is not valid: its key file \S+\.key is missing/);
    renameSync(`${keyFile}.away`, keyFile);
    chmodSync(keyFile, 0o644);
    await expectRefused(/is not valid: its key file \S+ is not a file that only its owner can access/);
    chmodSync(keyFile, 0o600);
    writeFileSync(keyFile, randomData(32));
    await expectRefused(/is not valid: it failed authentication under its key file/);
    writeFileSync(keyFile, randomData(31));
    await expectRefused(/is not valid: its key file \S+ is not 32 bytes/);
  });

  // From here the attacker holds the key file too (editJournal re-authenticates): the checks behind the MAC.
  test("the journal's destination edited", async () => {
    editJournal(state, (j) => ({ ...j, key: elsewhere }));
    await expectRefused(/resume journal .* is not valid: it names another key; nothing was uploaded.*--restart/);
    editJournal(state, (j) => ({ ...j, bucket: `${bucket.name}-other` }));
    await expectRefused(/is not valid: it names another bucket/);
  });

  test('the token edited to name another key (and the journal to match)', async () => {
    editJournal(state, (j) => ({ ...j, resumeToken: tokenOf({ ...tokenFields(j.resumeToken), k: elsewhere }) }));
    await expectRefused(/is not valid: its resume token does not authenticate for this destination/);
  });

  test("the token's upload id edited (its MAC no longer holds); the journal's (its data key no longer opens)", async () => {
    editJournal(state, (j) => {
      const fields = tokenFields(j.resumeToken);
      return { ...j, resumeToken: tokenOf({ ...fields, u: `${fields.u}x` }) };
    });
    await expectRefused(/is not valid: its resume token does not authenticate/);
    editJournal(state, (j) => ({ ...j, uploadId: `${j.uploadId}x` }));
    await expectRefused(/is not valid: its sealed data key does not open/);
  });

  test('a genuine token of another upload (to another key) swapped in', async () => {
    const other = await EncryptedMultipartUpload.create(
      bucket.client,
      { Bucket: bucket.name, Key: elsewhere },
      { keyring: await loadKeyring(keyring), partSize: 5 * MiB, plaintextSize: SIZE },
    );
    try {
      // The journal's data key is not that upload's: its header's key commitment refuses it.
      editJournal(state, (j) => ({ ...j, resumeToken: other.resumeToken }));
      await expectRefused(/is not valid: its resume token does not authenticate for this destination/);
      const listed = await bucket.client.send(
        new ListPartsCommand({ Bucket: bucket.name, Key: elsewhere, UploadId: other.uploadId }),
      );
      expect(listed.Parts ?? []).toEqual([]); // not one part went to the other upload
    } finally {
      await other.abort();
    }
  });

  test('not JSON, or an unknown version', async () => {
    writeFileSync(journalFile, '{"version":3,');
    await expectRefused(/is not valid: it is not valid JSON/);
    writeFileSync(journalFile, JSON.stringify({ ...original, version: 4 }));
    await expectRefused(/is not valid: its version 4 is unknown/);
  });

  test('once restored, the same command resumes; refusals lost nothing', async () => {
    proxy.partDelayMs = 0;
    const resumed = jsonOf<Record<string, number>>(await run(putArgs(file, key, state)));
    expect(resumed.partsResumed).toBeGreaterThanOrEqual(3);
    await expectObject(key, data);
    expect(existsSync(journalFile)).toBe(false);
    expect(existsSync(keyFile)).toBe(false);
  });
});

test('a journal from an older version (no data key; plaintext hashes) is not trusted: exit 6; --restart aborts it', async () => {
  const key = 'outdated/backup.bin';
  const file = path('outdated.bin');
  const state = path('state-outdated');
  const data = randomData(SIZE);
  writeFileSync(file, data);
  await interruptAfterParts(putArgs(file, key, state), state, 3, 'SIGKILL');
  const { file: journalFile, keyFile, journal } = theJournal(state);
  const outdated =
    /recorded by an older encrypted-stream, whose journal resume no longer trusts; not resuming it \(use --restart/;
  // What version 2 wrote: no data key (resume unwrapped it with the keyring), no MAC of its own.
  const { dataKey: _dataKey, mac: _mac, ...version2 } = journal;
  writeFileSync(journalFile, JSON.stringify({ ...version2, version: 2 }), { mode: 0o600 });
  expectOneLineError(await run(putArgs(file, key, state)), EXIT.SOURCE_CHANGED, outdated);
  // What version 1 wrote: an unkeyed SHA-256 of every part's plaintext, a token without a MAC.
  const fields = JSON.parse(Buffer.from(journal.resumeToken, 'base64url').toString('utf8'));
  const legacyToken = Buffer.from(
    JSON.stringify({ v: 1, b: fields.b, k: fields.k, u: fields.u, p: fields.p, h: fields.h }),
  ).toString('base64url');
  const info = statSync(file);
  writeFileSync(
    journalFile,
    JSON.stringify({
      version: 1,
      endpoint: journal.endpoint,
      bucket: journal.bucket,
      key: journal.key,
      source: { path: file, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino },
      partSize: journal.partSize,
      resumeToken: legacyToken,
      partHashes: Object.fromEntries(
        journal.parts.map((n) => [String(n), sha256(data.subarray((n - 1) * 5 * MiB, n * 5 * MiB))]),
      ),
    }),
    { mode: 0o600 },
  );
  expectOneLineError(await run(putArgs(file, key, state)), EXIT.SOURCE_CHANGED, outdated);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([expect.objectContaining({ Key: key })]);

  proxy.partDelayMs = 0;
  const restarted = jsonOf<Record<string, number>>(await run(putArgs(file, key, state, '--restart')));
  expect(restarted).toMatchObject({ partsUploaded: PARTS, partsResumed: 0 });
  await expectObject(key, data);
  expect(await openUploads(bucket.client, bucket.name)).toEqual([]); // the old upload, found by its id, was aborted
  expect(existsSync(keyFile)).toBe(false);
  expect(stateFiles(state)).toEqual([]);
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
    expect(stateFiles(state)).toEqual([]);
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
