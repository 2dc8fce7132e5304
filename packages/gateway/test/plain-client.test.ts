/**
 * createGatewayHandler with a client WITHOUT the plugin (the benchmark's
 * "plain proxy"): it only uses the SDK's commands, so the same handler serves
 * plaintext objects with the same HTTP semantics.
 */
import { randomBytes } from 'node:crypto';
import { plainClient } from '@encrypted-stream/test-support';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const DATA = randomBytes(200_000);
const s3 = useS3('plainproxy');
let gateway: RunningGateway;

beforeAll(async () => {
  await s3.putPlain('raw/data.bin', DATA, { ContentType: 'application/x-raw' });
  gateway = await startGateway({ client: plainClient(), scope: { bucket: s3.bucket, prefix: 'raw/' } });
});
afterAll(async () => {
  await gateway?.close();
  gateway?.client.destroy();
});
beforeEach(() => {
  gateway.s3.length = 0;
});

test('GET → 200 with the stored bytes and headers', async () => {
  const res = await request(gateway.origin, '/data.bin');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/x-raw');
  expect(res.headers['content-length']).toBe(String(DATA.length));
  expect(res.body.equals(DATA)).toBe(true);
});

test.each([
  ['bytes=10-19', 10, 19],
  ['bytes=199990-', 199_990, 199_999],
  ['bytes=-5', 199_995, 199_999],
])('Range %s → 206 with S3’s Content-Range, one S3 request', async (range, first, last) => {
  const res = await request(gateway.origin, '/data.bin', { headers: { range } });
  expect(res.status).toBe(206);
  expect(res.headers['content-range']).toBe(`bytes ${first}-${last}/${DATA.length}`);
  expect(res.body.equals(DATA.subarray(first, last + 1))).toBe(true);
  expect(gateway.s3).toHaveLength(1);
  expect(gateway.s3[0]?.range).toBe(range);
});

test('unsatisfiable → 416 bytes */size', async () => {
  const res = await request(gateway.origin, '/data.bin', { headers: { range: 'bytes=200000-' } });
  expect(res.status).toBe(416);
  expect(res.headers['content-range']).toBe(`bytes */${DATA.length}`);
});

test('If-None-Match → 304 with the ETag; HEAD → 200', async () => {
  const { headers } = await request(gateway.origin, '/data.bin', { method: 'HEAD' });
  expect(headers['content-length']).toBe(String(DATA.length));
  const res = await request(gateway.origin, '/data.bin', { headers: { 'if-none-match': headers.etag as string } });
  expect(res.status).toBe(304);
  expect(res.headers.etag).toBe(headers.etag);
});
