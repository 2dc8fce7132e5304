/**
 * `ls` (and `rotate`, which lists the same way) sees every object under a
 * prefix, however many pages ListObjectsV2 takes: more objects than one page
 * (1000) are listed once each, in order. Built binary, real S3.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parallel, useBucket } from '@encrypted-stream/test-support';
import { jsonOf, run } from './helpers/cli';
import { s3Flags } from './helpers/s3';

const bucket = useBucket('ls-pages');
const COUNT = 1005; // one full page of 1000 and part of a second
const keys = Array.from({ length: COUNT }, (_, i) => `many/${String(i).padStart(5, '0')}`);

beforeAll(async () => {
  await parallel(keys, 32, (Key) => bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: 'x' })));
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'other/outside', Body: 'x' }));
});

test('more objects than one ListObjectsV2 page: every one listed once, and nothing outside the prefix', async () => {
  const listed = jsonOf<{ objects: { key: string }[] }>(
    await run(['ls', `s3://${bucket.name}/many/`, '--json', ...s3Flags()]),
  );
  expect(listed.objects.map((o) => o.key)).toEqual(keys);
});
