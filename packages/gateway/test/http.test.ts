/**
 * GET and HEAD through the gateway against a real S3 server: status, body
 * and every representation header.
 */
import { randomBytes } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { gets, type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const s3 = useS3('http');
const DATA = randomBytes(300_000); // 4 full 64 KiB chunks and a short one
let gateway: RunningGateway;

beforeAll(async () => {
  await s3.putEncrypted('pub/doc.bin', DATA, { ContentType: 'application/x-test-data', Metadata: { owner: 'me' } });
  await s3.putEncrypted('pub/page.html', '<p>hello</p>', { ContentType: 'text/html; charset=utf-8' });
  await s3.putEncrypted('pub/empty', new Uint8Array(0), { ContentType: 'text/plain' });
  await s3.putEncrypted('pub/dir/nested name ü.txt', 'nested', { ContentType: 'text/plain' });
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'pub/' } });
});
afterAll(() => gateway?.close());
beforeEach(() => {
  gateway.s3.length = 0;
});

test('GET: 200, the plaintext, and its Content-Length, Content-Type, ETag, Last-Modified, Accept-Ranges', async () => {
  const res = await request(gateway.origin, '/doc.bin');
  expect(res.status).toBe(200);
  expect(res.body.equals(DATA)).toBe(true);
  expect(res.headers['content-length']).toBe(String(DATA.length));
  expect(res.headers['content-type']).toBe('application/x-test-data');
  expect(res.headers['accept-ranges']).toBe('bytes');
  expect(res.headers['content-range']).toBeUndefined();
  expect(res.headers['x-content-type-options']).toBe('nosniff');

  const stored = await s3.plain.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'pub/doc.bin' }));
  expect(res.headers.etag).toMatch(/^"[^"]+"$/);
  expect(res.headers.etag).toBe(stored.ETag);
  expect(res.headers['last-modified']).toBe(stored.LastModified?.toUTCString());
  expect(Date.parse(res.headers['last-modified'] as string)).toBeGreaterThan(Date.now() - 10 * 60_000);
  // User metadata and the encryption header never leak into HTTP headers.
  expect(Object.keys(res.headers).filter((h) => h.startsWith('x-amz'))).toEqual([]);

  expect(gets(gateway.s3)).toHaveLength(1);
  expect(gateway.s3).toHaveLength(1);
  expect(gateway.s3[0]?.range).toBeUndefined();
});

test('GET keeps the ContentType given at upload', async () => {
  const res = await request(gateway.origin, '/page.html');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.body.toString()).toBe('<p>hello</p>');
});

test('GET of an empty object: 200 with Content-Length 0', async () => {
  const res = await request(gateway.origin, '/empty');
  expect(res.status).toBe(200);
  expect(res.headers['content-length']).toBe('0');
  expect(res.body.length).toBe(0);
});

test('GET of a nested key with percent-encoded characters', async () => {
  const res = await request(gateway.origin, `/dir/${encodeURIComponent('nested name ü.txt')}`);
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('nested');
});

test('the ETag is stable from one response to the next', async () => {
  const [a, b] = [await request(gateway.origin, '/doc.bin'), await request(gateway.origin, '/doc.bin')];
  expect(a.headers.etag).toBe(b.headers.etag);
  expect(a.headers['last-modified']).toBe(b.headers['last-modified']);
});

test('HEAD: 200, the same headers as GET (plaintext Content-Length), no body, one S3 HEAD', async () => {
  const get = await request(gateway.origin, '/doc.bin');
  gateway.s3.length = 0;
  const head = await request(gateway.origin, '/doc.bin', { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.body.length).toBe(0);
  for (const name of ['content-length', 'content-type', 'etag', 'last-modified', 'accept-ranges']) {
    expect([name, head.headers[name]]).toEqual([name, get.headers[name]]);
  }
  expect(head.headers['content-length']).toBe(String(DATA.length));
  expect(gateway.s3.map((r) => r.method)).toEqual(['HEAD']);
});

test('HEAD with a Range is answered like a HEAD without one', async () => {
  const head = await request(gateway.origin, '/doc.bin', { method: 'HEAD', headers: { range: 'bytes=0-9' } });
  expect(head.status).toBe(200);
  expect(head.headers['content-length']).toBe(String(DATA.length));
});

test('HEAD of a missing object: 404', async () => {
  const head = await request(gateway.origin, '/nothing-here', { method: 'HEAD' });
  expect(head.status).toBe(404);
});
