import { pipeline, Readable, Transform } from 'node:stream';
import type { StreamCipher } from '../crypto/stream-cipher';
import { BodyEncoder, type BodyRunOptions } from '../engine/body-encoder';
import type { RangeDecoder } from '../engine/range-decoder';
import { type ByteSource, toByteIterable } from '../io/sources';

/**
 * A Transform driven by a synchronous codec: each written piece goes through
 * `onPiece`, the end through `onEnd`, and what they return is passed on; what
 * they throw errors the stream.
 */
function piecewise(onPiece: (piece: Uint8Array) => Uint8Array[], onEnd: () => Uint8Array[]): Transform {
  const run = (stream: Transform, produce: () => Uint8Array[], done: (error?: Error) => void) => {
    try {
      const out = produce();
      for (let i = 0; i < out.length; i++) stream.push(out[i]);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
  return new Transform({
    transform(piece: Uint8Array, _encoding, done) {
      run(this, () => onPiece(piece), done);
    },
    flush(done) {
      run(this, onEnd, done);
    },
  });
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
  const encoder = new BodyEncoder(cipher, options);
  const transform = piecewise(
    (piece) => encoder.push(piece),
    () => encoder.finish(),
  );
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
  const transform = piecewise(
    (piece) => decoder.push(piece),
    () => decoder.finish(),
  );
  return through(source, transform);
}
