import type { Readable } from 'node:stream';
import { PutObjectCommand, type PutObjectCommandInput, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { ciphertextSize, createStreamCipher } from '@encrypted-stream/codec/low-level';
import { presignedBody } from '#body-streams';
import { withEncryption } from './markers';
import { assertNoReservedMetadata, encryptionMetadata } from './metadata';
import { type EncryptionOptions, resolveOptions } from './options';
import type { PlaintextBody } from './plaintext-body';
import {
  assertPresignFunction,
  type PresignedRequest,
  type PresignFunction,
  presignCommand,
} from './presigned-request';
import { assertNoPlaintextChecksums } from './strip-checksums';
import {
  adoptListedParts,
  fromResumeToken,
  partCipherLength,
  partRun,
  placeLength,
  toResumeToken,
} from './upload-state';

export type { PlaintextBody } from './plaintext-body';

/**
 * A presigned upload of an encrypted body: the URL and headers (the
 * encryption metadata and the ciphertext's length are signed into them), and
 * the encryptor that turns the plaintext into the one body the URL accepts.
 * @public
 */
export interface PresignedEncryptedUpload extends PresignedRequest {
  /** Always `PUT`. */
  readonly method: 'PUT';
  /** Ciphertext bytes the URL accepts: the signed `content-length`. */
  readonly contentLength: number;
  /**
   * Encrypts `plaintext` (exactly the declared number of bytes; more or fewer
   * makes the stream fail with a RangeError) into the body to send, as a Node
   * stream (in browsers, a web ReadableStream, though typed `Readable`). Once per presigned upload: to retry a failed request send the same
   * ciphertext again, or presign anew (every call would otherwise mint more
   * ciphertexts for one header). `fetch` takes it as
   * `{ body: stream, duplex: 'half' }`; `Buffer.concat(await stream.toArray())`
   * collects it.
   */
  encrypt(plaintext: PlaintextBody): Readable;
}

/**
 * A presigned UploadPart of an encrypted multipart upload.
 * @public
 */
export interface PresignedEncryptedPart extends PresignedEncryptedUpload {
  /** The part number presigned. */
  readonly partNumber: number;
  /**
   * The upload's resume token, now also recording this part if it ends the
   * stream: presign later parts, resume, or complete from this one.
   */
  readonly resumeToken: string;
}

/** The command fields a presigned PutObject keeps (its body and checksums are the caller's to send later). */
export type PresignPutInput = Omit<
  PutObjectCommandInput,
  | 'Body'
  | 'ContentLength'
  | 'ContentMD5'
  | 'ChecksumAlgorithm'
  | 'ChecksumCRC32'
  | 'ChecksumCRC32C'
  | 'ChecksumCRC64NVME'
  | 'ChecksumSHA1'
  | 'ChecksumSHA256'
> & { Bucket: string; Key: string };

/**
 * Options of {@link presignEncryptedPut}.
 * @public
 */
export interface PresignPutOptions extends EncryptionOptions {
  /** The plaintext's exact size: recorded and authenticated in the header; fixes the signed length. */
  readonly plaintextSize: number;
  /** Seconds until the URL expires (the presigner's default when absent). */
  readonly expiresIn?: number;
}

/**
 * Options of {@link presignEncryptedUploadPart}.
 * @public
 */
export interface PresignPartOptions extends EncryptionOptions {
  /** The bucket the caller means: a resume token for another bucket is refused. */
  readonly bucket?: string;
  /** The key the caller means: a resume token for another key is refused. */
  readonly key?: string;
  /** Seconds until the URL expires (the presigner's default when absent). */
  readonly expiresIn?: number;
}

/** The user-metadata header names of a metadata map, lower case. */
const metadataHeaders = (metadata: Record<string, string>) =>
  Object.keys(metadata).map((name) => `x-amz-meta-${name.toLowerCase()}`);

/** Allows `encrypt` once. */
function once(encrypt: (plaintext: PlaintextBody) => Readable): (plaintext: PlaintextBody) => Readable {
  let used = false;
  return (plaintext) => {
    if (used) throw new TypeError('encrypt() was already called for this presigned upload: presign anew to retry');
    used = true;
    return encrypt(plaintext);
  };
}

/**
 * Presigns a PutObject of an encrypted object for a plain HTTP client.
 *
 * This package makes the data key and the header (a new stream recording
 * `plaintextSize`, bound to the object's context as the plugin would); the
 * URL signs them as `x-amz-meta-es-*` headers together with the ciphertext's
 * `content-length`, and `encrypt()` produces the body. Send `method`, `url`,
 * `headers` and that body; a plugged `GetObject` reads the object like any
 * other. The signature covers the length, not the bytes (the presigner signs
 * `UNSIGNED-PAYLOAD`): a body of another length is refused by the store (403),
 * and one of the same length that is not this encryptor's output is stored
 * but fails authentication on every read. The URL lets its holder write this
 * key until it expires, as any presigned PUT does.
 *
 * ```ts
 * const put = await presignEncryptedPut(client, getSignedUrl, { Bucket, Key }, { keyring, plaintextSize: data.length });
 * await fetch(put.url, { method: put.method, headers: put.headers, body: put.encrypt(data), duplex: 'half' });
 * ```
 * @public
 */
export async function presignEncryptedPut(
  client: S3Client,
  presign: PresignFunction,
  input: PresignPutInput,
  options: PresignPutOptions,
): Promise<PresignedEncryptedUpload> {
  const { plaintextSize } = options;
  if (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0) {
    throw new RangeError(`plaintextSize must be a non-negative safe integer, got ${plaintextSize}`);
  }
  if ((input as { Body?: unknown }).Body !== undefined) {
    throw new TypeError('presignEncryptedPut: the body is sent later; pass it to encrypt() of the result');
  }
  assertPresignFunction(presign);
  assertNoPlaintextChecksums(input, 'presignEncryptedPut');
  assertNoReservedMetadata(input.Metadata);
  const resolved = resolveOptions(options);
  const cipher = await createStreamCipher({
    keyring: resolved.keyring,
    chunkSize: resolved.chunkSize,
    plaintextSize,
    context: resolved.contextFor({ bucket: input.Bucket, key: input.Key }),
  });
  const contentLength = ciphertextSize(plaintextSize, cipher.chunkSize);
  const Metadata = { ...input.Metadata, ...encryptionMetadata(cipher.header) };
  const command = new PutObjectCommand(
    withEncryption({ ...input, Metadata, ContentLength: contentLength }, { raw: true }),
  );
  const request = await presignCommand(command, (o) => presign(client, command, o), {
    expiresIn: options.expiresIn,
    unhoistable: metadataHeaders(Metadata),
    withoutBodyChecksum: true,
  });
  return {
    ...request,
    method: 'PUT',
    contentLength,
    encrypt: once((plaintext) => presignedBody(cipher, plaintext) as Readable),
  };
}

/**
 * Presigns an UploadPart of an encrypted multipart upload for a plain HTTP
 * client, from the upload's resume token (`EncryptedMultipartUpload`'s
 * `resumeToken`, or the plugin's `resumeToken(uploadId, bucket, key)`; it
 * holds the wrapped data key, and this needs a keyring that unwraps it).
 *
 * Without a size recorded in the header, the parts already uploaded are
 * listed first (one ListParts), as a resume does, so a final part marked
 * elsewhere is not forgotten. The part is placed, checked and encrypted
 * exactly as `EncryptedMultipartUpload.uploadPart` would (`plaintextLength` bytes; every
 * part but the last holds exactly the part size; mark the final one with
 * `isLastPart`, or let a recorded size decide). The URL signs the ciphertext's
 * `content-length`; `encrypt()` produces the body. Complete the upload with
 * `EncryptedMultipartUpload.resume(client, token, …).complete()`, which checks
 * that the parts form one readable object. An edited token is
 * `ES_INVALID_RESUME_TOKEN`; a part that cannot fit the stream is a
 * RangeError or `ES_INVALID_UPLOAD`, before anything is signed.
 * @public
 */
export async function presignEncryptedUploadPart(
  client: S3Client,
  presign: PresignFunction,
  part: { resumeToken: string; partNumber: number; plaintextLength: number; isLastPart?: boolean },
  options: PresignPartOptions,
): Promise<PresignedEncryptedPart> {
  const { resumeToken, partNumber, plaintextLength, isLastPart } = part;
  assertPresignFunction(presign);
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0) {
    throw new RangeError(`plaintextLength must be a non-negative safe integer, got ${plaintextLength}`);
  }
  const state = await fromResumeToken(resumeToken, resolveOptions(options), options);
  await adoptListedParts(client, state);
  // Placed and checked now, like any part; encrypted when encrypt() is given the plaintext.
  const placed = placeLength(state, partNumber, plaintextLength, isLastPart);
  const contentLength = partCipherLength(state, placed);
  const command = new UploadPartCommand(
    withEncryption(
      {
        Bucket: state.bucket,
        Key: state.key,
        UploadId: state.uploadId,
        PartNumber: partNumber,
        ContentLength: contentLength,
      },
      { raw: true },
    ),
  );
  const request = await presignCommand(command, (o) => presign(client, command, o), {
    expiresIn: options.expiresIn,
    withoutBodyChecksum: true,
  });
  return {
    ...request,
    method: 'PUT',
    contentLength,
    partNumber,
    resumeToken: toResumeToken(state),
    encrypt: once((plaintext) => presignedBody(state.cipher, plaintext, partRun(state, placed)) as Readable),
  };
}
