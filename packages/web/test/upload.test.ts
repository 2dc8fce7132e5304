/**
 * uploadEncrypted under Node 20 (fetch, Blob) against real S3 through the
 * gateway's presign service: the caller encrypts, the service presigns, S3
 * stores ciphertext that the S3 plugin and the media handler read back;
 * progress per part; parts in parallel, at most `concurrency` in flight and
 * in memory; a failing part or the caller's signal aborts the upload.
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
    concurrency: 1, // one part after the other: progress in part order
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

describe('parallel parts', () => {
  /** A Blob whose slices are counted: the parts read and not yet sent are the parts held in memory. */
  class CountingBlob extends Blob {
    static held = 0;
    static maxHeld = 0;
    override slice(start?: number, end?: number, type?: string): Blob {
      CountingBlob.held++;
      CountingBlob.maxHeld = Math.max(CountingBlob.maxHeld, CountingBlob.held);
      return super.slice(start, end, type);
    }
  }

  /**
   * A fetch that records the part PUTs in flight. The PUTs wait until `gate`
   * of them are in flight together, then all go to S3: an upload that sends
   * fewer at once never opens the gate, and a timer (only there to end such
   * a wait) lets it go on with maxInFlight telling. Nothing is timed.
   */
  function gatedFetch(gate: number) {
    const state = { inFlight: 0, maxInFlight: 0, started: 0 };
    let open: () => void = () => {};
    const opened = new Promise<void>((resolve) => (open = resolve));
    let fallback: ReturnType<typeof setTimeout> | undefined;
    const fetchImpl: typeof fetch = async (input, init) => {
      if (init?.method !== 'PUT') return fetch(input, init);
      state.started++;
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      if (state.inFlight >= gate) open();
      fallback ??= setTimeout(open, 5000);
      try {
        await opened;
        return await fetch(input, init);
      } finally {
        state.inFlight--;
        CountingBlob.held--; // this part's slice is sent (or given up)
      }
    };
    return { state, fetchImpl, dispose: () => clearTimeout(fallback) };
  }

  test('five parts, concurrency 3: three PUTs in flight at once, never more; parts held ≤ 3; progress monotonic and exact', async () => {
    const plaintext = randomBytes(4 * PART + 777);
    const progress: UploadProgress[] = [];
    const { state, fetchImpl, dispose } = gatedFetch(3);
    CountingBlob.held = 0;
    CountingBlob.maxHeld = 0;
    const result = await uploadEncrypted({
      service: endpoint,
      key: 'media/parallel.bin',
      body: new CountingBlob([plaintext]),
      keyring,
      partSize: PART,
      concurrency: 3,
      fetch: fetchImpl,
      onProgress: (p) => progress.push(p),
    }).finally(dispose);
    expect(state.maxInFlight).toBe(3);
    expect(CountingBlob.maxHeld).toBeLessThanOrEqual(3);
    expect(progress.map((p) => p.partsDone)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.every((p) => p.partCount === 5 && p.totalBytes === plaintext.length)).toBe(true);
    for (let i = 1; i < progress.length; i++) {
      const grew = (progress[i] as UploadProgress).uploadedBytes - (progress[i - 1] as UploadProgress).uploadedBytes;
      expect([PART, 777]).toContain(grew); // each event adds exactly one part's plaintext
    }
    expect(progress.at(-1)?.uploadedBytes).toBe(plaintext.length);
    const reader = encryptedClient({ keyring });
    try {
      const read = await reader.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'media/parallel.bin' }));
      const stored = await readAll(read.Body);
      expect(stored.equals(plaintext)).toBe(true);
      expect(result.plaintextSize).toBe(plaintext.length);
    } finally {
      reader.client.destroy();
    }
  });

  test('a failing part aborts the PUTs in flight and the upload (the service abort); the first failure is thrown', async () => {
    const { state, fetchImpl, dispose } = gatedFetch(2);
    const failing: typeof fetch = async (input, init) => {
      // Part 2's body is cut: S3 refuses it (the signed content-length), while parts 1 and 3 are in flight.
      if (init?.method === 'PUT' && String(input).includes('partNumber=2&')) {
        return fetchImpl(input, { ...init, body: (init.body as Uint8Array).subarray(1) as Uint8Array<ArrayBuffer> });
      }
      return fetchImpl(input, init);
    };
    const aborts: string[] = [];
    const service = presignClient(endpoint);
    await expect(
      uploadEncrypted({
        service: {
          ...service,
          abort: (key, id) => {
            aborts.push(id);
            return service.abort(key, id);
          },
        },
        key: 'media/parallel-failing.bin',
        body: randomBytes(3 * PART + 10),
        keyring,
        partSize: PART,
        concurrency: 2,
        fetch: failing,
      }).finally(dispose),
    ).rejects.toMatchObject({ code: 'ES_UPLOAD_FAILED', message: expect.stringContaining('part 2') });
    expect(aborts).toHaveLength(1);
    expect(state.started).toBeLessThan(4); // part 4 never started
    expect(await listOpenUploads(bucket.client, bucket.name, 'media/parallel-failing.bin')).toEqual([]);
  });

  test("the caller's signal cancels: PUTs in flight aborted, the upload aborted, the signal's reason thrown", async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const progress: UploadProgress[] = [];
    await expect(
      uploadEncrypted({
        service: endpoint,
        key: 'media/cancelled.bin',
        body: randomBytes(4 * PART),
        keyring,
        partSize: PART,
        concurrency: 2,
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p);
          controller.abort(reason);
        },
      }),
    ).rejects.toBe(reason);
    expect(progress.length).toBeLessThan(4);
    expect(await listOpenUploads(bucket.client, bucket.name, 'media/cancelled.bin')).toEqual([]);
    const already = new AbortController();
    already.abort(reason);
    await expect(
      uploadEncrypted({ service: endpoint, key: 'media/x', body: randomBytes(1), keyring, signal: already.signal }),
    ).rejects.toBe(reason);
  });

  test('concurrency must be an integer from 1 to 64', async () => {
    for (const concurrency of [0, 1.5, 65, Number.NaN]) {
      await expect(
        uploadEncrypted({ service: endpoint, key: 'media/a', body: randomBytes(1), keyring, concurrency }),
      ).rejects.toThrow(RangeError);
    }
  });
});
