/**
 * The README's promise of a drop-in: plain AWS SDK v3 code (PutObject,
 * HeadObject, ranged GetObject, lib-storage `Upload` with its defaults,
 * presigned GET) runs unchanged on a client that got the one set-up line,
 * and gives the same answers it gives on a plain client, while the store
 * holds only ciphertext. `portedCode` is written as a user would, with no
 * knowledge of encryption; only the client passed in differs.
 */

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { getEncryptionPlugin } from '@encrypted-stream/s3';
import { hashBody, newKeyring, plainClient, seededBytes, useBucket } from '@encrypted-stream/test-support';

const bucket = useBucket('drop-in');
const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const large = seededBytes('drop-in', 13 * MiB + 12345); // three of lib-storage's default 5 MiB parts

/** Plain SDK code, as in the AWS docs: it knows nothing of encryption. */
async function portedCode(client: S3Client, Bucket: string, prefix: string) {
  const Key = `${prefix}/hello.txt`;
  await client.send(new PutObjectCommand({ Bucket, Key, Body: 'hello, world', Metadata: { owner: 'me' } }));
  const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
  const ranged = await client.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=7-11' }));

  const upload = new Upload({ client, params: { Bucket, Key: `${prefix}/big.bin`, Body: Readable.from([large]) } });
  const progress: number[] = [];
  upload.on('httpUploadProgress', (p) => progress.push(p.loaded ?? 0));
  await upload.done();
  const tail = await client.send(
    new GetObjectCommand({ Bucket, Key: `${prefix}/big.bin`, Range: `bytes=${10 * MiB}-` }),
  );

  const url = await getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), { expiresIn: 300 });
  const fetched = await fetch(url);

  return {
    head: { length: head.ContentLength, metadata: head.Metadata },
    ranged: { text: await ranged.Body?.transformToString(), range: ranged.ContentRange, length: ranged.ContentLength },
    upload: { tail: (await hashBody(tail.Body)).sha256, finalProgress: progress.at(-1) },
    presigned: { status: fetched.status, body: new Uint8Array(await fetched.arrayBuffer()) },
  };
}

describe('plain SDK code on the plugged client', () => {
  let plain: Awaited<ReturnType<typeof portedCode>>;
  let encrypted: Awaited<ReturnType<typeof portedCode>>;
  const clients: S3Client[] = [];

  beforeAll(async () => {
    const before = plainClient();
    const after = plainClient();
    after.middlewareStack.use(getEncryptionPlugin(after, { keyring: newKeyring().keyring })); // the one line
    clients.push(before, after);
    plain = await portedCode(before, bucket.name, 'plain');
    encrypted = await portedCode(after, bucket.name, 'encrypted');
  }, 180_000);

  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  test('PutObject, HeadObject and a ranged GetObject answer as on a plain client', () => {
    expect(plain.head).toEqual({ length: 12, metadata: { owner: 'me' } });
    expect(encrypted.head).toEqual(plain.head);
    expect(plain.ranged).toEqual({ text: 'world', range: 'bytes 7-11/12', length: 5 });
    expect(encrypted.ranged).toEqual(plain.ranged);
  });

  test("lib-storage's Upload with its defaults uploads, and reads back, the same bytes", () => {
    expect(plain.upload.tail).toBe(sha256(large.subarray(10 * MiB)));
    expect(encrypted.upload.tail).toBe(plain.upload.tail);
    expect(encrypted.upload.finalProgress).toBe(large.length); // progress in plaintext bytes
  });

  test('a presigned GET works and hands out what the store holds: ciphertext, for a reader with the key', () => {
    expect(plain.presigned.status).toBe(200);
    expect(Buffer.from(plain.presigned.body).toString()).toBe('hello, world');
    expect(encrypted.presigned.status).toBe(200);
    expect(encrypted.presigned.body.length).toBe(12 + 40); // one final chunk
    expect(Buffer.from(encrypted.presigned.body).includes(Buffer.from('hello'))).toBe(false);
  });

  test('the store holds ciphertext for every object the ported code wrote', async () => {
    const raw = plainClient();
    try {
      const stored = await raw.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'encrypted/big.bin' }));
      expect(Number(stored.ContentLength)).toBeGreaterThan(large.length);
      expect((await hashBody(stored.Body)).sha256).not.toBe(sha256(large));
    } finally {
      raw.destroy();
    }
  });
});
