import { statSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { ByteSource } from '@encrypted-stream/codec';
import type { BodyRunOptions, RangeDecoder, StreamCipher } from '@encrypted-stream/codec/low-level';
import { decryptingStream, encryptingStream } from '@encrypted-stream/codec/node';
import type { SdkStream, SdkStreamMixinInjector } from '@smithy/types';
import type { PlaintextBody } from '../plaintext-body';

/**
 * Body streams under Node (what `#body-streams` resolves to there; browsers
 * get `web/body-streams.ts`): the codec's Node Transforms, which encrypt and
 * decrypt synchronously per piece, and fs streams sized by stat.
 */

/** The size of an fs read stream's byte range, by stat (as the SDK itself does); else undefined. */
export function streamLength(body: unknown): number | undefined {
  const path = (body as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || !(body instanceof Readable)) return undefined;
  const { start, end } = body as unknown as { start?: number; end?: number };
  const size = statSync(path).size;
  const from = start ?? 0;
  const to = end === undefined || end === Number.POSITIVE_INFINITY ? size - 1 : Math.min(end, size - 1);
  return Math.max(0, to - from + 1);
}

/** A request body encrypted as it is sent, and a promise that rejects if producing it fails. */
export interface StreamedRequestBody {
  readonly body: Readable;
  readonly failed: Promise<never>;
}

/**
 * `source` encrypted as a stream for PutObject / UploadPart (see
 * {@link toRequestBody}). Callers race `failed` against the send.
 */
export async function streamedRequestBody(
  cipher: StreamCipher,
  source: ByteSource,
  run: BodyRunOptions = {},
): Promise<StreamedRequestBody> {
  return toRequestBody(encryptingStream(cipher, source, run));
}

/** `source` encrypted as it is read, as a Node stream (lib-storage's `Upload` body). */
export function encryptingBody(cipher: StreamCipher, source: ByteSource, run: BodyRunOptions = {}): Readable {
  return encryptingStream(cipher, source, run);
}

/**
 * A presigned request's plaintext encrypted as it is read, as a Node stream
 * whose errors also destroy whatever it is piped to (see {@link toRequestBody}).
 */
export function presignedBody(cipher: StreamCipher, plaintext: PlaintextBody, run: BodyRunOptions = {}): Readable {
  return toRequestBody(encryptingStream(cipher, readableOf(plaintext), run)).body;
}

/**
 * Decrypts a GetObject response body as it streams (see the codec's
 * `decryptingStream`), with the SDK's helpers (transformToByteArray, …) added
 * by `mixin`, the client's own `config.sdkStreamMixin`: the user's SDK version
 * decorates the body, as it does its own, and we depend on no SDK internals.
 * Destroying the body before its end destroys the response too, so its
 * connection is freed.
 */
export function plaintextBody(
  response: unknown,
  decoder: RangeDecoder,
  mixin: SdkStreamMixinInjector,
): SdkStream<Readable> {
  return mixin(decryptingStream(decoder, response as ByteSource)) as SdkStream<Readable>;
}

/** A Node stream of a plaintext body. */
function readableOf(plaintext: PlaintextBody): Readable {
  if (plaintext instanceof Readable) return plaintext;
  if (typeof plaintext === 'string') return Readable.from([Buffer.from(plaintext, 'utf8')]);
  if (plaintext instanceof Uint8Array) {
    return Readable.from([Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength)]);
  }
  if (typeof Blob !== 'undefined' && plaintext instanceof Blob) {
    return Readable.from(plaintext.stream() as unknown as AsyncIterable<Uint8Array>);
  }
  if (plaintext && typeof (plaintext as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    return Readable.from(plaintext as AsyncIterable<Uint8Array>);
  }
  throw new TypeError('plaintext must be bytes, a string, a Blob, a Readable, a ReadableStream or an async iterable');
}

/**
 * `body` made safe to send, and a promise that rejects if producing it fails
 * (source error, wrong length). The SDK sends a Readable body with `pipe()`,
 * which does not forward errors: without this the request would hang and the
 * error would crash the process. Here the error destroys the HTTP request, and
 * callers race `failed` against the send so it rejects at once.
 */
function toRequestBody(body: Readable): StreamedRequestBody {
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
