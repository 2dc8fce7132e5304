/**
 * EncryptedUpload (lib-storage based): big streams of unknown length, partSize
 * and progress in plaintext bytes, abort with and without leavePartsOnError,
 * on clients with and without the plugin.
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import { CHUNK_OVERHEAD, ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { METADATA_KEYS } from '@encrypted-stream/s3';
import { EncryptedUpload, type EncryptedUploadProgress } from '@encrypted-stream/s3/upload';
import {
  countRequests,
  hashBody,
  listOpenUploads,
  newKeyring,
  plainClient,
  type RequestCounter,
  seededBytes,
  seededSha256,
  seededStream,
  startFaultProxy,
  useEncryptedBucket,
} from '@encrypted-stream/test-support';
import { getBytes, getRaw, rawSize, rejection } from './helpers/objects';

const { keyring } = newKeyring();
const MiB = 1024 * 1024;
const { bucket, enc, plain } = useEncryptedBucket('mpu-high', { keyring });

async function uploadsFor(Key: string) {
  const out = await plain.send(new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: Key }));
  return (out.Uploads ?? []).filter((u) => u.Key === Key);
}

const C = DEFAULT_CHUNK_SIZE;

/** Ciphertext bytes of a part of `partSize` plaintext bytes that is not the last (whole chunks). */
const fullPart = (partSize: number) => (partSize / C) * (C + CHUNK_OVERHEAD);

/** The UploadPart requests `requests` recorded, by part number: ciphertext bytes sent. */
function partsSent(requests: RequestCounter): [number, number][] {
  return requests.requests
    .filter((r) => r.method === 'PUT' && r.query.partNumber !== undefined)
    .map((r): [number, number] => [Number(r.query.partNumber), r.contentLength as number])
    .sort((a, b) => a[0] - b[0]);
}

/** The parts of a `size`-byte body in parts of `partSize` plaintext bytes: every part but the last whole chunks. */
function expectedParts(size: number, partSize: number): [number, number][] {
  const whole = Math.floor(size / partSize);
  const parts = Array.from({ length: whole }, (_, i): [number, number] => [i + 1, fullPart(partSize)]);
  return [...parts, [whole + 1, ciphertextSize(size - whole * partSize, C)]];
}

/** A plain client whose requests are counted (EncryptedUpload takes any client). */
function countedClient() {
  const client = plainClient();
  return { client, requests: countRequests(client) };
}

async function waitFor<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a 200 MiB+ stream of unknown length, partSize 8 MiB, queueSize 4', () => {
  const Key = 'big/stream';
  const SIZE = 200 * MiB + 12_345;
  const progress: EncryptedUploadProgress[] = [];
  const counted = countedClient();

  beforeAll(async () => {
    const upload = new EncryptedUpload({
      client: counted.client,
      params: { Bucket: bucket.name, Key, Body: seededStream('mpu-high-big', SIZE), Metadata: { origin: 'stream' } },
      encryption: { keyring },
      partSize: 8 * MiB,
      queueSize: 4,
    });
    upload.on('httpUploadProgress', (p) => progress.push(p));
    await upload.done();
  }, 180_000);

  afterAll(async () => {
    counted.client.destroy();
    // The server keeps objects in memory: free the big one now.
    await plain.send(new DeleteObjectCommand({ Bucket: bucket.name, Key }));
  });

  test('reads back byte-identical (streamed SHA-256), in one request', async () => {
    enc.requests.reset();
    const out = await enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
    expect(out.ContentLength).toBe(SIZE);
    expect(out.Metadata).toEqual({ origin: 'stream' });
    const got = await hashBody(out.Body);
    expect(got.length).toBe(SIZE);
    expect(got.sha256).toBe(seededSha256('mpu-high-big', SIZE));
    expect(enc.requests.count).toBe(1);
  }, 120_000);

  test('stored as one ciphertext stream; HeadObject reports the plaintext size', async () => {
    expect(await rawSize(plain, bucket.name, Key)).toBe(ciphertextSize(SIZE, DEFAULT_CHUNK_SIZE));
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    expect(head.ContentLength).toBe(SIZE);
    expect(head.Metadata).toEqual({ origin: 'stream' });
  });

  test('partSize is plaintext: every part but the last carries 8 MiB of the body (its whole chunks)', () => {
    expect(partsSent(counted.requests)).toEqual(expectedParts(SIZE, 8 * MiB));
  });

  test('progress in plaintext bytes: one event per part at least, loaded grows to the body size', () => {
    const parts = Math.floor(SIZE / (8 * MiB)) + 1;
    expect(progress.length).toBeGreaterThanOrEqual(parts);
    for (const p of progress) {
      expect(p.Bucket).toBe(bucket.name);
      expect(p.Key).toBe(Key);
      expect(p.total).toBeUndefined(); // a stream of unknown length
      // Whole parts' bytes: a multiple of the part size, plus the short last part once it is stored.
      expect([0, SIZE % (8 * MiB)]).toContain(p.loaded % (8 * MiB));
    }
    const loaded = progress.map((p) => p.loaded);
    expect(Math.max(...loaded)).toBe(SIZE);
    expect(new Set(progress.map((p) => p.part)).size).toBe(parts);
  });

  test('a ranged read in the middle of the big object is one request', async () => {
    const start = 100 * MiB - 7;
    enc.requests.reset();
    const got = await getBytes(enc.client, { Bucket: bucket.name, Key, Range: `bytes=${start}-${start + 99_999}` });
    expect(got.equals(seededBytes('mpu-high-big', 100_000, start))).toBe(true);
    expect(enc.requests.count).toBe(1);
  });
});

describe('partSize and progress in plaintext bytes', () => {
  test.each<[string, number, number | undefined, 'Buffer' | 'stream']>([
    ['a Buffer (size known), 5 MiB parts', 3 * 5 * MiB + 77, 5 * MiB, 'Buffer'],
    ['a stream, whole parts: the final chunk alone in one more part', 3 * 5 * MiB, 5 * MiB, 'stream'],
    ['a stream, the default part size (8 MiB)', 20 * MiB + 3, undefined, 'stream'],
  ])('%s', async (name, size, partSize, kind) => {
    const Key = `plaintext/${name.replace(/\W+/g, '-')}`;
    const data = seededBytes(Key, size);
    const counted = countedClient();
    try {
      const progress: EncryptedUploadProgress[] = [];
      const upload = new EncryptedUpload({
        client: counted.client,
        params: { Bucket: bucket.name, Key, Body: kind === 'Buffer' ? data : seededStream(Key, size) },
        encryption: { keyring },
        ...(partSize === undefined ? {} : { partSize }),
      });
      expect(upload.partSize).toBe(partSize ?? 8 * MiB);
      upload.on('httpUploadProgress', (p) => progress.push(p));
      await upload.done();
      expect(partsSent(counted.requests)).toEqual(expectedParts(size, upload.partSize));
      for (const p of progress) expect(p.total).toBe(kind === 'Buffer' ? size : undefined);
      expect(Math.max(...progress.map((p) => p.loaded))).toBe(size);
      expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
    } finally {
      counted.client.destroy();
    }
  });

  test('a partSize that breaks an S3 limit is a RangeError at construction, before anything is sent', () => {
    const counted = countedClient();
    try {
      for (const partSize of [5 * MiB - C, 5 * MiB + 1]) {
        expect(
          () =>
            new EncryptedUpload({
              client: counted.client,
              params: { Bucket: bucket.name, Key: 'limits/x', Body: seededBytes('x', 10) },
              encryption: { keyring },
              partSize,
            }),
        ).toThrow(RangeError);
      }
      expect(() => {
        new EncryptedUpload({
          client: counted.client,
          params: { Bucket: bucket.name, Key: 'limits/x', Body: Readable.from([]), ContentLength: 60 * 1024 * MiB },
          encryption: { keyring },
          partSize: 5 * MiB,
        });
      }).toThrow(/more than S3's 10000/);
      expect(counted.requests.count).toBe(0);
    } finally {
      counted.client.destroy();
    }
  });
});

describe('on a client that has the plugin', () => {
  test('a 20 MiB stream (multipart): parts pass the plugin untouched, object reads back', async () => {
    const Key = 'plugin-client/stream';
    const SIZE = 20 * MiB + 3;
    const upload = new EncryptedUpload({
      client: enc.client,
      params: { Bucket: bucket.name, Key, Body: seededStream('mpu-high-plugin', SIZE) },
      encryption: { keyring },
      partSize: 5 * MiB,
    });
    await upload.done();
    expect(await rawSize(plain, bucket.name, Key)).toBe(ciphertextSize(SIZE, DEFAULT_CHUNK_SIZE));
    const out = await enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
    expect((await hashBody(out.Body)).sha256).toBe(seededSha256('mpu-high-plugin', SIZE));
  });

  test('a small Buffer (single PutObject): size recorded, reads back', async () => {
    const Key = 'plugin-client/small';
    const data = seededBytes('mpu-high-small', 300_000);
    enc.requests.reset();
    await new EncryptedUpload({
      client: enc.client,
      params: { Bucket: bucket.name, Key, Body: data },
      encryption: { keyring },
    }).done();
    expect(enc.requests.withMethod('PUT')).toHaveLength(1);
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
    const raw = await getRaw(plain, bucket.name, Key);
    expect(raw.body.length).toBe(ciphertextSize(data.length, DEFAULT_CHUNK_SIZE));
    // Size recorded in the header (flag bit 0, u64 at offset 8).
    const header = Buffer.from(raw.metadata[METADATA_KEYS.h] as string, 'base64url');
    expect(header[7]).toBe(1);
    expect(Number(header.readBigUInt64BE(8))).toBe(data.length);
  });
});

describe('edge cases', () => {
  test('an empty stream of unknown length is a zero-byte object', async () => {
    const Key = 'edge/empty-stream';
    await new EncryptedUpload({
      client: plain,
      params: { Bucket: bucket.name, Key, Body: Readable.from([]) },
      encryption: { keyring },
    }).done();
    expect(await rawSize(plain, bucket.name, Key)).toBe(40);
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).length).toBe(0);
    expect((await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).ContentLength).toBe(0);
  });
});

describe('a failing source', () => {
  test('the source stream fails after two parts: done() rejects with its error, no upload left', async () => {
    const Key = 'failing/source';
    const source = new Readable({ read() {} });
    source.push(seededBytes('failing-source', 12 * MiB));
    setTimeout(() => source.destroy(Object.assign(new Error('source failed'), { code: 'ESOURCE' })), 50);
    const error = await rejection(
      new EncryptedUpload({
        client: plain,
        params: { Bucket: bucket.name, Key, Body: source },
        encryption: { keyring },
        partSize: 5 * MiB,
      }).done(),
    );
    expect(error.code).toBe('ESOURCE');
    expect(await uploadsFor(Key)).toEqual([]);
    await expect(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });
});

describe('refused inputs', () => {
  test('ContentMD5 / reserved metadata → TypeError at construction', () => {
    expect(
      () =>
        new EncryptedUpload({
          client: plain,
          params: { Bucket: bucket.name, Key: 'x', Body: 'x', ContentMD5: 'AAAA' },
          encryption: { keyring },
        }),
    ).toThrow(TypeError);
    expect(
      () =>
        new EncryptedUpload({
          client: plain,
          params: { Bucket: bucket.name, Key: 'x', Body: 'x', Metadata: { 'es-k': 'v' } },
          encryption: { keyring },
        }),
    ).toThrow(TypeError);
  });
});

describe('abort', () => {
  const SIZE = 120 * MiB;

  function start(Key: string, leavePartsOnError: boolean) {
    const upload = new EncryptedUpload({
      client: plain,
      params: { Bucket: bucket.name, Key, Body: seededStream(`abort-${Key}`, SIZE) },
      encryption: { keyring },
      partSize: 5 * MiB,
      queueSize: 2,
      leavePartsOnError,
    });
    const firstPart = new Promise<void>((resolve) => upload.once('httpUploadProgress', () => resolve()));
    const done = upload.done();
    done.catch(() => {}); // observed below
    return { upload, firstPart, done };
  }

  test('abort() mid-upload: done() rejects with AbortError, the multipart upload is gone', async () => {
    const Key = 'abort/default';
    const { upload, firstPart, done } = start(Key, false);
    await firstPart;
    await upload.abort();
    const error = await rejection(done);
    expect(error.name).toBe('AbortError');
    // lib-storage aborts the S3 upload after its in-flight parts finish.
    await waitFor(
      'the aborted upload to disappear',
      () => uploadsFor(Key),
      (u) => u.length === 0,
    );
    await expect(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  test('abort(): by the time done() has rejected, no multipart upload is left', async () => {
    const Key = 'abort/immediate';
    const { upload, firstPart, done } = start(Key, false);
    await firstPart;
    await upload.abort();
    await rejection(done);
    const left = await uploadsFor(Key);
    // clean up whatever the assertion below finds, so the bucket can be deleted
    await waitFor(
      'the aborted upload to disappear',
      () => uploadsFor(Key),
      (u) => u.length === 0,
    ).catch(() => {});
    expect(left).toEqual([]);
  });

  test('leavePartsOnError: true leaves the upload and its parts (then cleaned up)', async () => {
    const Key = 'abort/leave-parts';
    const { upload, firstPart, done } = start(Key, true);
    await firstPart;
    await upload.abort();
    expect((await rejection(done)).name).toBe('AbortError');
    await new Promise((r) => setTimeout(r, 1000)); // let in-flight parts land
    const uploads = await uploadsFor(Key);
    expect(uploads).toHaveLength(1);
    const UploadId = uploads[0]?.UploadId as string;
    const parts = await plain.send(new ListPartsCommand({ Bucket: bucket.name, Key, UploadId }));
    expect((parts.Parts ?? []).length).toBeGreaterThanOrEqual(1);
    await plain.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId }));
    expect(await uploadsFor(Key)).toEqual([]);
  });

  test('abort() before done(): done() rejects with AbortError and nothing is sent', async () => {
    const counted = countedClient();
    try {
      const upload = new EncryptedUpload({
        client: counted.client,
        params: { Bucket: bucket.name, Key: 'abort/early', Body: seededStream('abort-early', 12 * MiB) },
        encryption: { keyring },
      });
      await upload.abort();
      expect((await rejection(upload.done())).name).toBe('AbortError');
      expect(counted.requests.count).toBe(0);
    } finally {
      counted.client.destroy();
    }
  });

  test("the caller's abortController: parts under way are cancelled, done() rejects, nothing is left", async () => {
    const Key = 'abort/controller';
    const abortController = new AbortController();
    const upload = new EncryptedUpload({
      client: enc.client, // through the plugin, too
      params: { Bucket: bucket.name, Key, Body: seededStream(`abort-${Key}`, SIZE) },
      encryption: { keyring },
      partSize: 8 * MiB,
      queueSize: 4,
      abortController,
    });
    const firstPart = new Promise<void>((resolve) => upload.once('httpUploadProgress', () => resolve()));
    const done = upload.done();
    done.catch(() => {});
    await firstPart;
    const aborted = Date.now();
    abortController.abort();
    expect((await rejection(done)).name).toBe('AbortError');
    expect(Date.now() - aborted).toBeLessThan(2000); // cancelled, not waited for
    expect(await listOpenUploads(plain, bucket.name, Key)).toEqual([]);
    await expect(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  test('abort() while a part hangs: the part is cancelled, done() rejects at once, nothing is left', async () => {
    const Key = 'abort/hung-part';
    const proxy = await startFaultProxy();
    const client = plainClient({ endpoint: proxy.endpoint });
    try {
      // Part 2 stops halfway for 20 s: without cancelling it, done() would wait for it (up to 2 s) first.
      proxy.addRule({
        match: { method: 'PUT', query: { uploadId: true, partNumber: '2' } },
        action: { kind: 'stall-request', afterBytes: 1_000_000, ms: 20_000 },
      });
      const upload = new EncryptedUpload({
        client,
        params: { Bucket: bucket.name, Key, Body: seededStream(`abort-${Key}`, 4 * 5 * MiB) },
        encryption: { keyring },
        partSize: 5 * MiB,
        queueSize: 2,
      });
      const firstPart = new Promise<void>((resolve) => upload.once('httpUploadProgress', () => resolve()));
      const done = upload.done();
      done.catch(() => {});
      await firstPart;
      const aborted = Date.now();
      await upload.abort();
      expect((await rejection(done)).name).toBe('AbortError');
      expect(Date.now() - aborted).toBeLessThan(1000);
      expect(await listOpenUploads(plain, bucket.name, Key)).toEqual([]);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});
