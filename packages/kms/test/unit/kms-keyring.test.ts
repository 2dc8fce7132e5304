/**
 * KmsKeyring against the KMS test double (a real KMSClient, SigV4-signed
 * requests over HTTP): wrapping, unwrapping, the encryption context, key
 * selection, discovery, and every KMS failure as a typed error that carries no
 * key material.
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { EncryptedStreamError, ErrorCode, KeyError, LocalKeyring } from '@encrypted-stream/codec';
import { createStreamCipher, openStreamCipher } from '@encrypted-stream/codec/low-level';
import {
  KmsTestDouble,
  TEST_DOUBLE_ACCOUNT,
  TEST_DOUBLE_CREDENTIALS,
} from '@encrypted-stream/test-support/kms-test-double';
import {
  KMS_CONTEXT_HEADER_NAME,
  KMS_CONTEXT_PURPOSE,
  KMS_CONTEXT_PURPOSE_NAME,
  KmsErrorCode,
  KmsKeyring,
  KmsKeyringError,
  kmsEncryptionContext,
  MAX_KMS_WRAPPED_KEY_LENGTH,
  parseKmsKeyArn,
} from '../../src';
import { logKmsRequests } from '../helpers/backends';

let double: KmsTestDouble;
let keyA: string;
let keyB: string;
let keyOtherAccount: string;
const clients: KMSClient[] = [];
/** Every error a test provoked, checked for key material at the end. */
const provoked: { error: unknown; secrets: Uint8Array[] }[] = [];

beforeAll(async () => {
  double = await KmsTestDouble.start();
  keyA = double.createKey();
  keyB = double.createKey();
  keyOtherAccount = double.createKey({ account: '444455556666' });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await double.close();
});

function kmsClient(maxAttempts = 3): KMSClient {
  const c = double.client({ maxAttempts });
  clients.push(c);
  return c;
}

function header(fill?: number): Uint8Array {
  // A real stream header, so the codec's own checks run too when used with openStreamCipher.
  const h = fill === undefined ? randomBytes(96) : Buffer.alloc(96, fill);
  return new Uint8Array(h);
}

/** Awaits a failure; records it for the key-material check. */
async function failure(promise: Promise<unknown>, secrets: Uint8Array[] = []): Promise<EncryptedStreamError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  provoked.push({ error, secrets });
  if (!(error instanceof EncryptedStreamError)) throw error;
  return error;
}

describe('key ARNs and options', () => {
  test('only key ARNs of at most 200 characters parse', () => {
    expect(parseKmsKeyArn(keyA)).toMatchObject({
      partition: 'aws',
      region: 'us-east-1',
      accountId: TEST_DOUBLE_ACCOUNT,
    });
    expect(
      parseKmsKeyArn('arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef'),
    ).toMatchObject({ partition: 'aws-us-gov', keyId: 'mrk-0123456789abcdef0123456789abcdef' });
    for (const bad of [
      'alias/backups',
      'arn:aws:kms:us-east-1:111122223333:alias/backups',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:s3:::bucket',
      'arn:aws:kms:us-east-1:11112222333:key/abc',
      `arn:aws:kms:us-east-1:111122223333:key/${'a'.repeat(128)}x`,
      'arn:aws:kms:us-east-1:111122223333:key/abc ',
      `arn:aws:kms:us-east-1:111122223333:key/${'a'.repeat(160)}`, // 201 characters
      42,
    ]) {
      expect(parseKmsKeyArn(bad)).toBeUndefined();
    }
  });

  test('argument mistakes are TypeError/RangeError', () => {
    const client = kmsClient();
    expect(() => new KmsKeyring(undefined as never)).toThrow(TypeError);
    expect(() => new KmsKeyring({ client: {} as never, primaryKeyArn: keyA })).toThrow(TypeError);
    expect(() => new KmsKeyring({ client })).toThrow(RangeError);
    expect(() => new KmsKeyring({ client, primaryKeyArn: 'alias/backups' })).toThrow(RangeError);
    expect(() => new KmsKeyring({ client, keyArns: [keyA, 'nope'] })).toThrow(RangeError);
    expect(() => new KmsKeyring({ client, keyArns: keyA as never })).toThrow(TypeError);
    expect(() => KmsKeyring.discovery(client, { partition: 'aws', accountIds: [] })).toThrow(RangeError);
    expect(() => KmsKeyring.discovery(client, { partition: 'aws', accountIds: ['1234'] })).toThrow(RangeError);
    expect(() => KmsKeyring.discovery(client, { partition: 'AWS', accountIds: [TEST_DOUBLE_ACCOUNT] })).toThrow(
      RangeError,
    );
    expect(() => new KmsKeyring({ client, primaryKeyArn: keyA, grantTokens: [''] })).toThrow(TypeError);
  });

  test('the primary key and the other keys', () => {
    const keyring = new KmsKeyring({ client: kmsClient(), primaryKeyArn: keyA, keyArns: [keyB] });
    expect([keyring.primaryKeyArn, keyring.keyArns]).toEqual([keyA, [keyA, keyB]]);
    const rotated = keyring.withPrimaryKey(keyB);
    expect([rotated.primaryKeyArn, rotated.keyArns]).toEqual([keyB, [keyB, keyA]]);
    expect([rotated.accepts(keyA), rotated.accepts(keyOtherAccount)]).toEqual([true, false]);
  });
});

describe('the encryption context (FORMAT.md §6)', () => {
  test('is exactly { es-purpose, es-header: base64url(SHA-256(header)) }', async () => {
    const h = new Uint8Array(96).map((_, i) => i);
    const digest = createHash('sha256').update(h).digest('base64url');
    expect(await kmsEncryptionContext(h)).toEqual({
      'es-purpose': 'encrypted-stream v1 kms wrap',
      'es-header': digest,
    });
    expect([KMS_CONTEXT_PURPOSE_NAME, KMS_CONTEXT_PURPOSE, KMS_CONTEXT_HEADER_NAME]).toEqual([
      'es-purpose',
      'encrypted-stream v1 kms wrap',
      'es-header',
    ]);
    // Known answer: the header 00 01 02 … 5f.
    expect(digest).toBe('CDWbEI-lZ_Xc8xn6NDTaarvB1ZX0JjcmZkR_Ccxah9w');
    await expect(kmsEncryptionContext(new Uint8Array(95))).rejects.toThrow(RangeError);
  });

  test('is what wrap sends to KMS, with the key ARN and SYMMETRIC_DEFAULT', async () => {
    const keyring = new KmsKeyring({ client: kmsClient(), primaryKeyArn: keyA });
    const h = header();
    double.resetRequests();
    const wrapped = await keyring.wrap(new Uint8Array(32).fill(3), h);
    const [call] = double.calls();
    expect(call).toMatchObject({ operation: 'Encrypt', keyId: keyA, status: 200 });
    expect(call?.encryptionContext).toEqual(await kmsEncryptionContext(h));
    expect(wrapped.keyId).toBe(keyA);
    expect(wrapped.wrappedKey.length).toBe(184);
  });
});

describe('wrap and unwrap', () => {
  test('round trip: one Encrypt, one Decrypt', async () => {
    const client = kmsClient();
    const log = logKmsRequests(client);
    const keyring = new KmsKeyring({ client, primaryKeyArn: keyA });
    const dataKey = new Uint8Array(randomBytes(32));
    const h = header();
    const wrapped = await keyring.wrap(dataKey, h);
    expect(await keyring.unwrap(wrapped, h)).toEqual(dataKey);
    expect(log.operations).toEqual(['Encrypt', 'Decrypt']);
  });

  test('through the codec: createStreamCipher / openStreamCipher', async () => {
    const keyring = new KmsKeyring({ client: kmsClient(), primaryKeyArn: keyA });
    const cipher = await createStreamCipher({ keyring, context: { bucket: 'b', key: 'k' } });
    const opened = await openStreamCipher(cipher.header, { keyring, context: { bucket: 'b', key: 'k' } });
    expect(opened.header.keyId).toBe(keyA);
    const otherContext = failure(openStreamCipher(cipher.header, { keyring, context: { bucket: 'b', key: 'x' } }));
    expect((await otherContext).code).toBe(ErrorCode.CONTEXT_MISMATCH);
  });

  test('a key block moved to another stream (another header) is ES_KEY_UNWRAP_FAILED', async () => {
    const keyring = new KmsKeyring({ client: kmsClient(), primaryKeyArn: keyA });
    const dataKey = new Uint8Array(randomBytes(32));
    const h = header();
    const wrapped = await keyring.wrap(dataKey, h);
    const moved = header();
    const oneBit = Uint8Array.from(h);
    oneBit[40] = (oneBit[40] as number) ^ 0x80;
    for (const other of [moved, oneBit]) {
      const e = await failure(keyring.unwrap(wrapped, other), [dataKey]);
      expect([e.code, e instanceof KeyError]).toEqual([ErrorCode.KEY_UNWRAP_FAILED, true]);
    }
  });

  test('a tampered wrapped key is ES_KEY_UNWRAP_FAILED', async () => {
    const keyring = new KmsKeyring({ client: kmsClient(), primaryKeyArn: keyA });
    const dataKey = new Uint8Array(randomBytes(32));
    const h = header();
    const wrapped = await keyring.wrap(dataKey, h);
    for (const at of [0, 60, wrapped.wrappedKey.length - 1]) {
      const bad = Uint8Array.from(wrapped.wrappedKey);
      bad[at] = (bad[at] as number) ^ 1;
      const e = await failure(keyring.unwrap({ keyId: keyA, wrappedKey: bad }, h), [dataKey]);
      expect(e.code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    }
    const short = await failure(keyring.unwrap({ keyId: keyA, wrappedKey: wrapped.wrappedKey.subarray(0, 20) }, h));
    expect(short.code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test("another key's ARN on this key's blob (both held) is ES_KEY_UNWRAP_FAILED: Decrypt names the key", async () => {
    const client = kmsClient();
    const log = logKmsRequests(client);
    const keyring = new KmsKeyring({ client, primaryKeyArn: keyA, keyArns: [keyB] });
    const h = header();
    const wrapped = await keyring.wrap(new Uint8Array(32).fill(1), h);
    log.reset();
    const e = await failure(keyring.unwrap({ keyId: keyB, wrappedKey: wrapped.wrappedKey }, h));
    expect(e.code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    expect(e.message).toContain('IncorrectKeyException');
    expect(log.operations).toEqual(['Decrypt']);
  });

  test('a key the keyring does not hold is ES_UNKNOWN_KEY without a KMS request', async () => {
    const client = kmsClient();
    const log = logKmsRequests(client);
    const writer = new KmsKeyring({ client, primaryKeyArn: keyA });
    const reader = new KmsKeyring({ client, primaryKeyArn: keyB });
    const h = header();
    const wrapped = await writer.wrap(new Uint8Array(32), h);
    log.reset();
    const e = await failure(reader.unwrap(wrapped, h));
    expect([e.code, e instanceof KeyError]).toEqual([ErrorCode.UNKNOWN_KEY, true]);
    expect(log.operations).toEqual([]);
  });

  test('a listed key KMS does not have (deleted) is ES_UNKNOWN_KEY after one request', async () => {
    const gone = `arn:aws:kms:us-east-1:${TEST_DOUBLE_ACCOUNT}:key/00000000-0000-0000-0000-000000000000`;
    const client = kmsClient();
    const log = logKmsRequests(client);
    const keyring = new KmsKeyring({ client, keyArns: [gone] });
    const e = await failure(keyring.unwrap({ keyId: gone, wrappedKey: new Uint8Array(184) }, header()));
    expect([e.code, log.operations]).toEqual([ErrorCode.UNKNOWN_KEY, ['Decrypt']]);
    const writer = new KmsKeyring({ client, primaryKeyArn: gone });
    expect((await failure(writer.wrap(new Uint8Array(32), header()))).code).toBe(ErrorCode.UNKNOWN_KEY);
  });

  test('a key of another region than the client is refused without a request', async () => {
    const client = kmsClient();
    const log = logKmsRequests(client);
    const elsewhere = keyA.replace(':us-east-1:', ':eu-west-1:');
    const reader = new KmsKeyring({ client, keyArns: [elsewhere] });
    const e = await failure(reader.unwrap({ keyId: elsewhere, wrappedKey: new Uint8Array(184) }, header()));
    expect(e.code).toBe(ErrorCode.UNKNOWN_KEY);
    expect(e.message).toContain('eu-west-1');
    const writer = new KmsKeyring({ client, primaryKeyArn: elsewhere });
    expect((await failure(writer.wrap(new Uint8Array(32), header()))).code).toBe(KmsErrorCode.FAILED);
    expect(log.operations).toEqual([]);
  });

  test('a keyring without a primary key does not wrap (TypeError); bad arguments are RangeError', async () => {
    const reader = new KmsKeyring({ client: kmsClient(), keyArns: [keyA] });
    await expect(reader.wrap(new Uint8Array(32), header())).rejects.toThrow(TypeError);
    const writer = new KmsKeyring({ client: kmsClient(), primaryKeyArn: keyA });
    await expect(writer.wrap(new Uint8Array(16), header())).rejects.toThrow(RangeError);
    await expect(writer.wrap(new Uint8Array(32), new Uint8Array(95))).rejects.toThrow(RangeError);
  });

  test('rotation: withPrimaryKey wraps with the new key; both unwrap; rewrapping from a LocalKeyring', async () => {
    const client = kmsClient();
    const old = new KmsKeyring({ client, primaryKeyArn: keyA });
    const h = header();
    const dataKey = new Uint8Array(randomBytes(32));
    const underA = await old.wrap(dataKey, h);
    const rotated = old.withPrimaryKey(keyB);
    const underB = await rotated.wrap(dataKey, h);
    expect(underB.keyId).toBe(keyB);
    expect(await rotated.unwrap(underA, h)).toEqual(dataKey);
    expect(await rotated.unwrap(underB, h)).toEqual(dataKey);
    // From a local keyring to KMS: what rotateObjectKey does with { from, to }.
    const local = LocalKeyring.single('local-2026', new Uint8Array(randomBytes(32)));
    const fromLocal = await rotated.wrap(await local.unwrap(await local.wrap(dataKey, h), h), h);
    expect(await rotated.unwrap(fromLocal, h)).toEqual(dataKey);
  });
});

describe('discovery mode', () => {
  test('unwraps with any key of the allowed accounts; any other key id is ES_UNKNOWN_KEY without a request', async () => {
    const client = kmsClient();
    const log = logKmsRequests(client);
    const writerA = new KmsKeyring({ client, primaryKeyArn: keyA });
    const writerOther = new KmsKeyring({ client, primaryKeyArn: keyOtherAccount });
    const discovery = KmsKeyring.discovery(client, { partition: 'aws', accountIds: [TEST_DOUBLE_ACCOUNT] });
    const h = header();
    const dataKey = new Uint8Array(randomBytes(32));
    const fromA = await writerA.wrap(dataKey, h);
    const fromOther = await writerOther.wrap(dataKey, h);
    log.reset();
    expect(await discovery.unwrap(fromA, h)).toEqual(dataKey);
    expect(log.operations).toEqual(['Decrypt']);
    log.reset();
    for (const keyId of [
      keyOtherAccount,
      keyA.replace('arn:aws:', 'arn:aws-cn:'),
      keyA.replace(':key/', ':alias/'),
      `arn:aws:kms:us-east-1:${TEST_DOUBLE_ACCOUNT}:key/x/../y`,
      'local-2026',
    ]) {
      const e = await failure(discovery.unwrap({ keyId, wrappedKey: fromOther.wrappedKey }, h), [dataKey]);
      expect([keyId, e.code]).toEqual([keyId, ErrorCode.UNKNOWN_KEY]);
    }
    expect(log.operations).toEqual([]);
    await expect(discovery.wrap(dataKey, h)).rejects.toThrow(TypeError);
  });

  test('listed keys and a discovery filter together', async () => {
    const client = kmsClient();
    const keyring = new KmsKeyring({
      client,
      primaryKeyArn: keyA,
      discovery: { partition: 'aws', accountIds: ['444455556666'] },
    });
    const h = header();
    const fromOther = await new KmsKeyring({ client, primaryKeyArn: keyOtherAccount }).wrap(new Uint8Array(32), h);
    expect(await keyring.unwrap(fromOther, h)).toEqual(new Uint8Array(32));
    expect(keyring.accepts(keyA) && keyring.accepts(keyOtherAccount)).toBe(true);
  });
});

describe('KMS failures are typed', () => {
  test('access denied: ES_KMS_ACCESS_DENIED with the operation, key, KMS error, request id; not retried', async () => {
    const key = double.createKey();
    const client = kmsClient();
    const log = logKmsRequests(client);
    const keyring = new KmsKeyring({ client, primaryKeyArn: key });
    const h = header();
    const dataKey = new Uint8Array(randomBytes(32));
    const wrapped = await keyring.wrap(dataKey, h);
    double.deny(key, ['Decrypt']);
    log.reset();
    const e = await failure(keyring.unwrap(wrapped, h), [dataKey]);
    expect(e).toBeInstanceOf(KmsKeyringError);
    expect(e).toMatchObject({
      code: KmsErrorCode.ACCESS_DENIED,
      operation: 'Decrypt',
      keyArn: key,
      kmsErrorName: 'AccessDeniedException',
      httpStatusCode: 400,
      attempts: 1,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(e.message).toContain('not authorized to perform: kms:Decrypt');
    expect(log.operations).toEqual(['Decrypt']);
    double.deny(key, ['Encrypt']);
    expect((await failure(keyring.wrap(dataKey, h), [dataKey])).code).toBe(KmsErrorCode.ACCESS_DENIED);
  });

  test('bad credentials are ES_KMS_ACCESS_DENIED', async () => {
    for (const credentials of [
      { accessKeyId: TEST_DOUBLE_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' },
      { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
    ]) {
      const client = double.client({ credentials });
      clients.push(client);
      const e = await failure(new KmsKeyring({ client, primaryKeyArn: keyA }).wrap(new Uint8Array(32), header()));
      expect(e.code).toBe(KmsErrorCode.ACCESS_DENIED);
    }
  });

  test('disabled key: ES_KMS_KEY_DISABLED for wrap and unwrap; enabled again, it works', async () => {
    const key = double.createKey();
    const keyring = new KmsKeyring({ client: kmsClient(), primaryKeyArn: key });
    const h = header();
    const dataKey = new Uint8Array(randomBytes(32));
    const wrapped = await keyring.wrap(dataKey, h);
    double.disableKey(key);
    expect((await failure(keyring.unwrap(wrapped, h), [dataKey])).code).toBe(KmsErrorCode.KEY_DISABLED);
    expect((await failure(keyring.wrap(dataKey, h), [dataKey])).code).toBe(KmsErrorCode.KEY_DISABLED);
    double.enableKey(key);
    expect(await keyring.unwrap(wrapped, h)).toEqual(dataKey);
  });

  test('pending deletion: ES_KMS_KEY_STATE; an RSA key: ES_KMS_INVALID_KEY', async () => {
    const key = double.createKey();
    double.scheduleKeyDeletion(key);
    const h = header();
    const client = kmsClient();
    expect((await failure(new KmsKeyring({ client, primaryKeyArn: key }).wrap(new Uint8Array(32), h))).code).toBe(
      KmsErrorCode.KEY_STATE,
    );
    const rsa = double.createKey({ keySpec: 'RSA_2048' });
    expect((await failure(new KmsKeyring({ client, primaryKeyArn: rsa }).wrap(new Uint8Array(32), h))).code).toBe(
      KmsErrorCode.INVALID_KEY,
    );
  });

  test('throttled after the retries: ES_KMS_THROTTLED; throttled once: the retry succeeds', async () => {
    const client = kmsClient(3);
    const log = logKmsRequests(client);
    const keyring = new KmsKeyring({ client, primaryKeyArn: keyA });
    const h = header();
    const dataKey = new Uint8Array(randomBytes(32));
    const wrapped = await keyring.wrap(dataKey, h);
    log.reset();
    double.throttle(Number.POSITIVE_INFINITY);
    try {
      const e = await failure(keyring.unwrap(wrapped, h), [dataKey]);
      expect(e).toMatchObject({ code: KmsErrorCode.THROTTLED, attempts: 3, kmsErrorName: 'ThrottlingException' });
      expect(e.message).toContain('after 3 attempts');
      expect(log.operations).toEqual(['Decrypt', 'Decrypt', 'Decrypt']);
    } finally {
      double.stopThrottling();
    }
    log.reset();
    double.throttle(1);
    expect(await keyring.unwrap(wrapped, h)).toEqual(dataKey);
    expect(log.operations).toEqual(['Decrypt', 'Decrypt']);
  });

  test('KMS internal errors and a KMS that does not answer: ES_KMS_UNAVAILABLE', async () => {
    const client = kmsClient(2);
    const keyring = new KmsKeyring({ client, primaryKeyArn: keyA });
    double.failInternally(Number.POSITIVE_INFINITY);
    try {
      const e = await failure(keyring.wrap(new Uint8Array(32), header()));
      expect(e).toMatchObject({ code: KmsErrorCode.UNAVAILABLE, httpStatusCode: 500, attempts: 2 });
    } finally {
      double.failInternally(0);
    }
    const closed = await KmsTestDouble.start();
    const unreachable = closed.client({ maxAttempts: 1 });
    clients.push(unreachable);
    await closed.close();
    const e = await failure(
      new KmsKeyring({ client: unreachable, primaryKeyArn: keyA }).wrap(new Uint8Array(32), header()),
    );
    expect(e.code).toBe(KmsErrorCode.UNAVAILABLE);
  });

  test('a ciphertext longer than S3 metadata holds is ES_KMS_CIPHERTEXT_TOO_LARGE', async () => {
    const big = double.createKey({ extraCiphertextBytes: MAX_KMS_WRAPPED_KEY_LENGTH - 184 + 1 });
    const fits = double.createKey({ extraCiphertextBytes: MAX_KMS_WRAPPED_KEY_LENGTH - 184 });
    const client = kmsClient();
    const h = header();
    const wrapped = await new KmsKeyring({ client, primaryKeyArn: fits }).wrap(new Uint8Array(32), h);
    expect(wrapped.wrappedKey.length).toBe(189);
    const e = await failure(new KmsKeyring({ client, primaryKeyArn: big }).wrap(new Uint8Array(32), h));
    expect(e.code).toBe(KmsErrorCode.CIPHERTEXT_TOO_LARGE);
    expect(e.message).toContain('190-byte');
  });

  test('answers that do not fit: another key in Encrypt, a short plaintext from Decrypt', async () => {
    const fake = (answer: object) =>
      ({ send: async () => answer, config: { region: async () => 'us-east-1' } }) as unknown as KMSClient;
    const h = header();
    const e1 = await failure(
      new KmsKeyring({ client: fake({ KeyId: keyB, CiphertextBlob: new Uint8Array(184) }), primaryKeyArn: keyA }).wrap(
        new Uint8Array(32),
        h,
      ),
    );
    expect(e1.code).toBe(KmsErrorCode.FAILED);
    const e2 = await failure(
      new KmsKeyring({ client: fake({ KeyId: keyA, Plaintext: new Uint8Array(16) }), keyArns: [keyA] }).unwrap(
        { keyId: keyA, wrappedKey: new Uint8Array(184) },
        h,
      ),
    );
    expect(e2.code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    const e3 = await failure(
      new KmsKeyring({ client: fake({ KeyId: keyB, Plaintext: new Uint8Array(32) }), keyArns: [keyA] }).unwrap(
        { keyId: keyA, wrappedKey: new Uint8Array(184) },
        h,
      ),
    );
    expect(e3.code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test('KMS error types map to stable codes', async () => {
    const cases: [string, number | undefined, string][] = [
      ['AccessDeniedException', 400, KmsErrorCode.ACCESS_DENIED],
      ['UnrecognizedClientException', 400, KmsErrorCode.ACCESS_DENIED],
      ['ExpiredTokenException', 400, KmsErrorCode.ACCESS_DENIED],
      ['DisabledException', 400, KmsErrorCode.KEY_DISABLED],
      ['KMSInvalidStateException', 400, KmsErrorCode.KEY_STATE],
      ['ThrottlingException', 400, KmsErrorCode.THROTTLED],
      ['SomethingNew', 429, KmsErrorCode.THROTTLED],
      ['KMSInternalException', 500, KmsErrorCode.UNAVAILABLE],
      ['DependencyTimeoutException', 503, KmsErrorCode.UNAVAILABLE],
      ['KeyUnavailableException', 500, KmsErrorCode.UNAVAILABLE],
      ['SomethingNew', 502, KmsErrorCode.UNAVAILABLE],
      ['InvalidKeyUsageException', 400, KmsErrorCode.INVALID_KEY],
      ['ValidationException', 400, KmsErrorCode.FAILED],
      ['NotFoundException', 400, ErrorCode.UNKNOWN_KEY],
      ['InvalidCiphertextException', 400, ErrorCode.KEY_UNWRAP_FAILED],
      ['IncorrectKeyException', 400, ErrorCode.KEY_UNWRAP_FAILED],
    ];
    for (const [name, status, code] of cases) {
      const thrown = Object.assign(new Error('KMS said no'), {
        name,
        $metadata: { httpStatusCode: status, attempts: 1 },
      });
      const client = {
        send: async () => {
          throw thrown;
        },
        config: { region: async () => 'us-east-1' },
      } as unknown as KMSClient;
      const keyring = new KmsKeyring({ client, primaryKeyArn: keyA });
      const e = await failure(keyring.unwrap({ keyId: keyA, wrappedKey: new Uint8Array(184) }, header()));
      expect([name, status, e.code]).toEqual([name, status, code]);
    }
    const network = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const client = {
      send: async () => Promise.reject(network),
      config: { region: 'us-east-1' },
    } as unknown as KMSClient;
    const e = await failure(new KmsKeyring({ client, primaryKeyArn: keyA }).wrap(new Uint8Array(32), header()));
    expect(e.code).toBe(KmsErrorCode.UNAVAILABLE);
    const message = Object.assign(new Error('\u001b[31mred\u202e text'), { name: 'AccessDeniedException' });
    const printing = { send: async () => Promise.reject(message), config: {} } as unknown as KMSClient;
    const e2 = await failure(
      new KmsKeyring({ client: printing, primaryKeyArn: keyA }).wrap(new Uint8Array(32), header()),
    );
    expect(e2.message).not.toMatch(/[\u001b\u202e]/);
  });
});

describe('checkPrimaryKey (DescribeKey)', () => {
  test('describes a usable key; refuses disabled, non-symmetric and denied keys', async () => {
    const client = kmsClient();
    const d = await new KmsKeyring({ client, primaryKeyArn: keyA }).checkPrimaryKey();
    expect(d).toMatchObject({
      arn: keyA,
      keyState: 'Enabled',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
    });
    const disabled = double.createKey();
    double.disableKey(disabled);
    const rsa = double.createKey({ keySpec: 'RSA_2048' });
    const denied = double.createKey();
    double.deny(denied, ['DescribeKey']);
    const codes = [];
    for (const key of [disabled, rsa, denied]) {
      codes.push((await failure(new KmsKeyring({ client, primaryKeyArn: key }).checkPrimaryKey())).code);
    }
    expect(codes).toEqual([KmsErrorCode.KEY_DISABLED, KmsErrorCode.INVALID_KEY, KmsErrorCode.ACCESS_DENIED]);
  });
});

describe('an outsider with KMS access and FORMAT.md', () => {
  test('unwraps with Decrypt and the documented context; the key matches the stream commitment', async () => {
    const client = kmsClient();
    const keyring = new KmsKeyring({ client, primaryKeyArn: keyA });
    const cipher = await createStreamCipher({ keyring });
    const h = cipher.header.streamBytes;
    const context = {
      'es-purpose': 'encrypted-stream v1 kms wrap',
      'es-header': createHash('sha256').update(h).digest('base64url'),
    };
    const out = await client.send(
      new DecryptCommand({
        KeyId: cipher.header.keyId,
        CiphertextBlob: cipher.header.wrappedKey,
        EncryptionContext: context,
      }),
    );
    const dk = Buffer.from(out.Plaintext as Uint8Array);
    const commitment = Buffer.from(hkdfSync('sha256', dk, h.subarray(16, 48), 'encrypted-stream v1 commitment', 32));
    expect(commitment.equals(Buffer.from(h.subarray(48, 80)))).toBe(true);
  });
});

afterAll(() => {
  // No error provoked above carries key material: not the data key (raw, hex, base64, base64url), not a wrapped key.
  expect(provoked.length).toBeGreaterThan(30);
  for (const { error, secrets } of provoked) {
    const e = error as Error & Record<string, unknown>;
    const text = [e.message, String(e.stack), JSON.stringify(e), String(e)].join('\n');
    expect(e).not.toHaveProperty('cause');
    for (const secret of secrets) {
      const b = Buffer.from(secret);
      for (const form of [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1')]) {
        expect(text).not.toContain(form);
      }
    }
  }
});
