import { Writable } from 'node:stream';
import { type OpenOptions, openStreamCipher } from '../crypto/stream-cipher';
import { ByteQueue } from '../engine/byte-queue';
import { ChunkDecoder } from '../engine/chunk-decoder';
import { ErrorCode, FormatError } from '../format/errors';
import { decodeHeader, type EncryptionHeader } from '../format/header';

/**
 * Where a {@link DecryptingWriter} delivers plaintext: a Node Writable (ended
 * when the stream completes and authenticates) or an async callback.
 * @public
 */
export type PlaintextSink = NodeJS.WritableStream | ((plaintext: Uint8Array) => void | Promise<void>);

/**
 * Options of a {@link DecryptingWriter}.
 * @public
 */
export interface DecryptingWriterOptions extends OpenOptions {
  /** For the detached framing: the header; omit it when the written bytes start with one. */
  readonly header?: EncryptionHeader;
}

/**
 * Push-style decryption, the seed library's `DecryptingWriter`: write
 * ciphertext in any slices, authenticated plaintext goes to the sink chunk by
 * chunk. Ending before the final chunk fails with ES_TRUNCATED (the sink is
 * destroyed, not ended, so nothing passes a short file off as complete).
 * @public
 */
export class DecryptingWriter extends Writable {
  readonly #sink: PlaintextSink;
  readonly #options: DecryptingWriterOptions;
  readonly #prefix = new ByteQueue();
  #decoder: ChunkDecoder | undefined;

  constructor(sink: PlaintextSink, options: DecryptingWriterOptions) {
    super();
    if (typeof sink !== 'function' && (typeof sink !== 'object' || typeof sink?.write !== 'function')) {
      throw new TypeError('sink must be a Writable or a function');
    }
    this.#sink = sink;
    this.#options = options;
  }

  async #deliver(pieces: Uint8Array[]): Promise<void> {
    for (const piece of pieces) {
      if (typeof this.#sink === 'function') {
        await this.#sink(piece);
      } else if (!this.#sink.write(piece)) {
        const sink = this.#sink;
        await new Promise<void>((resolve, reject) => {
          const done = (err?: Error) => {
            sink.off('drain', done);
            sink.off('error', done);
            err ? reject(err) : resolve();
          };
          sink.on('drain', done);
          sink.on('error', done);
        });
      }
    }
  }

  async #open(header: EncryptionHeader): Promise<ChunkDecoder> {
    const cipher = await openStreamCipher(header, this.#options);
    return new ChunkDecoder(cipher, { plaintextSize: header.stream.plaintextSize });
  }

  async #push(piece: Uint8Array): Promise<void> {
    if (!this.#decoder && this.#options.header) this.#decoder = await this.#open(this.#options.header);
    if (!this.#decoder) {
      this.#prefix.push(piece);
      const all = this.#prefix.takeContiguous(this.#prefix.length);
      const parsed = decodeHeader(all);
      if (!parsed) {
        this.#prefix.push(all);
        return;
      }
      this.#decoder = await this.#open(parsed.header);
      piece = all.subarray(parsed.length);
    }
    await this.#deliver(this.#decoder.push(piece));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#push(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      if (!this.#decoder) await this.#push(new Uint8Array(0));
      if (!this.#decoder) throw new FormatError(ErrorCode.TRUNCATED, 'the stream ended inside its header');
      await this.#deliver(this.#decoder.finish());
      if (typeof this.#sink !== 'function') await endSink(this.#sink);
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const sink = this.#sink as Partial<NodeJS.WritableStream & { destroy(e?: Error): void }>;
    if (error && typeof sink.destroy === 'function') sink.destroy(error);
    callback(error);
  }
}

function endSink(sink: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.once('error', reject);
    sink.end(() => resolve());
  });
}
