import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec';
import { EncryptedUpload } from '@encrypted-stream/s3';
import {
  encryptedClient,
  type FaultProxy,
  newKeyring,
  seededBytes,
  seededStream,
  startFaultProxy,
  useBucket,
} from '../helpers';
import { expectErrorAfterAuthenticatedPrefix, faultCase, readChecked } from './fault-case';

/**
 * GetObject through a fault-injecting proxy. The SDK retries a request that
 * fails before its response (reset, 500, 503 SlowDown, socket timeout): the read
 * then returns the exact plaintext. A body that fails after the response began
 * is not retried by the SDK: the decrypted read must then END IN AN ERROR, having
 * delivered only an authenticated prefix of the plaintext ending on a chunk boundary.
 */

const C = DEFAULT_CHUNK_SIZE;
const STRIDE = C + 40;
const SIZE = 5 * 2 ** 20 + 4321;
const BIG_CHUNK = 2 ** 20; // an object written with 1 MiB chunks: the plugin's second-request path
const BIG_SIZE = 6 * 2 ** 20 + 777;
const STREAM_SIZE = 3 * 2 ** 20 + 5; // uploaded from a stream of unknown length: no size in its header

describe('faults: GetObject', () => {
  const bucket = useBucket('faults-get');
  const { keyring } = newKeyring();
  let proxy: FaultProxy;
  let client: S3Client;
  let timeoutClient: S3Client;
  const direct = encryptedClient({ keyring });

  beforeAll(async () => {
    proxy = await startFaultProxy();
    client = encryptedClient({ keyring }, { endpoint: proxy.endpoint, maxAttempts: 3 }).client;
    timeoutClient = encryptedClient(
      { keyring },
      { endpoint: proxy.endpoint, maxAttempts: 3, requestHandler: { socketTimeout: 1000 } },
    ).client;
    await direct.client.send(
      new PutObjectCommand({ Bucket: bucket.name, Key: 'whole', Body: seededBytes('whole', SIZE) }),
    );
    const big = encryptedClient({ keyring, chunkSize: BIG_CHUNK });
    await big.client.send(
      new PutObjectCommand({ Bucket: bucket.name, Key: 'big-chunks', Body: seededBytes('big-chunks', BIG_SIZE) }),
    );
    big.client.destroy();
    await new EncryptedUpload({
      client: direct.client,
      params: { Bucket: bucket.name, Key: 'stream', Body: seededStream('stream', STREAM_SIZE) },
      encryption: { keyring },
    }).done();
  });
  afterAll(async () => {
    client?.destroy();
    timeoutClient?.destroy();
    direct.client.destroy();
    await proxy?.close();
  });

  const get = (c: S3Client, Key: string, Range?: string) =>
    c.send(new GetObjectCommand({ Bucket: bucket.name, Key, Range }));
  const objectPath = (key: string) => `/${bucket.name}/${key}`;

  async function expectExact(c: S3Client, key: string, size: number, range?: { start: number; end: number }) {
    const out = await get(c, key, range && `bytes=${range.start}-${range.end - 1}`);
    const start = range?.start ?? 0;
    const length = (range?.end ?? size) - start;
    const outcome = await readChecked(out.Body, key, start);
    expect(outcome.error).toBeUndefined();
    expect(outcome.mismatches).toBe(0);
    expect(outcome.delivered).toBe(length);
  }

  faultCase(
    'GetObject: connection reset mid-body (whole object)',
    () => proxy,
    async () => {
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'reset-response', afterBytes: 3 * STRIDE + 12345 },
      });
      const out = await get(client, 'whole'); // headers arrived: the SDK's part is done
      const outcome = await readChecked(out.Body, 'whole', 0);
      expect(rule.fired).toBe(1);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, SIZE);
      expect(outcome.delivered).toBeLessThanOrEqual(3 * C);
    },
  );

  faultCase(
    'GetObject: connection reset mid-body (ranged read)',
    () => proxy,
    async () => {
      const start = 1_000_003;
      const end = 4_000_000;
      proxy.addRule({
        match: { method: 'GET', path: objectPath('whole'), range: true },
        action: { kind: 'reset-response', afterBytes: 700_000 },
      });
      const out = await get(client, 'whole', `bytes=${start}-${end - 1}`);
      const outcome = await readChecked(out.Body, 'whole', start);
      expectErrorAfterAuthenticatedPrefix(outcome, start, end - start);
    },
  );

  faultCase(
    'GetObject: body shorter than Content-Length, cut on a chunk boundary',
    () => proxy,
    async () => {
      proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'short-response', bytes: 4 * STRIDE },
      });
      const out = await get(client, 'whole');
      expect(out.ContentLength).toBe(SIZE); // announced in full
      const outcome = await readChecked(out.Body, 'whole', 0);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, SIZE);
    },
  );

  faultCase(
    'GetObject: body shorter than Content-Length (suffix range, cut mid-chunk)',
    () => proxy,
    async () => {
      const suffix = 2_000_000;
      proxy.addRule({
        match: { method: 'GET', path: objectPath('whole'), range: /^bytes=-/ },
        action: { kind: 'short-response', bytes: 5 * STRIDE + 999 },
      });
      const out = await get(client, 'whole', `bytes=-${suffix}`);
      expect(out.ContentRange).toBe(`bytes ${SIZE - suffix}-${SIZE - 1}/${SIZE}`);
      const outcome = await readChecked(out.Body, 'whole', SIZE - suffix);
      expectErrorAfterAuthenticatedPrefix(outcome, SIZE - suffix, suffix);
    },
  );

  faultCase(
    'GetObject: body shorter than Content-Length (open range, cut inside the final chunk)',
    () => proxy,
    async () => {
      const start = SIZE - 100_000;
      const cipherStart = Math.floor(start / C) * STRIDE;
      const cipherTotal = Math.floor(SIZE / C) * STRIDE + (SIZE % C) + 40;
      proxy.addRule({
        match: { method: 'GET', path: objectPath('whole'), range: true },
        action: { kind: 'short-response', bytes: cipherTotal - cipherStart - 10 }, // only the final tag is cut
      });
      const out = await get(client, 'whole', `bytes=${start}-`);
      const outcome = await readChecked(out.Body, 'whole', start);
      expectErrorAfterAuthenticatedPrefix(outcome, start, SIZE - start);
    },
  );

  /** A read that may fail at the request (before any body) or in the body. */
  async function readOrError(c: S3Client, key: string, start: number, range?: string) {
    try {
      const out = await get(c, key, range);
      return await readChecked(out.Body, key, start);
    } catch (error) {
      return { delivered: 0, mismatches: 0, error };
    }
  }

  faultCase(
    'GetObject: body cut and re-framed as complete (whole, size not in header, cut on a chunk boundary)',
    () => proxy,
    async () => {
      proxy.addRule({
        match: { method: 'GET', path: objectPath('stream') },
        action: { kind: 'truncate-reframed', bytes: 20 * STRIDE },
      });
      const outcome = await readOrError(client, 'stream', 0);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, STREAM_SIZE);
      expect(outcome.error).toMatchObject({ code: expect.stringMatching(/^ES_/) });
    },
  );

  faultCase(
    'GetObject: body cut and re-framed as complete (whole, size not in header, cut mid-chunk)',
    () => proxy,
    async () => {
      proxy.addRule({
        match: { method: 'GET', path: objectPath('stream') },
        action: { kind: 'truncate-reframed', bytes: 20 * STRIDE + 1000 },
      });
      const outcome = await readOrError(client, 'stream', 0);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, STREAM_SIZE);
      expect(outcome.error).toMatchObject({ code: expect.stringMatching(/^ES_/) });
    },
  );

  faultCase(
    'GetObject: body cut and re-framed as complete (whole, size in header)',
    () => proxy,
    async () => {
      proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'truncate-reframed', bytes: 7 * STRIDE + 333 },
      });
      const outcome = await readOrError(client, 'whole', 0);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, SIZE);
      expect(outcome.error).toMatchObject({ code: expect.stringMatching(/^ES_/) });
    },
  );

  faultCase(
    'GetObject: body cut and re-framed as complete (ranged, cut on a chunk boundary)',
    () => proxy,
    async () => {
      const start = 100_000;
      const end = 3_000_000;
      proxy.addRule({
        match: { method: 'GET', path: objectPath('stream'), range: true },
        action: { kind: 'truncate-reframed', bytes: 10 * STRIDE },
      });
      const outcome = await readOrError(client, 'stream', start, `bytes=${start}-${end - 1}`);
      expectErrorAfterAuthenticatedPrefix(outcome, start, end - start);
      expect(outcome.error).toMatchObject({ code: 'ES_TRUNCATED' });
    },
  );

  faultCase(
    'GetObject: stall mid-body shorter than the socket timeout',
    () => proxy,
    async () => {
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'stall-response', afterBytes: 2 * STRIDE + 5, ms: 600 },
      });
      await expectExact(timeoutClient, 'whole', SIZE);
      expect(rule.fired).toBe(1);
    },
  );

  faultCase(
    'GetObject: stall mid-body longer than the socket timeout',
    () => proxy,
    async () => {
      proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'stall-response', afterBytes: 2 * STRIDE + 5, ms: 3000 },
      });
      const out = await get(timeoutClient, 'whole');
      const outcome = await readChecked(out.Body, 'whole', 0);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, SIZE);
      expect((outcome.error as Error).name).toBe('TimeoutError');
    },
  );

  faultCase(
    'GetObject: stall before the response, longer than the socket timeout (retried)',
    () => proxy,
    async () => {
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'stall-request', afterBytes: 0, ms: 2500 },
      });
      await expectExact(timeoutClient, 'whole', SIZE, { start: 70_000, end: 3_000_000 });
      expect(rule.fired).toBe(1);
      expect(proxy.requests({ method: 'GET', path: objectPath('whole') })).toHaveLength(2);
    },
  );

  faultCase(
    'GetObject: connection reset before the response (retried)',
    () => proxy,
    async () => {
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'reset-request', afterBytes: 0 },
        times: 2,
      });
      await expectExact(client, 'whole', SIZE);
      expect(rule.fired).toBe(2);
    },
  );

  faultCase(
    'GetObject: HTTP 500 InternalError twice (retried)',
    () => proxy,
    async () => {
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'error', status: 500, code: 'InternalError' },
        times: 2,
      });
      await expectExact(client, 'whole', SIZE, { start: 0, end: 1 });
      expect(rule.fired).toBe(2);
    },
  );

  faultCase(
    'GetObject: HTTP 503 SlowDown twice (retried)',
    () => proxy,
    async () => {
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'error', status: 503, code: 'SlowDown' },
        times: 2,
      });
      await expectExact(client, 'whole', SIZE, { start: SIZE - 70_000, end: SIZE });
      expect(rule.fired).toBe(2);
    },
  );

  faultCase(
    'GetObject: HTTP 500 on every attempt (gives up with the S3 error)',
    () => proxy,
    async () => {
      proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'error', status: 500, code: 'InternalError' },
        times: Number.POSITIVE_INFINITY,
      });
      await expect(get(client, 'whole')).rejects.toMatchObject({
        name: 'InternalError',
        $metadata: { httpStatusCode: 500, attempts: 3 },
      });
    },
  );

  faultCase(
    'GetObject: other chunk size, reset mid-body of the second request',
    () => proxy,
    async () => {
      const start = 2_500_000;
      const end = 5_900_000;
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('big-chunks'), range: true },
        action: { kind: 'reset-response', afterBytes: BIG_CHUNK + 40 + 4096 },
        skip: 1, // the first (default-geometry) request is answered and discarded by the plugin
      });
      const out = await get(client, 'big-chunks', `bytes=${start}-${end - 1}`);
      const outcome = await readChecked(out.Body, 'big-chunks', start);
      expect(rule.fired).toBe(1);
      expectErrorAfterAuthenticatedPrefix(outcome, start, end - start, BIG_CHUNK);
    },
  );

  faultCase(
    'GetObject: other chunk size, 503 SlowDown on the second request (retried)',
    () => proxy,
    async () => {
      const rule = proxy.addRule({
        match: { method: 'GET', path: objectPath('big-chunks'), range: true },
        action: { kind: 'error', status: 503, code: 'SlowDown' },
        skip: 1,
      });
      await expectExact(client, 'big-chunks', BIG_SIZE, { start: 1_234_567, end: 4_444_444 });
      expect(rule.fired).toBe(1);
    },
  );
});
