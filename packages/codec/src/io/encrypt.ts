import { type CreateOptions, createStreamCipher, type StreamCipher } from '../crypto/stream-cipher';
import { BodyEncoder, type BodyRunOptions } from '../engine/body-encoder';
import { encodeHeader } from '../format/header';
import { asPiece, iteratesItself } from './pieces';
import { type ByteSource, collectBytes, toByteIterable } from './sources';

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
  const encoder = new BodyEncoder(cipher, options);
  for await (const item of iteratesItself(source) ? source : toByteIterable(source)) {
    const converted = asPiece(item);
    const piece = converted instanceof Uint8Array ? converted : await converted;
    // A plain loop: `yield*` over an array goes through an async-from-sync iterator.
    const out = encoder.push(piece);
    for (let i = 0; i < out.length; i++) yield out[i] as Uint8Array;
  }
  const out = encoder.finish();
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
