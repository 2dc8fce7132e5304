import type { Readable } from 'node:stream';
import type { ByteSource } from '@encrypted-stream/codec';
import { streamLength } from '#body-streams';

/** Request bodies the SDK accepts for PutObject / UploadPart. */
export type RequestBody = string | Uint8Array | Blob | Readable | ReadableStream<Uint8Array>;

/** Whether the body is already wholly in memory (so encrypting it to a buffer costs nothing extra). */
export function isInMemory(body: unknown): body is string | Uint8Array {
  return typeof body === 'string' || body instanceof Uint8Array;
}

/**
 * The body's plaintext length when it can be known without reading it: bytes,
 * strings, Blobs, the caller's ContentLength, or (under Node) fs read streams,
 * by stat, as the SDK itself does.
 */
export function knownLength(body: unknown, contentLength: number | undefined): number | undefined {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return utf8Length(body);
  if (body instanceof Uint8Array) return body.length;
  if (typeof Blob !== 'undefined' && body instanceof Blob) return body.size;
  if (contentLength !== undefined) return contentLength;
  return streamLength(body);
}

/** Normalises a request body for the codec's streaming API. */
export function bodySource(body: unknown): ByteSource {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return new TextEncoder().encode(body);
  return body as ByteSource;
}

/**
 * The UTF-8 length of `text` without encoding it (as Buffer.byteLength, which
 * browsers lack): a lone surrogate counts 3 bytes, the U+FFFD it is sent as.
 */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) length += 1;
    else if (unit < 0x800) length += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

/** Discards a response body (a Node stream or a web ReadableStream) so its connection is freed. */
export function discardBody(body: unknown): void {
  const stream = body as { destroy?: () => void; cancel?: () => unknown } | undefined;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else if (typeof stream?.cancel === 'function') void Promise.resolve(stream.cancel()).catch(() => {});
}
