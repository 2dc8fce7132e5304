import {
  GetObjectCommand,
  type GetObjectCommandInput,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { readAll } from '@encrypted-stream/test-support';

/** GetObject and read the whole body (decrypted when `client` has the plugin). */
export async function getBytes(
  client: S3Client,
  input: GetObjectCommandInput,
): Promise<Buffer & { contentRange?: string; contentLength?: number }> {
  const out = await client.send(new GetObjectCommand(input));
  const bytes: Buffer & { contentRange?: string; contentLength?: number } = await readAll(out.Body);
  bytes.contentRange = out.ContentRange;
  bytes.contentLength = out.ContentLength;
  return bytes;
}

/** An object exactly as stored: ciphertext body and all user metadata (read with a plain client). */
export interface RawObject {
  body: Buffer;
  metadata: Record<string, string>;
  contentType: string | undefined;
  etag: string | undefined;
}

export async function getRaw(plain: S3Client, bucket: string, key: string): Promise<RawObject> {
  const out = await plain.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return {
    body: await readAll(out.Body),
    metadata: { ...out.Metadata },
    contentType: out.ContentType,
    etag: out.ETag,
  };
}

/** Stores bytes and metadata as given (plain client: no encryption). */
export async function putRaw(
  plain: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
  metadata: Record<string, string>,
): Promise<void> {
  await plain.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
}

/** Stored (ciphertext) size of an object. */
export async function rawSize(plain: S3Client, bucket: string, key: string): Promise<number> {
  const head = await plain.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return Number(head.ContentLength);
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection, but the promise resolved');
}
