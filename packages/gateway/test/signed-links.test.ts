/** Signed, expiring links (signPath): 200 with a valid one, 403 expired / wrong signature / another path. */
import { randomBytes } from 'node:crypto';
import { signPath } from '../src';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const s3 = useS3('signed');
const KEY = randomBytes(32);
let gateway: RunningGateway;
const inAnHour = () => new Date(Date.now() + 3600_000);

beforeAll(async () => {
  await s3.putEncrypted('s/a.txt', 'object a', { ContentType: 'text/plain' });
  await s3.putEncrypted('s/b.txt', 'object b');
  await s3.putEncrypted('s/dir/c d.txt', 'object c');
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 's/' }, signingKey: KEY });
});
afterAll(() => gateway?.close());
beforeEach(() => {
  gateway.s3.length = 0;
});

test('a valid signed link → 200 with the object', async () => {
  const res = await request(gateway.origin, signPath('/a.txt', KEY, inAnHour()));
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('object a');
  expect(res.headers['content-type']).toBe('text/plain');
});

test('a valid signed link works for HEAD and ranges', async () => {
  const link = signPath('/a.txt', KEY, inAnHour());
  expect((await request(gateway.origin, link, { method: 'HEAD' })).status).toBe(200);
  const ranged = await request(gateway.origin, link, { headers: { range: 'bytes=-1' } });
  expect(ranged.status).toBe(206);
  expect(ranged.body.toString()).toBe('a');
});

test('a signed link to a percent-encoded path', async () => {
  const res = await request(gateway.origin, signPath(`/dir/${encodeURIComponent('c d.txt')}`, KEY, inAnHour()));
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('object c');
});

test('no signature → 403', async () => {
  expect((await request(gateway.origin, '/a.txt')).status).toBe(403);
  expect((await request(gateway.origin, '/a.txt', { method: 'HEAD' })).status).toBe(403);
});

test('an expired link → 403', async () => {
  const res = await request(gateway.origin, signPath('/a.txt', KEY, new Date(Date.now() - 1000)));
  expect(res.status).toBe(403);
});

test('a link whose expiry was pushed back → 403', async () => {
  const link = signPath('/a.txt', KEY, new Date(Date.now() - 1000));
  const later = Math.floor(Date.now() / 1000) + 3600;
  expect((await request(gateway.origin, link.replace(/expires=\d+/, `expires=${later}`))).status).toBe(403);
});

test('a wrong signature → 403', async () => {
  const link = signPath('/a.txt', KEY, inAnHour());
  const other = signPath('/a.txt', randomBytes(32), inAnHour());
  expect((await request(gateway.origin, other)).status).toBe(403);
  const flipped = link.replace(/signature=(.)/, (_m, c: string) => `signature=${c === 'A' ? 'B' : 'A'}`);
  expect((await request(gateway.origin, flipped)).status).toBe(403);
  expect((await request(gateway.origin, link.replace(/signature=.*/, 'signature='))).status).toBe(403);
  expect((await request(gateway.origin, link.replace(/signature=.*/, 'signature=x'))).status).toBe(403);
  expect((await request(gateway.origin, link.replace(/&signature=.*/, ''))).status).toBe(403);
});

test("another path with a link's signature → 403", async () => {
  const link = signPath('/a.txt', KEY, inAnHour());
  const query = link.slice(link.indexOf('?'));
  expect((await request(gateway.origin, `/b.txt${query}`)).status).toBe(403);
  expect((await request(gateway.origin, `/a.txt/${query}`)).status).not.toBe(200);
  expect((await request(gateway.origin, `/./a.txt${query}`)).status).not.toBe(200);
  expect((await request(gateway.origin, `/A.txt${query}`)).status).toBe(403);
});

test('nothing is read from S3 for a refused link', async () => {
  await request(gateway.origin, '/a.txt');
  await request(gateway.origin, signPath('/a.txt', KEY, new Date(Date.now() - 1000)));
  expect(gateway.s3).toEqual([]);
});
