import { BodyEncoder, type BodyRunOptions, type StreamCipher } from '@encrypted-stream/codec/low-level';

/** Free buffers kept per upload at most: more parts than this in flight allocate the rest afresh. */
const MAX_FREE = 16;

/**
 * Ciphertext buffers of one upload's in-memory parts, reused once a part was
 * sent. A fresh part-sized buffer per part is paid for three times: the
 * kernel zero-fills its pages on first touch, and V8 counts it as external
 * memory, whose growth is what triggers its full collections (profile of a
 * 512 MiB put in 8 MiB parts: collecting the pieces into fresh buffers and the
 * GC were 0.47 and 0.89 s of CPU per GiB).
 */
class PartBuffers {
  readonly #free: Uint8Array[] = [];

  /** A buffer of exactly `length` bytes: a view of a free one at least that long, else a new one. */
  take(length: number): { buffer: Uint8Array; backing: Uint8Array } {
    const i = this.#free.findIndex((b) => b.length >= length);
    const backing = i < 0 ? new Uint8Array(length) : (this.#free.splice(i, 1)[0] as Uint8Array);
    return { buffer: backing.subarray(0, length), backing };
  }

  /** Returns `backing` for reuse (only once nothing reads it any more). */
  give(backing: Uint8Array): void {
    if (this.#free.length < MAX_FREE) this.#free.push(backing);
  }
}

/** Each upload's buffers, kept as long as its state is. */
const buffersOf = new WeakMap<object, PartBuffers>();

/** A part's ciphertext in one buffer, and how to hand the buffer back once the part was sent. */
export interface EncryptedBuffer {
  readonly body: Uint8Array;
  /**
   * Call once the request that sent `body` succeeded (S3 has read all of it,
   * retries included): the buffer then carries a later part of the same upload.
   * Never call it after a failure: the SDK may not be done with the body.
   */
  readonly release: () => void;
}

/**
 * Encrypts an in-memory part (`plaintext`, the run of chunks `run` describes)
 * synchronously into one contiguous buffer of `length` ciphertext bytes,
 * reusing a buffer of `owner`'s (the upload's state) sent earlier. A
 * plaintext of the wrong length is the encoder's RangeError.
 */
export function encryptIntoBuffer(
  owner: object,
  cipher: StreamCipher,
  plaintext: Uint8Array,
  run: BodyRunOptions,
  length: number,
): EncryptedBuffer {
  const encoder = new BodyEncoder(cipher, run);
  const pieces = [...encoder.push(plaintext), ...encoder.finish()];
  let buffers = buffersOf.get(owner);
  if (!buffers) {
    buffers = new PartBuffers();
    buffersOf.set(owner, buffers);
  }
  const { buffer, backing } = buffers.take(length);
  let at = 0;
  for (const piece of pieces) {
    buffer.set(piece, at);
    at += piece.length;
  }
  if (at !== length) throw new Error(`internal: part encrypted to ${at} bytes, ${length} expected`);
  const pool = buffers;
  let released = false;
  return {
    body: buffer,
    release: () => {
      if (!released) pool.give(backing);
      released = true;
    },
  };
}
