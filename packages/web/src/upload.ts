import type { EncryptionContext, Keyring } from '@encrypted-stream/codec';
import {
  BodyEncoder,
  ciphertextSize,
  createStreamCipher,
  DEFAULT_CHUNK_SIZE,
  type StreamCipher,
  toDetachedHeader,
} from '@encrypted-stream/codec/low-level';
import type { EncryptionOptions } from '@encrypted-stream/s3';
import { EncryptedMediaError, WebErrorCode } from './errors';
import { type PresignClient, presignClient } from './presign-client';

/**
 * Progress of {@link uploadEncrypted}, after each part S3 accepted.
 * @public
 */
export interface UploadProgress {
  readonly uploadedBytes: number;
  readonly totalBytes: number;
  readonly partsDone: number;
  readonly partCount: number;
}

/**
 * Options of {@link uploadEncrypted}.
 * @public
 */
export interface UploadOptions {
  /** The presign service (`createPresignService`), as a URL or path, or a client of it. */
  readonly service: string | PresignClient;
  /** The bucket (only needed with a `context` other than `'none'`). */
  readonly bucket?: string;
  /** The object key (under the service's prefix). */
  readonly key: string;
  /** The plaintext. */
  readonly body: Blob | Uint8Array;
  /** Wraps the new object's data key. */
  readonly keyring: Keyring;
  /** What the object is bound to, as readers will open it (default `'none'`). */
  readonly context?: EncryptionOptions['context'];
  /** Stored as the object's Content-Type. */
  readonly contentType?: string;
  /** Plaintext bytes per chunk (default 64 KiB). */
  readonly chunkSize?: number;
  /** Plaintext bytes per part: a multiple of the chunk size, 5 MiB or more (default 8 MiB). */
  readonly partSize?: number;
  /**
   * Parts encrypted and uploaded at once (default 4). Memory holds at most
   * this many parts (each its plaintext slice and its ciphertext).
   */
  readonly concurrency?: number;
  /** Called after each part S3 accepted, in the order they finish: the counts only grow. */
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Cancels the upload: part uploads in flight are aborted, the multipart upload too, and the call rejects. */
  readonly signal?: AbortSignal;
  /** The fetch used for the part PUTs (default: the global one). */
  readonly fetch?: typeof fetch;
}

/**
 * The result of {@link uploadEncrypted}.
 * @public
 */
export interface UploadResult {
  readonly key: string;
  readonly etag: string | undefined;
  readonly plaintextSize: number;
  readonly ciphertextSize: number;
}

const MIN_PART = 5 * 1024 * 1024;

function contextOf(options: UploadOptions): EncryptionContext {
  const context = options.context ?? 'none';
  if (context === 'none') return {};
  if (typeof options.bucket !== 'string') throw new TypeError("a context other than 'none' needs options.bucket");
  const location = { bucket: options.bucket, key: options.key };
  if (context === 'location') return location;
  if (typeof context === 'function') return context(location);
  throw new TypeError("options.context must be 'none', 'location' or a function");
}

/** Plaintext bytes `[start, end)` of the body. */
async function slice(body: Blob | Uint8Array, start: number, end: number): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body.subarray(start, end);
  return new Uint8Array(await body.slice(start, end).arrayBuffer());
}

/** The ciphertext of one part: its chunks, encrypted with the object's stream cipher, as one buffer. */
function encryptPart(cipher: StreamCipher, plaintext: Uint8Array, firstChunk: number, final: boolean): Uint8Array {
  const encoder = new BodyEncoder(cipher, { firstChunk, final, length: plaintext.length });
  const pieces = [...encoder.push(plaintext), ...encoder.finish()];
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

/**
 * Encrypts `body` in the page and uploads the ciphertext through the app
 * server's presigned multipart URLs: the page makes the data key and the
 * header (its plaintext size recorded), the service creates the upload with
 * that header as the object's metadata, and each part — whole chunks,
 * encrypted here — goes to S3 by a presigned UploadPart, `concurrency` parts
 * at a time. The key never leaves the page; the service sees the header
 * (wrapped key), sizes and timing. A failure (or `signal`) aborts the part
 * uploads in flight and the multipart upload (best effort); the first
 * failure is rethrown. The object reads back through the S3 plugin, the
 * gateway or the worker.
 * @public
 */
export async function uploadEncrypted(options: UploadOptions): Promise<UploadResult> {
  const { key, body, keyring, signal } = options;
  if (typeof key !== 'string' || key === '') throw new TypeError('options.key must be a non-empty string');
  if (!(body instanceof Uint8Array) && !(typeof Blob !== 'undefined' && body instanceof Blob)) {
    throw new TypeError('options.body must be a Blob or a Uint8Array');
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const partSize = options.partSize ?? Math.max(8 * 1024 * 1024, chunkSize);
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART || partSize % chunkSize !== 0) {
    throw new RangeError(`partSize must be a multiple of the ${chunkSize}-byte chunk size, at least 5 MiB`);
  }
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new RangeError('concurrency must be an integer from 1 to 64');
  }
  if (signal !== undefined && !(typeof AbortSignal !== 'undefined' && signal instanceof AbortSignal)) {
    throw new TypeError('options.signal must be an AbortSignal');
  }
  signal?.throwIfAborted();
  const service = typeof options.service === 'string' ? presignClient(options.service) : options.service;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const total = body instanceof Uint8Array ? body.length : body.size;
  const cipher = await createStreamCipher({ keyring, chunkSize, plaintextSize: total, context: contextOf(options) });
  const { uploadId } = await service.create(key, toDetachedHeader(cipher.header), options.contentType);
  const partCount = Math.max(1, Math.ceil(total / partSize));
  const etags: string[] = new Array(partCount);
  const stop = new AbortController(); // aborts the part uploads in flight when one fails
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort(); // during create
  let failure: { error: unknown } | undefined;
  let next = 0;
  let uploadedBytes = 0;
  let partsDone = 0;

  const uploadPart = async (index: number) => {
    const start = index * partSize;
    const end = Math.min(start + partSize, total);
    const ciphertext = encryptPart(cipher, await slice(body, start, end), start / chunkSize, end === total);
    stop.signal.throwIfAborted();
    const signed = await service.part(key, uploadId, index + 1, ciphertext.length);
    stop.signal.throwIfAborted();
    const response = await fetchImpl(signed.url, {
      method: 'PUT',
      headers: signed.headers,
      body: ciphertext as Uint8Array<ArrayBuffer>,
      credentials: 'omit',
      cache: 'no-store',
      signal: stop.signal,
    });
    const etag = response.headers.get('etag');
    await response.body?.cancel().catch(() => {});
    if (!response.ok) {
      throw new EncryptedMediaError(WebErrorCode.UPLOAD_FAILED, `S3 answered ${response.status} to part ${index + 1}`);
    }
    if (!etag) {
      throw new EncryptedMediaError(
        WebErrorCode.UPLOAD_FAILED,
        'S3 gave no ETag for a part (the bucket CORS rule must expose ETag)',
      );
    }
    etags[index] = etag;
    uploadedBytes += end - start;
    partsDone++;
    options.onProgress?.({ uploadedBytes, totalBytes: total, partsDone, partCount });
  };

  // `concurrency` workers take the next part until none is left or one failed.
  const worker = async () => {
    while (!failure && next < partCount) {
      const index = next++;
      try {
        await uploadPart(index);
      } catch (error) {
        if (!failure) {
          // The caller's cancellation is reported as such, not as the fetch it aborted.
          failure = { error: signal?.aborted ? signal.reason : error };
          stop.abort(failure.error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, partCount) }, worker));
    if (failure) throw failure.error;
    const parts = etags.map((etag, index) => ({ partNumber: index + 1, etag }));
    const { etag } = await service.complete(key, uploadId, parts);
    return { key, etag, plaintextSize: total, ciphertextSize: ciphertextSize(total, chunkSize) };
  } catch (error) {
    await service.abort(key, uploadId).catch(() => {});
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
