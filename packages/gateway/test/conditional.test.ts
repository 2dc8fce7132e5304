/**
 * Conditional requests (RFC 9110 §13): If-None-Match and If-Modified-Since
 * (304), If-Range (206 while the representation is unchanged, else 200).
 */
import { randomBytes } from 'node:crypto';
import { type Response, type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const DATA = randomBytes(150_000);
const s3 = useS3('cond');
let gateway: RunningGateway;
let etag: string;
let lastModified: string;

beforeAll(async () => {
  await s3.putEncrypted('c/obj', DATA, { ContentType: 'application/x-cond' });
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'c/' } });
  const first = await request(gateway.origin, '/obj');
  etag = first.headers.etag as string;
  lastModified = first.headers['last-modified'] as string;
  expect(etag).toMatch(/^"[^"]+"$/);
  expect(lastModified).toBeTruthy();
});
afterAll(() => gateway?.close());

const get = (headers: Record<string, string>, method = 'GET') => request(gateway.origin, '/obj', { method, headers });
const shifted = (date: string, seconds: number) => new Date(Date.parse(date) + seconds * 1000).toUTCString();

/** A 304 (RFC 9110 §15.4.5): no content, the ETag, and no Content-Length other than the 200's. */
function expectNotModified(res: Response) {
  expect(res.status).toBe(304);
  expect(res.body.length).toBe(0);
  expect(res.headers.etag).toBe(etag);
  const length = res.headers['content-length'];
  if (length !== undefined) expect(length).toBe(String(DATA.length));
}

function expectFull(res: Response) {
  expect(res.status).toBe(200);
  expect(res.headers['content-range']).toBeUndefined();
  expect(res.body.equals(DATA)).toBe(true);
}

describe('If-None-Match', () => {
  test('the current ETag → 304', async () => expectNotModified(await get({ 'if-none-match': etag })));
  test('a list holding the current ETag → 304', async () => {
    expectNotModified(await get({ 'if-none-match': `"0123456789abcdef", ${etag}, "other"` }));
  });
  test('* → 304', async () => expectNotModified(await get({ 'if-none-match': '*' })));
  test('the weak form of the ETag → 304 (weak comparison)', async () => {
    expectNotModified(await get({ 'if-none-match': `W/${etag}` }));
  });
  test('another ETag → 200 with the whole body', async () => expectFull(await get({ 'if-none-match': '"deadbeef"' })));
  test('a list without the current ETag → 200', async () => {
    expectFull(await get({ 'if-none-match': '"deadbeef", "cafebabe"' }));
  });
  test('HEAD with the current ETag → 304', async () => expectNotModified(await get({ 'if-none-match': etag }, 'HEAD')));
  test('HEAD with * → 304', async () => expectNotModified(await get({ 'if-none-match': '*' }, 'HEAD')));
  test('HEAD with another ETag → 200', async () => {
    const res = await get({ 'if-none-match': '"deadbeef"' }, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(DATA.length));
  });
  test('with a Range: If-None-Match is evaluated first → 304', async () => {
    expectNotModified(await get({ 'if-none-match': etag, range: 'bytes=0-9' }));
  });
  test('a 304 for one entity tag costs one S3 request (revalidating browsers, Chromium’s media cache)', async () => {
    gateway.s3.length = 0;
    expectNotModified(await get({ 'if-none-match': etag, 'if-modified-since': lastModified, range: 'bytes=0-99' }));
    expect(gateway.s3).toHaveLength(1);
  });
  test('takes precedence over If-Modified-Since (RFC 9110 §13.1.3)', async () => {
    expectFull(await get({ 'if-none-match': '"deadbeef"', 'if-modified-since': shifted(lastModified, 3600) }));
  });
});

describe('If-Modified-Since', () => {
  test('equal to Last-Modified → 304', async () => {
    expectNotModified(await get({ 'if-modified-since': lastModified }));
  });
  test('after Last-Modified → 304', async () => {
    expectNotModified(await get({ 'if-modified-since': shifted(lastModified, 5) }));
  });
  test('before Last-Modified → 200', async () => {
    expectFull(await get({ 'if-modified-since': shifted(lastModified, -3600) }));
  });
  test('not a date → ignored, 200', async () => expectFull(await get({ 'if-modified-since': 'yesterday-ish' })));
  test('HEAD, equal to Last-Modified → 304', async () => {
    expectNotModified(await get({ 'if-modified-since': lastModified }, 'HEAD'));
  });
});

describe('If-Range', () => {
  test('the current ETag → 206 with the range', async () => {
    const res = await get({ range: 'bytes=100-199', 'if-range': etag });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 100-199/${DATA.length}`);
    expect(res.body.equals(DATA.subarray(100, 200))).toBe(true);
  });
  test('another ETag → 200 with the whole body', async () => {
    expectFull(await get({ range: 'bytes=100-199', 'if-range': '"0123456789abcdef0123456789abcdef"' }));
  });
  test('a weak ETag never holds (strong comparison) → 200', async () => {
    expectFull(await get({ range: 'bytes=100-199', 'if-range': `W/${etag}` }));
  });
  test('the exact Last-Modified date → 206', async () => {
    const res = await get({ range: 'bytes=-10', 'if-range': lastModified });
    expect(res.status).toBe(206);
    expect(res.body.equals(DATA.subarray(DATA.length - 10))).toBe(true);
  });
  test('an older date → 200', async () => {
    expectFull(await get({ range: 'bytes=-10', 'if-range': shifted(lastModified, -60) }));
  });
  test('without a Range, If-Range is ignored → 200', async () => {
    expectFull(await get({ 'if-range': etag }));
  });
});
