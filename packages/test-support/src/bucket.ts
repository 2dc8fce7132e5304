import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type MultipartUpload,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { EncryptionOptions } from '@encrypted-stream/s3';
import { plainClient } from './clients';
import { type EncryptedClient, useEncryptedClient } from './encrypted-client';

/** A bucket of one test file: its name (set in beforeAll) and a plain client to inspect what the server holds. */
export interface TestBucket {
  /** The bucket's name (empty until beforeAll ran). */
  readonly name: string;
  /** A plain (unencrypted, direct) client. */
  readonly client: S3Client;
}

/** A bucket name unique to this run and test file (S3 rules: 3–63 lowercase letters, digits, hyphens). */
export function uniqueBucketName(label: string): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30);
  return `es-test-${clean}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates a bucket named after `label` and returns its name. The shared local
 * server may be restarting (other suites inject faults): a refused or reset
 * connection is retried for up to `patienceMs`.
 */
export async function createBucket(client: S3Client, label: string, patienceMs = 60_000): Promise<string> {
  const name = uniqueBucketName(label);
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if ((code !== 'ECONNREFUSED' && code !== 'ECONNRESET') || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
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
 * A bucket for one test file (or describe block): created in beforeAll, emptied and
 * deleted (open multipart uploads aborted) in afterAll. Read `.name` inside tests;
 * `.client` is a plain (unencrypted, direct) client to inspect what the server holds.
 */
export function useBucket(label: string): TestBucket {
  const state = { name: '', client: plainClient() };
  beforeAll(async () => {
    state.name = await createBucket(state.client, label);
  }, 90_000);
  afterAll(async () => {
    try {
      if (state.name) await destroyBucket(state.client, state.name);
    } finally {
      state.client.destroy();
    }
  });
  return state;
}

/** A test file's bucket (see useBucket), a client encrypting with `options` (see useEncryptedClient) and a plain one. */
export function useEncryptedBucket(
  label: string,
  options: EncryptionOptions,
): { bucket: TestBucket; enc: EncryptedClient; plain: S3Client } {
  const bucket = useBucket(label);
  return { bucket, enc: useEncryptedClient(options), plain: bucket.client };
}
