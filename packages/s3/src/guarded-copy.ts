import {
  type CopyObjectCommandInput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { NONCE_SIZE } from '@encrypted-stream/codec/low-level';
import { EncryptedS3Error, S3ErrorCode } from './errors';
import { withEncryption } from './markers';
import { METADATA_KEYS } from './metadata';
import { parseContentRange } from './ranges';

/** The S3 error a failed precondition gives (HTTP 412). */
export function isPreconditionFailed(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.$metadata?.httpStatusCode === 412 || e?.name === 'PreconditionFailed';
}

/** Where an object is. */
export interface ObjectAddress {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/**
 * What one read of an object's first bytes tells: its S3 identity, its
 * encryption metadata, and the first chunk's nonce, which identifies the
 * encryption it holds (see {@link guardedCopy}).
 */
interface Fingerprint {
  readonly etag: string | undefined;
  readonly lastModified: number | undefined;
  readonly size: number;
  /** `es-h`, `es-k`, `es-w` as stored. */
  readonly encryption: readonly (string | undefined)[];
  /** The object's first bytes: the first chunk's random nonce. */
  readonly nonce: Uint8Array;
}

const encryptionValues = (metadata: Record<string, string> | undefined) =>
  Object.values(METADATA_KEYS).map((name) => {
    for (const [k, v] of Object.entries(metadata ?? {})) if (k.toLowerCase() === name) return v;
    return undefined;
  });

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const sameList = (a: readonly unknown[], b: readonly unknown[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** One ranged GET of the object's first chunk nonce (raw: a plugged client passes it through). */
async function fingerprint(client: S3Client, at: ObjectAddress): Promise<Fingerprint> {
  const out: GetObjectCommandOutput = await client.send(
    new GetObjectCommand(
      withEncryption(
        {
          Bucket: at.bucket,
          Key: at.key,
          Range: `bytes=0-${NONCE_SIZE - 1}`,
          ...(at.versionId ? { VersionId: at.versionId } : {}),
        },
        { raw: true },
      ),
    ),
  );
  const nonce = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
  return {
    etag: out.ETag,
    lastModified: out.LastModified?.getTime(),
    size: parseContentRange(out.ContentRange)?.total ?? Number(out.ContentLength ?? nonce.length),
    encryption: encryptionValues(out.Metadata),
    nonce,
  };
}

/** Whether a read shows the object a HeadObject (or an earlier read) described. */
function describesSame(read: Fingerprint, known: Omit<Fingerprint, 'nonce'> & { nonce?: Uint8Array }): boolean {
  return (
    read.etag === known.etag &&
    read.lastModified === known.lastModified &&
    read.size === known.size &&
    sameList(read.encryption, known.encryption) &&
    (known.nonce === undefined || sameBytes(read.nonce, known.nonce))
  );
}

/** What a guarded copy is given. */
export interface GuardedCopy<R> {
  /** For the ranged GETs that check the source and the result (marked raw). */
  readonly client: S3Client;
  /** Sends one CopyObject with the given input. */
  readonly send: (input: CopyObjectCommandInput) => Promise<R>;
  /** The copy, with `CopySourceIfMatch` set to the source's ETag by the caller. */
  readonly input: CopyObjectCommandInput;
  /** The source object the HeadObject described. */
  readonly source: ObjectAddress;
  /** That HeadObject. */
  readonly head: HeadObjectCommandOutput;
}

const changed = (input: CopyObjectCommandInput, source: ObjectAddress, what: string) =>
  new EncryptedS3Error(
    S3ErrorCode.CONCURRENT_MODIFICATION,
    `s3://${input.Bucket}/${input.Key}: ${what} (a concurrent write to s3://${source.bucket}/${source.key} or to ` +
      'the destination); read the object and check it before trying again',
  );

/**
 * A server-side copy that must not pair an encryption header with data it
 * does not belong to: key rotation (a copy of an object onto itself with new
 * metadata) and the plugin's CopyObject with `MetadataDirective: 'REPLACE'`.
 * Both write the header a HeadObject read beside the copied data; were the
 * source overwritten in between, the new data would be stored under the old
 * object's header — unreadable, and for a copy onto itself the newer object's
 * own header lost.
 *
 * Stores do not all enforce the guard S3 defines for this,
 * `x-amz-copy-source-if-match` with the ETag the HeadObject returned: Amazon
 * S3 does; some stores answer it with 412 for a multipart object even when it
 * matches; Ceph RGW 16.2 ignores every `x-amz-copy-source-if-*` header (it
 * reads misspelt `x-amz-copy-if-*` ones). So the copy's success is not taken
 * as proof, and the copy is checked on both sides:
 *
 * 1. **Before:** one ranged GET of the source's first 24 bytes — the first
 *    chunk's nonce, drawn at random for every encryption (FORMAT.md §5), so
 *    no other encryption shares it — with its ETag, Last-Modified, size and
 *    encryption metadata, which must be the HeadObject's
 *    (`ES_CONCURRENT_MODIFICATION` otherwise, nothing written).
 * 2. **The copy**, with `CopySourceIfMatch`. A 412 is checked with the same
 *    GET: if the source changed, the 412 is thrown as is (nothing written);
 *    if not, the store refused a matching ETag, and the copy is sent again
 *    with `CopySourceIfUnmodifiedSince` set to the Last-Modified read, which
 *    such stores honour: a source written in a later second is refused (412).
 * 3. **After:** the same GET on the destination must show the nonce read in
 *    step 1 under exactly the encryption metadata the copy wrote: then the
 *    destination holds the stream whose header was copied (its data key).
 *    Anything else is `ES_CONCURRENT_MODIFICATION`, never a silent success.
 *
 * What holds, per store: where the store enforces the condition (Amazon S3),
 * a concurrent overwrite is refused before anything is written. Where it
 * enforces only the Last-Modified fallback, so is every write stamped in a
 * later second than the object read; a write stamped in the same second (one
 * that began then) that lands between steps 1 and 2 is copied under the old
 * header and reported by step 3. Where the store ignores copy conditions
 * altogether (Ceph RGW 16.2), nothing stops a write that lands in the
 * milliseconds between the GET of step 1 and the copy; step 3 reports it. A
 * reported overwrite has lost its own header (a versioned bucket keeps it in
 * the previous version). The check costs two ranged GETs of 24 bytes (four
 * after a refused If-Match).
 */
export async function guardedCopy<R>(copy: GuardedCopy<R>): Promise<R> {
  const { client, send, input, source, head } = copy;
  const described = {
    etag: head.ETag,
    lastModified: head.LastModified?.getTime(),
    size: Number(head.ContentLength ?? 0),
    encryption: encryptionValues(head.Metadata),
  };
  const before = await fingerprint(client, source);
  if (!describesSame(before, described)) throw changed(input, source, 'the source changed while it was read');
  let result: R;
  try {
    result = await send(input);
  } catch (error) {
    if (!isPreconditionFailed(error) || input.CopySourceIfMatch === undefined || !head.LastModified) throw error;
    // A real change, or a store that refuses a matching If-Match?
    if (!describesSame(await fingerprint(client, source), before)) throw error;
    const { CopySourceIfMatch: _, ...rest } = input;
    const bound = rest.CopySourceIfUnmodifiedSince;
    result = await send({
      ...rest,
      CopySourceIfUnmodifiedSince: bound && bound < head.LastModified ? bound : head.LastModified,
    });
  }
  const written =
    input.MetadataDirective === 'REPLACE' ? encryptionValues(input.Metadata) : encryptionValues(head.Metadata);
  const after = await fingerprint(client, { bucket: String(input.Bucket), key: String(input.Key) });
  if (!sameBytes(after.nonce, before.nonce) || !sameList(after.encryption, written)) {
    throw changed(input, source, 'after the copy it does not hold the object read under the metadata written');
  }
  return result;
}
