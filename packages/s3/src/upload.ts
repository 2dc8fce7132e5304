import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { AbortMultipartUploadCommand, type PutObjectCommandInput, type S3Client, type Tag } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ciphertextSize, createStreamCipher } from '@encrypted-stream/codec/low-level';
import { encryptingStream } from '@encrypted-stream/codec/node';
import { bodySource, knownLength } from './body';
import { withEncryption } from './markers';
import { assertNoReservedMetadata, encryptionMetadata } from './metadata';
import { type EncryptionOptions, resolveOptions } from './options';
import { assertNoPlaintextChecksums } from './strip-checksums';

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
  /** Parts uploaded at once (default 4). */
  readonly queueSize?: number;
  /** Ciphertext bytes per part (default 5 MiB, lib-storage's default). */
  readonly partSize?: number;
  /** Leave uploaded parts in place when the upload fails (default false: abort). */
  readonly leavePartsOnError?: boolean;
  /** Tags to set on the object. */
  readonly tags?: Tag[];
  /** Aborts the upload. */
  readonly abortController?: AbortController;
}

/**
 * Progress of an {@link EncryptedUpload}, in bytes of ciphertext (what is sent).
 * @public
 */
export interface EncryptedUploadProgress {
  readonly loaded?: number;
  readonly total?: number;
  readonly part?: number;
  readonly Key?: string;
  readonly Bucket?: string;
}

/**
 * lib-storage's `Upload`, encrypting: the body is encrypted as one stream
 * before lib-storage cuts it into parts, so bodies of unknown length work and
 * memory stays about queueSize × partSize. Emits `httpUploadProgress`.
 * @public
 */
export class EncryptedUpload extends EventEmitter {
  readonly #options: EncryptedUploadOptions;
  readonly #abortController: AbortController;
  #started = false;

  constructor(options: EncryptedUploadOptions) {
    super();
    if (!options?.client || !options.params) throw new TypeError('EncryptedUpload needs client and params');
    assertNoPlaintextChecksums(options.params as unknown as Record<string, unknown>, 'EncryptedUpload');
    assertNoReservedMetadata(options.params.Metadata);
    resolveOptions(options.encryption); // fail fast on bad options
    this.#options = options;
    this.#abortController = options.abortController ?? new AbortController();
  }

  /** Aborts the upload; `done()` rejects with an AbortError once the multipart upload and its parts are gone. */
  async abort(): Promise<void> {
    this.#abortController.abort();
  }

  /** Runs the upload. */
  async done() {
    if (this.#started) throw new Error('EncryptedUpload.done() was already called');
    this.#started = true;
    const { client, params, encryption } = this.#options;
    const resolved = resolveOptions(encryption);
    const plaintextSize = knownLength(params.Body, params.ContentLength);
    const cipher = await createStreamCipher({
      keyring: resolved.keyring,
      chunkSize: resolved.chunkSize,
      ...(plaintextSize === undefined ? {} : { plaintextSize }),
      context: resolved.contextFor({ bucket: params.Bucket, key: params.Key }),
    });
    const upload = new Upload({
      client,
      params: withEncryption(
        {
          ...params,
          Body: encryptingStream(cipher, bodySource(params.Body)),
          ContentLength: plaintextSize === undefined ? undefined : ciphertextSize(plaintextSize, cipher.chunkSize),
          Metadata: { ...params.Metadata, ...encryptionMetadata(cipher.header) },
        },
        { raw: true }, // already encrypted: the plugin, if present, must not touch it
      ),
      abortController: this.#abortController,
      ...(this.#options.queueSize ? { queueSize: this.#options.queueSize } : {}),
      ...(this.#options.partSize ? { partSize: this.#options.partSize } : {}),
      ...(this.#options.leavePartsOnError ? { leavePartsOnError: true } : {}),
      ...(this.#options.tags ? { tags: this.#options.tags } : {}),
    });
    upload.on('httpUploadProgress', (progress: EncryptedUploadProgress) => this.emit('httpUploadProgress', progress));
    try {
      return await upload.done();
    } catch (error) {
      if (!this.#options.leavePartsOnError) await abortLeftovers(upload, client, params.Bucket, params.Key);
      throw error;
    }
  }
}

/** lib-storage fields read after a failure (public at run time, not in its types). */
interface UploadInternals {
  readonly uploadId?: string;
  readonly concurrentUploaders?: Promise<unknown>[];
}

/**
 * On abort, lib-storage rejects `done()` at once and aborts the multipart
 * upload later, in the background, while parts are still in flight. Wait for
 * those parts (up to a bound), then abort (again) so that when `done()`
 * rejects no upload and no part is left behind.
 */
async function abortLeftovers(upload: Upload, client: S3Client, bucket: string, key: string): Promise<void> {
  const internals = upload as unknown as UploadInternals;
  const settled = Promise.allSettled(internals.concurrentUploaders ?? []);
  // lib-storage sends parts without the abort signal: a hung part must not hold up the rejection.
  const drained = await Promise.race([settled.then(() => true), delay(PART_DRAIN_MS).then(() => false)]);
  const abort = async () => {
    const uploadId = internals.uploadId;
    if (!uploadId) return;
    const input = withEncryption({ Bucket: bucket, Key: key, UploadId: uploadId }, { raw: true });
    await client.send(new AbortMultipartUploadCommand(input)).catch(() => {}); // already aborted: NoSuchUpload
  };
  await abort();
  // A part still in flight may yet land: abort once more when it settles.
  if (!drained) void settled.then(abort);
}

/** How long a failed upload waits for its in-flight parts before aborting anyway. */
const PART_DRAIN_MS = 2000;

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });
