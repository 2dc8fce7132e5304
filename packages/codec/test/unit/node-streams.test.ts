import { Readable } from 'node:stream';
import type { CryptoBackend } from '../../src/crypto/backend/backend';
import { createStreamCipher, type StreamCipher } from '../../src/crypto/stream-cipher';
import { RangeDecoder } from '../../src/engine/range-decoder';
import { ErrorCode } from '../../src/format/errors';
import { decryptBody } from '../../src/io/decrypt';
import { encryptBody } from '../../src/io/encrypt';
import { decryptingStream, encryptingStream } from '../../src/node/node-streams';
import { backend, C, codeOf, collect, filler, flipBit, keyring, splitAt } from '../helpers';

let on: CryptoBackend;
let cipher: StreamCipher;
const SIZE = 3 * C + 123;
const plaintext = filler(SIZE, 5);

beforeAll(async () => {
  on = await backend();
  cipher = await createStreamCipher({
    keyring: keyring('streams', filler(32, 9), on),
    backend: on,
    chunkSize: C,
    plaintextSize: SIZE,
  });
});

/** Reads a stream to the end; resolves with its bytes or the error it ended with. */
async function drain(stream: Readable): Promise<{ bytes: Uint8Array; error: unknown }> {
  const pieces: Uint8Array[] = [];
  try {
    for await (const piece of stream) pieces.push(piece);
    return { bytes: Buffer.concat(pieces), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(pieces), error };
  }
}

describe('encryptingStream', () => {
  test.each([
    ['one piece', [SIZE]],
    ['chunk-sized pieces', [C, 2 * C, 3 * C]],
    ['1-byte and straddling pieces', [1, 2, C + 7, 2 * C - 1]],
  ])('%s: decrypts to the plaintext (a Readable source)', async (_name, cuts) => {
    const pieces = splitAt(
      plaintext,
      cuts.filter((c) => c < SIZE),
    );
    const { bytes, error } = await drain(encryptingStream(cipher, Readable.from(pieces)));
    expect(error).toBeUndefined();
    expect(Buffer.from(await collect(decryptBody(cipher, bytes)))).toEqual(Buffer.from(plaintext));
  });

  test('a non-stream source (bytes) works and has the same length as encryptBody', async () => {
    const { bytes } = await drain(encryptingStream(cipher, plaintext));
    expect(bytes.length).toBe((await collect(encryptBody(cipher, plaintext))).length);
  });

  test.each([
    ['longer', SIZE + 1],
    ['shorter', SIZE - 1],
  ])('a source %s than the size declared errors with RangeError', async (_name, length) => {
    const { error } = await drain(encryptingStream(cipher, Readable.from([filler(length, 1)])));
    expect(error).toBeInstanceOf(RangeError);
  });

  test("the source's own error errors the stream", async () => {
    const failing = new Readable({ read() {} });
    failing.push(plaintext.subarray(0, C));
    setImmediate(() => failing.destroy(new Error('disk gone')));
    const { error } = await drain(encryptingStream(cipher, failing));
    expect((error as Error).message).toBe('disk gone');
  });

  test('destroying the stream early destroys its source', async () => {
    const source = new Readable({ read() {} });
    source.push(plaintext.subarray(0, C));
    const stream = encryptingStream(cipher, source);
    await new Promise((resolve) => stream.once('readable', resolve));
    stream.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
  });
});

describe('decryptingStream', () => {
  let body: Uint8Array;
  beforeAll(async () => {
    body = await collect(encryptBody(cipher, plaintext));
  });

  test('passes on the authenticated plaintext', async () => {
    const { bytes, error } = await drain(decryptingStream(new RangeDecoder(cipher), Readable.from(splitAt(body, [5]))));
    expect(error).toBeUndefined();
    expect(Buffer.from(bytes)).toEqual(Buffer.from(plaintext));
  });

  test('a tampered chunk errors with ES_AUTH_FAILED and never passes on its bytes', async () => {
    const tampered = flipBit(body, C + 40 + 100, 0); // inside chunk 1
    const { bytes, error } = await drain(decryptingStream(new RangeDecoder(cipher), Readable.from([tampered])));
    expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
    expect(bytes.length).toBeLessThanOrEqual(C); // at most chunk 0
  });

  test('a cut-short body errors with ES_TRUNCATED', async () => {
    const { error } = await drain(decryptingStream(new RangeDecoder(cipher), Readable.from([body.subarray(0, 2 * C)])));
    expect(codeOf(error)).toBe(ErrorCode.TRUNCATED);
  });
});
