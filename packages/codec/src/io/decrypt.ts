import { type OpenOptions, openStreamCipher, type StreamCipher } from '../crypto/stream-cipher';
import { ByteQueue } from '../engine/byte-queue';
import { ChunkDecoder } from '../engine/chunk-decoder';
import { RangeDecoder, type RangeDecoderOptions } from '../engine/range-decoder';
import { ErrorCode, FormatError } from '../format/errors';
import { decodeHeader, type EncryptionHeader } from '../format/header';
import { asPiece, iteratesItself } from './pieces';
import { type ByteSource, collectBytes, toByteIterable } from './sources';

/**
 * Decrypts a chunked body (detached framing, or a byte range of it, trimmed
 * with `skip`/`length` when given). Yields each chunk's plaintext only after
 * that chunk authenticated; an input that stops before its final chunk throws
 * ES_TRUNCATED rather than ending short.
 * @public
 */
export async function* decryptBody(
  cipher: StreamCipher,
  source: ByteSource,
  options: RangeDecoderOptions = {},
): AsyncGenerator<Uint8Array> {
  const decoder = new RangeDecoder(cipher, options);
  // Plain loops rather than `yield*` over arrays (an async-from-sync iterator per piece),
  // and the source iterated directly where toByteIterable() would just do that.
  for await (const item of iteratesItself(source) ? source : toByteIterable(source)) {
    const piece = asPiece(item);
    const out = decoder.push(piece instanceof Uint8Array ? piece : await piece);
    for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
  }
  const out = decoder.finish();
  for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
}

/**
 * A parsed header, the bytes read past it, and the iterator to read the rest
 * from (its values go through {@link nextPiece}).
 */
interface SplitHeader {
  header: EncryptionHeader;
  rest: Uint8Array[];
  iterator: AsyncIterator<Uint8Array | string>;
}

/** The next piece of `iterator`, as toByteIterable() would yield it; undefined at the end. */
async function nextPiece(iterator: AsyncIterator<Uint8Array | string>): Promise<Uint8Array | undefined> {
  const next = await iterator.next();
  return next.done ? undefined : asPiece(next.value);
}

async function splitHeader(source: ByteSource): Promise<SplitHeader> {
  // Iterated directly when that is what toByteIterable() would do (see iteratesItself).
  const iterator = iteratesItself(source) ? source[Symbol.asyncIterator]() : toByteIterable(source);
  const queue = new ByteQueue();
  let parsed: ReturnType<typeof decodeHeader>;
  try {
    for (;;) {
      const piece = await nextPiece(iterator);
      if (piece === undefined) {
        parsed = queue.length > 0 ? decodeHeader(queue.takeContiguous(queue.length)) : undefined;
        if (!parsed) throw new FormatError(ErrorCode.TRUNCATED, 'the stream ended inside its header');
        break;
      }
      queue.push(piece);
      const all = queue.takeContiguous(queue.length);
      parsed = decodeHeader(all);
      queue.push(all);
      if (parsed) break;
    }
  } catch (error) {
    await iterator.return?.(); // release the source (a file, a socket)
    throw error;
  }
  const { header, length } = parsed;
  queue.take(length);
  return { header, rest: queue.take(queue.length), iterator };
}

/**
 * Splits a self-contained stream into its header and the rest of its pieces.
 * @public
 */
export async function readHeader(
  source: ByteSource,
): Promise<{ header: EncryptionHeader; body: AsyncIterable<Uint8Array> }> {
  const { header, rest, iterator } = await splitHeader(source);
  async function* body() {
    yield* rest;
    for (;;) {
      const piece = await nextPiece(iterator);
      if (piece === undefined) return;
      yield piece;
    }
  }
  return { header, body: body() };
}

/**
 * Decrypts a self-contained stream. Yields plaintext chunk by chunk, each
 * only after it authenticated.
 * @public
 */
export async function* decryptStream(source: ByteSource, options: OpenOptions): AsyncGenerator<Uint8Array> {
  const { header, rest, iterator } = await splitHeader(source);
  let exhausted = false;
  try {
    const cipher = await openStreamCipher(header, options);
    // What decryptBody(cipher, readHeader(source).body) does, without the two
    // generator levels in between (each costs a few promise jobs per piece).
    const decoder = new ChunkDecoder(cipher, { plaintextSize: cipher.header.stream.plaintextSize });
    for (const piece of rest) {
      const out = decoder.push(piece);
      for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
    }
    for (;;) {
      // iterator.next() awaited here rather than in nextPiece(): one promise hop less per piece.
      const next = await iterator.next();
      if (next.done) break;
      const value = asPiece(next.value);
      const out = decoder.push(value instanceof Uint8Array ? value : await value);
      for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
    }
    exhausted = true;
    const out = decoder.finish();
    for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
  } finally {
    // On an error or an early stop, release the source (a file, a socket).
    if (!exhausted) await iterator.return?.();
  }
}

/**
 * Decrypts a whole self-contained buffer.
 * @public
 */
export async function decryptBuffer(ciphertext: Uint8Array, options: OpenOptions): Promise<Uint8Array> {
  if (!(ciphertext instanceof Uint8Array)) throw new TypeError('ciphertext must be a Uint8Array');
  return collectBytes(decryptStream(ciphertext, options));
}
