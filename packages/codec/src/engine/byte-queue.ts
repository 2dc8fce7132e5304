import { concatBytes } from '../format/bytes';

/**
 * A FIFO of byte pieces that hands out exact lengths without copying: the
 * pieces it returns are views of the pieces it was given.
 */
export class ByteQueue {
  #pieces: Uint8Array[] = [];
  #head = 0; // offset into #pieces[0]
  #length = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    this.#pieces.push(piece);
    this.#length += piece.length;
  }

  /** Removes exactly `n` bytes (n ≤ length) as a list of views. */
  take(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (n > 0) {
      const first = this.#pieces[0] as Uint8Array;
      const available = first.length - this.#head;
      if (available <= n) {
        out.push(this.#head === 0 ? first : first.subarray(this.#head));
        this.#pieces.shift();
        this.#head = 0;
        n -= available;
        this.#length -= available;
      } else {
        out.push(first.subarray(this.#head, this.#head + n));
        this.#head += n;
        this.#length -= n;
        n = 0;
      }
    }
    return out;
  }

  /** Removes exactly `n` bytes as one contiguous array (copies only if they span pieces). */
  takeContiguous(n: number): Uint8Array {
    const parts = this.take(n);
    return parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(parts);
  }
}
