/**
 * Write-only hosts end to end (issue 14): a backup host that holds only the
 * recipient (es-pub1…), or that KMS allows Encrypt but not Decrypt, uploads a
 * multi-part file, is killed mid-upload (SIGKILL), resumes its own upload from
 * its journal (which keeps the upload's data key sealed under a key file of
 * its own), completes it — and cannot read it back, nor anything else; the
 * identity holder (the KMS reader) reads it byte for byte. Once the upload
 * completes, the journal and its key file are gone. The built binary against
 * the real S3 server, through a proxy that holds each UploadPart a little so
 * the kill lands mid-upload; KMS is the test double (helpers/kms.ts).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecipientKeyring } from '@encrypted-stream/codec';
import { fromDetachedHeader } from '@encrypted-stream/codec/low-level';
import { readIdentityFile } from '@encrypted-stream/codec/node';
import { listOpenUploads, s3Settings, useBucket } from '@encrypted-stream/test-support';
import { EXIT, expectOk, expectOneLineError, jsonOf, run } from './helpers/cli';
import { freshDir, listDir, randomData, sha256, useTempDir } from './helpers/files';
import { interruptAfterParts, openSealedDataKey, stateFiles, theJournal } from './helpers/journal';
import { type CliKms, startKms } from './helpers/kms';
import { s3Flags } from './helpers/s3';
import { type SlowProxy, startSlowProxy } from './helpers/slow-proxy';

const MiB = 1024 * 1024;
const SIZE = 4 * 5 * MiB + 12_345; // 5 parts of 5 MiB
const PARTS = 5;
const PART_DELAY_MS = 300;

const dir = useTempDir('write-only');
const bucket = useBucket('write-only');
const url = (key: string) => `s3://${bucket.name}/${key}`;
let proxy: SlowProxy;
let kms: CliKms;

beforeAll(async () => {
  proxy = await startSlowProxy(s3Settings().endpoint, PART_DELAY_MS);
  kms = await startKms(dir.path);
});

afterAll(async () => {
  await proxy?.close();
  await kms?.double.close();
});

beforeEach(() => {
  proxy.partDelayMs = PART_DELAY_MS;
});

/** The put a backup host runs (through the proxy), with its one writing keyring. */
const putArgs = (file: string, key: string, stateDir: string, keyring: string[]) => [
  'put',
  file,
  url(key),
  ...keyring,
  ...s3Flags(proxy.endpoint),
  '--part-size',
  '5MiB',
  '--concurrency',
  '2',
  '--state-dir',
  stateDir,
  '--json',
];

/** What the host tries with what it holds: get (to a file and to stdout), verify, head. All fail; no plaintext anywhere. */
async function expectCannotRead(key: string, host: string, keyring: string[], code: number, pattern: RegExp) {
  const before = listDir(host);
  const out = join(host, 'restored.bin');
  expectOneLineError(await run(['get', url(key), out, ...keyring, ...s3Flags()], { env: kms.env }), code, pattern);
  const toStdout = await run(['get', url(key), '-', ...keyring, ...s3Flags()], { env: kms.env });
  expectOneLineError(toStdout, code, pattern);
  expect(toStdout.stdout).toHaveLength(0);
  const verify = await run(['verify', url(key), ...keyring, ...s3Flags()], { env: kms.env });
  expect(verify.code).toBe(code);
  expect(verify.stderr).toMatch(pattern);
  const head = await run(['head', url(key), ...keyring, ...s3Flags()], { env: kms.env });
  if (keyring.length > 0)
    expectOneLineError(head, code, pattern); // head with a keyring verifies: one unwrap
  else expect(head.stdout.toString()).toMatch(/^ {2}UNVERIFIED: no keyring/m); // without: only what metadata claims
  expect(listDir(host)).toEqual(before); // no output file, no temporary one
}

test('a host holding only the recipient: killed mid-upload, resumes, completes, cannot read; the identity holder can', async () => {
  // The restore side makes the identity; the host gets only the recipient printed.
  const restore = freshDir(dir.path, 'restore');
  const identityFile = join(restore, 'restore.key');
  const made = await run(['keygen', '--identity', identityFile]);
  expectOk(made);
  const recipient = made.stdout.toString().trim();
  expect(recipient).toMatch(/^es-pub1[02-9ac-hj-np-z]{58}$/);
  expect(statSync(identityFile).mode & 0o777).toBe(0o600);

  const host = freshDir(dir.path, 'host');
  const state = join(host, 'state');
  const file = join(host, 'backup.bin');
  const data = randomData(SIZE);
  writeFileSync(file, data);
  const key = 'write-only/recipient.bin';
  const args = putArgs(file, key, state, ['--recipient', recipient]);

  const killed = await interruptAfterParts(args, state, 2, 'SIGKILL');
  expect(killed.signal).toBe('SIGKILL');
  // The journal keeps the upload's data key, sealed under its own 0600 key file; both 0600, neither holds the recipient.
  const { file: journalFile, keyFile, journal } = theJournal(state);
  expect(statSync(journalFile).mode & 0o777).toBe(0o600);
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  expect(readFileSync(journalFile, 'utf8')).not.toContain(recipient);
  const token = JSON.parse(Buffer.from(journal.resumeToken, 'base64url').toString('utf8'));
  const header = fromDetachedHeader(token.h);
  expect(header.keyId).toBe(await RecipientKeyring.keyIdOf(recipient));
  // What is sealed is exactly the data key that the identity (and only it) unwraps from the object's key block.
  const reader = new RecipientKeyring({ identities: await readIdentityFile(identityFile) });
  const dataKey = await reader.unwrap(header, header.streamBytes);
  expect(openSealedDataKey(keyFile, journal).equals(Buffer.from(dataKey))).toBe(true);

  // Resuming under another keyring would give the object the old key block: refused before any request.
  const otherKeyring = join(host, 'other.json');
  expectOk(await run(['keygen', '-k', otherKeyring, '--id', 'other', '-q']));
  const journalBefore = readFileSync(journalFile);
  expectOneLineError(
    await run(putArgs(file, key, state, ['-k', otherKeyring])),
    EXIT.USAGE,
    /wraps its data key under "es-x25519-[\w-]{22}", not "other" \(the keyring given\): give the keyring it was started with to resume, or add --restart/,
  );
  expect(readFileSync(journalFile).equals(journalBefore)).toBe(true);

  // A write the kill cut between its temporary file and the rename leaves a copy of the journal behind.
  writeFileSync(`${journalFile}.0badf00d.tmp`, journalBefore, { mode: 0o600 });

  // The same command again: resumed from the journal (no unwrap), completed.
  proxy.partDelayMs = 0;
  const resumed = jsonOf<Record<string, number>>(await run(args));
  expect(resumed).toMatchObject({ plaintextBytes: SIZE, parts: PARTS });
  expect(resumed.partsResumed).toBeGreaterThanOrEqual(2);
  expect(resumed.partsResumed! + resumed.partsUploaded!).toBe(PARTS);
  expect(await listOpenUploads(bucket.client, bucket.name)).toEqual([]);
  // The journal key material is gone: journal, key file and any temporary copy deleted.
  expect(stateFiles(state)).toEqual([]);

  // The host cannot read what it wrote: every read unwraps, and a recipient unwraps nothing (exit 3).
  await expectCannotRead(
    key,
    host,
    ['--recipient', recipient],
    EXIT.KEYRING,
    /ES_UNKNOWN_KEY: this recipient keyring holds no identity: it can wrap data keys but not unwrap them/,
  );
  await expectCannotRead(key, host, [], EXIT.KEYRING, /no keyring: pass/);

  // The identity holder reads it back byte for byte, its header and recorded size authenticated.
  const restored = join(restore, 'restored.bin');
  expectOk(await run(['get', url(key), restored, '--identity', identityFile, ...s3Flags(), '-q']));
  expect(sha256(readFileSync(restored))).toBe(sha256(data));
  expect(jsonOf(await run(['head', url(key), '--identity', identityFile, ...s3Flags(), '--json']))).toMatchObject({
    verified: true,
    keyId: header.keyId,
    plaintextBytes: SIZE,
    sizeAuthenticated: true,
  });
});

test('a host that KMS allows Encrypt but not Decrypt: killed, resumes without a Decrypt, cannot read; a reader can', async () => {
  const { double } = kms;
  const kmsKey = double.createKey();
  double.deny(kmsKey, ['Decrypt']); // the backup host's permissions: kms:Encrypt only
  double.resetRequests();
  const host = freshDir(dir.path, 'kms-host');
  const state = join(host, 'state');
  const file = join(host, 'backup.bin');
  const data = randomData(SIZE);
  writeFileSync(file, data);
  const key = 'write-only/kms.bin';
  const keyring = ['--kms-key-id', kmsKey, ...kms.flags];
  const args = putArgs(file, key, state, keyring);

  const killed = await interruptAfterParts(args, state, 2, 'SIGKILL', { env: kms.env });
  expect(killed.signal).toBe('SIGKILL');
  proxy.partDelayMs = 0;
  const resumed = jsonOf<Record<string, number>>(await run(args, { env: kms.env }));
  expect(resumed.partsResumed).toBeGreaterThanOrEqual(2);
  expect(stateFiles(state)).toEqual([]);
  // One Encrypt for the upload; resuming asked KMS nothing.
  expect(double.calls().map((c) => c.operation)).toEqual(['Encrypt']);

  await expectCannotRead(key, host, keyring, EXIT.KEYRING, /ES_KMS_ACCESS_DENIED: KMS Decrypt with key/);

  double.allow(kmsKey); // a reader, allowed kms:Decrypt
  const restored = join(dir.path, 'kms-restored.bin');
  expectOk(await run(['get', url(key), restored, ...keyring, ...s3Flags(), '-q'], { env: kms.env }));
  expect(sha256(readFileSync(restored))).toBe(sha256(data));
});
