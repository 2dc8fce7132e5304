/**
 * The three keyrings through the built binary against the real S3 server and
 * the KMS test double (helpers/kms.ts; not AWS KMS): put and read with a KMS
 * key and with discovery, KMS refusing as a one-line error with its exit
 * code, and rotation between every pair of keyring types (local, KMS,
 * recipient) by metadata copy, each step readable with the new keyring alone
 * and no longer with the old one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { RecipientKeyring } from '@encrypted-stream/codec';
import { KmsKeyring } from '@encrypted-stream/kms';
import { encryptedClient, useBucket } from '@encrypted-stream/test-support';
import { type CliResult, EXIT, expectOk, expectOneLineError, jsonOf, run } from './helpers/cli';
import { listDir, randomData, sha256, useTempDir } from './helpers/files';
import { type CliKms, startKms, TEST_DOUBLE_ACCOUNT } from './helpers/kms';
import { s3Flags } from './helpers/s3';

const MiB = 1024 * 1024;
const dir = useTempDir('keyrings');
const bucket = useBucket('keyrings');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;

let kms: CliKms;
let keyA: string;
let keyB: string;

/** A run against the S3 server, with the KMS double reachable (its flags are added by `withKms`). */
const cli = (args: string[], input?: Buffer) => run([...args, ...s3Flags()], { env: kms.env, input });
const withKms = (...args: string[]) => [...args, ...kms.flags];

beforeAll(async () => {
  kms = await startKms(dir.path);
  keyA = kms.double.createKey();
  keyB = kms.double.createKey();
});

afterAll(async () => {
  await kms?.double.close();
});

/** Reads `key` to stdout with `keyring` (flags) and expects exactly `plaintext`. */
async function expectReads(key: string, plaintext: Buffer, keyring: string[]) {
  const got = await cli(['get', url(key), '-', ...keyring]);
  expectOk(got);
  expect(sha256(got.stdout)).toBe(sha256(plaintext));
}

/** Reading `key` with `keyring` fails with a key failure (exit 3), one line, and leaves no file. */
async function expectRefused(key: string, keyring: string[], pattern: RegExp) {
  const out = path(`refused-${Date.now()}`);
  expectOneLineError(await cli(['get', url(key), out, ...keyring]), EXIT.KEYRING, pattern);
  expect(listDir(dir.path).filter((name) => name.startsWith('refused-'))).toEqual([]);
}

async function stored(key: string) {
  const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), metadata: out.Metadata ?? {} };
}

describe('put and read with a KMS key', () => {
  const small = randomData(100_000);
  const large = randomData(6 * MiB + 7);

  beforeAll(async () => {
    writeFileSync(path('large.bin'), large);
  });

  test('put --kms-key-id: one Encrypt per object (one per multipart upload); reads: one Decrypt each', async () => {
    kms.double.resetRequests();
    expectOk(await cli(withKms('put', '-', url('kms/small'), '--kms-key-id', keyA), small));
    const state = ['--state-dir', path('state-kms')];
    expectOk(
      await cli(
        withKms('put', path('large.bin'), url('kms/large'), '--kms-key-id', keyA, '--part-size', '5MiB', ...state),
      ),
    );
    expect(kms.double.calls('Encrypt').map((c) => c.keyId)).toEqual([keyA, keyA]);
    expect(kms.double.calls('Decrypt')).toEqual([]);
    expect((await stored('kms/small')).metadata['es-k']).toBe(keyA);

    kms.double.resetRequests();
    await expectReads('kms/small', small, withKms('--kms-key-id', keyA));
    await expectReads('kms/large', large, withKms('--kms-key-id', keyA));
    expect(kms.double.calls('Decrypt').map((c) => c.keyId)).toEqual([keyA, keyA]);
    const head = jsonOf(await cli(withKms('head', url('kms/large'), '--kms-key-id', keyA, '--json')));
    expect(head).toMatchObject({ verified: true, keyId: keyA, plaintextBytes: large.length, sizeAuthenticated: true });
    expectOk(await cli(withKms('verify', url('kms/small'), url('kms/large'), '--kms-key-id', keyA)));
  });

  test('head and ls of an object bound to its location: one Decrypt each, though two contexts are tried', async () => {
    const writer = encryptedClient({
      keyring: new KmsKeyring({ client: kms.double.client(), primaryKeyArn: keyA }),
      context: 'location',
    });
    try {
      await writer.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'kms/bound', Body: small }));
    } finally {
      writer.client.destroy();
    }
    kms.double.resetRequests();
    const head = jsonOf(await cli(withKms('head', url('kms/bound'), '--kms-key-id', keyA, '--json')));
    expect(head).toMatchObject({ verified: true, context: 'location', keyId: keyA });
    expect(kms.double.calls('Decrypt')).toHaveLength(1);
    const listed = jsonOf(await cli(withKms('ls', url('kms/bound'), '--kms-key-id', keyA, '--json')));
    expect(listed).toMatchObject({
      verified: true,
      objects: [{ key: 'kms/bound', verified: true, context: 'location' }],
    });
    expect(kms.double.calls('Decrypt')).toHaveLength(2);
  });

  test('discovery: any key of an allowed account reads; another account is ES_UNKNOWN_KEY with no KMS request', async () => {
    await expectReads('kms/small', small, withKms('--kms-discovery-account', TEST_DOUBLE_ACCOUNT));
    await expectReads('kms/small', small, withKms('--kms-discovery-account', `aws:${TEST_DOUBLE_ACCOUNT}`));
    kms.double.resetRequests();
    await expectRefused(
      'kms/small',
      withKms('--kms-discovery-account', '444455556666'),
      /ES_UNKNOWN_KEY: .*does not accept key id/,
    );
    // Another key of the same account, named: not the object's, so not sent either.
    await expectRefused('kms/small', withKms('--kms-key-id', keyB), /ES_UNKNOWN_KEY/);
    expect(kms.double.calls('Decrypt')).toEqual([]);
    // No KMS option at all, only a local keyring: the key id says which keyring it needs.
    const local = path('kms-local.json');
    expectOk(await run(['keygen', '-k', local, '-q']));
    await expectRefused(
      'kms/small',
      ['-k', local],
      /ES_UNKNOWN_KEY: key id "arn:aws:kms:[^"]+" is an AWS KMS key: pass --kms-key-id ARN or --kms-discovery-account ID/,
    );
  });

  test('KMS refusing: access denied and a disabled key exit 3, throttling exits 5; one line, no plaintext', async () => {
    const refusedKey = kms.double.createKey();
    expectOk(await cli(withKms('put', '-', url('kms/refused'), '--kms-key-id', refusedKey), small));
    kms.double.deny(refusedKey, ['Decrypt']);
    await expectRefused(
      'kms/refused',
      withKms('--kms-key-id', refusedKey),
      /^encrypted-stream: ES_KMS_ACCESS_DENIED: KMS Decrypt with key arn:\S+ failed: AccessDeniedException .*not authorized to perform: kms:Decrypt/,
    );
    const verify = await cli(withKms('verify', url('kms/refused'), '--kms-key-id', refusedKey));
    expect(verify.code).toBe(EXIT.KEYRING);
    expect(verify.stdout.toString()).toMatch(/^FAIL {2}s3:\/\/\S+ {2}ES_KMS_ACCESS_DENIED/);
    kms.double.deny(refusedKey, ['Encrypt']);
    expectOneLineError(
      await cli(withKms('put', '-', url('kms/never'), '--kms-key-id', refusedKey), small),
      EXIT.KEYRING,
      /ES_KMS_ACCESS_DENIED: KMS Encrypt with key/,
    );
    await expect(
      bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'kms/never' })),
    ).rejects.toThrow();
    kms.double.allow(refusedKey);
    kms.double.disableKey(refusedKey);
    await expectRefused('kms/refused', withKms('--kms-key-id', refusedKey), /ES_KMS_KEY_DISABLED/);
    kms.double.enableKey(refusedKey);
    kms.double.throttle(Number.POSITIVE_INFINITY);
    try {
      const throttled = await cli(
        withKms('get', url('kms/refused'), path('throttled.out'), '--kms-key-id', refusedKey),
      );
      expectOneLineError(throttled, EXIT.S3, /ES_KMS_THROTTLED/);
    } finally {
      kms.double.stopThrottling();
    }
    await expectReads('kms/refused', small, withKms('--kms-key-id', refusedKey));
  });
});

describe('rotation between keyring types, by metadata copy', () => {
  const objects = { 'rot/large': randomData(6 * MiB + 3), 'rot/small': randomData(1000) };
  let firstHeader: string;
  let firstBody: Buffer;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    for (const name of ['local1', 'local2']) {
      files[name] = path(`${name}.json`);
      expectOk(await run(['keygen', '-k', files[name]!, '--id', name, '-q']));
    }
    for (const name of ['id1', 'id2']) {
      files[name] = path(`${name}.key`);
      const made = await run(['keygen', '--identity', files[name]!]);
      expectOk(made);
      files[`${name}.recipient`] = made.stdout.toString().trim();
    }
    writeFileSync(path('rot-large.bin'), objects['rot/large']);
    const state = ['--state-dir', path('state-rot')];
    expectOk(await cli(['put', path('rot-large.bin'), url('rot/large'), '-k', files.local1!, ...state, '-q']));
    expectOk(await cli(['put', '-', url('rot/small'), '-k', files.local1!], objects['rot/small']));
    ({
      body: firstBody,
      metadata: { 'es-h': firstHeader = '' },
    } = await stored('rot/large'));
  });

  /** One rotation step: `rotate` with `args`, every object then under `keyId`, read with `reader` alone, refused with `old`. */
  async function step(args: string[], keyId: string, type: string, reader: string[], old: string[]) {
    const result: CliResult = await cli(['rotate', `s3://${bucket.name}/rot/`, ...args, '--json']);
    expect(jsonOf(result)).toMatchObject({ primaryKeyId: keyId, keyringType: type, rotated: 2, failed: 0 });
    for (const [key, plaintext] of Object.entries(objects)) {
      expect((await stored(key)).metadata['es-k']).toBe(keyId);
      await expectReads(key, plaintext, reader);
    }
    await expectRefused('rot/small', old, /ES_UNKNOWN_KEY/);
  }

  test('local → KMS A → KMS B → local → recipient → new recipient → KMS A; then nothing left to do', async () => {
    const [local1, local2, id1, id2] = ['local1', 'local2', 'id1', 'id2'].map((name) => files[name] as string) as [
      string,
      string,
      string,
      string,
    ];
    const r1 = files['id1.recipient'] as string;
    const r2 = files['id2.recipient'] as string;
    // local → KMS: the keyring file reads, the KMS key wraps.
    await step(withKms('-k', local1, '--kms-key-id', keyA), keyA, 'kms', withKms('--kms-key-id', keyA), ['-k', local1]);
    // KMS key A → B: the first --kms-key-id wraps, the others read.
    await step(
      withKms('--kms-key-id', keyB, '--kms-key-id', keyA),
      keyB,
      'kms',
      withKms('--kms-key-id', keyB),
      withKms('--kms-key-id', keyA),
    );
    // KMS → local: with a KMS key given, the keyring file wraps only when --to says so.
    await step(
      withKms('-k', local2, '--kms-key-id', keyB, '--to', 'keyring'),
      'local2',
      'keyring',
      ['-k', local2],
      withKms('--kms-key-id', keyB),
    );
    // local → recipient.
    await step(['-k', local2, '--recipient', r1], await keyIdOf(r1), 'recipient', ['--identity', id1], ['-k', local2]);
    // recipient → new recipient: the old identity reads, the new recipient wraps.
    await step(
      ['--identity', id1, '--recipient', r2],
      await keyIdOf(r2),
      'recipient',
      ['--identity', id2],
      ['--identity', id1],
    );
    // recipient → KMS.
    await step(withKms('--identity', id2, '--kms-key-id', keyA), keyA, 'kms', withKms('--kms-key-id', keyA), [
      '--identity',
      id2,
    ]);

    // Metadata only: the stored ciphertext and stream header never changed.
    const last = await stored('rot/large');
    expect(last.body.equals(firstBody)).toBe(true);
    expect(last.metadata['es-h']).toBe(firstHeader);
    // Everything current: counted without a single KMS request (no unwrap, no wrap).
    kms.double.resetRequests();
    const again = jsonOf(await cli(['rotate', `s3://${bucket.name}/rot/`, ...withKms('--kms-key-id', keyA), '--json']));
    expect(again).toMatchObject({ rotated: 0, alreadyCurrent: 2, failed: 0 });
    expect(kms.double.calls()).toEqual([]);
  });
});

/** The key id of every object wrapped to `recipient` (what head shows), from the codec. */
const keyIdOf = (recipient: string): Promise<string> => RecipientKeyring.keyIdOf(recipient);
