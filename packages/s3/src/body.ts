import { statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ByteSource } from '@encrypted-stream/codec';
import type { RangeDecoder } from '@encrypted-stream/codec/low-level';
import { decryptingStream } from '@encrypted-stream/codec/node';
import type { SdkStream, SdkStreamMixinInjector } from '@smithy/types';

/** Request bodies the SDK accepts for PutObject / UploadPart. */
export type RequestBody = string | Uint8Array | Blob | Readable | ReadableStream<Uint8Array>;

/** Whether the body is already wholly in memory (so encrypting it to a buffer costs nothing extra). */
export function isInMemory(body: unknown): body is string | Uint8Array {
  return typeof body === 'string' || body instanceof Uint8Array;
}

/**
 * The body's plaintext length when it can be known without reading it: bytes,
 * strings, Blobs, fs read streams (by stat, as the SDK itself does), or the
 * caller's ContentLength.
 */
export function knownLength(body: unknown, contentLength: number | undefined): number | undefined {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.length;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  if (contentLength !== undefined) return contentLength;
  const path = (body as { path?: unknown; start?: unknown; end?: unknown }).path;
  if (typeof path === 'string' && body instanceof Readable) {
    const { start, end } = body as unknown as { start?: number; end?: number };
    const size = statSync(path).size;
    const from = start ?? 0;
    const to = end === undefined || end === Number.POSITIVE_INFINITY ? size - 1 : Math.min(end, size - 1);
    return Math.max(0, to - from + 1);
  }
  return undefined;
}

/** Normalises a request body for the codec's streaming API. */
export function bodySource(body: unknown): ByteSource {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return body as ByteSource;
}

/**
 * Decrypts a GetObject response body as it streams (see the codec's
 * `decryptingStream`), with the SDK's helpers (transformToByteArray, …) added
 * by `mixin`, the client's own `config.sdkStreamMixin`: the user's SDK version
 * decorates the body, as it does its own, and we depend on no SDK internals.
 * Destroying the body before its end destroys the response too, so its
 * connection is freed.
 */
export function toPlaintextBody(
  response: unknown,
  decoder: RangeDecoder,
  mixin: SdkStreamMixinInjector,
): SdkStream<Readable> {
  return mixin(decryptingStream(decoder, response as ByteSource)) as SdkStream<Readable>;
}

/** Discards a response body so its connection is freed. */
export function discardBody(body: unknown): void {
  const stream = body as { destroy?: () => void; cancel?: () => unknown } | undefined;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else if (typeof stream?.cancel === 'function') void Promise.resolve(stream.cancel()).catch(() => {});
}

/**
 * `body` made safe to send, and a promise that rejects if producing it fails
 * (source error, wrong length). The SDK sends a Readable body with `pipe()`,
 * which does not forward errors: without this the request would hang and the
 * error would crash the process. Here the error destroys the HTTP request, and
 * callers race `failed` against the send so it rejects at once.
 */
export function toRequestBody(body: Readable): { body: Readable; failed: Promise<never> } {
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {}); // observed through the race; never an unhandled rejection
  body.on('error', (error) => fail(error));
  const pipe = body.pipe.bind(body);
  body.pipe = <T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T => {
    body.once('error', (error) => (destination as unknown as { destroy?: (e: Error) => void }).destroy?.(error));
    return pipe(destination, options);
  };
  return { body, failed };
}
