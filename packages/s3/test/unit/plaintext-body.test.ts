import { Readable } from 'node:stream';
import { EncryptedStreamError, ErrorCode, type StreamCipher } from '@encrypted-stream/codec';
import type { RangeDecoder as Decoder } from '@encrypted-stream/codec/low-level';
import { createStreamCipher, encryptBody, RangeDecoder } from '@encrypted-stream/codec/low-level';
import { sdkStreamMixin } from '@smithy/core/serde';
import { plaintextBody as toPlaintextBody } from '../../src/node/body-streams';
import { bytesOf, C, concat, filler, rejection, STRIDE, testKeyring } from '../helpers/common';

const plaintext = filler(3 * C + 500, 11);
let cipher: StreamCipher;
let ciphertext: Uint8Array;

beforeAll(async () => {
  cipher = await createStreamCipher({ keyring: testKeyring(), chunkSize: C, plaintextSize: plaintext.length });
  ciphertext = await bytesOf(encryptBody(cipher, plaintext));
});

/** Asserts equal bytes without dumping kilobytes on a mismatch. */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
}

/** The ciphertext with one bit flipped inside chunk 2. */
function tampered(): Uint8Array {
  const bad = ciphertext.slice();
  bad[2 * STRIDE + 50] = (bad[2 * STRIDE + 50] as number) ^ 1;
  return bad;
}

/** Cuts `bytes` into pieces of `size` bytes (the last one shorter). */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

interface ResponseOptions {
  /** Fail with this once the pieces are sent (a reset connection). */
  readonly error?: Error;
  /** Send nothing more once the pieces are sent (a stalled connection). */
  readonly hang?: boolean;
  /** Send each piece on a later turn of the event loop, as a network does. */
  readonly slow?: boolean;
}

/** A Node Readable response that sends `parts`, then ends, fails or stalls. */
function response(parts: Uint8Array[], options: ResponseOptions = {}): Readable {
  const queue = [...parts];
  return new Readable({
    read() {
      const send = () => {
        const next = queue.shift();
        if (next) this.push(next);
        else if (options.error) this.destroy(options.error);
        else if (!options.hang) this.push(null);
      };
      if (options.slow) setImmediate(send);
      else send();
    },
  });
}

/** Reads `body` with for-await: the bytes it released, and how it failed. */
async function drain(body: AsyncIterable<Uint8Array>): Promise<{ output: Uint8Array; error: unknown }> {
  const out: Uint8Array[] = [];
  try {
    for await (const p of body) out.push(new Uint8Array(p));
  } catch (error) {
    return { output: concat(...out), error };
  }
  return { output: concat(...out), error: undefined };
}

const codeOf = (error: unknown) => (error instanceof EncryptedStreamError ? error.code : String(error));

/** The body as the plugin builds it, with the SDK's own stream helpers (the client's `config.sdkStreamMixin`). */
const plaintextBody = (response: unknown, decoder: Decoder) => toPlaintextBody(response, decoder, sdkStreamMixin);

describe('toPlaintextBody', () => {
  test('the whole plaintext comes out through transformToByteArray()', async () => {
    for (const size of [1, 1000, STRIDE + 1, ciphertext.length]) {
      const body = plaintextBody(response(pieces(ciphertext, size)), new RangeDecoder(cipher));
      expectBytes(await body.transformToByteArray(), plaintext);
    }
  });

  test('a range: skip and length trim what comes out', async () => {
    const decoder = new RangeDecoder(cipher, { firstChunk: 1, cipherSkip: 5, skip: 10, length: C });
    const fetched = concat(new Uint8Array(5), ciphertext.subarray(STRIDE)); // starts 5 bytes early
    const body = plaintextBody(response(pieces(fetched, 999)), decoder);
    expectBytes(await body.transformToByteArray(), plaintext.subarray(C + 10, 2 * C + 10));
  });

  test('a response that errors mid-way errors the body with that error', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const source = response(pieces(ciphertext.subarray(0, STRIDE + 100), 700), { error: reset });
    const body = plaintextBody(source, new RangeDecoder(cipher));
    expect(await rejection(body.transformToByteArray())).toBe(reset);
  });

  test('a response that ends early is ES_TRUNCATED, after the chunks it held', async () => {
    const source = response(pieces(ciphertext.subarray(0, 2 * STRIDE + 7), 1000), { slow: true });
    const { output, error } = await drain(plaintextBody(source, new RangeDecoder(cipher)));
    expect(codeOf(error)).toBe(ErrorCode.TRUNCATED);
    expectBytes(output, plaintext.subarray(0, 2 * C));
  });

  test.each([
    ['small pieces', 100],
    ['one piece (the failure is held back until the input ends)', 1 << 20],
  ])('a tampered chunk is ES_AUTH_FAILED, after exactly the chunks before it (%s)', async (_, size) => {
    const source = response(pieces(tampered(), size), { slow: true });
    const { output, error } = await drain(plaintextBody(source, new RangeDecoder(cipher)));
    expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
    expectBytes(output, plaintext.subarray(0, 2 * C));
    expect(source.destroyed).toBe(true);
  });

  test('read faster than the reader, a tampered chunk still releases no more than the chunks before it', async () => {
    const source = response(pieces(tampered(), 100));
    const { output, error } = await drain(plaintextBody(source, new RangeDecoder(cipher)));
    expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
    expect(output.length).toBeLessThanOrEqual(2 * C);
    expectBytes(output, plaintext.subarray(0, output.length));
  });

  test('destroying the body before its end destroys the response', async () => {
    const source = response(pieces(ciphertext.subarray(0, STRIDE), 100), { hang: true });
    const body = plaintextBody(source, new RangeDecoder(cipher));
    const iterator = body[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    body.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.destroyed).toBe(true);
    expect(source.readableEnded).toBe(false);
  });

  test('a non-Readable async iterable response works, and is released when the body is destroyed', async () => {
    let released = false;
    async function* chunks(parts: Uint8Array[]) {
      try {
        for (const p of parts) yield p;
      } finally {
        released = true;
      }
    }
    const whole = plaintextBody(chunks(pieces(ciphertext, 333)), new RangeDecoder(cipher));
    expectBytes(await whole.transformToByteArray(), plaintext);

    released = false;
    const body = plaintextBody(chunks(pieces(ciphertext, 100)), new RangeDecoder(cipher));
    expect((await body[Symbol.asyncIterator]().next()).done).toBe(false);
    body.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(true);
  });

  test('the body has the SDK stream helpers', async () => {
    const body = plaintextBody(response([ciphertext]), new RangeDecoder(cipher));
    expect(await body.transformToString('base64')).toBe(Buffer.from(plaintext).toString('base64'));
  });
});
