/**
 * What the gateway may serve: 404 for missing keys, keys outside the scope,
 * and every spelling of a path that would step out of it or alias another
 * key. Objects exist outside the prefix (and under the names the tricks
 * would resolve to), so a 404 proves they are unreachable, not just absent.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { destroyBucket, uniqueBucketName } from '@encrypted-stream/test-support';
import { type RunningGateway, rawStatus, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const s3 = useS3('paths');
const other = { bucket: '' };
let gateway: RunningGateway;
let multi: RunningGateway;

const INSIDE = ['pub/x', 'pub/a/b', 'pub/a/x', 'pub/ok.txt', 'pub/a%2Fb', 'pub/..', 'pub/a/.'];
const OUTSIDE = ['x', 'secret.txt', 'a/b', 'pub2/x', 'pubx', 'pub\\x', 'a\\b', '/x', '/pub/x'];

beforeAll(async () => {
  for (const key of [...INSIDE, ...OUTSIDE]) await s3.putEncrypted(key, `content of ${key}`);
  other.bucket = uniqueBucketName('paths-other');
  await s3.plain.send(new CreateBucketCommand({ Bucket: other.bucket }));
  for (const key of ['x', 'pub/x']) {
    await s3.encrypted.send(new PutObjectCommand({ Bucket: other.bucket, Key: key, Body: `other ${key}` }));
  }
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'pub/' } });
  multi = await startGateway({ keyring: s3.keyring, scope: { allow: [`${s3.bucket}/pub/`] } });
});
afterAll(async () => {
  await gateway?.close();
  await multi?.close();
  if (other.bucket) await destroyBucket(s3.plain, other.bucket);
});

describe('scope { bucket, prefix }', () => {
  test.each([
    ['/x', 'pub/x'],
    ['/a/b', 'pub/a/b'],
    ['/ok.txt?download=1', 'pub/ok.txt'],
  ])('%s → 200 (%s)', async (path, key) => {
    const res = await request(gateway.origin, path);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(`content of ${key}`);
  });

  test.each([
    ['/missing'],
    ['/'],
    [''],
    ['/pub/x'], // pub/pub/x: the prefix is not part of the path
    ['/x/'], // empty segment
    ['/a/'],
    ['/a//b'],
  ])('%s → 404 (missing or not an object path)', async (path) => {
    expect((await request(gateway.origin, path)).status).toBe(404);
  });

  test.each([
    ['/../x'],
    ['/../secret.txt'],
    ['/../pub2/x'],
    ['/a/../x'],
    ['/a/../../x'],
    ['/%2e%2e/x'],
    ['/%2E%2E/x'],
    ['/.%2e/x'],
    ['/%2e./secret.txt'],
    ['/..%2fsecret.txt'],
    ['/..%2Fsecret.txt'],
    ['/a%2Fb'],
    ['/a%2fb'],
    ['//x'],
    ['//x/secret.txt'],
    ['///x'],
    ['/a/./b'],
    ['/./x'],
    ['/%2e/x'],
    ['/a/%2e/b'],
    ['/a\\b'],
    ['/..\\x'],
    ['/..\\secret.txt'],
    ['/%5c..%5cx'],
    ['/a%5cb'],
    ['/x%00'],
    ['/x%00.txt'],
    ['/%00/x'],
    ['/%zz'],
    ['/x%'],
    ['/..'],
    ['/.'],
  ])('path trick %s → 404', async (path) => {
    const res = await request(gateway.origin, path);
    expect([path, res.status]).toEqual([path, 404]);
  });

  test.each([['/x\0'], ['/\0/x'], ['/..\0/x']])(
    'a raw NUL in the target (%j) is refused, never served',
    async (path) => {
      const status = await rawStatus(gateway.port, path);
      expect([400, 404]).toContain(status);
    },
  );

  test('absolute-form targets do not reach other keys either', async () => {
    expect(await rawStatus(gateway.port, 'http://127.0.0.1/../secret.txt')).toBe(404);
    // Another host in the target is refused before the path is looked at (allowed-hosts.test.ts).
    expect(await rawStatus(gateway.port, 'http://evil/x/../../secret.txt')).toBe(421);
    expect(await rawStatus(gateway.port, 'http://localhost/x/../../secret.txt')).toBe(404);
    expect(await rawStatus(gateway.port, 'http://127.0.0.1/x')).toBe(200);
    expect(await rawStatus(gateway.port, 'http://127.0.0.1')).toBe(404);
  });

  test('no S3 request at all for a refused path', async () => {
    gateway.s3.length = 0;
    await request(gateway.origin, '/../x');
    await request(gateway.origin, '/a%2Fb');
    await request(gateway.origin, '//x');
    expect(gateway.s3).toEqual([]);
  });
});

describe('scope { allow: ["bucket/prefix"] } (paths are /bucket/key)', () => {
  test('/bucket/pub/x → 200', async () => {
    const res = await request(multi.origin, `/${s3.bucket}/pub/x`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('content of pub/x');
  });

  test.each([
    ['/B/x'],
    ['/B/secret.txt'],
    ['/B/pub2/x'],
    ['/B/pubx'],
    ['/B/pub/../x'],
    ['/B/pub/%2e%2e/x'],
    ['/B/pub/..%2fx'],
    ['/B/pub%2Fx'],
    ['/B%2Fpub/x'],
    ['/B/pub/./x'],
    ['/B/pub\\..\\x'],
    ['/B'],
    ['/B/'],
    ['/OTHER/x'],
    ['/OTHER/pub/x'],
    ['/B/pub/../../OTHER/pub/x'],
    ['/B/../OTHER/pub/x'],
    ['//B/pub/x'],
  ])('%s → 404 (B = the allowed bucket, OTHER = a bucket outside the scope)', async (template) => {
    const path = template.replace('/B', `/${s3.bucket}`).replace('OTHER', other.bucket);
    const res = await request(multi.origin, path);
    expect([path, res.status]).toEqual([path, 404]);
  });
});
