import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { plainClient } from './clients';

/** A bucket name unique to this run and test file (S3 rules: 3–63 lowercase letters, digits, hyphens). */
export function uniqueBucketName(label: string): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30);
  return `es-it-${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Aborts every multipart upload still open in `bucket`. */
export async function abortAllUploads(client: S3Client, bucket: string): Promise<number> {
  let aborted = 0;
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker, UploadIdMarker }));
    for (const upload of page.Uploads ?? []) {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
      );
      aborted++;
    }
    if (!page.IsTruncated) return aborted;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
}

/** Deletes every object in `bucket`, every version and delete marker too (versioned buckets). */
export async function deleteAllObjects(client: S3Client, bucket: string): Promise<void> {
  let ContinuationToken: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
    await Promise.all(
      (page.Contents ?? []).map((o) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }))),
    );
    if (!page.IsTruncated) break;
    ContinuationToken = page.NextContinuationToken;
  }
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker, VersionIdMarker }));
    const versions = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])];
    await Promise.all(
      versions.map((v) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: v.Key, VersionId: v.VersionId }))),
    );
    if (!page.IsTruncated) return;
    KeyMarker = page.NextKeyMarker;
    VersionIdMarker = page.NextVersionIdMarker;
  }
}

/** Empties and deletes a bucket, including its unfinished multipart uploads. */
export async function destroyBucket(client: S3Client, bucket: string): Promise<void> {
  await abortAllUploads(client, bucket);
  await deleteAllObjects(client, bucket);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * A bucket for one test file: created in beforeAll, emptied and deleted
 * (leftover multipart uploads aborted) in afterAll. Read `.name` inside tests.
 */
export function useBucket(label: string): { readonly name: string } {
  const client = plainClient();
  const state = { name: '' };
  beforeAll(async () => {
    state.name = uniqueBucketName(label);
    await client.send(new CreateBucketCommand({ Bucket: state.name }));
  });
  afterAll(async () => {
    if (state.name) await destroyBucket(client, state.name);
    client.destroy();
  });
  return state;
}
