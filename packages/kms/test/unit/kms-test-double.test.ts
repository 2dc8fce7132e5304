/**
 * The KMS test double itself: it must refuse what AWS KMS refuses, or the
 * keyring tests that rely on it prove nothing. Requests are built and signed
 * here with @smithy/signature-v4 (as the SDK does) and then altered.
 */
import { createHash } from 'node:crypto';
import { DecryptCommand, DescribeKeyCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  KmsTestDouble,
  NodeSha256,
  TEST_DOUBLE_ACCOUNT,
  TEST_DOUBLE_CREDENTIALS,
} from '@encrypted-stream/test-support/kms-test-double';
import { SignatureV4 } from '@smithy/signature-v4';

let double: KmsTestDouble;
let client: KMSClient;
let arn: string;

beforeAll(async () => {
  double = await KmsTestDouble.start();
  client = double.client();
  arn = double.createKey();
});

afterAll(async () => {
  client.destroy();
  await double.close();
});

/** A signed KMS request as the SDK would send it; `alter` changes it after signing. */
async function rawRequest(
  operation: string,
  body: object,
  options: {
    credentials?: { accessKeyId: string; secretAccessKey: string };
    signingDate?: Date;
    region?: string;
    alter?: (request: { headers: Record<string, string>; body: string }) => void;
  } = {},
): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
  const url = new URL(double.endpoint);
  const signer = new SignatureV4({
    credentials: options.credentials ?? TEST_DOUBLE_CREDENTIALS,
    region: options.region ?? double.region,
    service: 'kms',
    sha256: NodeSha256,
  });
  const text = JSON.stringify(body);
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `TrentService.${operation}`,
      },
      body: text,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const request = { headers: { ...signed.headers } as Record<string, string>, body: text };
  options.alter?.(request);
  const { host: _host, ...headers } = request.headers;
  const response = await fetch(double.endpoint, { method: 'POST', headers, body: request.body });
  const json = (await response.json()) as Record<string, unknown>;
  return { status: response.status, type: String(json.__type ?? ''), json };
}

const plaintextB64 = Buffer.alloc(32, 9).toString('base64');

describe('SigV4', () => {
  test('a request signed with the test credentials is answered', async () => {
    const r = await rawRequest('Encrypt', { KeyId: arn, Plaintext: plaintextB64 });
    expect(r.status).toBe(200);
    expect(r.json.KeyId).toBe(arn);
  });

  test('a wrong secret key is InvalidSignatureException', async () => {
    const r = await rawRequest(
      'Encrypt',
      { KeyId: arn, Plaintext: plaintextB64 },
      { credentials: { accessKeyId: TEST_DOUBLE_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong' } },
    );
    expect([r.status, r.type]).toEqual([400, 'InvalidSignatureException']);
  });

  test('an unknown access key is UnrecognizedClientException', async () => {
    const r = await rawRequest(
      'Encrypt',
      { KeyId: arn, Plaintext: plaintextB64 },
      { credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } },
    );
    expect([r.status, r.type]).toEqual([400, 'UnrecognizedClientException']);
  });

  test('a body changed after signing is refused, even with its x-amz-content-sha256 updated', async () => {
    const other = JSON.stringify({ KeyId: arn, Plaintext: Buffer.alloc(32, 1).toString('base64') });
    const r1 = await rawRequest(
      'Encrypt',
      { KeyId: arn, Plaintext: plaintextB64 },
      {
        alter: (q) => {
          q.body = other;
        },
      },
    );
    expect(r1.type).toBe('InvalidSignatureException');
    const r2 = await rawRequest(
      'Encrypt',
      { KeyId: arn, Plaintext: plaintextB64 },
      {
        alter: (q) => {
          q.body = other;
          q.headers['x-amz-content-sha256'] = createHash('sha256').update(other).digest('hex');
        },
      },
    );
    expect(r2.type).toBe('InvalidSignatureException');
  });

  test('a signed header changed after signing (X-Amz-Target) is refused', async () => {
    const r = await rawRequest(
      'Encrypt',
      { KeyId: arn, Plaintext: plaintextB64 },
      {
        alter: (q) => {
          q.headers['x-amz-target'] = 'TrentService.DescribeKey';
        },
      },
    );
    expect(r.type).toBe('InvalidSignatureException');
  });

  test('a signature from 10 minutes ago, or for another region, is refused', async () => {
    const stale = await rawRequest(
      'DescribeKey',
      { KeyId: arn },
      { signingDate: new Date(Date.now() - 10 * 60 * 1000) },
    );
    expect([stale.type, stale.json.message]).toEqual(['InvalidSignatureException', 'Signature expired']);
    const region = await rawRequest('DescribeKey', { KeyId: arn }, { region: 'eu-west-1' });
    expect(region.type).toBe('InvalidSignatureException');
  });

  test('an unsigned request is MissingAuthenticationTokenException', async () => {
    const response = await fetch(double.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.DescribeKey' },
      body: JSON.stringify({ KeyId: arn }),
    });
    expect(((await response.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException');
  });

  test('a real KMSClient with a wrong secret gets InvalidSignatureException', async () => {
    const wrong = new KMSClient({
      region: double.region,
      endpoint: double.endpoint,
      credentials: { accessKeyId: TEST_DOUBLE_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    await expect(wrong.send(new DescribeKeyCommand({ KeyId: arn }))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
    });
    wrong.destroy();
  });
});

describe('protocol', () => {
  test('an unknown operation and a wrong content type are refused', async () => {
    expect((await rawRequest('ListKeys', {})).type).toBe('UnknownOperationException');
    const r = await rawRequest(
      'DescribeKey',
      { KeyId: arn },
      {
        alter: (q) => {
          q.headers['content-type'] = 'application/json';
        },
      },
    );
    // content-type is a signed header: the signature fails first, as in KMS
    expect(r.type).toBe('InvalidSignatureException');
  });

  test('DescribeKey answers KeyMetadata as KMS does', async () => {
    const out = await client.send(new DescribeKeyCommand({ KeyId: arn }));
    expect(out.KeyMetadata).toMatchObject({
      Arn: arn,
      AWSAccountId: TEST_DOUBLE_ACCOUNT,
      Enabled: true,
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
    });
    expect(out.KeyMetadata?.CreationDate).toBeInstanceOf(Date);
  });
});

describe('authenticated encryption', () => {
  const context = { purpose: 'test', object: 'a' };

  async function encrypt(keyArn = arn, plaintext = Buffer.alloc(32, 5)) {
    const out = await client.send(
      new EncryptCommand({ KeyId: keyArn, Plaintext: plaintext, EncryptionContext: context }),
    );
    return out.CiphertextBlob as Uint8Array;
  }

  test('a 32-byte plaintext gives a 184-byte blob (as AWS KMS) that decrypts with its context only', async () => {
    const blob = await encrypt();
    expect(blob.length).toBe(184);
    const out = await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));
    expect([out.KeyId, Buffer.from(out.Plaintext as Uint8Array)]).toEqual([arn, Buffer.alloc(32, 5)]);
    for (const wrong of [{}, { ...context, object: 'b' }, { ...context, extra: '' }]) {
      await expect(
        client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: wrong })),
      ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    }
  });

  test('every byte of the blob is authenticated', async () => {
    const blob = await encrypt();
    for (const at of [0, 5, 20, 100, 130, 160, blob.length - 1]) {
      const bad = Uint8Array.from(blob);
      bad[at] = (bad[at] as number) ^ 1;
      await expect(
        client.send(new DecryptCommand({ KeyId: arn, CiphertextBlob: bad, EncryptionContext: context })),
      ).rejects.toMatchObject({ name: expect.stringMatching(/^(InvalidCiphertextException|IncorrectKeyException)$/) });
    }
  });

  test('KeyId naming another key than the blob is IncorrectKeyException', async () => {
    const other = double.createKey();
    const blob = await encrypt();
    await expect(
      client.send(new DecryptCommand({ KeyId: other, CiphertextBlob: blob, EncryptionContext: context })),
    ).rejects.toMatchObject({ name: 'IncorrectKeyException' });
  });

  test('disabled, pending deletion, denied and non-symmetric keys are refused as KMS refuses them', async () => {
    const key = double.createKey();
    const blob = await encrypt(key);
    double.disableKey(key);
    await expect(encrypt(key)).rejects.toMatchObject({ name: 'DisabledException' });
    double.enableKey(key);
    double.deny(key, ['Decrypt']);
    await expect(
      client.send(new DecryptCommand({ KeyId: key, CiphertextBlob: blob, EncryptionContext: context })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(encrypt(key)).resolves.toBeInstanceOf(Uint8Array);
    double.allow(key);
    double.scheduleKeyDeletion(key);
    await expect(encrypt(key)).rejects.toMatchObject({ name: 'KMSInvalidStateException' });
    await expect(encrypt(double.createKey({ keySpec: 'RSA_2048' }))).rejects.toMatchObject({
      name: 'InvalidKeyUsageException',
    });
    await expect(
      encrypt(`arn:aws:kms:us-east-1:${TEST_DOUBLE_ACCOUNT}:key/00000000-0000-0000-0000-000000000000`),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  test('throttling and internal errors on demand, retried by the SDK', async () => {
    double.resetRequests();
    double.throttle(2);
    await expect(encrypt()).resolves.toBeInstanceOf(Uint8Array);
    expect(double.calls('Encrypt').map((r) => r.errorType ?? r.status)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      200,
    ]);
    double.resetRequests();
    double.failInternally(Number.POSITIVE_INFINITY);
    await expect(encrypt()).rejects.toMatchObject({ name: 'KMSInternalException', $metadata: { attempts: 3 } });
    double.failInternally(0);
    expect(double.calls().map((r) => r.status)).toEqual([500, 500, 500]);
  });
});
