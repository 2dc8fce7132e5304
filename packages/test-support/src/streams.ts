import { createHash } from 'node:crypto';

/** All bytes of a response body (an async iterable or a Web ReadableStream; none is empty). */
export async function readAll(body: unknown): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  const pieces: Buffer[] = [];
  await consume(body, (piece) => {
    pieces.push(Buffer.from(piece));
  });
  return Buffer.concat(pieces);
}

/**
 * Reads a body piece by piece; `onPiece` sees each piece as it arrives (so a
 * test knows what was delivered before an error). Resolves with the byte
 * count; rejects if the body errors.
 */
export async function consume(body: unknown, onPiece: (piece: Uint8Array) => void): Promise<number> {
  if (!body) throw new TypeError('no body');
  let total = 0;
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    for await (const piece of body as AsyncIterable<Uint8Array | string>) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
      total += bytes.length;
      onPiece(bytes);
    }
    return total;
  }
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return total;
      total += value.length;
      onPiece(value);
    }
  }
  throw new TypeError('unsupported body type');
}

/** SHA-256 (hex) and length of a response body, streamed. */
export async function hashBody(body: unknown): Promise<{ sha256: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const piece of body as AsyncIterable<Uint8Array>) {
    hash.update(piece);
    length += piece.length;
  }
  return { sha256: hash.digest('hex'), length };
}

/**
 * Reads `body` (a Node stream, or a web ReadableStream) until it ends or
 * fails: what it delivered before, and the error (undefined when it ended).
 * A Node stream is read through 'data' events, so that nothing already handed
 * to the consumer is lost when it errors.
 */
export async function consumeUntilError(body: unknown): Promise<{ delivered: Buffer; error: unknown }> {
  const pieces: Buffer[] = [];
  if (typeof (body as ReadableStream<Uint8Array>)?.getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return { delivered: Buffer.concat(pieces), error: undefined };
        pieces.push(Buffer.from(value));
      }
    } catch (error) {
      return { delivered: Buffer.concat(pieces), error };
    }
  }
  const stream = body as NodeJS.ReadableStream;
  return new Promise((resolve) => {
    stream.on('data', (piece: Uint8Array) => pieces.push(Buffer.from(piece)));
    stream.on('error', (error) => resolve({ delivered: Buffer.concat(pieces), error }));
    stream.on('end', () => resolve({ delivered: Buffer.concat(pieces), error: undefined }));
  });
}

/** Whether `needle` occurs anywhere in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle) !== -1;
}
