import type { CryptoBackend } from '../../src/crypto/backend/backend';
import { createStreamCipher, type StreamCipher } from '../../src/crypto/stream-cipher';
import { RangeDecoder, type RangeDecoderOptions } from '../../src/engine/range-decoder';
import { ErrorCode } from '../../src/format/errors';
import { chunkOffset, planRange } from '../../src/format/geometry';
import { decryptBody } from '../../src/io/decrypt';
import { encryptBody } from '../../src/io/encrypt';
import { decryptRange } from '../../src/io/random-access';
import { trimRange } from '../../src/io/range';
import { backend, C, codeOf, collect, concat, filler, flipBit, hex, keyring, STRIDE, splitAt } from '../helpers';

interface Stream {
  cipher: StreamCipher;
  plaintext: Uint8Array;
  body: Uint8Array;
}

let on: CryptoBackend;
let sized: Stream; // 4 chunks, the last one short; size recorded in the header
let even: Stream; // exactly 2 chunks of plaintext, then an empty final chunk
let empty: Stream; // zero-length plaintext: one empty final chunk

async function stream(size: number, seed: number, recordSize = true): Promise<Stream> {
  const options = { keyring: keyring('range', filler(32, 77), on), backend: on, chunkSize: C };
  const cipher = await createStreamCipher(recordSize ? { ...options, plaintextSize: size } : options);
  const plaintext = filler(size, seed);
  return { cipher, plaintext, body: await collect(encryptBody(cipher, plaintext)) };
}

beforeAll(async () => {
  on = await backend('native');
  sized = await stream(3 * C + 123, 5);
  even = await stream(2 * C, 6);
  empty = await stream(0, 7);
});

/** Feeds `pieces` and finishes: what came out before the first failure, and that failure. */
function run(decoder: RangeDecoder, pieces: readonly Uint8Array[]): { output: Uint8Array; error: unknown } {
  const out: Uint8Array[] = [];
  try {
    for (const p of pieces) for (const o of decoder.push(p)) out.push(o.slice());
    for (const o of decoder.finish()) out.push(o.slice());
  } catch (error) {
    return { output: concat(...out), error };
  }
  return { output: concat(...out), error: undefined };
}

/** The span of `s.body` that holds plaintext `[start, end)`, and the decoder options for it. */
function plan(s: Stream, start: number, end: number): { span: Uint8Array; options: RangeDecoderOptions } {
  const p = planRange(start, end, C, s.plaintext.length);
  const cipherEnd = Math.min(p.cipherEnd, s.body.length);
  return {
    span: s.body.subarray(p.cipherStart, cipherEnd),
    options: {
      firstChunk: p.firstChunk,
      plaintextSize: s.plaintext.length,
      expectFinal: cipherEnd === s.body.length,
      skip: p.skip,
      length: p.length,
    },
  };
}

/** The async path RangeDecoder replaces: trimRange(decryptBody(cipher, trimRange(input))). */
async function reference(cipher: StreamCipher, input: Uint8Array, options: RangeDecoderOptions): Promise<Uint8Array> {
  const { cipherSkip = 0, cipherLength, skip = 0, length, firstChunk, plaintextSize, expectFinal } = options;
  const span = input.subarray(cipherSkip, cipherLength === undefined ? undefined : cipherSkip + cipherLength);
  const plaintext = decryptBody(cipher, span, { firstChunk, plaintextSize, expectFinal });
  return collect(trimRange(plaintext, skip, length ?? Number.MAX_SAFE_INTEGER));
}

function rangesOf(total: number): [number, number][] {
  const points = [0, 1, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 5, 3 * C, total - 1, total];
  const valid = [...new Set(points)].filter((p) => p >= 0 && p <= total);
  return valid.flatMap((start) => valid.filter((end) => end >= start).map((end): [number, number] => [start, end]));
}

describe('RangeDecoder', () => {
  test.each([
    ['4 chunks, the last short', () => sized],
    ['2 full chunks and an empty final chunk', () => even],
    ['a zero-length stream', () => empty],
  ])('%s: every range equals the plaintext slice, trimRange(decryptBody()) and decryptRange()', async (_, get) => {
    const s = get();
    const ranges = rangesOf(s.plaintext.length);
    expect(ranges).toContainEqual([0, s.plaintext.length]);
    for (const [start, end] of ranges) {
      const { span, options } = plan(s, start, end);
      const { output, error } = run(new RangeDecoder(s.cipher, options), [span]);
      expect(error).toBeUndefined();
      const expected = hex(s.plaintext.subarray(start, end));
      expect([start, end, hex(output)]).toEqual([start, end, expected]);
      expect(hex(await reference(s.cipher, span, options))).toBe(expected);
      const viaRange = decryptRange(s.cipher, (a, b) => s.body.subarray(a, b), s.body.length, start, end);
      expect(hex(await collect(viaRange))).toBe(expected);
    }
  });

  // Issue 10: a consumer that counts bytes (an HTTP Content-Length) takes the
  // range as complete at its last byte; when an empty final chunk follows, that
  // byte must wait until the final chunk authenticated.
  test.each([
    ['size recorded', true],
    ['size not recorded', false],
  ])(
    'a range reaching an empty final chunk holds its last piece until that chunk authenticated (%s)',
    async (_, recorded) => {
      const s = recorded ? even : await stream(2 * C, 6, false);
      for (const start of [0, C - 1, C, 2 * C - 1]) {
        const { span, options } = plan(s, start, 2 * C);
        const finalAt = span.length - 40;
        const decoder = new RangeDecoder(s.cipher, options);
        const before = concat(...decoder.push(span.subarray(0, finalAt)));
        expect([start, before.length]).toEqual([start, Math.max(0, C - start)]); // chunk 1 (the last data chunk) held
        const rest = concat(...decoder.push(span.subarray(finalAt)), ...decoder.finish());
        expect(hex(concat(before, rest))).toBe(hex(s.plaintext.subarray(start, 2 * C)));

        // The same range, its final chunk forged: the held bytes never come out.
        const forged = concat(span.subarray(0, finalAt), filler(40, 3));
        const { output, error } = run(new RangeDecoder(s.cipher, options), splitAt(forged, [finalAt]));
        expect([start, codeOf(error), output.length]).toEqual([start, ErrorCode.AUTH_FAILED, Math.max(0, C - start)]);
        const asOne = run(new RangeDecoder(s.cipher, options), [forged]);
        expect([codeOf(asOne.error), asOne.output.length < 2 * C - start]).toEqual([ErrorCode.AUTH_FAILED, true]);
      }
    },
  );

  test('a range that stops before the end is released as soon as its chunks authenticated', () => {
    const { span, options } = plan(even, 0, 2 * C - 1);
    const decoder = new RangeDecoder(even.cipher, options);
    expect(concat(...decoder.push(span)).length).toBe(2 * C - 1);
  });

  test('default options decode a whole body, the size taken from the header', () => {
    const { output, error } = run(new RangeDecoder(sized.cipher), [sized.body]);
    expect(error).toBeUndefined();
    expect(hex(output)).toBe(hex(sized.plaintext));
  });

  test('a stream without a recorded size decodes whole, its last short chunk final', async () => {
    const s = await stream(2 * C + 9, 8, false);
    const { output, error } = run(new RangeDecoder(s.cipher), [s.body]);
    expect(error).toBeUndefined();
    expect(hex(output)).toBe(hex(s.plaintext));
  });

  test('1-byte pieces give the same bytes, released only as chunks complete', () => {
    const { span, options } = plan(sized, C - 3, 2 * C + 4);
    const decoder = new RangeDecoder(sized.cipher, options);
    const released: number[] = [];
    const out: Uint8Array[] = [];
    for (let i = 0; i < span.length; i++) {
      const got = decoder.push(span.subarray(i, i + 1));
      if (got.length > 0) released.push(i + 1);
      out.push(...got.map((p) => p.slice()));
    }
    out.push(...decoder.finish());
    expect(hex(concat(...out))).toBe(hex(sized.plaintext.subarray(C - 3, 2 * C + 4)));
    expect(released).toEqual([STRIDE, 2 * STRIDE, 3 * STRIDE]); // chunks 0, 1, 2, each once complete
  });

  test.each([
    [[STRIDE - 1, STRIDE + 1]],
    [[1, 2 * STRIDE - 5, 2 * STRIDE + 7]],
    [[STRIDE, 2 * STRIDE, 3 * STRIDE]],
    [[20, 40, STRIDE + 20, STRIDE + 40, 3 * STRIDE + 1]],
    [[17, 5000, 9000, 13000, 16000]],
  ])('pieces cut at %p (straddling chunks, empty pieces) decode the same', (cuts) => {
    const { span, options } = plan(sized, 100, sized.plaintext.length - 7);
    const pieces = [new Uint8Array(0), ...splitAt(span, cuts), new Uint8Array(0)];
    const { output, error } = run(new RangeDecoder(sized.cipher, options), pieces);
    expect(error).toBeUndefined();
    expect(hex(output)).toBe(hex(sized.plaintext.subarray(100, sized.plaintext.length - 7)));
  });

  test('cipherSkip and cipherLength: ciphertext before and after the span is ignored', async () => {
    for (const [start, end] of [
      [C + 5, 2 * C + 5],
      [0, 0],
      [3 * C, sized.plaintext.length],
    ] as const) {
      const { span, options } = plan(sized, start, end);
      const before = filler(STRIDE + 3, 90);
      const input = concat(before, span, filler(500, 91));
      const framed = { ...options, cipherSkip: before.length, cipherLength: span.length };
      const expected = hex(sized.plaintext.subarray(start, end));
      const cuts = [...input.keys()].filter((i) => i % 997 === 0);
      for (const pieces of [[input], splitAt(input, cuts)]) {
        const { output, error } = run(new RangeDecoder(sized.cipher, framed), pieces);
        expect(error).toBeUndefined();
        expect(hex(output)).toBe(expected);
      }
      expect(hex(await reference(sized.cipher, input, framed))).toBe(expected);
    }
  });

  test('cipherSkip alone drops a prefix; a piece may end inside it', () => {
    const input = concat(filler(10, 92), sized.body);
    const pieces = splitAt(input, [3, 10, 11]);
    const { output, error } = run(new RangeDecoder(sized.cipher, { cipherSkip: 10 }), pieces);
    expect(error).toBeUndefined();
    expect(hex(output)).toBe(hex(sized.plaintext));
  });

  test('the ciphertext ending short of cipherLength is ES_TRUNCATED, after the chunks it held', () => {
    const { span, options } = plan(sized, 0, 2 * C);
    const framed = { ...options, cipherLength: span.length };
    for (const cut of [span.length - 1, STRIDE + 100, STRIDE, 0]) {
      const { output, error } = run(new RangeDecoder(sized.cipher, framed), [span.subarray(0, cut)]);
      expect(codeOf(error)).toBe(ErrorCode.TRUNCATED);
      expect(hex(output)).toBe(hex(sized.plaintext.subarray(0, cut >= STRIDE ? C : 0)));
    }
  });

  test('cipherLength alone catches a short input that ends on a chunk boundary', () => {
    const options = { expectFinal: false, cipherLength: 2 * STRIDE };
    const { output, error } = run(new RangeDecoder(sized.cipher, options), [sized.body.subarray(0, STRIDE)]);
    expect(codeOf(error)).toBe(ErrorCode.TRUNCATED);
    expect(hex(output)).toBe(hex(sized.plaintext.subarray(0, C)));
  });

  test('an input that stops inside a chunk or before the final chunk is ES_TRUNCATED', () => {
    for (const cut of [sized.body.length - 1, 3 * STRIDE, STRIDE + 40, 39]) {
      const { error } = run(new RangeDecoder(sized.cipher), [sized.body.subarray(0, cut)]);
      expect([cut, codeOf(error)]).toEqual([cut, ErrorCode.TRUNCATED]);
    }
  });

  test('whole chunks holding less plaintext than `length` are ES_TRUNCATED', () => {
    const options = { firstChunk: 1, expectFinal: false, skip: 10, length: C };
    const { output, error } = run(new RangeDecoder(sized.cipher, options), [sized.body.subarray(STRIDE, 2 * STRIDE)]);
    expect(codeOf(error)).toBe(ErrorCode.TRUNCATED);
    expect(hex(output)).toBe(hex(sized.plaintext.subarray(C + 10, 2 * C)));
  });

  test('a tampered chunk: earlier chunks released, nothing of it, ES_AUTH_FAILED on the next call', () => {
    const { span, options } = plan(sized, 7, sized.plaintext.length);
    const bad = flipBit(span, 2 * STRIDE + 100, 3); // inside chunk 2
    const decoder = new RangeDecoder(sized.cipher, options);
    const first = concat(...decoder.push(bad)); // chunks 0 and 1 authenticated in this push
    expect(hex(first)).toBe(hex(sized.plaintext.subarray(7, 2 * C)));
    let error: unknown;
    try {
      decoder.finish();
    } catch (e) {
      error = e;
    }
    expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
  });

  test('the held-back failure is raised by the next push, even an empty one', () => {
    const bad = flipBit(sized.body, STRIDE + 5, 0); // chunk 1
    const decoder = new RangeDecoder(sized.cipher);
    expect(hex(concat(...decoder.push(bad.subarray(0, 2 * STRIDE))))).toBe(hex(sized.plaintext.subarray(0, C)));
    expect(() => decoder.push(new Uint8Array(0))).toThrow(expect.objectContaining({ code: ErrorCode.AUTH_FAILED }));
  });

  test('a tampered chunk alone in a push throws at once; piece by piece, nothing of it leaks', () => {
    const bad = flipBit(sized.body, 3 * STRIDE + 60, 7); // the final chunk
    const decoder = new RangeDecoder(sized.cipher, { skip: 1, length: sized.plaintext.length - 2 });
    expect(decoder.push(bad.subarray(0, 3 * STRIDE)).length).toBeGreaterThan(0);
    expect(() => decoder.push(bad.subarray(3 * STRIDE))).toThrow(
      expect.objectContaining({ code: ErrorCode.AUTH_FAILED }),
    );
    const { output, error } = run(new RangeDecoder(sized.cipher), splitAt(bad, [...bad.keys()]));
    expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
    expect(hex(output)).toBe(hex(sized.plaintext.subarray(0, 3 * C)));
  });

  test('a held-back failure beats ES_TRUNCATED when the ciphertext also ran short', () => {
    const { span, options } = plan(sized, 0, sized.plaintext.length);
    const bad = flipBit(span, STRIDE + 1, 1);
    const framed = { ...options, cipherLength: span.length };
    const { output, error } = run(new RangeDecoder(sized.cipher, framed), [bad.subarray(0, 2 * STRIDE + 9)]);
    expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
    expect(hex(output)).toBe(hex(sized.plaintext.subarray(0, C)));
  });

  test('a tampered chunk after the requested bytes still fails (every fetched chunk authenticates)', () => {
    const bad = flipBit(sized.body, 3 * STRIDE + 2, 0);
    const { error } = run(new RangeDecoder(sized.cipher, { length: 5 }), [bad]);
    expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
  });

  test('bytes after the final chunk are ES_TRAILING_DATA when plaintextSize is known', async () => {
    const extra = concat(sized.body, new Uint8Array(1));
    for (const pieces of [[extra], [sized.body, new Uint8Array(1)]]) {
      const { output, error } = run(new RangeDecoder(sized.cipher), pieces);
      expect(codeOf(error)).toBe(ErrorCode.TRAILING_DATA);
      expect(hex(output)).toBe(hex(sized.plaintext));
    }
    const unsized = await stream(C + 1, 9, false);
    const options = { plaintextSize: C + 1 };
    const { error } = run(new RangeDecoder(unsized.cipher, options), [unsized.body, new Uint8Array(3)]);
    expect(codeOf(error)).toBe(ErrorCode.TRAILING_DATA);
    const { span, options: mid } = plan(sized, 3 * C, 3 * C + 1);
    const tail = run(new RangeDecoder(sized.cipher, mid), [concat(span, new Uint8Array(2))]);
    expect(codeOf(tail.error)).toBe(ErrorCode.TRAILING_DATA);
  });

  test.each<[string, RangeDecoderOptions]>([
    ['cipherSkip -1', { cipherSkip: -1 }],
    ['cipherSkip 0.5', { cipherSkip: 0.5 }],
    ['cipherLength -1', { cipherLength: -1 }],
    ['cipherLength 2.5', { cipherLength: 2.5 }],
    ['cipherLength Infinity', { cipherLength: Number.POSITIVE_INFINITY }],
    ['skip -1', { skip: -1 }],
    ['skip NaN', { skip: Number.NaN }],
    ['length -5', { length: -5 }],
    ['length 1.5', { length: 1.5 }],
    ['firstChunk -1', { firstChunk: -1 }],
    ['firstChunk 0.5', { firstChunk: 0.5 }],
    ['plaintextSize -1', { plaintextSize: -1 }],
    ['plaintextSize 1.5', { plaintextSize: 1.5 }],
    ['firstChunk past the final chunk', { firstChunk: 4 }],
  ])('RangeError for %s', (_, options) => {
    expect(() => new RangeDecoder(sized.cipher, options)).toThrow(RangeError);
  });

  test('a span fetched from chunkOffset(firstChunk) on decodes from there', () => {
    const { output, error } = run(new RangeDecoder(sized.cipher, { firstChunk: 2, cipherSkip: chunkOffset(2, C) }), [
      sized.body,
    ]);
    expect(error).toBeUndefined();
    expect(hex(output)).toBe(hex(sized.plaintext.subarray(2 * C)));
  });
});
