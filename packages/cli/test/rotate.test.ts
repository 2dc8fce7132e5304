/**
 * Key rotation end to end: objects put under one key, a new primary key added
 * with keygen --add, rotate re-wraps every object under it, and the objects
 * then read with a keyring holding only the new key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { useBucket } from '@encrypted-stream/test-support';
import { EXIT, expectOk, expectOneLineError, jsonOf, run } from './helpers/cli';
import { randomData, useTempDir } from './helpers/files';
import { s3Flags } from './helpers/s3';

const MiB = 1024 * 1024;
const dir = useTempDir('rotate');
const bucket = useBucket('rotate');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
const withKeyring = (keyring: string, args: string[]) => run([...args, '-k', keyring, ...s3Flags()]);

const objects = { 'backups/big.bin': randomData(6 * MiB + 5), 'notes/small.txt': Buffer.from('rotate me\n') };
let keyring: string;

async function raw(key: string) {
  const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), metadata: out.Metadata ?? {} };
}

async function expectReadable(keyringFile: string) {
  for (const [key, plaintext] of Object.entries(objects)) {
    const got = await withKeyring(keyringFile, ['get', url(key), '-']);
    expectOk(got);
    expect(got.stdout.equals(plaintext)).toBe(true);
  }
}

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'old-key']));
  writeFileSync(path('big.bin'), objects['backups/big.bin']);
  expectOk(
    await withKeyring(keyring, [
      'put',
      path('big.bin'),
      url('backups/big.bin'),
      '--part-size',
      '5MiB',
      '--state-dir',
      path('state'),
      '-q',
    ]),
  );
  expectOk(
    await run(['put', '-', url('notes/small.txt'), '-k', keyring, ...s3Flags()], { input: objects['notes/small.txt'] }),
  );
});

test('rotate re-wraps every object under the new primary key; only the new key is needed afterwards', async () => {
  const oldOnly = path('old-only.json');
  writeFileSync(oldOnly, readFileSync(keyring), { mode: 0o600 });
  const before = await raw('backups/big.bin');
  expect(before.metadata['es-k']).toBe('old-key');

  expectOk(await run(['keygen', '-k', keyring, '--add', '--id', 'new-key']));
  const rotated = jsonOf(await withKeyring(keyring, ['rotate', `s3://${bucket.name}/`, '--json']));
  expect(rotated).toEqual({
    bucket: bucket.name,
    prefix: '',
    primaryKeyId: 'new-key',
    keyringType: 'keyring',
    rotated: 2,
    alreadyCurrent: 0,
    notEncrypted: 0,
    failed: 0,
    failures: [],
  });

  // Metadata-only: the stored ciphertext is byte for byte the same, the key block changed.
  const after = await raw('backups/big.bin');
  expect(after.body.equals(before.body)).toBe(true);
  expect(after.metadata['es-h']).toBe(before.metadata['es-h']);
  expect(after.metadata['es-k']).toBe('new-key');
  expect(after.metadata['es-w']).not.toBe(before.metadata['es-w']);

  await expectReadable(keyring);

  // A keyring holding only the new key reads both objects.
  const full = JSON.parse(readFileSync(keyring, 'utf8'));
  const newOnly = path('new-only.json');
  writeFileSync(
    newOnly,
    JSON.stringify({ version: 1, primary: 'new-key', keys: { 'new-key': full.keys['new-key'] } }),
    {
      mode: 0o600,
    },
  );
  await expectReadable(newOnly);
  for (const key of Object.keys(objects)) {
    const head = jsonOf(await withKeyring(newOnly, ['head', url(key), '--json']));
    expect(head).toMatchObject({
      key,
      encrypted: true,
      keyId: 'new-key',
      plaintextBytes: objects[key as keyof typeof objects].length,
    });
  }

  // The old key alone no longer opens them.
  expectOneLineError(
    await withKeyring(oldOnly, ['get', url('notes/small.txt'), path('small.out')]),
    EXIT.KEYRING,
    /ES_UNKNOWN_KEY.*new-key/,
  );
  expectOk(await withKeyring(newOnly, ['verify', url('backups/big.bin'), url('notes/small.txt')]));
});

test('rotating again finds everything current; plaintext objects are counted, not touched', async () => {
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'notes/plain.txt', Body: 'plain' }));
  const again = jsonOf(await withKeyring(keyring, ['rotate', `s3://${bucket.name}/`, '--json']));
  expect(again).toMatchObject({ rotated: 0, alreadyCurrent: 2, notEncrypted: 1, failed: 0 });
  const prefixed = jsonOf(await withKeyring(keyring, ['rotate', url('notes/'), '--json']));
  expect(prefixed).toMatchObject({ prefix: 'notes/', rotated: 0, alreadyCurrent: 1, notEncrypted: 1, failed: 0 });
  expect((await raw('notes/plain.txt')).body.toString()).toBe('plain');
  const human = await withKeyring(keyring, ['rotate', `s3://${bucket.name}`]);
  expectOk(human);
  expect(human.stdout.toString()).toBe('rotated 0, already under "new-key" 2, not encrypted 1, failed 0\n');
});

test('rotate with a keyring that cannot open the objects fails them (exit 3) and changes nothing', async () => {
  const stranger = path('stranger.json');
  expectOk(await run(['keygen', '-k', stranger, '--id', 'stranger']));
  const before = await raw('notes/small.txt');
  const result = await withKeyring(stranger, ['rotate', url('notes/'), '--json']);
  expectOneLineError(result, EXIT.KEYRING, /1 object\(s\) could not be rotated/);
  expect(JSON.parse(result.stdout.toString())).toMatchObject({
    rotated: 0,
    notEncrypted: 1,
    failed: 1,
    failures: [{ key: 'notes/small.txt', error: expect.stringMatching(/^ES_UNKNOWN_KEY/) }],
  });
  expect((await raw('notes/small.txt')).metadata).toEqual(before.metadata);
});
