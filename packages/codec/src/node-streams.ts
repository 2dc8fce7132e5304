import { pipeline, Readable, Transform } from 'node:stream';
import { ChunkEncoder } from './chunk-encoder';
import type { BodyRunOptions } from './encrypt';
import type { RangeDecoder } from './range-decoder';
import { type ByteSource, toByteIterable } from './sources';
import type { StreamCipher } from './stream-cipher';

/** Pushes every piece of `pieces` (a loop: `push(...spread)` is not a stream API). */
function pushAll(stream: Transform, pieces: readonly Uint8Array[]): void {
  for (let i = 0; i < pieces.length; i++) stream.push(pieces[i]);
}

/**
 * A Node stream of `source`: itself when it already is a Readable, else a
 * Readable over any {@link ByteSource}.
 */
function asReadable(source: ByteSource): Readable {
  return source instanceof Readable ? source : Readable.from(toByteIterable(source), { objectMode: false });
}

/**
 * `source` piped through `transform`; a failure of either destroys the other
 * (so a body that stopped being read closes its file or socket).
 */
function through(source: ByteSource, transform: Transform): Transform {
  pipeline(asReadable(source), transform, () => {}); // the error, if any, is the transform's own 'error'
  return transform;
}

/**
 * What {@link encryptBody} yields, as a Node Readable: `source` encrypted
 * chunk by chunk as it streams, synchronously per piece (no promise per
 * piece), with the same length checks (RangeError when the source is longer
 * or shorter than expected).
 * @public
 */
export function encryptingStream(cipher: StreamCipher, source: ByteSource, options: BodyRunOptions = {}): Readable {
  const encoder = new ChunkEncoder(cipher, options.firstChunk ?? 0);
  const final = options.final ?? true;
  const expected =
    options.length ?? (final && (options.firstChunk ?? 0) === 0 ? cipher.header.stream.plaintextSize : undefined);
  let seen = 0;
  const transform = new Transform({
    transform(piece: Uint8Array, _encoding, done) {
      seen += piece.length;
      if (expected !== undefined && seen > expected) {
        done(new RangeError(`source is longer than the ${expected} bytes declared`));
        return;
      }
      try {
        pushAll(this, encoder.push(piece));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      if (expected !== undefined && seen !== expected) {
        done(new RangeError(`source ended after ${seen} of the ${expected} bytes declared`));
        return;
      }
      try {
        pushAll(this, encoder.finish(final));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  return through(source, transform);
}

/**
 * `source` (fetched ciphertext) decrypted through `decoder` as it streams,
 * as a Node Readable: each chunk's plaintext passes on once it
 * authenticated; a failure (authentication, truncation, the source's own)
 * errors the stream. Destroying it before its end destroys `source`.
 * @public
 */
export function decryptingStream(decoder: RangeDecoder, source: ByteSource): Readable {
  const transform = new Transform({
    transform(piece: Uint8Array, _encoding, done) {
      try {
        pushAll(this, decoder.push(piece));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done) {
      try {
        pushAll(this, decoder.finish());
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
  return through(source, transform);
}
