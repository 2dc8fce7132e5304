import { type OpenOptions, openStreamCipher, type StreamCipher } from '../crypto/stream-cipher';
import { ByteQueue } from '../engine/byte-queue';
import { ChunkDecoder } from '../engine/chunk-decoder';
import { RangeDecoder, type RangeDecoderOptions } from '../engine/range-decoder';
import { ErrorCode, FormatError } from '../format/errors';
import { decodeHeader, type EncryptionHeader } from '../format/header';
import { asPiece, iteratesItself } from './pieces';
import { type ByteSource, collectBytes, toByteIterable } from './sources';

/** What the decryption loop needs of the engine: {@link ChunkDecoder} and {@link RangeDecoder} both fit. */
interface PieceDecoder {
  push(piece: Uint8Array): readonly Uint8Array[];
  finish(): readonly Uint8Array[];
}

/**
 * The one decryption loop every streaming decryptor runs: feeds `decoder` the
 * pieces already read (`rest`), then the rest of `iterator`, yielding what
 * authenticated. On an error or an early stop, releases the source (a file, a socket).
 */
async function* decryptPieces(
  decoder: PieceDecoder,
  rest: readonly Uint8Array[],
  iterator: AsyncIterator<Uint8Array | string>,
): AsyncGenerator<Uint8Array> {
  let exhausted = false;
  try {
    for (const piece of rest) {
      const out = decoder.push(piece);
      for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
    }
    // Plain loops rather than `yield*` over arrays (an async-from-sync iterator per piece),
    // and iterator.next() awaited here rather than in nextPiece(): one promise hop less per piece.
    for (;;) {
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
    if (!exhausted) await iterator.return?.();
  }
}

/** The source's pieces: iterated directly when that is what toByteIterable() would do (see iteratesItself). */
function piecesOf(source: ByteSource): AsyncIterator<Uint8Array | string> {
  return iteratesItself(source) ? source[Symbol.asyncIterator]() : toByteIterable(source);
}

/**
 * Decrypts a chunked body (detached framing, or a byte range of it, trimmed
 * with `skip`/`length` when given). Yields each chunk's plaintext only after
 * that chunk authenticated; an input that stops before its final chunk throws
 * ES_TRUNCATED rather than ending short.
 * @public
 */
export function decryptBody(
  cipher: StreamCipher,
  source: ByteSource,
  options: RangeDecoderOptions = {},
): AsyncGenerator<Uint8Array> {
  return decryptPieces(new RangeDecoder(cipher, options), [], piecesOf(source));
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
  const iterator = piecesOf(source);
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
  let cipher: StreamCipher;
  try {
    cipher = await openStreamCipher(header, options);
  } catch (error) {
    await iterator.return?.(); // release the source (a file, a socket)
    throw error;
  }
  yield* decryptPieces(new ChunkDecoder(cipher, { plaintextSize: cipher.header.stream.plaintextSize }), rest, iterator);
}

/**
 * Decrypts a whole self-contained buffer.
 * @public
 */
export async function decryptBuffer(ciphertext: Uint8Array, options: OpenOptions): Promise<Uint8Array> {
  if (!(ciphertext instanceof Uint8Array)) throw new TypeError('ciphertext must be a Uint8Array');
  return collectBytes(decryptStream(ciphertext, options));
}
