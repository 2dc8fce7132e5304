/**
 * Server-side copies through the plugin, and key rotation with rotateObjectKey
 * (re-wraps the data key by a metadata-only self-copy; the data is not rewritten).
 */
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import {
  copySourceOf,
  EncryptedMultipartUpload,
  METADATA_KEYS,
  rotateObjectKey,
  S3ErrorCode,
} from '@encrypted-stream/s3';
import { newMasterKey, seededBytes, useEncryptedBucket, withEncryptedClient } from '@encrypted-stream/test-support';
import { getBytes, getRaw, rejection } from './helpers/objects';

const oldKey = newMasterKey();
const newKey = newMasterKey();
const oldKeyring = LocalKeyring.single('old', oldKey);
const bothKeyring = oldKeyring.withPrimaryKey('new', newKey);
const onlyNew = LocalKeyring.single('new', newKey);
const { bucket, enc, plain } = useEncryptedBucket('copy-rotate', { keyring: oldKeyring });

const data = seededBytes('copy-rotate', 300_000);

describe('CopyObject through the plugin', () => {
  const Source = 'copy/source ä+b.bin'; // a key that needs URL encoding in CopySource

  beforeAll(async () => {
    await enc.client.send(
      new PutObjectCommand({
        Bucket: bucket.name,
        Key: Source,
        Body: data,
        Metadata: { colour: 'blue' },
        ContentType: 'application/x-source',
      }),
    );
  });

  test("MetadataDirective 'COPY' (default): one request, the copy reads back with the source’s metadata", async () => {
    enc.requests.reset();
    await enc.client.send(
      new CopyObjectCommand({ Bucket: bucket.name, Key: 'copy/copied', CopySource: copySourceOf(bucket.name, Source) }),
    );
    expect(enc.requests.count).toBe(1);
    const got = await getBytes(enc.client, { Bucket: bucket.name, Key: 'copy/copied' });
    expect(got.equals(data)).toBe(true);
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'copy/copied' }));
    expect(head.Metadata).toEqual({ colour: 'blue' });
    expect(head.ContentLength).toBe(data.length);
  });

  test("MetadataDirective 'REPLACE': new user metadata, encryption metadata carried over (HeadObject, checked copy)", async () => {
    enc.requests.reset();
    await enc.client.send(
      new CopyObjectCommand({
        Bucket: bucket.name,
        Key: 'copy/replaced',
        CopySource: copySourceOf(bucket.name, Source),
        MetadataDirective: 'REPLACE',
        Metadata: { colour: 'red', extra: '1' },
        ContentType: 'application/x-replaced',
      }),
    );
    // The source's header (HEAD), its first nonce before and the copy's after (guarded-copy.ts).
    expect(enc.requests.requests.map((r) => r.method)).toEqual(['HEAD', 'GET', 'PUT', 'GET']);
    const got = await getBytes(enc.client, { Bucket: bucket.name, Key: 'copy/replaced' });
    expect(got.equals(data)).toBe(true);
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'copy/replaced' }));
    expect(head.Metadata).toEqual({ colour: 'red', extra: '1' });
    expect(head.ContentType).toBe('application/x-replaced');
    const raw = await getRaw(plain, bucket.name, 'copy/replaced');
    const source = await getRaw(plain, bucket.name, Source);
    expect(raw.body.equals(source.body)).toBe(true);
    for (const k of Object.values(METADATA_KEYS)) expect(raw.metadata[k]).toBe(source.metadata[k]);
  });

  test("'REPLACE' with a reserved metadata name → TypeError, no request", async () => {
    enc.requests.reset();
    const error = await rejection(
      enc.client.send(
        new CopyObjectCommand({
          Bucket: bucket.name,
          Key: 'copy/reserved',
          CopySource: copySourceOf(bucket.name, Source),
          MetadataDirective: 'REPLACE',
          Metadata: { 'es-w': 'x' },
        }),
      ),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(enc.requests.count).toBe(0);
  });

  test("context 'location': a copy to another key is refused (ES_UNSUPPORTED_OPERATION), in place is fine", async () => {
    await withEncryptedClient({ keyring: oldKeyring, context: 'location' }, async (located) => {
      const Key = 'copy/located ü.bin';
      await located.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
      for (const MetadataDirective of ['COPY', 'REPLACE'] as const) {
        located.requests.reset();
        const error = await rejection(
          located.client.send(
            new CopyObjectCommand({
              Bucket: bucket.name,
              Key: 'copy/located-elsewhere',
              CopySource: copySourceOf(bucket.name, Key),
              MetadataDirective,
            }),
          ),
        );
        expect(error.code).toBe(S3ErrorCode.UNSUPPORTED_OPERATION);
        expect(located.requests.count).toBe(0);
      }
      // Replacing the metadata of the object in place keeps its location.
      await located.client.send(
        new CopyObjectCommand({
          Bucket: bucket.name,
          Key,
          CopySource: copySourceOf(bucket.name, Key),
          MetadataDirective: 'REPLACE',
          Metadata: { touched: 'yes' },
        }),
      );
      expect((await getBytes(located.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
      const head = await located.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
      expect(head.Metadata).toEqual({ touched: 'yes' });
    });
  });
});

describe('rotateObjectKey', () => {
  async function rotateAndCheck(Key: string) {
    const before = await getRaw(plain, bucket.name, Key);
    expect(before.metadata[METADATA_KEYS.k]).toBe('old');

    enc.requests.reset();
    const result = await rotateObjectKey(
      enc.client,
      { Bucket: bucket.name, Key },
      { from: oldKeyring, to: bothKeyring },
    );
    expect(result).toEqual({ rotated: true, fromKeyId: 'old', toKeyId: 'new' });
    // Metadata only: a HeadObject and a self-copy checked with a 24-byte read on each side, no object data transferred.
    expect(enc.requests.requests.map((r) => r.method)).toEqual(['HEAD', 'GET', 'PUT', 'GET']);
    expect(enc.requests.withMethod('GET').map((r) => r.range)).toEqual(['bytes=0-23', 'bytes=0-23']);

    const after = await getRaw(plain, bucket.name, Key);
    expect(after.metadata[METADATA_KEYS.k]).toBe('new');
    expect(after.metadata[METADATA_KEYS.h]).toBe(before.metadata[METADATA_KEYS.h]); // same stream
    expect(after.metadata[METADATA_KEYS.w]).not.toBe(before.metadata[METADATA_KEYS.w]);
    expect(after.body.equals(before.body)).toBe(true); // ciphertext untouched
    return after;
  }

  test('es-k changes, ciphertext byte-identical, readable with the new keys only', async () => {
    const Key = 'rotate/single';
    await enc.client.send(
      new PutObjectCommand({
        Bucket: bucket.name,
        Key,
        Body: data,
        Metadata: { keep: 'me' },
        ContentType: 'text/x-rotate',
      }),
    );
    const after = await rotateAndCheck(Key);
    expect(after.metadata.keep).toBe('me');
    expect(after.contentType).toBe('text/x-rotate');

    for (const keyring of [bothKeyring, onlyNew]) {
      await withEncryptedClient({ keyring }, async (reader) => {
        expect((await getBytes(reader.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
        const slice = await getBytes(reader.client, { Bucket: bucket.name, Key, Range: 'bytes=70000-70010' });
        expect(slice.equals(data.subarray(70000, 70011))).toBe(true);
      });
    }
    await expect(getBytes(enc.client, { Bucket: bucket.name, Key })).rejects.toMatchObject({ code: 'ES_UNKNOWN_KEY' });

    // Rotating again to the same primary key is a no-op.
    enc.requests.reset();
    expect(await rotateObjectKey(enc.client, { Bucket: bucket.name, Key }, { from: bothKeyring })).toEqual({
      rotated: false,
      fromKeyId: 'new',
      toKeyId: 'new',
    });
    expect(enc.requests.withMethod('PUT')).toHaveLength(0);
  });

  test('a multipart object rotates too (data not rewritten)', async () => {
    const Key = 'rotate/multipart';
    const P = 5 * 1024 * 1024;
    const big = seededBytes('rotate-multipart', P + 1000);
    const upload = await EncryptedMultipartUpload.create(
      plain,
      { Bucket: bucket.name, Key },
      { keyring: oldKeyring, partSize: P },
    );
    await upload.uploadPart(1, big.subarray(0, P));
    await upload.uploadPart(2, big.subarray(P), { isLastPart: true });
    await upload.complete();
    await rotateAndCheck(Key);
    await withEncryptedClient({ keyring: onlyNew }, async (reader) => {
      expect((await getBytes(reader.client, { Bucket: bucket.name, Key })).equals(big)).toBe(true);
    });
  });

  test('a location-bound object stays readable at its location after rotation', async () => {
    const Key = 'rotate/located';
    await withEncryptedClient({ keyring: oldKeyring, context: 'location' }, async (located) => {
      await located.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
    });
    await rotateAndCheck(Key);
    await withEncryptedClient({ keyring: onlyNew, context: 'location' }, async (reader) => {
      expect((await getBytes(reader.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
    });
  });

  test('refusals: a keyring without the object’s key → ES_UNKNOWN_KEY, object unchanged; plaintext → ES_NOT_ENCRYPTED', async () => {
    const Key = 'rotate/refused';
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
    const before = await getRaw(plain, bucket.name, Key);
    await expect(
      rotateObjectKey(plain, { Bucket: bucket.name, Key }, { from: onlyNew, to: onlyNew }),
    ).rejects.toMatchObject({ code: 'ES_UNKNOWN_KEY' });
    expect((await getRaw(plain, bucket.name, Key)).metadata).toEqual(before.metadata);

    await plain.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'rotate/plaintext', Body: 'hello' }));
    await expect(
      rotateObjectKey(plain, { Bucket: bucket.name, Key: 'rotate/plaintext' }, { from: oldKeyring, to: bothKeyring }),
    ).rejects.toMatchObject({ code: S3ErrorCode.NOT_ENCRYPTED });
  });
});
