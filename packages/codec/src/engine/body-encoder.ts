import type { StreamCipher } from '../crypto/stream-cipher';
import { ChunkEncoder } from './chunk-encoder';

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
 * Synchronous encryption of a run of chunks with its length checked: a
 * {@link ChunkEncoder} that also throws RangeError as soon as the plaintext
 * runs longer than declared, and at the end if it ran shorter. What every
 * encrypting path (generators, Node streams, the CLI's file pipeline) drives.
 * @public
 */
export class BodyEncoder {
  readonly #encoder: ChunkEncoder;
  readonly #final: boolean;
  readonly #expected: number | undefined;
  #seen = 0;

  constructor(cipher: StreamCipher, options: BodyRunOptions = {}) {
    const firstChunk = options.firstChunk ?? 0;
    this.#encoder = new ChunkEncoder(cipher, firstChunk);
    this.#final = options.final ?? true;
    this.#expected =
      options.length ?? (this.#final && firstChunk === 0 ? cipher.header.stream.plaintextSize : undefined);
  }

  /** Queues plaintext; returns the encrypted chunks it completed. `piece` must stay untouched (not copied). */
  push(piece: Uint8Array): Uint8Array[] {
    this.#seen += piece.length;
    if (this.#expected !== undefined && this.#seen > this.#expected) {
      throw new RangeError(`source is longer than the ${this.#expected} bytes declared`);
    }
    return this.#encoder.push(piece);
  }

  /** Ends the run: the last chunks, or RangeError if the plaintext was shorter than declared. */
  finish(): Uint8Array[] {
    if (this.#expected !== undefined && this.#seen !== this.#expected) {
      throw new RangeError(`source ended after ${this.#seen} of the ${this.#expected} bytes declared`);
    }
    return this.#encoder.finish(this.#final);
  }
}
