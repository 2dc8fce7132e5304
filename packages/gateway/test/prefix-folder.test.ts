/**
 * A prefix is a folder: `serve s3://B/backups` serves `backups/…` and never
 * `backups-private/…` (a prefix taken as a string would serve it at
 * `/-private/secret.txt`); an empty prefix serves the whole bucket.
 */
import { folderPrefix, resolveObjectPath } from '../src';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const s3 = useS3('prefix');
let backups: RunningGateway;
let slashed: RunningGateway;
let whole: RunningGateway;

beforeAll(async () => {
  await s3.putEncrypted('backups/ok.txt', 'a backup');
  await s3.putEncrypted('backups-private/secret.txt', 'the secret');
  await s3.putEncrypted('backupsX', 'next door');
  backups = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'backups' } });
  slashed = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'backups/' } });
  whole = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: '' } });
});
afterAll(async () => {
  for (const g of [backups, slashed, whole]) await g?.close();
});

test('prefix "backups" serves backups/ok.txt at /ok.txt', async () => {
  const res = await request(backups.origin, '/ok.txt');
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('a backup');
});

test.each([['/-private/secret.txt'], ['/X'], ['/-private%2Fsecret.txt']])(
  'prefix "backups" does not serve backups-private/… or backupsX (%s → 404)',
  async (path) => {
    backups.s3.length = 0;
    const res = await request(backups.origin, path);
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toMatch(/secret|next door/);
    // Whatever S3 was asked, it was a key under the folder.
    for (const r of backups.s3) expect(r.path).toContain(`/${s3.bucket}/backups/`);
  },
);

test('prefix "backups" and "backups/" are the same scope', async () => {
  for (const path of ['/ok.txt', '/-private/secret.txt']) {
    const [a, b] = [await request(backups.origin, path), await request(slashed.origin, path)];
    expect([path, a.status, a.body.toString()]).toEqual([path, b.status, b.body.toString()]);
  }
});

test('an empty prefix serves the whole bucket', async () => {
  expect((await request(whole.origin, '/backups-private/secret.txt')).body.toString()).toBe('the secret');
  expect((await request(whole.origin, '/backups/ok.txt')).body.toString()).toBe('a backup');
  expect((await request(whole.origin, '/backupsX')).body.toString()).toBe('next door');
});

test('folderPrefix and resolveObjectPath: a prefix is a whole path segment', () => {
  expect(folderPrefix(undefined)).toBe('');
  expect(folderPrefix('')).toBe('');
  expect(folderPrefix('backups')).toBe('backups/');
  expect(folderPrefix('backups/')).toBe('backups/');
  expect(folderPrefix('a/b')).toBe('a/b/');
  expect(resolveObjectPath('/-private/secret.txt', { bucket: 'B', prefix: 'backups' })).toEqual({
    bucket: 'B',
    key: 'backups/-private/secret.txt',
  });
  expect(resolveObjectPath('/x', { bucket: 'B' })).toEqual({ bucket: 'B', key: 'x' });
});
