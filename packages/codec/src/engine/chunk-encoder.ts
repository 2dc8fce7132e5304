import type { StreamCipher } from '../crypto/stream-cipher';
import { ByteQueue } from './byte-queue';

/**
 * Incremental encryption of a run of chunks: push plaintext in any slices,
 * get whole encrypted chunks back. Holds less than one chunk of plaintext.
 * @public
 */
export class ChunkEncoder {
  readonly #cipher: StreamCipher;
  readonly #queue = new ByteQueue();
  #index: number;
  #finished = false;

  /**
   * @param firstChunk - index of the first chunk this encoder writes (multipart parts start mid-stream)
   */
  constructor(cipher: StreamCipher, firstChunk = 0) {
    if (!Number.isSafeInteger(firstChunk) || firstChunk < 0) throw new RangeError('firstChunk must be >= 0');
    this.#cipher = cipher;
    this.#index = firstChunk;
  }

  /** Index of the next chunk to be written. */
  get nextChunk(): number {
    return this.#index;
  }

  /**
   * Queues plaintext; returns the encrypted chunks it completed.
   * The caller must not modify `piece` afterwards (it is not copied).
   */
  push(piece: Uint8Array): Uint8Array[] {
    if (this.#finished) throw new RangeError('push() after finish()');
    const size = this.#cipher.chunkSize;
    // Fast path: a piece that is exactly one chunk (a 64 KiB read-stream piece
    // at the default chunk size) is encrypted as is, without queueing.
    if (piece.length === size && this.#queue.length === 0) {
      return this.#cipher.encryptChunk(this.#index++, false, [piece]);
    }
    this.#queue.push(piece);
    if (this.#queue.length < size) return [];
    const out: Uint8Array[] = [];
    while (this.#queue.length >= size) {
      // A loop, not push(...spread): a 16 MiB chunk of small pieces has many.
      const chunk = this.#cipher.encryptChunk(this.#index++, false, this.#queue.take(size));
      for (let i = 0; i < chunk.length; i++) out.push(chunk[i] as Uint8Array);
    }
    return out;
  }

  /**
   * Ends the run. With `final` (the default) the rest becomes the stream's
   * short final chunk (possibly empty). Without it the run must end on a
   * chunk boundary: a multipart part that is not the last one.
   */
  finish(final = true): Uint8Array[] {
    if (this.#finished) throw new RangeError('finish() called twice');
    this.#finished = true;
    if (!final) {
      if (this.#queue.length !== 0) {
        throw new RangeError(`a non-final run must be a whole number of ${this.#cipher.chunkSize}-byte chunks`);
      }
      return [];
    }
    return this.#cipher.encryptChunk(this.#index++, true, this.#queue.take(this.#queue.length));
  }
}
