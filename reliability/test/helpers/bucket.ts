import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type MultipartUpload,
  type S3Client,
} from '@aws-sdk/client-s3';
import { plainClient } from './s3';

/** A bucket name unique to this run (S3 rules: 3–63 lowercase letters, digits, hyphens). */
export function uniqueBucketName(label: string): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30);
  return `es-rel-${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Creates a bucket named after `label` and returns its name. */
export async function createBucket(client: S3Client, label: string): Promise<string> {
  const name = uniqueBucketName(label);
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Every multipart upload still open in `bucket` (optionally only under `prefix`). */
export async function listOpenUploads(client: S3Client, bucket: string, prefix?: string): Promise<MultipartUpload[]> {
  const uploads: MultipartUpload[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, UploadIdMarker }),
    );
    uploads.push(...(page.Uploads ?? []));
    if (!page.IsTruncated) return uploads;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
}

/** Aborts every multipart upload still open in `bucket`; returns how many. */
export async function abortAllUploads(client: S3Client, bucket: string): Promise<number> {
  const uploads = await listOpenUploads(client, bucket);
  for (const u of uploads) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
  return uploads.length;
}

/** Deletes every object in `bucket`. */
export async function deleteAllObjects(client: S3Client, bucket: string): Promise<void> {
  let ContinuationToken: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    if (!page.IsTruncated) return;
    ContinuationToken = page.NextContinuationToken;
  }
}

/** Empties and deletes a bucket, including its unfinished multipart uploads. */
export async function destroyBucket(client: S3Client, bucket: string): Promise<void> {
  await abortAllUploads(client, bucket);
  await deleteAllObjects(client, bucket);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * A bucket for one test file: created in beforeAll, emptied and deleted (open
 * multipart uploads aborted) in afterAll. Read `.name` inside tests; `.client`
 * is a plain (unencrypted, direct) client to inspect what the server holds.
 */
export function useBucket(label: string): { readonly name: string; readonly client: S3Client } {
  const state = { name: '', client: plainClient() };
  beforeAll(async () => {
    state.name = await createBucket(state.client, label);
  });
  afterAll(async () => {
    try {
      if (state.name) await destroyBucket(state.client, state.name);
    } finally {
      state.client.destroy();
    }
  });
  return state;
}
