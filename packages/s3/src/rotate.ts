import { CopyObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Keyring } from '@encrypted-stream/codec';
import { rewrapHeader } from '@encrypted-stream/codec/low-level';
import { EncryptedS3Error, S3ErrorCode } from './errors';
import { guardedCopy } from './guarded-copy';
import { withEncryption } from './markers';
import { encryptionMetadata, readEncryptionHeader, userMetadata } from './metadata';

/**
 * Outcome of {@link rotateObjectKey}.
 * @public
 */
export interface RotationResult {
  /** Whether the object was rewritten (false when already wrapped by the target key). */
  readonly rotated: boolean;
  /** Key id before. */
  readonly fromKeyId: string;
  /** Key id after. */
  readonly toKeyId: string;
}

/** CopySource for an object, encoded as S3 expects. */
export function copySourceOf(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}

/**
 * Key rotation: re-wraps an object's data key under `to`'s primary key with a
 * server-side copy of the object onto itself that replaces only its metadata
 * (no object data crosses the network). Guarded against a concurrent
 * overwrite by the ETag read (`CopySourceIfMatch`) and checked on both sides
 * with a 24-byte ranged GET, because not every store enforces that condition
 * (see `guardedCopy` in guarded-copy.ts): an overwrite is a 412 from the
 * store, or `ES_CONCURRENT_MODIFICATION`, never a silent success. On stores
 * that refuse If-Match for multipart objects even when it matches, the copy
 * falls back to `CopySourceIfUnmodifiedSince`. Four requests per rotated
 * object (HeadObject, GET, CopyObject, GET). Objects over 5 GiB need S3's
 * multipart copy, which this does not do.
 * @public
 */
export async function rotateObjectKey(
  client: S3Client,
  location: { Bucket: string; Key: string },
  keyrings: { from: Keyring; to?: Keyring },
): Promise<RotationResult> {
  const { Bucket, Key } = location;
  const head = await client.send(new HeadObjectCommand(withEncryption({ Bucket, Key }, { raw: true })));
  const header = readEncryptionHeader(head.Metadata);
  if (!header) throw new EncryptedS3Error(S3ErrorCode.NOT_ENCRYPTED, `s3://${Bucket}/${Key} is not encrypted`);
  const rewrapped = await rewrapHeader(header, keyrings.from, keyrings.to ?? keyrings.from);
  if (rewrapped.keyId === header.keyId) {
    return { rotated: false, fromKeyId: header.keyId, toKeyId: rewrapped.keyId };
  }
  await guardedCopy({
    client,
    send: (input) => client.send(new CopyObjectCommand(withEncryption(input, { raw: true }))),
    input: {
      Bucket,
      Key,
      CopySource: copySourceOf(Bucket, Key),
      CopySourceIfMatch: head.ETag,
      MetadataDirective: 'REPLACE',
      Metadata: { ...userMetadata(head.Metadata), ...encryptionMetadata(rewrapped) },
      ContentType: head.ContentType,
      CacheControl: head.CacheControl,
      ContentDisposition: head.ContentDisposition,
      ContentEncoding: head.ContentEncoding,
      ContentLanguage: head.ContentLanguage,
      Expires: head.Expires,
      ...(head.StorageClass ? { StorageClass: head.StorageClass } : {}),
    },
    source: { bucket: Bucket, key: Key },
    head,
  });
  return { rotated: true, fromKeyId: header.keyId, toKeyId: rewrapped.keyId };
}
