import {
  AbortMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  type PutObjectCommandInput,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ciphertextSize, createStreamCipher } from '@encrypted-stream/codec/low-level';
import { encryptingBody } from '#body-streams';
import { bodySource, knownLength } from './body';
import { EventEmitter } from './event-emitter';
import { withEncryption } from './markers';
import { assertNoReservedMetadata, encryptionMetadata } from './metadata';
import { type ObservedClient, observeClient } from './observed-client';
import { type EncryptionOptions, type ResolvedOptions, resolveOptions } from './options';
import { assertNoPlaintextChecksums } from './strip-checksums';
import { defaultUploadPartSize, plaintextBytesIn, type UploadGeometry, uploadGeometry } from './upload-geometry';

/**
 * Options of {@link EncryptedUpload}: those of lib-storage's `Upload`, plus encryption.
 * @public
 */
export interface EncryptedUploadOptions {
  /** Any S3Client (with or without the plugin). */
  readonly client: S3Client;
  /** As for PutObject; `Body` may be of unknown length. */
  readonly params: PutObjectCommandInput & { Bucket: string; Key: string };
  /** Encryption settings. */
  readonly encryption: EncryptionOptions;
  /** Parts uploaded at once (default 4); memory is about queueSize × partSize. */
  readonly queueSize?: number;
  /**
   * Plaintext bytes of `Body` per part, as everywhere in this package: every
   * part but the last carries exactly this many (its ciphertext is 40 bytes a
   * chunk longer). A multiple of the chunk size, at least 5 MiB (S3's smallest
   * part) and at most 5 GiB with its overhead; a body of known size must fit
   * in 10,000 parts (a RangeError in the constructor says which size would),
   * a body of unknown size can hold up to 10,000 × partSize − 1 bytes.
   * Default: 8 MiB (or the chunk size, if larger), grown for a body of known
   * size so that it fits in 10,000 parts.
   */
  readonly partSize?: number;
  /** Leave uploaded parts in place when the upload fails (default false: abort). */
  readonly leavePartsOnError?: boolean;
  /** Tags to set on the object. */
  readonly tags?: Tag[];
  /** Aborts the upload, as {@link EncryptedUpload.abort} does. */
  readonly abortController?: AbortController;
}

/**
 * Progress of an {@link EncryptedUpload}, in plaintext bytes of `Body` (not
 * the larger ciphertext sent).
 * @public
 */
export interface EncryptedUploadProgress {
  /** Plaintext bytes uploaded so far: whole parts' bytes, exact once they are stored. */
  readonly loaded: number;
  /** Plaintext bytes of `Body` in all, when known before the end. */
  readonly total?: number;
  /** The part the event is about (1 for a single PutObject). */
  readonly part?: number;
  /** The object's key. */
  readonly Key: string;
  /** The object's bucket. */
  readonly Bucket: string;
}

/**
 * The events of an {@link EncryptedUpload} and their listeners' arguments.
 * @public
 */
export interface EncryptedUploadEvents {
  /** After each part is stored (and as parts are sent, with request handlers that report it). */
  httpUploadProgress: [progress: EncryptedUploadProgress];
}

/**
 * lib-storage's `Upload`, encrypting: the body is encrypted as one stream and
 * lib-storage uploads the ciphertext in parts of whole chunks (`partSize`
 * plaintext bytes each), so bodies of unknown length work and memory stays
 * about queueSize × partSize. A body of one part or less is one PutObject.
 * Bodies of known size record it in the authenticated header.
 * @public
 */
export class EncryptedUpload extends EventEmitter {
  readonly #options: EncryptedUploadOptions;
  readonly #resolved: ResolvedOptions;
  readonly #plaintextSize: number | undefined;
  readonly #geometry: UploadGeometry;
  readonly #abortController: AbortController;
  #upload: Upload | undefined;
  #started = false;

  /** Checks every option (TypeError / RangeError) before anything is sent. */
  constructor(options: EncryptedUploadOptions) {
    super();
    if (!options?.client || !options.params) throw new TypeError('EncryptedUpload needs client and params');
    assertNoPlaintextChecksums(options.params as unknown as Record<string, unknown>, 'EncryptedUpload');
    assertNoReservedMetadata(options.params.Metadata);
    const queueSize = options.queueSize ?? 4;
    if (!Number.isSafeInteger(queueSize) || queueSize < 1) {
      throw new RangeError(`queueSize must be a positive integer, got ${options.queueSize}`);
    }
    this.#resolved = resolveOptions(options.encryption);
    const { chunkSize } = this.#resolved;
    this.#plaintextSize = knownLength(options.params.Body, options.params.ContentLength);
    const partSize = options.partSize ?? defaultUploadPartSize(chunkSize, this.#plaintextSize);
    this.#geometry = uploadGeometry(partSize, chunkSize, this.#plaintextSize);
    this.#options = options;
    this.#abortController = options.abortController ?? new AbortController();
  }

  /** Plaintext bytes per part (every part but the last). */
  get partSize(): number {
    return this.#geometry.partSize;
  }

  /** Listens to `event`; see {@link EncryptedUploadEvents}. */
  override on<E extends keyof EncryptedUploadEvents>(
    event: E,
    listener: (...args: EncryptedUploadEvents[E]) => void,
  ): this;
  override on(event: string | symbol, listener: (...args: unknown[]) => void): this {
    return super.on(event, listener);
  }

  /** Listens to the next `event` only. */
  override once<E extends keyof EncryptedUploadEvents>(
    event: E,
    listener: (...args: EncryptedUploadEvents[E]) => void,
  ): this;
  override once(event: string | symbol, listener: (...args: unknown[]) => void): this {
    return super.once(event, listener);
  }

  /** Removes a listener added with {@link EncryptedUpload.on} or {@link EncryptedUpload.once}. */
  override off<E extends keyof EncryptedUploadEvents>(
    event: E,
    listener: (...args: EncryptedUploadEvents[E]) => void,
  ): this;
  override off(event: string | symbol, listener: (...args: unknown[]) => void): this {
    return super.off(event, listener);
  }

  /**
   * Aborts the upload: parts under way are cancelled, and `done()` rejects
   * with an AbortError once the multipart upload and its parts are gone
   * (unless `leavePartsOnError`).
   */
  async abort(): Promise<void> {
    if (this.#upload) await this.#upload.abort();
    else this.#abortController.abort();
  }

  /** Runs the upload; resolves with lib-storage's result once the object exists. */
  async done(): Promise<CompleteMultipartUploadCommandOutput> {
    if (this.#started) throw new Error('EncryptedUpload.done() was already called');
    this.#started = true;
    const { client, params } = this.#options;
    const { chunkSize } = this.#resolved;
    const plaintextSize = this.#plaintextSize;
    const cipher = await createStreamCipher({
      keyring: this.#resolved.keyring,
      chunkSize,
      ...(plaintextSize === undefined ? {} : { plaintextSize }),
      context: this.#resolved.contextFor({ bucket: params.Bucket, key: params.Key }),
    });
    const signal = this.#abortController.signal;
    const cancelParts = new AbortController();
    const onAbort = () => cancelParts.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) cancelParts.abort();
    const observed = observeClient(client, cancelParts.signal);
    const upload = new Upload({
      client: observed.client,
      params: withEncryption(
        {
          ...params,
          Body: encryptingBody(cipher, bodySource(params.Body)),
          ContentLength: plaintextSize === undefined ? undefined : ciphertextSize(plaintextSize, chunkSize),
          Metadata: { ...params.Metadata, ...encryptionMetadata(cipher.header) },
        },
        { raw: true }, // already encrypted: the plugin, if present, must not touch it
      ),
      abortController: this.#abortController,
      queueSize: this.#options.queueSize ?? 4,
      partSize: this.#geometry.cipherPartSize,
      leavePartsOnError: this.#options.leavePartsOnError ?? false,
      ...(this.#options.tags ? { tags: this.#options.tags } : {}),
    });
    this.#upload = upload;
    upload.on('httpUploadProgress', (progress) => {
      this.emit('httpUploadProgress', {
        loaded: plaintextBytesIn(progress.loaded ?? 0, chunkSize),
        ...(plaintextSize === undefined ? {} : { total: plaintextSize }),
        ...(progress.part === undefined ? {} : { part: progress.part }),
        Key: params.Key,
        Bucket: params.Bucket,
      } satisfies EncryptedUploadProgress);
    });
    try {
      return await upload.done();
    } catch (error) {
      if (!this.#options.leavePartsOnError) await abandon(observed, client, params.Bucket, params.Key);
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * After a failure or abort, leaves no multipart upload behind. On abort,
 * lib-storage rejects `done()` at once and aborts the multipart upload later,
 * once its parts in flight are done; those parts were cancelled with the
 * abort, so wait for them to settle (up to a bound: a hung request must not
 * hold up the rejection), then abort the upload; should a request still be
 * under way, abort once more when it settles.
 */
async function abandon(observed: ObservedClient, client: S3Client, bucket: string, key: string): Promise<void> {
  const drained = await Promise.race([observed.settled().then(() => true), delay(PART_DRAIN_MS).then(() => false)]);
  const abort = async () => {
    const uploadId = observed.uploadId;
    if (!uploadId || observed.completed) return;
    const input = withEncryption({ Bucket: bucket, Key: key, UploadId: uploadId }, { raw: true });
    await client.send(new AbortMultipartUploadCommand(input)).catch(() => {}); // already aborted: NoSuchUpload
  };
  await abort();
  if (!drained) void observed.settled().then(abort);
}

/** How long a failed upload waits for its requests in flight before aborting anyway. */
const PART_DRAIN_MS = 2000;

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms) as { unref?: () => void }; // a number in browsers
    timer.unref?.();
  });
