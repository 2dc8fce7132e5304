import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  type CreateMultipartUploadCommandInput,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { EncryptedS3Error, S3ErrorCode } from './errors';
import { listAllParts } from './list-parts';
import { withEncryption } from './markers';
import { assertNoReservedMetadata, encryptionMetadata } from './metadata';
import { type EncryptionOptions, type ResolvedOptions, resolveOptions } from './options';
import {
  adoptListedParts,
  checkPartSize,
  encryptPart,
  fromResumeToken,
  newUploadCipher,
  toResumeToken,
  type UploadState,
  verifyParts,
} from './upload-state';

const PART_DIGEST_PURPOSE = 'encrypted-stream s3 part digest';

/** Lower-case hex of `bytes` (Buffer's `toString('hex')`, which browsers lack). */
const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

const raw = <T extends object>(input: T): T => withEncryption(input, { raw: true });

/**
 * Options of {@link EncryptedMultipartUpload.create}.
 * @public
 */
export interface MultipartUploadOptions extends EncryptionOptions {
  /** Plaintext bytes of every part but the last (default 8 MiB; a multiple of the chunk size). */
  readonly partSize?: number;
  /**
   * The object's plaintext size, when known (a regular file): recorded and
   * authenticated in the header, so every read checks the stored size against
   * it. Then the last part is number `max(1, ceil(plaintextSize / partSize))`
   * and parts that do not fit the size are refused.
   */
  readonly plaintextSize?: number;
}

/**
 * Options of {@link EncryptedMultipartUpload.resume}.
 * @public
 */
export interface ResumeOptions extends EncryptionOptions {
  /** The bucket the caller means to write to: a token for another bucket is refused. */
  readonly bucket?: string;
  /** The key the caller means to write to: a token for another key is refused. */
  readonly key?: string;
}

/**
 * A low-level encrypted multipart upload. Each part is encrypted on its own at
 * its place in the stream, so parts can be sent in parallel, out of order, and
 * by several processes: hand {@link resumeToken} (which holds only the wrapped
 * data key) to another process and it continues with
 * {@link EncryptedMultipartUpload.resume}. The caller marks the final part;
 * {@link complete} refuses an upload whose parts do not form a readable object.
 *
 * Works on any S3Client, with or without the encryption plugin.
 * @public
 */
export class EncryptedMultipartUpload {
  readonly #client: S3Client;
  readonly #state: UploadState;

  private constructor(client: S3Client, state: UploadState) {
    this.#client = client;
    this.#state = state;
  }

  /** Starts an upload: CreateMultipartUpload with the encryption header in its metadata. */
  static async create(
    client: S3Client,
    input: CreateMultipartUploadCommandInput & { Bucket: string; Key: string },
    options: MultipartUploadOptions,
  ): Promise<EncryptedMultipartUpload> {
    const resolved = resolveOptions(options);
    assertNoReservedMetadata(input.Metadata);
    const cipher = await newUploadCipher(resolved, input.Bucket, input.Key, options.plaintextSize);
    const partSize = checkPartSize(options.partSize ?? resolved.partSize, cipher);
    const created = await client.send(
      new CreateMultipartUploadCommand(
        raw({ ...input, Metadata: { ...input.Metadata, ...encryptionMetadata(cipher.header) } }),
      ),
    );
    if (!created.UploadId) throw new EncryptedS3Error(S3ErrorCode.INVALID_UPLOAD, 'no UploadId returned');
    return new EncryptedMultipartUpload(client, {
      bucket: input.Bucket,
      key: input.Key,
      uploadId: created.UploadId,
      partSize,
      cipher,
    });
  }

  /**
   * Continues an upload from its resume token (needs a keyring holding its
   * key). A token that was edited, or made by someone without the data key,
   * fails with `ES_INVALID_RESUME_TOKEN`; so does one for another bucket or
   * key than `options.bucket` / `options.key`, when given. Without a recorded
   * size, the parts S3 already holds are listed (one ListParts) so that a
   * final part marked by another process is not forgotten.
   */
  static async resume(client: S3Client, token: string, options: ResumeOptions): Promise<EncryptedMultipartUpload> {
    const resolved: ResolvedOptions = resolveOptions(options);
    const state = await fromResumeToken(token, resolved, options);
    await adoptListedParts(client, state);
    return new EncryptedMultipartUpload(client, state);
  }

  /** Bucket of the object being written. */
  get bucket(): string {
    return this.#state.bucket;
  }
  /** Key of the object being written. */
  get key(): string {
    return this.#state.key;
  }
  /** S3's id of this upload. */
  get uploadId(): string {
    return this.#state.uploadId;
  }
  /** Plaintext bytes of every part but the last. */
  get partSize(): number {
    return this.#state.partSize;
  }
  /** Plaintext bytes per chunk, from the authenticated header (a journal's record can be checked against it). */
  get chunkSize(): number {
    return this.#state.cipher.chunkSize;
  }
  /** The plaintext size recorded in the header, if one was given to {@link EncryptedMultipartUpload.create}. */
  get plaintextSize(): number | undefined {
    return this.#state.cipher.header.stream.plaintextSize;
  }
  /**
   * Serialisable state for {@link EncryptedMultipartUpload.resume}: no
   * unwrapped key, and authenticated (a MAC keyed from the data key), so it
   * can be kept where others can write. Take it again after marking the last
   * part: it then carries which part ends the stream.
   */
  get resumeToken(): string {
    return toResumeToken(this.#state);
  }

  /**
   * A keyed digest (HMAC-SHA256 under a key derived from this upload's data
   * key, hex) of part `partNumber`'s plaintext, for checking on resume that a
   * source has not changed. Unlike a plain hash, it lets nobody without the
   * data key confirm a guess of the plaintext.
   */
  partDigest(partNumber: number, plaintext: Uint8Array): string {
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new RangeError(`partNumber must be 1 … 10000, got ${partNumber}`);
    }
    if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
    const message = new Uint8Array(4 + plaintext.length);
    new DataView(message.buffer).setUint32(0, partNumber);
    message.set(plaintext, 4);
    return toHex(this.#state.cipher.stateMac(PART_DIGEST_PURPOSE, message));
  }

  /**
   * Encrypts and uploads part `partNumber` (1-based). Every part but the last
   * holds exactly {@link partSize} bytes; pass `isLastPart` for the last one
   * (a shorter part is taken as last anyway). Retrying a part re-encrypts it
   * with fresh nonces, so a changed source never reuses a nonce.
   */
  async uploadPart(
    partNumber: number,
    body: string | Uint8Array | Blob | NodeJS.ReadableStream | ReadableStream<Uint8Array>,
    options: { isLastPart?: boolean; contentLength?: number; abortSignal?: AbortSignal } = {},
  ): Promise<{ PartNumber: number; ETag: string | undefined }> {
    const { failed, release, ...part } = await encryptPart(
      this.#state,
      partNumber,
      body,
      options.contentLength,
      options.isLastPart,
    );
    const sent = this.#client.send(
      new UploadPartCommand(
        raw({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          PartNumber: partNumber,
          ...part,
        }),
      ),
      options.abortSignal ? { abortSignal: options.abortSignal } : {},
    );
    const out = await (failed ? Promise.race([sent, failed]) : sent);
    release?.(); // sent: S3 read the whole body
    return { PartNumber: partNumber, ETag: out.ETag };
  }

  /** The parts S3 holds for this upload (ciphertext sizes). */
  listParts() {
    return listAllParts(this.#client, this.bucket, this.key, this.uploadId);
  }

  /**
   * Completes the upload with `parts` (default: every part S3 lists), after
   * checking they form one readable encrypted object. The ETag is read back
   * with HeadObject when the server's completion response leaves it empty.
   */
  async complete(parts?: { PartNumber?: number; ETag?: string }[]): Promise<CompleteMultipartUploadCommandOutput> {
    const listed = await this.listParts();
    const chosen = parts ?? listed.map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
    verifyParts(this.#state, chosen, listed);
    const sorted = [...chosen].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const out = await this.#client.send(
      new CompleteMultipartUploadCommand(
        raw({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId, MultipartUpload: { Parts: sorted } }),
      ),
    );
    if (!out.ETag) {
      const head = await this.#client.send(new HeadObjectCommand(raw({ Bucket: this.bucket, Key: this.key })));
      out.ETag = head.ETag;
    }
    return out;
  }

  /** Aborts the upload; S3 discards its parts. */
  async abort(): Promise<void> {
    await this.#client.send(
      new AbortMultipartUploadCommand(raw({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId })),
    );
  }
}
