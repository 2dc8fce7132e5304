import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { listOpenUploads, s3Settings, type TestBucket } from '@encrypted-stream/test-support';

/** The CLI's flags for the server under test (or for `endpoint`, e.g. a proxy in front of it). */
export function s3Flags(endpoint = s3Settings().endpoint): string[] {
  return ['--endpoint', endpoint, '--path-style'];
}

/** Asserts that `key` does not exist in `bucket` (HeadObject 404) and that no multipart upload of it is open. */
export async function expectNothingStored(bucket: TestBucket, key: string): Promise<void> {
  const head = bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
  await expect(head).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  const open = await listOpenUploads(bucket.client, bucket.name, key);
  expect(open.filter((upload) => upload.Key === key)).toEqual([]);
}
