/** An object that is not encrypted (or not under our keys) is never passed through: 502, logged. */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { encryptedClient, newKeyring, useS3 } from './helpers/s3';

const s3 = useS3('plain');
let gateway: RunningGateway;

beforeAll(async () => {
  await s3.putPlain('p/plain.txt', 'not encrypted at all', { ContentType: 'text/plain' });
  const stranger = encryptedClient(newKeyring());
  await stranger.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'p/other-key.txt', Body: 'under another key' }));
  stranger.destroy();
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'p/' } });
});
afterAll(() => gateway?.close());
beforeEach(() => {
  gateway.logs.length = 0;
});

test.each([
  ['GET', {}],
  ['GET', { range: 'bytes=0-3' }],
  ['GET', { range: 'bytes=-3' }],
  ['HEAD', {}],
])('%s %j of an unencrypted object → 502, no plaintext, logged', async (method, headers) => {
  const res = await request(gateway.origin, '/plain.txt', { method, headers });
  expect(res.status).toBe(502);
  expect(res.body.length).toBe(0);
  expect(res.body.toString()).not.toContain('encrypted');
  expect(gateway.logs).toHaveLength(1);
  expect(gateway.logs[0]).toMatchObject({ level: 'error', event: 'decrypt-failed', key: 'p/plain.txt' });
  expect(gateway.logs[0]?.detail).toMatch(/ES_NOT_ENCRYPTED/);
});

test.each([
  ['GET', {}],
  ['GET', { range: 'bytes=2-5' }],
])('%s %j of an object encrypted under a key the gateway lacks → 502, logged', async (method, headers) => {
  const res = await request(gateway.origin, '/other-key.txt', { method, headers });
  expect(res.status).toBe(502);
  expect(res.body.length).toBe(0);
  expect(gateway.logs).toHaveLength(1);
  expect(gateway.logs[0]).toMatchObject({ level: 'error', event: 'decrypt-failed', key: 'p/other-key.txt' });
  expect(gateway.logs[0]?.detail).toMatch(/ES_UNKNOWN_KEY|ES_KEY_UNWRAP_FAILED/);
});
