import { concatBytes } from './bytes';
import { type ByteSource, toByteIterable } from './sources';

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

/**
 * Whether `toByteIterable(source)` would just iterate `source` itself (an
 * async iterable such as a Node Readable or an async generator). The streaming
 * APIs then iterate it directly, passing each piece through {@link asPiece}:
 * one async-generator level less per piece (each level costs a few promise
 * jobs, ~1% of the throughput at 64 KiB pieces).
 */
export function iteratesItself(source: ByteSource): source is AsyncIterable<Uint8Array | string> {
  return (
    !(source instanceof Uint8Array) &&
    !(source instanceof ArrayBuffer) &&
    !(typeof Blob !== 'undefined' && source instanceof Blob) &&
    typeof (source as Partial<AsyncIterable<unknown>>)?.[Symbol.asyncIterator] === 'function'
  );
}

/**
 * A piece as toByteIterable() yields it: Uint8Arrays as they are, anything else
 * (strings, ...) converted, or rejected with its TypeError, by toByteIterable itself.
 */
export function asPiece(value: unknown): Uint8Array | Promise<Uint8Array> {
  return value instanceof Uint8Array ? value : convertPiece(value);
}

async function convertPiece(value: unknown): Promise<Uint8Array> {
  let out: Uint8Array | undefined;
  for await (const piece of toByteIterable([value as Uint8Array])) out = piece;
  return out as Uint8Array;
}
