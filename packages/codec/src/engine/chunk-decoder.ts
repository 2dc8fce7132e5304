import type { StreamCipher } from '../crypto/stream-cipher';
import { CHUNK_OVERHEAD, NONCE_SIZE, TAG_SIZE } from '../format/constants';
import { ErrorCode, FormatError } from '../format/errors';
import { ByteQueue } from './byte-queue';

/**
 * Options of a {@link ChunkDecoder}.
 * @public
 */
export interface ChunkDecoderOptions {
  /** Index of the first chunk in the input (ranged reads start mid-stream). Default 0. */
  readonly firstChunk?: number;
  /**
   * The stream's total plaintext size, when known (header or object size).
   * Then the final chunk is recognised as soon as it arrives, bytes after it
   * are ES_TRAILING_DATA and a shorter input is ES_TRUNCATED.
   */
  readonly plaintextSize?: number;
  /**
   * Whether the input must run to the final chunk (default true). Ranged
   * reads that stop before the end set it to false; they must then end on a
   * chunk boundary.
   */
  readonly expectFinal?: boolean;
}

/**
 * Incremental decryption: push ciphertext in any slices, get back the
 * plaintext of each chunk once (and only once) its tag verified.
 * @public
 */
export class ChunkDecoder {
  readonly #cipher: StreamCipher;
  readonly #queue = new ByteQueue();
  readonly #finalChunk: number | undefined;
  readonly #finalLength: number;
  readonly #expectFinal: boolean;
  #index: number;
  #done = false;
  /** A failure found after earlier chunks of the same push authenticated: raised on the next call. */
  #pending: unknown;

  constructor(cipher: StreamCipher, options: ChunkDecoderOptions = {}) {
    const { firstChunk = 0, plaintextSize, expectFinal = true } = options;
    if (!Number.isSafeInteger(firstChunk) || firstChunk < 0) throw new RangeError('firstChunk must be >= 0');
    if (plaintextSize !== undefined && (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0)) {
      throw new RangeError(`plaintextSize must be a non-negative safe integer, got ${plaintextSize}`);
    }
    this.#cipher = cipher;
    this.#index = firstChunk;
    this.#expectFinal = expectFinal;
    const size = cipher.chunkSize;
    this.#finalChunk = plaintextSize === undefined ? undefined : Math.floor(plaintextSize / size);
    this.#finalLength = plaintextSize === undefined ? 0 : (plaintextSize % size) + CHUNK_OVERHEAD;
    if (this.#finalChunk !== undefined && firstChunk > this.#finalChunk) {
      throw new RangeError(`chunk ${firstChunk} is past the final chunk ${this.#finalChunk}`);
    }
  }

  /** Whether the final chunk has been decoded. */
  get done(): boolean {
    return this.#done;
  }

  /** Index of the next chunk expected. */
  get nextChunk(): number {
    return this.#index;
  }

  #decode(length: number, final: boolean): Uint8Array[] {
    const nonce = this.#queue.takeContiguous(NONCE_SIZE);
    const body = this.#queue.take(length - CHUNK_OVERHEAD);
    const tag = this.#queue.takeContiguous(TAG_SIZE);
    const plaintext = this.#cipher.decryptChunk(this.#index, final, nonce, body, tag);
    this.#index++;
    if (final) this.#done = true;
    return plaintext;
  }

  /** Queues ciphertext; returns the plaintext of every chunk it completed and authenticated. */
  push(piece: Uint8Array): Uint8Array[] {
    this.#raisePending();
    if (piece.length === 0) return [];
    if (this.#done) throw new FormatError(ErrorCode.TRAILING_DATA, 'bytes follow the final chunk');
    this.#queue.push(piece);
    const out: Uint8Array[] = [];
    try {
      this.#drain(out);
    } catch (error) {
      // Chunks that authenticated before the failure are still released; the error follows.
      if (out.length === 0) throw error;
      this.#pending = error;
    }
    return out;
  }

  #raisePending(): void {
    if (this.#pending === undefined) return;
    const error = this.#pending;
    this.#pending = undefined;
    throw error;
  }

  /** Decodes every complete chunk queued, appending plaintext to `out`. */
  #drain(out: Uint8Array[]): void {
    const full = this.#cipher.chunkSize + CHUNK_OVERHEAD;
    for (;;) {
      if (this.#index === this.#finalChunk) {
        if (this.#queue.length < this.#finalLength) break;
        pushAll(out, this.#decode(this.#finalLength, true));
        if (this.#queue.length > 0) throw new FormatError(ErrorCode.TRAILING_DATA, 'bytes follow the final chunk');
        break;
      }
      if (this.#queue.length < full) break;
      pushAll(out, this.#decode(full, false));
    }
  }

  /** Ends the input; decodes the final chunk or throws ES_TRUNCATED if the input stopped early. */
  finish(): Uint8Array[] {
    this.#raisePending();
    if (this.#done) return [];
    const rest = this.#queue.length;
    if (rest === 0 && !this.#expectFinal) return [];
    if (this.#finalChunk !== undefined || rest < CHUNK_OVERHEAD) {
      throw new FormatError(ErrorCode.TRUNCATED, `the stream ended inside or before chunk ${this.#index}`);
    }
    // Without a known size, the short chunk left at the end is the final one.
    return this.#decode(rest, true);
  }
}

/** `out.push(...items)` without the spread (a 16 MiB chunk can have many pieces). */
function pushAll(out: Uint8Array[], items: readonly Uint8Array[]): void {
  for (let i = 0; i < items.length; i++) out.push(items[i] as Uint8Array);
}
