import { asPiece, iteratesItself } from './byte-queue';
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
export function encryptBody(
  cipher: StreamCipher,
  source: ByteSource,
  options: BodyRunOptions = {},
): AsyncGenerator<Uint8Array> {
  return encryptRun(cipher, source, options);
}

/**
 * Encrypts `source` in the self-contained framing: header, then chunks.
 * @example
 * ```ts
 * await pipeline(Readable.from(encryptStream(createReadStream(src), { keyring })), createWriteStream(dst));
 * ```
 * @public
 */
export function encryptStream(source: ByteSource, options: CreateOptions): AsyncGenerator<Uint8Array> {
  return encryptRun(undefined, source, {}, options);
}

/**
 * The plaintext bytes a run must hold, when known: the caller's `length`, or
 * for a whole stream the size recorded in its header.
 */
export function declaredLength(cipher: StreamCipher, options: BodyRunOptions): number | undefined {
  const final = options.final ?? true;
  return options.length ?? (final && (options.firstChunk ?? 0) === 0 ? cipher.header.stream.plaintextSize : undefined);
}

/**
 * The body of {@link encryptBody} and {@link encryptStream}. One generator for
 * both: every `yield*` level would cost a few promise jobs per piece.
 * Without `cipher`, creates one from `create` and yields the header first.
 */
async function* encryptRun(
  cipher: StreamCipher | undefined,
  source: ByteSource,
  options: BodyRunOptions,
  create?: CreateOptions,
): AsyncGenerator<Uint8Array> {
  if (cipher === undefined) {
    cipher = await createStreamCipher(create as CreateOptions);
    yield encodeHeader(cipher.header);
  }
  const encoder = new ChunkEncoder(cipher, options.firstChunk ?? 0);
  const final = options.final ?? true;
  const expected = declaredLength(cipher, options);
  let seen = 0;
  for await (const item of iteratesItself(source) ? source : toByteIterable(source)) {
    const converted = asPiece(item);
    const piece = converted instanceof Uint8Array ? converted : await converted;
    seen += piece.length;
    if (expected !== undefined && seen > expected) {
      throw new RangeError(`source is longer than the ${expected} bytes declared`);
    }
    // A plain loop: `yield*` over an array goes through an async-from-sync iterator.
    const out = encoder.push(piece);
    for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
  }
  if (expected !== undefined && seen !== expected) {
    throw new RangeError(`source ended after ${seen} of the ${expected} bytes declared`);
  }
  const out = encoder.finish(final);
  for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
}

/**
 * Encrypts a whole buffer (self-contained framing, size recorded in the header).
 * @public
 */
export async function encryptBuffer(plaintext: Uint8Array, options: CreateOptions): Promise<Uint8Array> {
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
  return collectBytes(encryptStream(plaintext, { plaintextSize: plaintext.length, ...options }));
}
