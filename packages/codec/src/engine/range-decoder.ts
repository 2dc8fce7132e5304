import type { StreamCipher } from '../crypto/stream-cipher';
import { ErrorCode, FormatError } from '../format/errors';
import { ChunkDecoder, type ChunkDecoderOptions } from './chunk-decoder';

/**
 * Options of a {@link RangeDecoder}: where the chunks sit in the fetched
 * ciphertext, and which plaintext bytes of them the caller asked for.
 * @public
 */
export interface RangeDecoderOptions extends ChunkDecoderOptions {
  /** Ciphertext bytes before the first chunk, dropped (a fetched span that starts early). Default 0. */
  readonly cipherSkip?: number;
  /**
   * Ciphertext bytes, after `cipherSkip`, that hold the chunks; input past
   * them is ignored, input short of them is ES_TRUNCATED. Default: all of it.
   */
  readonly cipherLength?: number;
  /** Plaintext bytes of the first chunk to drop. Default 0. */
  readonly skip?: number;
  /** Plaintext bytes to release in all; fewer is ES_TRUNCATED. Default: all of them. */
  readonly length?: number;
}

function assertCount(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}

/**
 * Synchronous decryption of a byte range: ciphertext in, authenticated and
 * trimmed plaintext out. What `trimRange(decryptBody(cipher, trimRange(input)))`
 * does, without a promise per piece, so a Node Transform or a read loop can
 * drive it directly. Like {@link ChunkDecoder}, a chunk's plaintext is
 * released only once its tag verified.
 * @public
 */
export class RangeDecoder {
  readonly #decoder: ChunkDecoder;
  readonly #expectFinal: boolean;
  /** The range's last plaintext piece, held until the final chunk after it authenticated. */
  #held: Uint8Array | undefined;
  #cipherSkip: number;
  #cipherLeft: number;
  #skip: number;
  #left: number;

  constructor(cipher: StreamCipher, options: RangeDecoderOptions = {}) {
    const { cipherSkip = 0, cipherLength, skip = 0, length } = options;
    assertCount(cipherSkip, 'cipherSkip');
    assertCount(cipherLength, 'cipherLength');
    assertCount(skip, 'skip');
    assertCount(length, 'length');
    this.#decoder = new ChunkDecoder(cipher, { plaintextSize: cipher.header.stream.plaintextSize, ...options });
    this.#expectFinal = options.expectFinal ?? true;
    this.#cipherSkip = cipherSkip;
    this.#cipherLeft = cipherLength ?? Number.POSITIVE_INFINITY;
    this.#skip = skip;
    this.#left = length ?? Number.POSITIVE_INFINITY;
  }

  /** Queues fetched ciphertext; returns the plaintext of every chunk it completed and authenticated. */
  push(piece: Uint8Array): Uint8Array[] {
    if (this.#cipherSkip > 0) {
      const n = Math.min(this.#cipherSkip, piece.length);
      piece = piece.subarray(n);
      this.#cipherSkip -= n;
    }
    if (piece.length > this.#cipherLeft) piece = piece.subarray(0, this.#cipherLeft);
    this.#cipherLeft -= piece.length;
    // An empty piece still goes in: it raises a failure held back from the previous push.
    return this.#release(this.#trim(this.#decoder.push(piece)));
  }

  /** Ends the input: the last chunks, or ES_TRUNCATED if the input or the plaintext ran short. */
  finish(): Uint8Array[] {
    if (this.#cipherLeft > 0 && this.#cipherLeft !== Number.POSITIVE_INFINITY) {
      this.#decoder.push(new Uint8Array(0)); // a held-back authentication failure comes first
      throw new FormatError(ErrorCode.TRUNCATED, `the ciphertext ended ${this.#cipherLeft} bytes short`);
    }
    const out = this.#trim(this.#decoder.finish());
    if (this.#left > 0 && this.#left !== Number.POSITIVE_INFINITY) {
      throw new FormatError(ErrorCode.TRUNCATED, `the range ended ${this.#left} bytes short`);
    }
    return this.#release(out);
  }

  /**
   * When a range reaches the end of the stream, its last byte may come before
   * the final chunk (an empty one, when the size is a multiple of the chunk
   * size). A consumer that counts bytes — an HTTP response with a
   * Content-Length — would take the range as complete as soon as that byte
   * arrived, even if the final chunk then failed. So the last piece is held
   * until the final chunk authenticated.
   */
  #release(pieces: Uint8Array[]): Uint8Array[] {
    if (this.#held && this.#decoder.done) {
      pieces.unshift(this.#held);
      this.#held = undefined;
    }
    if (this.#left === 0 && this.#expectFinal && !this.#decoder.done && pieces.length > 0) {
      this.#held = pieces.pop();
    }
    return pieces;
  }

  /** Applies `skip` and `length` to released plaintext, in place. */
  #trim(pieces: Uint8Array[]): Uint8Array[] {
    if (this.#skip === 0 && this.#left === Number.POSITIVE_INFINITY) return pieces;
    let kept = 0;
    for (let i = 0; i < pieces.length; i++) {
      let piece = pieces[i] as Uint8Array;
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, piece.length);
        piece = piece.subarray(n);
        this.#skip -= n;
      }
      if (piece.length > this.#left) piece = piece.subarray(0, this.#left);
      this.#left -= piece.length;
      if (piece.length > 0) pieces[kept++] = piece;
    }
    pieces.length = kept;
    return pieces;
  }
}
