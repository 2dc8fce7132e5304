/** Only GET and HEAD: every other method on an object path is 405 with an Allow header, and touches nothing. */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const s3 = useS3('methods');
let gateway: RunningGateway;

beforeAll(async () => {
  await s3.putEncrypted('m/obj.txt', 'unchanged');
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'm/' } });
});
afterAll(() => gateway?.close());

test.each([['POST'], ['PUT'], ['DELETE'], ['PATCH'], ['OPTIONS']])('%s → 405 with Allow: GET, HEAD', async (method) => {
  gateway.s3.length = 0;
  const res = await request(gateway.origin, '/obj.txt', {
    method,
    headers: { 'content-type': 'text/plain' },
    body: 'payload',
  });
  expect(res.status).toBe(405);
  expect(res.headers.allow).toBe('GET, HEAD');
  expect(res.body.length).toBe(0);
  expect(gateway.s3).toEqual([]);
});

test('405 also for a missing object path inside the scope', async () => {
  const res = await request(gateway.origin, '/nothing', { method: 'DELETE' });
  expect(res.status).toBe(405);
  expect(res.headers.allow).toBe('GET, HEAD');
});

test('the object is untouched after PUT/DELETE attempts', async () => {
  await request(gateway.origin, '/obj.txt', { method: 'DELETE' });
  await request(gateway.origin, '/obj.txt', { method: 'PUT' });
  const out = await s3.encrypted.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'm/obj.txt' }));
  expect(await out.Body?.transformToString()).toBe('unchanged');
  expect((await request(gateway.origin, '/obj.txt')).body.toString()).toBe('unchanged');
});
