/**
 * RFC 9110 byte ranges through the gateway: 206 with a plaintext
 * Content-Range and exactly the asked bytes for one ranged S3 request; 416;
 * several or malformed ranges answered with the whole representation.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const C = DEFAULT_CHUNK_SIZE; // 64 KiB
const SIZE = 4 * C + 41_856; // 304 000 bytes: four full chunks and a short final one
const DATA = randomBytes(SIZE);
const ALIGNED = randomBytes(2 * C); // a size that is a whole number of chunks
const s3 = useS3('ranges');
let gateway: RunningGateway;

beforeAll(async () => {
  await s3.putEncrypted('v/data.bin', DATA, { ContentType: 'video/mp4' });
  await s3.putEncrypted('v/aligned.bin', ALIGNED);
  await s3.putEncrypted('v/empty', new Uint8Array(0));
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'v/' } });
});
afterAll(() => gateway?.close());
beforeEach(() => {
  gateway.s3.length = 0;
});

/** [Range header, first byte, last byte] for DATA. */
const SATISFIABLE: [string, number, number][] = [
  ['bytes=0-0', 0, 0],
  ['bytes=0-99', 0, 99],
  ['bytes=1000-1999', 1000, 1999],
  ['bytes=0-65535', 0, C - 1], // exactly the first chunk
  ['bytes=65535-65535', C - 1, C - 1], // last byte of chunk 0
  ['bytes=65536-65536', C, C], // first byte of chunk 1
  ['bytes=65530-65545', C - 6, C + 9], // across one boundary
  ['bytes=60000-200000', 60_000, 200_000], // across three boundaries
  ['bytes=262143-262144', 4 * C - 1, 4 * C], // into the short final chunk
  ['bytes=303990-303999', SIZE - 10, SIZE - 1], // the last bytes
  ['bytes=303990-999999', SIZE - 10, SIZE - 1], // last-pos past the end is clamped
  ['bytes=303999-', SIZE - 1, SIZE - 1],
  ['bytes=100000-', 100_000, SIZE - 1],
  ['bytes=0-', 0, SIZE - 1],
  ['bytes=-1', SIZE - 1, SIZE - 1],
  ['bytes=-100', SIZE - 100, SIZE - 1],
  ['bytes=-41857', SIZE - 41_857, SIZE - 1], // one byte into chunk 3
  ['bytes=-200000', SIZE - 200_000, SIZE - 1],
  ['bytes=-304000', 0, SIZE - 1], // the whole object
  ['bytes=-999999', 0, SIZE - 1], // longer than the object: all of it
];

test.each(SATISFIABLE)(
  'Range: %s → 206, Content-Range, exact bytes, ONE ranged S3 request',
  async (range, first, last) => {
    const res = await request(gateway.origin, '/data.bin', { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${first}-${last}/${SIZE}`);
    expect(res.headers['content-length']).toBe(String(last - first + 1));
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers.etag).toBeTruthy();
    expect(res.body.equals(DATA.subarray(first, last + 1))).toBe(true);
    expect(gateway.s3).toHaveLength(1);
    expect(gateway.s3[0]?.method).toBe('GET');
    expect(gateway.s3[0]?.range).toMatch(/^bytes=/);
    expect(gateway.s3[0]?.status).toBe(206);
  },
);

test.each([
  ['bytes=65536-', C, 2 * C - 1],
  ['bytes=-1', 2 * C - 1, 2 * C - 1],
  ['bytes=-65536', C, 2 * C - 1],
  ['bytes=131071-131071', 2 * C - 1, 2 * C - 1],
  ['bytes=65535-65536', C - 1, C],
])('object of whole chunks, Range: %s → 206 with exact bytes, one S3 request', async (range, first, last) => {
  const res = await request(gateway.origin, '/aligned.bin', { headers: { range } });
  expect(res.status).toBe(206);
  expect(res.headers['content-range']).toBe(`bytes ${first}-${last}/${2 * C}`);
  expect(res.body.equals(ALIGNED.subarray(first, last + 1))).toBe(true);
  expect(gateway.s3).toHaveLength(1);
});

test.each([['bytes=304000-'], ['bytes=304000-304010'], ['bytes=999999-'], ['bytes=999999-1000000'], ['bytes=-0']])(
  'unsatisfiable Range: %s → 416 with Content-Range: bytes */size, no body',
  async (range) => {
    const res = await request(gateway.origin, '/data.bin', { headers: { range } });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${SIZE}`);
    expect(res.body.length).toBe(0);
  },
);

test.each([['bytes=0-'], ['bytes=0-0'], ['bytes=-5']])('empty object, Range: %s → 416 bytes */0', async (range) => {
  const res = await request(gateway.origin, '/empty', { headers: { range } });
  expect(res.status).toBe(416);
  expect(res.headers['content-range']).toBe('bytes */0');
});

test.each([['bytes=0-1,5-6'], ['bytes=0-99, 200-299'], ['bytes=-10,0-10'], ['bytes=0-0,304000-']])(
  'several ranges: %s → 200 with the whole plaintext (never wrong bytes)',
  async (range) => {
    const res = await request(gateway.origin, '/data.bin', { headers: { range } });
    expect(res.status).toBe(200);
    expect(res.headers['content-range']).toBeUndefined();
    expect(res.headers['content-length']).toBe(String(SIZE));
    expect(res.body.equals(DATA)).toBe(true);
  },
);

test.each([
  ['bytes=5-3'],
  ['bytes=abc'],
  ['bytes='],
  ['bytes=-'],
  ['bytes 0-5'],
  ['items=0-5'],
  ['bytes=0-5x'],
  ['bytes=--5'],
  ['bytes=99999999999999999-'],
])('malformed Range: %s is ignored → 200 with the whole plaintext', async (range) => {
  const res = await request(gateway.origin, '/data.bin', { headers: { range } });
  expect(res.status).toBe(200);
  expect(res.headers['content-range']).toBeUndefined();
  expect(res.body.equals(DATA)).toBe(true);
  expect(gateway.s3).toHaveLength(1);
  expect(gateway.s3[0]?.range).toBeUndefined();
});

test('a Range on a missing object: 404', async () => {
  const res = await request(gateway.origin, '/missing.bin', { headers: { range: 'bytes=0-10' } });
  expect(res.status).toBe(404);
});
