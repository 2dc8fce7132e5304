import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { EncryptedUpload } from '@encrypted-stream/s3/upload';
import {
  encryptedClient,
  type FaultAction,
  newKeyring,
  seededBytes,
  seededStream,
  useBucket,
  useEncryptedClient,
} from '../helpers';
import { expectErrorAfterAuthenticatedPrefix, faultCase, readChecked, useFaultProxy } from './fault-case';

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
  const faults = useFaultProxy({ keyring });
  const direct = useEncryptedClient({ keyring });

  beforeAll(async () => {
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
    () => faults.proxy,
    async () => {
      const rule = faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'reset-response', afterBytes: 3 * STRIDE + 12345 },
      });
      const out = await get(faults.client, 'whole'); // headers arrived: the SDK's part is done
      const outcome = await readChecked(out.Body, 'whole', 0);
      expect(rule.fired).toBe(1);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, SIZE);
      expect(outcome.delivered).toBeLessThanOrEqual(3 * C);
    },
  );

  faultCase(
    'GetObject: connection reset mid-body (ranged read)',
    () => faults.proxy,
    async () => {
      const start = 1_000_003;
      const end = 4_000_000;
      faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole'), range: true },
        action: { kind: 'reset-response', afterBytes: 700_000 },
      });
      const out = await get(faults.client, 'whole', `bytes=${start}-${end - 1}`);
      const outcome = await readChecked(out.Body, 'whole', start);
      expectErrorAfterAuthenticatedPrefix(outcome, start, end - start);
    },
  );

  faultCase(
    'GetObject: body shorter than Content-Length, cut on a chunk boundary',
    () => faults.proxy,
    async () => {
      faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'short-response', bytes: 4 * STRIDE },
      });
      const out = await get(faults.client, 'whole');
      expect(out.ContentLength).toBe(SIZE); // announced in full
      const outcome = await readChecked(out.Body, 'whole', 0);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, SIZE);
    },
  );

  faultCase(
    'GetObject: body shorter than Content-Length (suffix range, cut mid-chunk)',
    () => faults.proxy,
    async () => {
      const suffix = 2_000_000;
      faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole'), range: /^bytes=-/ },
        action: { kind: 'short-response', bytes: 5 * STRIDE + 999 },
      });
      const out = await get(faults.client, 'whole', `bytes=-${suffix}`);
      expect(out.ContentRange).toBe(`bytes ${SIZE - suffix}-${SIZE - 1}/${SIZE}`);
      const outcome = await readChecked(out.Body, 'whole', SIZE - suffix);
      expectErrorAfterAuthenticatedPrefix(outcome, SIZE - suffix, suffix);
    },
  );

  faultCase(
    'GetObject: body shorter than Content-Length (open range, cut inside the final chunk)',
    () => faults.proxy,
    async () => {
      const start = SIZE - 100_000;
      const cipherStart = Math.floor(start / C) * STRIDE;
      const cipherTotal = Math.floor(SIZE / C) * STRIDE + (SIZE % C) + 40;
      faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole'), range: true },
        action: { kind: 'short-response', bytes: cipherTotal - cipherStart - 10 }, // only the final tag is cut
      });
      const out = await get(faults.client, 'whole', `bytes=${start}-`);
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

  for (const [what, key, bytes, size] of [
    ['whole, size not in header, cut on a chunk boundary', 'stream', 20 * STRIDE, STREAM_SIZE],
    ['whole, size not in header, cut mid-chunk', 'stream', 20 * STRIDE + 1000, STREAM_SIZE],
    ['whole, size in header', 'whole', 7 * STRIDE + 333, SIZE],
  ] as const) {
    faultCase(
      `GetObject: body cut and re-framed as complete (${what})`,
      () => faults.proxy,
      async () => {
        faults.proxy.addRule({
          match: { method: 'GET', path: objectPath(key) },
          action: { kind: 'truncate-reframed', bytes },
        });
        const outcome = await readOrError(faults.client, key, 0);
        expectErrorAfterAuthenticatedPrefix(outcome, 0, size);
        expect(outcome.error).toMatchObject({ code: expect.stringMatching(/^ES_/) });
      },
    );
  }

  faultCase(
    'GetObject: body cut and re-framed as complete (ranged, cut on a chunk boundary)',
    () => faults.proxy,
    async () => {
      const start = 100_000;
      const end = 3_000_000;
      faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('stream'), range: true },
        action: { kind: 'truncate-reframed', bytes: 10 * STRIDE },
      });
      const outcome = await readOrError(faults.client, 'stream', start, `bytes=${start}-${end - 1}`);
      expectErrorAfterAuthenticatedPrefix(outcome, start, end - start);
      expect(outcome.error).toMatchObject({ code: 'ES_TRUNCATED' });
    },
  );

  faultCase(
    'GetObject: stall mid-body shorter than the socket timeout',
    () => faults.proxy,
    async () => {
      const rule = faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'stall-response', afterBytes: 2 * STRIDE + 5, ms: 600 },
      });
      await expectExact(faults.timeoutClient, 'whole', SIZE);
      expect(rule.fired).toBe(1);
    },
  );

  faultCase(
    'GetObject: stall mid-body longer than the socket timeout',
    () => faults.proxy,
    async () => {
      faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'stall-response', afterBytes: 2 * STRIDE + 5, ms: 3000 },
      });
      const out = await get(faults.timeoutClient, 'whole');
      const outcome = await readChecked(out.Body, 'whole', 0);
      expectErrorAfterAuthenticatedPrefix(outcome, 0, SIZE);
      expect((outcome.error as Error).name).toBe('TimeoutError');
    },
  );

  faultCase(
    'GetObject: stall before the response, longer than the socket timeout (retried)',
    () => faults.proxy,
    async () => {
      const rule = faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'stall-request', afterBytes: 0, ms: 2500 },
      });
      await expectExact(faults.timeoutClient, 'whole', SIZE, { start: 70_000, end: 3_000_000 });
      expect(rule.fired).toBe(1);
      expect(faults.proxy.requests({ method: 'GET', path: objectPath('whole') })).toHaveLength(2);
    },
  );

  const retriedTwice: [string, FaultAction, { start: number; end: number } | undefined][] = [
    ['connection reset before the response', { kind: 'reset-request', afterBytes: 0 }, undefined],
    ['HTTP 500 InternalError twice', { kind: 'error', status: 500, code: 'InternalError' }, { start: 0, end: 1 }],
    ['HTTP 503 SlowDown twice', { kind: 'error', status: 503, code: 'SlowDown' }, { start: SIZE - 70_000, end: SIZE }],
  ];
  for (const [what, action, range] of retriedTwice) {
    faultCase(
      `GetObject: ${what} (retried)`,
      () => faults.proxy,
      async () => {
        const rule = faults.proxy.addRule({ match: { method: 'GET', path: objectPath('whole') }, action, times: 2 });
        await expectExact(faults.client, 'whole', SIZE, range);
        expect(rule.fired).toBe(2);
      },
    );
  }

  faultCase(
    'GetObject: HTTP 500 on every attempt (gives up with the S3 error)',
    () => faults.proxy,
    async () => {
      faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('whole') },
        action: { kind: 'error', status: 500, code: 'InternalError' },
        times: Number.POSITIVE_INFINITY,
      });
      await expect(get(faults.client, 'whole')).rejects.toMatchObject({
        name: 'InternalError',
        $metadata: { httpStatusCode: 500, attempts: 3 },
      });
    },
  );

  faultCase(
    'GetObject: other chunk size, reset mid-body of the second request',
    () => faults.proxy,
    async () => {
      const start = 2_500_000;
      const end = 5_900_000;
      const rule = faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('big-chunks'), range: true },
        action: { kind: 'reset-response', afterBytes: BIG_CHUNK + 40 + 4096 },
        skip: 1, // the first (default-geometry) request is answered and discarded by the plugin
      });
      const out = await get(faults.client, 'big-chunks', `bytes=${start}-${end - 1}`);
      const outcome = await readChecked(out.Body, 'big-chunks', start);
      expect(rule.fired).toBe(1);
      expectErrorAfterAuthenticatedPrefix(outcome, start, end - start, BIG_CHUNK);
    },
  );

  faultCase(
    'GetObject: other chunk size, 503 SlowDown on the second request (retried)',
    () => faults.proxy,
    async () => {
      const rule = faults.proxy.addRule({
        match: { method: 'GET', path: objectPath('big-chunks'), range: true },
        action: { kind: 'error', status: 503, code: 'SlowDown' },
        skip: 1,
      });
      await expectExact(faults.client, 'big-chunks', BIG_SIZE, { start: 1_234_567, end: 4_444_444 });
      expect(rule.fired).toBe(1);
    },
  );
});
