import type { ByteSource } from '@encrypted-stream/codec';
import {
  type BodyRunOptions,
  encryptBody,
  type RangeDecoder,
  type StreamCipher,
} from '@encrypted-stream/codec/low-level';
import type { SdkStream, SdkStreamMixinInjector } from '@smithy/types';
import type { PlaintextBody } from '../plaintext-body';

/**
 * Body streams outside Node (what `#body-streams` resolves to in browsers and
 * workers; Node gets `node/body-streams.ts`): web ReadableStreams over the
 * codec's engines, and Blobs for request bodies.
 */

/** Nothing but bytes, strings and Blobs has a length known without reading it here. */
export function streamLength(_body: unknown): number | undefined {
  return undefined;
}

/** A request body, encrypted whole (see {@link streamedRequestBody}). */
export interface StreamedRequestBody {
  readonly body: Blob;
  readonly failed?: undefined;
}

/**
 * `source` (a Blob, a ReadableStream, …) encrypted into a Blob for PutObject /
 * UploadPart. Why not a stream: browsers send a ReadableStream request body
 * only over HTTP/2 or later (`duplex: 'half'`), which S3 endpoints do not
 * speak; a Blob of the pieces lets the browser keep them out of the JS heap.
 * A source of the wrong length fails here, before anything is sent.
 */
export async function streamedRequestBody(
  cipher: StreamCipher,
  source: ByteSource,
  run: BodyRunOptions = {},
): Promise<StreamedRequestBody> {
  const pieces: BlobPart[] = [];
  for await (const piece of encryptBody(cipher, source, run)) pieces.push(piece as Uint8Array<ArrayBuffer>);
  return { body: new Blob(pieces) };
}

/** `source` encrypted as it is read, as a web ReadableStream (lib-storage's `Upload` body). */
export function encryptingBody(
  cipher: StreamCipher,
  source: ByteSource,
  run: BodyRunOptions = {},
): ReadableStream<Uint8Array> {
  return streamOf(encryptBody(cipher, source, run));
}

/** A presigned request's plaintext encrypted as it is read, as a web ReadableStream. */
export function presignedBody(
  cipher: StreamCipher,
  plaintext: PlaintextBody,
  run: BodyRunOptions = {},
): ReadableStream<Uint8Array> {
  if (typeof plaintext === 'string') return encryptingBody(cipher, new TextEncoder().encode(plaintext), run);
  if (plaintext == null || typeof plaintext !== 'object') {
    throw new TypeError('plaintext must be bytes, a string, a Blob, a ReadableStream or an async iterable');
  }
  return encryptingBody(cipher, plaintext as ByteSource, run);
}

/**
 * A GetObject response body (the fetch handler's ReadableStream, or a Blob)
 * decrypted as it streams: each piece read goes through `decoder`, and only
 * what authenticated is passed on; the end runs `decoder.finish()`, so a body
 * cut short fails (ES_TRUNCATED) rather than ending early. A failure errors
 * the stream and cancels the response; cancelling the stream cancels it too.
 * `mixin` (the client's `sdkStreamMixin`) adds transformToByteArray & co.
 */
export function plaintextBody(
  response: unknown,
  decoder: RangeDecoder,
  mixin: SdkStreamMixinInjector,
): SdkStream<ReadableStream<Uint8Array>> {
  const reader = readerOf(response);
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            const out = done ? decoder.finish() : decoder.push(value);
            for (let i = 0; i < out.length; i++) controller.enqueue(out[i] as Uint8Array);
            if (done) return controller.close();
            if (out.length > 0) return; // else: mid-chunk, read on
          }
        } catch (error) {
          reader.cancel(error).catch(() => {});
          throw error;
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 }, // read the response only as the caller reads
  );
  return mixin(stream) as SdkStream<ReadableStream<Uint8Array>>;
}

/** A reader of a response body: a ReadableStream, or a Blob (fetch handlers without streaming). */
function readerOf(body: unknown): ReadableStreamDefaultReader<Uint8Array> {
  const stream = typeof Blob !== 'undefined' && body instanceof Blob ? body.stream() : body;
  if (typeof (stream as ReadableStream | undefined)?.getReader !== 'function') {
    throw new TypeError('the response body is neither a ReadableStream nor a Blob');
  }
  return (stream as ReadableStream<Uint8Array>).getReader();
}

/** A ReadableStream of an async generator's pieces; cancelling it returns the generator (releasing its source). */
function streamOf(pieces: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await pieces.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
