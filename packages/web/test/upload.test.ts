/**
 * uploadEncrypted under Node 20 (fetch, Blob) against real S3 through the
 * gateway's presign service: the caller encrypts, the service presigns, S3
 * stores ciphertext that the S3 plugin and the media handler read back;
 * progress per part; a failing part aborts the upload.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createPresignService } from '@encrypted-stream/gateway';
import { encryptedClient, listOpenUploads, newKeyring, readAll, useBucket } from '@encrypted-stream/test-support';
import { createMediaHandler, presignClient, type UploadProgress, uploadEncrypted } from '../src';

const bucket = useBucket('web-upload');
const { keyring } = newKeyring('page-key');
let server: http.Server;
let endpoint = '';

beforeAll(async () => {
  const presign = createPresignService({
    client: bucket.client,
    presign: getSignedUrl,
    bucket: bucket.name,
    prefix: 'media',
  });
  server = http.createServer((req, res) => presign(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/presign/`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const PART = 5 * 1024 * 1024;

test('a Blob of two parts and a bit: progress per part, S3 holds ciphertext that reads back through the plugin and the handler', async () => {
  const plaintext = randomBytes(2 * PART + 12_345);
  const progress: UploadProgress[] = [];
  const result = await uploadEncrypted({
    service: endpoint,
    bucket: bucket.name,
    key: 'media/blob.bin',
    body: new Blob([plaintext]),
    keyring,
    context: 'location',
    contentType: 'video/webm',
    partSize: PART,
    onProgress: (p) => progress.push(p),
  });
  expect(progress).toEqual([
    { uploadedBytes: PART, totalBytes: plaintext.length, partsDone: 1, partCount: 3 },
    { uploadedBytes: 2 * PART, totalBytes: plaintext.length, partsDone: 2, partCount: 3 },
    { uploadedBytes: plaintext.length, totalBytes: plaintext.length, partsDone: 3, partCount: 3 },
  ]);
  const stored = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'media/blob.bin' }));
  const ciphertext = await readAll(stored.Body);
  expect(ciphertext.length).toBe(result.ciphertextSize);
  expect(ciphertext.includes(plaintext.subarray(PART, PART + 64))).toBe(false);
  const reader = encryptedClient({ keyring, context: 'location' });
  try {
    const read = await reader.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'media/blob.bin' }));
    expect((await readAll(read.Body)).equals(plaintext)).toBe(true);
  } finally {
    reader.client.destroy();
  }
  const service = presignClient(endpoint);
  const handler = createMediaHandler({ resolve: (id) => service.get(id), keyring, context: 'location' });
  const response = await handler.handle(
    new Request('http://app.test/m', { headers: { range: `bytes=${PART - 10}-${PART + 9}` } }),
    'media/blob.bin',
  );
  expect(response.status).toBe(206);
  expect(Buffer.from(await response.arrayBuffer()).equals(plaintext.subarray(PART - 10, PART + 10))).toBe(true);
});

test('a small body is one part; an empty one too', async () => {
  for (const [key, body] of [
    ['media/small.bin', randomBytes(1000)],
    ['media/empty.bin', new Uint8Array(0)],
  ] as const) {
    const progress: UploadProgress[] = [];
    await uploadEncrypted({ service: endpoint, key, body, keyring, onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.partCount)).toEqual([1]);
    const reader = encryptedClient({ keyring });
    try {
      const read = await reader.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
      expect((await readAll(read.Body)).equals(Buffer.from(body))).toBe(true);
    } finally {
      reader.client.destroy();
    }
  }
});

test('a part S3 refuses aborts the upload; the error says which part', async () => {
  let puts = 0;
  const failing: typeof fetch = async (input, init) => {
    if (init?.method === 'PUT' && ++puts === 2) {
      // The second part's body is cut: the signed content-length no longer matches (403).
      return fetch(input, { ...init, body: (init.body as Uint8Array).subarray(1) as Uint8Array<ArrayBuffer> });
    }
    return fetch(input, init);
  };
  await expect(
    uploadEncrypted({
      service: endpoint,
      key: 'media/failing.bin',
      body: randomBytes(PART + 10),
      keyring,
      partSize: PART,
      fetch: failing,
    }),
  ).rejects.toMatchObject({ code: 'ES_UPLOAD_FAILED', message: expect.stringContaining('part 2') });
  expect(await listOpenUploads(bucket.client, bucket.name, 'media/failing.bin')).toEqual([]);
});

test('a key outside the service prefix is refused before anything is uploaded', async () => {
  await expect(
    uploadEncrypted({ service: endpoint, key: 'private/x.bin', body: randomBytes(10), keyring }),
  ).rejects.toMatchObject({ code: 'ES_PRESIGN_FAILED', status: 403, serviceCode: 'ES_FORBIDDEN' });
  expect(await listOpenUploads(bucket.client, bucket.name)).toEqual([]);
});

test('argument mistakes are TypeError / RangeError', async () => {
  await expect(uploadEncrypted({ service: endpoint, key: '', body: randomBytes(1), keyring })).rejects.toThrow(
    TypeError,
  );
  await expect(uploadEncrypted({ service: endpoint, key: 'media/a', body: 'text' as never, keyring })).rejects.toThrow(
    TypeError,
  );
  await expect(
    uploadEncrypted({ service: endpoint, key: 'media/a', body: randomBytes(1), keyring, partSize: 1024 * 1024 }),
  ).rejects.toThrow(RangeError);
  await expect(
    uploadEncrypted({ service: endpoint, key: 'media/a', body: randomBytes(1), keyring, context: 'location' }),
  ).rejects.toThrow(TypeError);
});
