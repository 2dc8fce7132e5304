import { ByteQueue } from './byte-queue';
import { ChunkDecoder, type ChunkDecoderOptions } from './chunk-decoder';
import { ErrorCode, FormatError } from './errors';
import { decodeHeader, type EncryptionHeader } from './header';
import { type ByteSource, collectBytes, toByteIterable } from './sources';
import { type OpenOptions, openStreamCipher, type StreamCipher } from './stream-cipher';

/**
 * Decrypts a chunked body (detached framing, or a byte range of it). Yields
 * each chunk's plaintext only after that chunk authenticated; an input that
 * stops before its final chunk throws ES_TRUNCATED rather than ending short.
 * @public
 */
export async function* decryptBody(
  cipher: StreamCipher,
  source: ByteSource,
  options: ChunkDecoderOptions = {},
): AsyncGenerator<Uint8Array> {
  const decoder = new ChunkDecoder(cipher, {
    plaintextSize: cipher.header.stream.plaintextSize,
    ...options,
  });
  for await (const piece of toByteIterable(source)) yield* decoder.push(piece);
  yield* decoder.finish();
}

/**
 * Splits a self-contained stream into its header and the rest of its pieces.
 * @public
 */
export async function readHeader(
  source: ByteSource,
): Promise<{ header: EncryptionHeader; body: AsyncIterable<Uint8Array> }> {
  const iterator = toByteIterable(source);
  const queue = new ByteQueue();
  let parsed: ReturnType<typeof decodeHeader>;
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      parsed = queue.length > 0 ? decodeHeader(queue.takeContiguous(queue.length)) : undefined;
      if (!parsed) throw new FormatError(ErrorCode.TRUNCATED, 'the stream ended inside its header');
      break;
    }
    queue.push(next.value);
    const all = queue.takeContiguous(queue.length);
    parsed = decodeHeader(all);
    queue.push(all);
    if (parsed) break;
  }
  const { header, length } = parsed;
  queue.take(length);
  const rest = queue.take(queue.length);
  async function* body() {
    yield* rest;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
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
  const { header, body } = await readHeader(source);
  const cipher = await openStreamCipher(header, options);
  yield* decryptBody(cipher, body);
}

/**
 * Decrypts a whole self-contained buffer.
 * @public
 */
export async function decryptBuffer(ciphertext: Uint8Array, options: OpenOptions): Promise<Uint8Array> {
  if (!(ciphertext instanceof Uint8Array)) throw new TypeError('ciphertext must be a Uint8Array');
  return collectBytes(decryptStream(ciphertext, options));
}
