/**
 * The KMS keyring end to end: the real S3 plugin (`@encrypted-stream/s3`) on a
 * real S3 client against the real S3 server (test-support's settings: the
 * local Ceph RGW, or S3_ENDPOINT), with a real KMSClient against one KMS
 * backend (backends.ts). Every failure must be a typed error before any
 * plaintext is released (the GetObject/HeadObject call itself rejects: no
 * Body exists), and every KMS request is counted on the KMS client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EncryptedStreamError, ErrorCode } from '@encrypted-stream/codec';
import { EncryptedMultipartUpload, type EncryptionOptions, rotateObjectKey } from '@encrypted-stream/s3';
import { type EncryptedClient, encryptedClient, readAll, useBucket } from '@encrypted-stream/test-support';
import { KmsErrorCode, KmsKeyring, MAX_KMS_WRAPPED_KEY_LENGTH } from '../../src';
import {
  type KmsBackend,
  type KmsBackendFeatures,
  type KmsBackendSpec,
  type KmsRequestLog,
  logKmsRequests,
} from '../helpers/backends';

export function describeKmsSuite(spec: KmsBackendSpec): void {
  const needs = (feature: keyof KmsBackendFeatures) => (spec.features[feature] ? test : test.skip);

  describe(`KmsKeyring through the S3 plugin and a real S3 server, KMS: ${spec.name}`, () => {
    const bucket = useBucket(`kms-${spec.id}`);
    let kms: KmsBackend;
    let keyA: string;
    let keyB: string;
    let keyOtherAccount: string;
    const cleanups: (() => void)[] = [];

    beforeAll(async () => {
      kms = await spec.start();
      keyA = await kms.createKey();
      keyB = await kms.createKey();
      keyOtherAccount = await kms.createKey({ account: kms.otherAccount });
    }, 180_000);

    afterEach(() => {
      for (const cleanup of cleanups.splice(0)) cleanup();
    });

    afterAll(async () => {
      await kms?.close();
    });

    /** A KMS client whose requests (each attempt) are logged. */
    function kmsClient(options: { account?: string; maxAttempts?: number } = {}): {
      client: KMSClient;
      log: KmsRequestLog;
    } {
      const client = kms.client(options);
      cleanups.push(() => client.destroy());
      return { client, log: logKmsRequests(client) };
    }

    /** A keyring on its own KMS client, and that client's request log. */
    function keyring(options: { primary?: string; read?: string[]; discoveryAccounts?: string[] } = {}) {
      const { client, log } = kmsClient();
      const ring = new KmsKeyring({
        client,
        ...(options.primary ? { primaryKeyArn: options.primary } : {}),
        ...(options.read ? { keyArns: options.read } : {}),
        ...(options.discoveryAccounts
          ? { discovery: { partition: 'aws', accountIds: options.discoveryAccounts } }
          : {}),
      });
      return { keyring: ring, log, client };
    }

    /** An S3 client with the encryption plugin (its own stream cache) and its S3 request counter. */
    function s3(ring: KmsKeyring, options: Partial<EncryptionOptions> = {}): EncryptedClient {
      const enc = encryptedClient({ keyring: ring, ...options });
      cleanups.push(() => enc.client.destroy());
      return enc;
    }

    function put(client: S3Client, Key: string, Body: Uint8Array) {
      return client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body }));
    }

    async function get(client: S3Client, Key: string, Range?: string): Promise<Buffer> {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket.name, Key, Range }));
      return readAll(out.Body);
    }

    /** What the server holds: ciphertext and our metadata. */
    async function stored(Key: string): Promise<{ body: Buffer; metadata: Record<string, string> }> {
      const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
      return { body: await readAll(out.Body), metadata: { ...out.Metadata } };
    }

    /** Writes raw bytes and metadata, as someone with write access to the bucket can. */
    async function plant(Key: string, body: Uint8Array, metadata: Record<string, string>): Promise<void> {
      await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: body, Metadata: metadata }));
    }

    /**
     * The read or write fails with `code`, as an EncryptedStreamError, before
     * anything is released; its text holds neither plaintext nor wrapped key.
     */
    async function refused(
      promise: Promise<unknown>,
      code: string,
      secrets: { plaintext?: Uint8Array; wrapped?: string } = {},
    ): Promise<EncryptedStreamError> {
      const outcome = await promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      if (!('error' in outcome)) throw new Error(`expected ${code}, the operation succeeded`);
      const error = outcome.error;
      expect(error).toBeInstanceOf(EncryptedStreamError);
      expect((error as EncryptedStreamError).code).toBe(code);
      const text = `${(error as Error).message}\n${JSON.stringify(error)}`;
      if (secrets.wrapped) expect(text).not.toContain(secrets.wrapped);
      if (secrets.plaintext && secrets.plaintext.length >= 16) {
        const p = Buffer.from(secrets.plaintext);
        expect(text).not.toContain(p.toString('latin1'));
        expect(text).not.toContain(p.toString('base64'));
      }
      return error as EncryptedStreamError;
    }

    /** An object written under `primary`; its plaintext and stored metadata. */
    async function written(Key: string, primary = keyA, size = 3000) {
      const plaintext = new Uint8Array(randomBytes(size));
      const writer = keyring({ primary });
      await put(s3(writer.keyring).client, Key, plaintext);
      return { plaintext, ...(await stored(Key)) };
    }

    test('round trip: one Encrypt per object written, one Decrypt per object opened, none for cached re-opens', async () => {
      const writer = keyring({ primary: keyA });
      const w = s3(writer.keyring);
      const objects = new Map([
        ['rt/empty', new Uint8Array(0)],
        ['rt/small', new Uint8Array(randomBytes(1000))],
        ['rt/chunks', new Uint8Array(randomBytes(200_000))],
      ]);
      for (const [key, body] of objects) await put(w.client, key, body);
      expect([writer.log.count('Encrypt'), writer.log.count()]).toEqual([3, 3]);

      for (const [key, body] of objects) {
        const { metadata, body: ciphertext } = await stored(key);
        expect(metadata['es-k']).toBe(keyA);
        const wrapped = Buffer.from(metadata['es-w'] as string, 'base64url');
        expect(wrapped.length).toBeLessThanOrEqual(MAX_KMS_WRAPPED_KEY_LENGTH);
        expect((metadata['es-w'] as string).length).toBeLessThan(256);
        if (body.length >= 1000) expect(ciphertext.includes(Buffer.from(body.subarray(0, 64)))).toBe(false);
      }

      // A reader that holds keyA for reading only, on another KMS client and S3 client (its own cache).
      const reader = keyring({ read: [keyA] });
      const r = s3(reader.keyring);
      for (const [key, body] of objects) expect((await get(r.client, key)).equals(Buffer.from(body))).toBe(true);
      expect(reader.log.operations).toEqual(['Decrypt', 'Decrypt', 'Decrypt']);
      // Re-opens of the same objects (ranges, HEAD) come from the plugin's stream cache: no KMS request.
      const chunks = objects.get('rt/chunks') as Uint8Array;
      expect(
        (await get(r.client, 'rt/chunks', 'bytes=70000-70099')).equals(Buffer.from(chunks.subarray(70000, 70100))),
      ).toBe(true);
      expect((await get(r.client, 'rt/chunks', 'bytes=-5')).equals(Buffer.from(chunks.subarray(-5)))).toBe(true);
      const head = await r.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'rt/small' }));
      expect(head.ContentLength).toBe(1000);
      await get(r.client, 'rt/empty');
      expect(reader.log.count()).toBe(3);

      // Without the cache, every open is one Decrypt.
      const uncached = keyring({ read: [keyA] });
      const u = s3(uncached.keyring, { streamCacheSize: 0 });
      await get(u.client, 'rt/small');
      await get(u.client, 'rt/small', 'bytes=0-9');
      await u.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'rt/small' }));
      expect(uncached.log.operations).toEqual(['Decrypt', 'Decrypt', 'Decrypt']);
    });

    test('a multipart upload wraps its data key once', async () => {
      const writer = keyring({ primary: keyA });
      const w = s3(writer.keyring);
      const partSize = 5 * 1024 * 1024;
      const plaintext = new Uint8Array(randomBytes(partSize + 100));
      const upload = await EncryptedMultipartUpload.create(
        w.client,
        { Bucket: bucket.name, Key: 'mpu/one' },
        { keyring: writer.keyring, partSize, plaintextSize: plaintext.length },
      );
      await upload.uploadPart(2, plaintext.subarray(partSize), { isLastPart: true });
      await upload.uploadPart(1, plaintext.subarray(0, partSize));
      await upload.complete();
      expect(writer.log.operations).toEqual(['Encrypt']);
      const reader = keyring({ read: [keyA] });
      expect((await get(s3(reader.keyring).client, 'mpu/one')).equals(Buffer.from(plaintext))).toBe(true);
      expect(reader.log.operations).toEqual(['Decrypt']);
    });

    test('rotation: rotateObjectKey re-wraps under the new primary with one Decrypt and one Encrypt', async () => {
      const { plaintext } = await written('rotate/a', keyA);
      const rotating = keyring({ primary: keyA });
      const to = rotating.keyring.withPrimaryKey(keyB);
      const result = await rotateObjectKey(s3(to).client, { Bucket: bucket.name, Key: 'rotate/a' }, { from: to });
      expect(result).toMatchObject({ rotated: true, fromKeyId: keyA, toKeyId: keyB });
      expect(rotating.log.operations.sort()).toEqual(['Decrypt', 'Encrypt']);
      expect((await stored('rotate/a')).metadata['es-k']).toBe(keyB);
      const onlyB = keyring({ read: [keyB] });
      expect((await get(s3(onlyB.keyring).client, 'rotate/a')).equals(Buffer.from(plaintext))).toBe(true);
      const onlyA = keyring({ read: [keyA] });
      await refused(get(s3(onlyA.keyring).client, 'rotate/a'), ErrorCode.UNKNOWN_KEY, { plaintext });
    });

    test('wrong key: a keyring without the object key is ES_UNKNOWN_KEY with no KMS request', async () => {
      const { plaintext, metadata } = await written('wrong-key/a', keyA);
      const other = keyring({ primary: keyB });
      const wrapped = metadata['es-w'];
      await refused(get(s3(other.keyring).client, 'wrong-key/a'), ErrorCode.UNKNOWN_KEY, { plaintext, wrapped });
      await refused(
        s3(other.keyring).client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'wrong-key/a' })),
        ErrorCode.UNKNOWN_KEY,
      );
      expect(other.log.count()).toBe(0);
    });

    test('wrong key: es-k edited to another held key is ES_KEY_UNWRAP_FAILED (Decrypt names the key)', async () => {
      const { plaintext, body, metadata } = await written('wrong-key/b', keyA);
      await plant('wrong-key/b-edited', body, { ...metadata, 'es-k': keyB });
      const both = keyring({ read: [keyA, keyB] });
      await refused(get(s3(both.keyring).client, 'wrong-key/b-edited'), ErrorCode.KEY_UNWRAP_FAILED, {
        plaintext,
        wrapped: metadata['es-w'],
      });
      expect(both.log.operations).toEqual(['Decrypt']);
    });

    test('wrong context: an object bound to its location, copied elsewhere, is ES_CONTEXT_MISMATCH', async () => {
      const writer = keyring({ primary: keyA });
      const plaintext = new Uint8Array(randomBytes(5000));
      await put(s3(writer.keyring, { context: 'location' }).client, 'ctx/here', plaintext);
      const { body, metadata } = await stored('ctx/here');
      await plant('ctx/there', body, metadata);
      const reader = keyring({ read: [keyA] });
      const r = s3(reader.keyring, { context: 'location' });
      expect((await get(r.client, 'ctx/here')).equals(Buffer.from(plaintext))).toBe(true);
      await refused(get(r.client, 'ctx/there'), ErrorCode.CONTEXT_MISMATCH, { plaintext });
      // The data key unwrapped (same header): the codec's context check refused it after that one Decrypt.
      expect(reader.log.operations).toEqual(['Decrypt', 'Decrypt']);
    });

    test("wrong KMS encryption context: KMS decrypts the key block only with FORMAT.md's context for its header", async () => {
      const { metadata } = await written('ctx/kms', keyA);
      const header = Buffer.from(metadata['es-h'] as string, 'base64url');
      const wrapped = Buffer.from(metadata['es-w'] as string, 'base64url');
      const { client } = kmsClient();
      const documented = {
        'es-purpose': 'encrypted-stream v1 kms wrap',
        'es-header': createHash('sha256').update(header).digest('base64url'),
      };
      const decrypt = (EncryptionContext: Record<string, string>) =>
        client.send(new DecryptCommand({ KeyId: keyA, CiphertextBlob: wrapped, EncryptionContext }));
      const out = await decrypt(documented);
      expect(out.Plaintext?.length).toBe(32);
      const wrongContexts: Record<string, string>[] = [
        {},
        { 'es-header': documented['es-header'] },
        { ...documented, 'es-purpose': 'encrypted-stream v1 local wrap' },
        { ...documented, 'es-header': createHash('sha256').update(randomBytes(96)).digest('base64url') },
        { ...documented, bucket: bucket.name },
      ];
      for (const wrong of wrongContexts) {
        await expect(decrypt(wrong)).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
      }
    });

    test('moved key block, tampered header, tampered wrapped key: ES_KEY_UNWRAP_FAILED', async () => {
      const one = await written('moved/one', keyA);
      const two = await written('moved/two', keyA);
      // Object one's body and header with object two's key block (same key id: only the context differs).
      await plant('moved/one-with-two-key', one.body, {
        ...one.metadata,
        'es-k': two.metadata['es-k'] as string,
        'es-w': two.metadata['es-w'] as string,
      });
      const h = Buffer.from(one.metadata['es-h'] as string, 'base64url');
      h[20] = (h[20] as number) ^ 0x01; // a bit of the stream id: still a well-formed header
      await plant('moved/one-header-bit', one.body, { ...one.metadata, 'es-h': h.toString('base64url') });
      const w = Buffer.from(one.metadata['es-w'] as string, 'base64url');
      w[w.length - 1] = (w[w.length - 1] as number) ^ 0x01;
      await plant('moved/one-wrapped-bit', one.body, { ...one.metadata, 'es-w': w.toString('base64url') });

      const reader = keyring({ read: [keyA] });
      const r = s3(reader.keyring, { streamCacheSize: 0 });
      for (const key of ['moved/one-with-two-key', 'moved/one-header-bit', 'moved/one-wrapped-bit']) {
        await refused(get(r.client, key), ErrorCode.KEY_UNWRAP_FAILED, {
          plaintext: one.plaintext,
          wrapped: one.metadata['es-w'],
        });
      }
      expect(reader.log.operations).toEqual(['Decrypt', 'Decrypt', 'Decrypt']);
      // The originals still read.
      expect((await get(r.client, 'moved/one')).equals(Buffer.from(one.plaintext))).toBe(true);
    });

    needs('policies')('access denied: ES_KMS_ACCESS_DENIED; a denied write sends nothing to S3', async () => {
      const key = await kms.createKey();
      const { plaintext } = await written('denied/a', key);
      kms.deny(key, ['Decrypt']);
      const reader = keyring({ read: [key] });
      const r = s3(reader.keyring);
      const e = await refused(get(r.client, 'denied/a'), KmsErrorCode.ACCESS_DENIED, { plaintext });
      expect(e).toMatchObject({ operation: 'Decrypt', keyArn: key, kmsErrorName: 'AccessDeniedException' });
      await refused(
        r.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'denied/a' })),
        KmsErrorCode.ACCESS_DENIED,
      );
      kms.deny(key, ['Encrypt']);
      const writer = keyring({ primary: key });
      const w = s3(writer.keyring);
      await refused(put(w.client, 'denied/b', plaintext), KmsErrorCode.ACCESS_DENIED, { plaintext });
      expect(w.requests.count).toBe(0);
      await expect(
        bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'denied/b' })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      kms.allow(key);
      expect((await get(s3(keyring({ read: [key] }).keyring).client, 'denied/a')).equals(Buffer.from(plaintext))).toBe(
        true,
      );
    });

    test('disabled key: ES_KMS_KEY_DISABLED for reads and writes (nothing uploaded); enabled again, it reads', async () => {
      const key = await kms.createKey();
      const { plaintext } = await written('disabled/a', key);
      await kms.disableKey(key);
      try {
        const reader = keyring({ read: [key] });
        await refused(get(s3(reader.keyring).client, 'disabled/a'), KmsErrorCode.KEY_DISABLED, { plaintext });
        const writer = keyring({ primary: key });
        const w = s3(writer.keyring);
        await refused(put(w.client, 'disabled/b', plaintext), KmsErrorCode.KEY_DISABLED, { plaintext });
        expect(w.requests.count).toBe(0);
      } finally {
        await kms.enableKey(key);
      }
      const again = keyring({ read: [key] });
      expect((await get(s3(again.keyring).client, 'disabled/a')).equals(Buffer.from(plaintext))).toBe(true);
    });

    needs('throttling')(
      'throttling: ES_KMS_THROTTLED after the SDK retries; a single throttle is retried',
      async () => {
        const { plaintext } = await written('throttled/a', keyA);
        const reader = keyring({ read: [keyA] });
        const r = s3(reader.keyring, { streamCacheSize: 0 });
        kms.throttle(Number.POSITIVE_INFINITY);
        try {
          const e = await refused(get(r.client, 'throttled/a'), KmsErrorCode.THROTTLED, { plaintext });
          expect(e).toMatchObject({ attempts: 3 });
          expect(reader.log.operations).toEqual(['Decrypt', 'Decrypt', 'Decrypt']);
        } finally {
          kms.throttle(0);
        }
        reader.log.reset();
        kms.throttle(1);
        expect((await get(r.client, 'throttled/a')).equals(Buffer.from(plaintext))).toBe(true);
        expect(reader.log.operations).toEqual(['Decrypt', 'Decrypt']);
      },
    );

    needs('internalErrors')('KMS failing: ES_KMS_UNAVAILABLE after the SDK retries', async () => {
      const { plaintext } = await written('unavailable/a', keyA);
      const reader = keyring({ read: [keyA] });
      kms.failInternally(Number.POSITIVE_INFINITY);
      try {
        await refused(get(s3(reader.keyring).client, 'unavailable/a'), KmsErrorCode.UNAVAILABLE, { plaintext });
      } finally {
        kms.failInternally(0);
      }
    });

    test('discovery mode: a key ARN outside the allowed accounts is ES_UNKNOWN_KEY and never sent to KMS', async () => {
      const inside = await written('discovery/inside', keyA);
      const outside = await written('discovery/outside', keyOtherAccount);
      const discovery = keyring({ discoveryAccounts: [kms.account] });
      const r = s3(discovery.keyring);
      expect((await get(r.client, 'discovery/inside')).equals(Buffer.from(inside.plaintext))).toBe(true);
      expect(discovery.log.operations).toEqual(['Decrypt']);
      discovery.log.reset();
      await refused(get(r.client, 'discovery/outside'), ErrorCode.UNKNOWN_KEY, {
        plaintext: outside.plaintext,
        wrapped: outside.metadata['es-w'],
      });
      // Key ids an adversary could write into es-k: another partition, an alias, not an ARN.
      const edits = [
        keyA.replace('arn:aws:', 'arn:aws-cn:'),
        keyA.replace(':key/', ':alias/'),
        `arn:aws:kms:${kms.region}:${kms.otherAccount}:key/${keyA.split('/')[1]}`,
        'it-key-1',
      ];
      for (const [i, keyId] of edits.entries()) {
        await plant(`discovery/edited-${i}`, inside.body, { ...inside.metadata, 'es-k': keyId });
        await refused(get(r.client, `discovery/edited-${i}`), ErrorCode.UNKNOWN_KEY, { plaintext: inside.plaintext });
      }
      expect(discovery.log.count()).toBe(0);
    });

    needs('largeCiphertexts')(
      'a KMS ciphertext over 189 bytes fails the write before anything is uploaded',
      async () => {
        const big = await kms.createKey({ extraCiphertextBytes: 6 });
        const writer = keyring({ primary: big });
        const w = s3(writer.keyring);
        const plaintext = new Uint8Array(randomBytes(100));
        await refused(put(w.client, 'large/a', plaintext), KmsErrorCode.CIPHERTEXT_TOO_LARGE, { plaintext });
        expect([writer.log.operations, w.requests.count]).toEqual([['Encrypt'], 0]);
      },
    );
  });
}
