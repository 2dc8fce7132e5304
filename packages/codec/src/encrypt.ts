import { ChunkEncoder } from './chunk-encoder';
import { encodeHeader } from './header';
import { type ByteSource, collectBytes, toByteIterable } from './sources';
import { type CreateOptions, createStreamCipher, type StreamCipher } from './stream-cipher';

/**
 * Where an encrypted run of chunks sits in its stream.
 * @public
 */
export interface BodyRunOptions {
  /** Index of the first chunk (default 0). */
  readonly firstChunk?: number;
  /** Whether this run ends the stream (default true). A non-final run must be whole chunks. */
  readonly final?: boolean;
  /**
   * Exact plaintext bytes the source must yield (default: the size recorded in
   * the header, for a whole stream). More or fewer is a RangeError, raised
   * before a wrong-length body can be passed off as complete.
   */
  readonly length?: number;
}

/**
 * Encrypts `source` into chunks (the detached body, or one multipart part of it).
 * Pulls lazily; holds less than one chunk of plaintext. Throws RangeError if the
 * source disagrees with the expected length (see {@link BodyRunOptions.length}).
 * @public
 */
export async function* encryptBody(
  cipher: StreamCipher,
  source: ByteSource,
  options: BodyRunOptions = {},
): AsyncGenerator<Uint8Array> {
  const encoder = new ChunkEncoder(cipher, options.firstChunk ?? 0);
  const final = options.final ?? true;
  const expected =
    options.length ?? (final && (options.firstChunk ?? 0) === 0 ? cipher.header.stream.plaintextSize : undefined);
  let seen = 0;
  for await (const piece of toByteIterable(source)) {
    seen += piece.length;
    if (expected !== undefined && seen > expected) {
      throw new RangeError(`source is longer than the ${expected} bytes declared`);
    }
    yield* encoder.push(piece);
  }
  if (expected !== undefined && seen !== expected) {
    throw new RangeError(`source ended after ${seen} of the ${expected} bytes declared`);
  }
  yield* encoder.finish(final);
}

/**
 * Encrypts `source` in the self-contained framing: header, then chunks.
 * @example
 * ```ts
 * await pipeline(Readable.from(encryptStream(createReadStream(src), { keyring })), createWriteStream(dst));
 * ```
 * @public
 */
export async function* encryptStream(source: ByteSource, options: CreateOptions): AsyncGenerator<Uint8Array> {
  const cipher = await createStreamCipher(options);
  yield encodeHeader(cipher.header);
  yield* encryptBody(cipher, source);
}

/**
 * Encrypts a whole buffer (self-contained framing, size recorded in the header).
 * @public
 */
export async function encryptBuffer(plaintext: Uint8Array, options: CreateOptions): Promise<Uint8Array> {
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
  return collectBytes(encryptStream(plaintext, { plaintextSize: plaintext.length, ...options }));
}
