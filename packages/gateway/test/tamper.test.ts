/**
 * A tampered object (one byte flipped in its third chunk, in S3, metadata
 * kept): the response is cut abruptly after the chunks that authenticated —
 * the client never sees a clean end, every byte it got is true plaintext, and
 * the gateway logs 'body-failed'.
 */
import { randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { chunkOffset, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { outcome, type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const C = DEFAULT_CHUNK_SIZE;
const SIZE = 6 * C + 1234;
const DATA = randomBytes(SIZE);
const TAMPERED_CHUNK = 2; // the third chunk: chunks 0 and 1 still authenticate
const s3 = useS3('tamper');
let gateway: RunningGateway;

beforeAll(async () => {
  await s3.putEncrypted('t/good.bin', DATA, { ContentType: 'application/x-good' });
  await s3.putEncrypted('t/bad.bin', DATA, { ContentType: 'application/x-bad' });
  // Tamper through a plain client: raw body and metadata down, one byte flipped, same metadata up.
  const raw = await s3.plain.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 't/bad.bin' }));
  const body = Buffer.from(await (raw.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  const at = chunkOffset(TAMPERED_CHUNK, C) + 1000;
  body[at] = (body[at] as number) ^ 0x01;
  await s3.plain.send(
    new PutObjectCommand({
      Bucket: s3.bucket,
      Key: 't/bad.bin',
      Body: body,
      Metadata: raw.Metadata,
      ContentType: raw.ContentType,
    }),
  );
  const after = await s3.plain.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 't/bad.bin' }));
  expect(after.Metadata).toEqual(raw.Metadata);
  // And a copy cut at a chunk boundary (its last two chunks dropped), metadata kept.
  body[at] = (body[at] as number) ^ 0x01;
  await s3.plain.send(
    new PutObjectCommand({
      Bucket: s3.bucket,
      Key: 't/truncated.bin',
      Body: body.subarray(0, chunkOffset(5, C)),
      Metadata: raw.Metadata,
      ContentType: raw.ContentType,
    }),
  );
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 't/' } });
});
afterAll(() => gateway?.close());
beforeEach(() => {
  gateway.logs.length = 0;
});

/** `got` is a prefix of `expected` of at most `limit` bytes. */
function expectAuthenticatedPrefix(got: Buffer, expected: Buffer, limit: number) {
  expect(got.length).toBeLessThanOrEqual(limit);
  expect(got.equals(expected.subarray(0, got.length))).toBe(true);
}

test('the untampered copy is served whole (control)', async () => {
  const res = await outcome(gateway.origin, '/good.bin');
  expect(res.status).toBe(200);
  expect(res.ended).toBe(true);
  expect(res.body.equals(DATA)).toBe(true);
});

test('GET: cut after the authenticated chunks, never a clean end; logged body-failed', async () => {
  const res = await outcome(gateway.origin, '/bad.bin');
  expect(res.ended).toBe(false);
  expect(res.error).toBeDefined();
  // Headers may or may not have left before the cut; if they did, they promised the whole object.
  if (res.status !== undefined) {
    expect(res.status).toBe(200);
    expect(res.headers?.['content-length']).toBe(String(SIZE));
  }
  expectAuthenticatedPrefix(res.body, DATA, TAMPERED_CHUNK * C);
  const entry = await gateway.waitForLog('body-failed');
  expect(entry).toMatchObject({ level: 'error', bucket: s3.bucket, key: 't/bad.bin' });
  expect(entry.detail).toMatch(/ES_AUTH_FAILED/);
  expect(gateway.logs.map((e) => e.event)).not.toContain('client-gone');
});

test('a range inside the authenticated chunks is still served (206)', async () => {
  const res = await outcome(gateway.origin, '/bad.bin', { range: `bytes=100-${2 * C - 1}` });
  expect(res.status).toBe(206);
  expect(res.ended).toBe(true);
  expect(res.body.equals(DATA.subarray(100, 2 * C))).toBe(true);
});

test('a range starting inside the tampered chunk: not one byte, no clean end', async () => {
  const start = 2 * C + 10;
  const res = await outcome(gateway.origin, '/bad.bin', { range: `bytes=${start}-${start + 99}` });
  expect(res.ended).toBe(false);
  expect(res.body.length).toBe(0);
  expect((await gateway.waitForLog('body-failed')).detail).toMatch(/ES_AUTH_FAILED/);
});

test('a range across into the tampered chunk: only the authenticated chunk’s bytes, then the cut', async () => {
  const start = C + 5;
  const res = await outcome(gateway.origin, '/bad.bin', { range: `bytes=${start}-${3 * C}` });
  expect(res.ended).toBe(false);
  if (res.status !== undefined) expect(res.status).toBe(206);
  expectAuthenticatedPrefix(res.body, DATA.subarray(start), 2 * C - start);
  await gateway.waitForLog('body-failed');
});

test.each([[undefined], ['bytes=0-9'], ['bytes=-10']])(
  'an object truncated at a chunk boundary (Range %s) → 502 before any byte, logged',
  async (range) => {
    const res = await outcome(gateway.origin, '/truncated.bin', range ? { range } : {});
    expect(res.status).toBe(502);
    expect(res.body.length).toBe(0);
    expect(gateway.logs.map((e) => e.event)).toEqual(['decrypt-failed']);
    expect(gateway.logs[0]?.detail).toMatch(/ES_SIZE_MISMATCH|ES_TRUNCATED/);
  },
);

test('the gateway keeps serving after a failed body', async () => {
  const res = await request(gateway.origin, '/good.bin', { headers: { range: 'bytes=-3' } });
  expect(res.status).toBe(206);
  expect(res.body.equals(DATA.subarray(SIZE - 3))).toBe(true);
});
