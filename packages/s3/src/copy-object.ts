import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { unsupported } from './errors';
import { guardedCopy } from './guarded-copy';
import type { CommandHandler } from './handler';
import { withEncryption } from './markers';
import { assertNoReservedMetadata, encryptionMetadata, readEncryptionHeader } from './metadata';

/** Splits an S3 CopySource (`bucket/key`, optionally `/`-prefixed, URL-encoded, `?versionId=`). */
export function parseCopySource(copySource: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query] = copySource.replace(/^\//, '').split('?', 2);
  const slash = path.indexOf('/');
  if (slash <= 0) throw new RangeError(`CopySource "${copySource}" is not bucket/key`);
  const versionId = query ? new URLSearchParams(query).get('versionId') : null;
  return {
    bucket: decodeURIComponent(path.slice(0, slash)),
    key: decodeURIComponent(path.slice(slash + 1)),
    ...(versionId ? { versionId } : {}),
  };
}

/**
 * CopyObject: S3 copies the ciphertext byte for byte, and with
 * `MetadataDirective: COPY` the encryption metadata with it. With `REPLACE`
 * the caller's new metadata would drop it, so the source's encryption
 * metadata is read (one HeadObject) and carried over, and the copy is
 * guarded by that HeadObject's ETag and checked on both sides (a 24-byte
 * ranged GET of the source before, of the copy after) so it never pairs the
 * metadata with another object's data silently: see `guardedCopy` in
 * guarded-copy.ts, which also copes with stores that refuse If-Match for
 * multipart objects. A caller's own `CopySourceIfMatch` is sent as given,
 * without the checks.
 */
export const handleCopyObject: CommandHandler = async (args, next, runtime) => {
  const { input } = args;
  const source = parseCopySource(String(input.CopySource));
  const moved = source.bucket !== input.Bucket || source.key !== input.Key;
  if (moved && runtime.options.bindsLocation) {
    throw unsupported('A server-side copy of an object bound to its location');
  }
  if (input.MetadataDirective !== 'REPLACE') return next(args);
  assertNoReservedMetadata(input.Metadata);
  const head = await runtime.client.send(
    new HeadObjectCommand(
      withEncryption(
        { Bucket: source.bucket, Key: source.key, ...(source.versionId ? { VersionId: source.versionId } : {}) },
        { raw: true },
      ),
    ),
  );
  const header = readEncryptionHeader(head.Metadata);
  if (!header) return next(args); // a plaintext object stays one
  const replaced = { ...input, Metadata: { ...input.Metadata, ...encryptionMetadata(header) } };
  const send = (copy: typeof input) => next({ ...args, input: copy });
  if (input.CopySourceIfMatch !== undefined) return send(replaced);
  // Copy only the version we read the metadata of.
  return guardedCopy({
    client: runtime.client,
    send,
    input: { ...replaced, CopySourceIfMatch: head.ETag },
    source,
    head,
  });
};
