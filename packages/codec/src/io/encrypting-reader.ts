import { type CreateOptions, createStreamCipher, type StreamCipher } from '../crypto/stream-cipher';
import { concatBytes, u64 } from '../format/bytes';
import { CHUNK_OVERHEAD, KEY_SIZE, NONCE_SIZE } from '../format/constants';
import { ErrorCode, FormatError } from '../format/errors';
import { chunkCount, ciphertextSize } from '../format/geometry';
import { encodeHeader } from '../format/header';
import type { RandomAccessSource } from './random-access-source';

/**
 * Options of {@link EncryptingReader.create}.
 * @public
 */
export interface EncryptingReaderOptions extends Omit<CreateOptions, 'plaintextSize'> {
  /** `self-contained` (default): header then chunks; `detached`: chunks only. */
  readonly framing?: 'self-contained' | 'detached';
}

/**
 * Seekable encryption, the seed library's `EncryptingReader`: knows the total
 * ciphertext size up front and returns the ciphertext at any offset without
 * encrypting from the start.
 *
 * Reads are consistent: each chunk's nonce is synthetic,
 * HMAC-SHA256(readerKey, u64(index) || u8(final) || plaintext)[0..24] with a
 * random per-reader key, so re-reading a chunk yields the same bytes, while a
 * chunk whose source bytes changed gets a different nonce: a nonce is never
 * reused with different plaintext (the seed's flaw).
 * @public
 */
export class EncryptingReader {
  /** The stream's cipher and header. */
  readonly cipher: StreamCipher;
  /** Total ciphertext bytes (prefix + body). */
  readonly size: number;
  readonly #source: RandomAccessSource;
  readonly #prefix: Uint8Array;
  readonly #nonceKey: Uint8Array;
  readonly #chunks: number;

  private constructor(cipher: StreamCipher, source: RandomAccessSource, prefix: Uint8Array) {
    this.cipher = cipher;
    this.#source = source;
    this.#prefix = prefix;
    this.#nonceKey = cipher.backend.randomBytes(KEY_SIZE);
    this.#chunks = chunkCount(source.size, cipher.chunkSize);
    this.size = prefix.length + ciphertextSize(source.size, cipher.chunkSize);
  }

  /** Creates a reader over `source`; its size is recorded and authenticated in the header. */
  static async create(source: RandomAccessSource, options: EncryptingReaderOptions): Promise<EncryptingReader> {
    if (!source || typeof source.read !== 'function' || !Number.isSafeInteger(source.size)) {
      throw new TypeError('source must be a RandomAccessSource');
    }
    const cipher = await createStreamCipher({ ...options, plaintextSize: source.size });
    const prefix = options.framing === 'detached' ? new Uint8Array(0) : encodeHeader(cipher.header);
    return new EncryptingReader(cipher, source, prefix);
  }

  async #chunk(index: number): Promise<Uint8Array> {
    const size = this.cipher.chunkSize;
    const final = index === this.#chunks - 1;
    const length = final ? this.#source.size % size : size;
    const plaintext = await this.#source.read(index * size, length);
    if (plaintext.length !== length) {
      throw new FormatError(ErrorCode.SIZE_MISMATCH, 'the source is shorter than when the reader was created');
    }
    const nonce = this.cipher.backend
      .hmacSha256(this.#nonceKey, [u64(index), Uint8Array.of(final ? 1 : 0), plaintext])
      .subarray(0, NONCE_SIZE);
    return concatBytes(this.cipher.encryptChunk(index, final, [plaintext], nonce));
  }

  /** Returns ciphertext bytes `[offset, offset + length)`, clamped to {@link size}. */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('offset must be a non-negative integer');
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('length must be a non-negative integer');
    const end = Math.min(this.size, offset + length);
    const parts: Uint8Array[] = [];
    let at = offset;
    if (at < this.#prefix.length && at < end) {
      parts.push(this.#prefix.subarray(at, Math.min(end, this.#prefix.length)));
      at = Math.min(end, this.#prefix.length);
    }
    const stride = this.cipher.chunkSize + CHUNK_OVERHEAD;
    while (at < end) {
      const bodyOffset = at - this.#prefix.length;
      const index = Math.floor(bodyOffset / stride);
      const chunk = await this.#chunk(index);
      const from = bodyOffset - index * stride;
      const take = Math.min(chunk.length - from, end - at);
      parts.push(chunk.subarray(from, from + take));
      at += take;
    }
    return parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(parts);
  }

  /** Streams the ciphertext from `offset` to the end, one chunk at a time. */
  async *stream(offset = 0): AsyncGenerator<Uint8Array> {
    const stride = this.cipher.chunkSize + CHUNK_OVERHEAD;
    for (let at = offset; at < this.size; ) {
      // Step to the next chunk boundary so each chunk is encrypted once.
      const bodyOffset = Math.max(0, at - this.#prefix.length);
      const boundary = this.#prefix.length + (Math.floor(bodyOffset / stride) + 1) * stride;
      const next = Math.min(this.size, at < this.#prefix.length ? this.#prefix.length : boundary);
      yield await this.read(at, next - at);
      at = next;
    }
  }
}
