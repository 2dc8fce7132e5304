import { ErrorCode, FormatError } from '../../src/format/errors';
import {
  assertChunkSize,
  chunkCount,
  chunkOffset,
  ciphertextSize,
  plaintextSize,
  planRange,
  suffixFetchLength,
} from '../../src/format/geometry';
import { C, STRIDE } from '../helpers';

const INVALID_CHUNK_SIZES = [0, 1, 2048, 4095, 4097, 3 * 4096, 2 ** 25, -4096, 4096.5, Number.NaN, Infinity, 2 ** 53];

describe('chunk size', () => {
  test('every power of two from 4 KiB to 16 MiB is accepted', () => {
    for (let e = 12; e <= 24; e++) expect(() => assertChunkSize(2 ** e)).not.toThrow();
  });

  test.each(INVALID_CHUNK_SIZES)('%p is a RangeError everywhere a chunk size is taken', (size) => {
    expect(() => assertChunkSize(size)).toThrow(RangeError);
    expect(() => chunkCount(10, size)).toThrow(RangeError);
    expect(() => ciphertextSize(10, size)).toThrow(RangeError);
    expect(() => plaintextSize(100, size)).toThrow(RangeError);
    expect(() => planRange(0, 10, size, 100)).toThrow(RangeError);
    expect(() => suffixFetchLength(10, size)).toThrow(RangeError);
    expect(() => chunkOffset(1, size)).toThrow(RangeError);
  });
});

describe('sizes (FORMAT.md §8)', () => {
  test.each([
    [0, 1, 40],
    [1, 1, 41],
    [C - 1, 1, C + 39],
    [C, 2, STRIDE + 40],
    [C + 1, 2, STRIDE + 41],
    [2 * C - 1, 2, STRIDE + C + 39],
    [2 * C, 3, 2 * STRIDE + 40],
    [2 * C + 1, 3, 2 * STRIDE + 41],
  ])('%i plaintext bytes: %i chunks, %i body bytes', (p, chunks, body) => {
    expect(chunkCount(p, C)).toBe(chunks);
    expect(ciphertextSize(p, C)).toBe(body);
    expect(plaintextSize(body, C)).toBe(p);
  });

  test('64 KiB default-size arithmetic', () => {
    expect(ciphertextSize(65536 * 10 + 5, 65536)).toBe(10 * 65576 + 45);
    expect(plaintextSize(10 * 65576 + 45, 65536)).toBe(65536 * 10 + 5);
  });

  test('body sizes no stream can have are TRUNCATED: cut at a chunk boundary or inside a chunk overhead', () => {
    const invalid = [0, 1, 39, STRIDE, STRIDE + 39, 2 * STRIDE, 2 * STRIDE + 1, 3 * STRIDE + 39];
    for (const size of invalid) {
      let code: string | undefined;
      try {
        plaintextSize(size, C);
      } catch (error) {
        expect(error).toBeInstanceOf(FormatError);
        code = (error as FormatError).code;
      }
      expect([size, code]).toEqual([size, ErrorCode.TRUNCATED]);
    }
    // Just past those, the sizes are valid.
    expect(plaintextSize(40, C)).toBe(0);
    expect(plaintextSize(STRIDE + 40, C)).toBe(C);
    expect(plaintextSize(STRIDE - 1, C)).toBe(C - 1);
  });

  test.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1, Infinity])('size %p is a RangeError', (bad) => {
    expect(() => chunkCount(bad, C)).toThrow(RangeError);
    expect(() => ciphertextSize(bad, C)).toThrow(RangeError);
    expect(() => plaintextSize(bad, C)).toThrow(RangeError);
    expect(() => chunkOffset(bad, C)).toThrow(RangeError);
    expect(() => suffixFetchLength(bad, C)).toThrow(RangeError);
  });

  test('chunk offsets', () => {
    expect(chunkOffset(0, C)).toBe(0);
    expect(chunkOffset(3, C)).toBe(3 * STRIDE);
    expect(chunkOffset(2 ** 28, 2 ** 24)).toBe(2 ** 28 * (2 ** 24 + 40));
    expect(() => chunkOffset(2 ** 29, 2 ** 24)).toThrow(RangeError); // past 2^53
  });
});

describe('planRange', () => {
  test('ranges inside one chunk, across chunks, and ending on a boundary', () => {
    expect(planRange(10, 20, C, 10 * C)).toEqual({
      firstChunk: 0,
      lastChunk: 0,
      cipherStart: 0,
      cipherEnd: STRIDE,
      skip: 10,
      length: 10,
    });
    expect(planRange(C - 1, C + 1, C, 10 * C)).toEqual({
      firstChunk: 0,
      lastChunk: 1,
      cipherStart: 0,
      cipherEnd: 2 * STRIDE,
      skip: C - 1,
      length: 2,
    });
    expect(planRange(C, 2 * C, C, 10 * C)).toEqual({
      firstChunk: 1,
      lastChunk: 1,
      cipherStart: STRIDE,
      cipherEnd: 2 * STRIDE,
      skip: 0,
      length: C,
    });
  });

  test('a range that reaches the end always includes the final chunk, even an empty one', () => {
    // 2C bytes: chunks 0 and 1 are full, chunk 2 is the empty final chunk (40 bytes).
    expect(planRange(0, 2 * C, C, 2 * C)).toEqual({
      firstChunk: 0,
      lastChunk: 2,
      cipherStart: 0,
      cipherEnd: 3 * STRIDE,
      skip: 0,
      length: 2 * C,
    });
    expect(planRange(C + 5, 2 * C, C, 2 * C)).toMatchObject({ firstChunk: 1, lastChunk: 2 });
    expect(planRange(2 * C, 2 * C, C, 2 * C)).toMatchObject({ firstChunk: 2, lastChunk: 2, length: 0 });
    expect(planRange(0, 0, C, 0)).toMatchObject({ firstChunk: 0, lastChunk: 0, cipherEnd: STRIDE });
    // Not a multiple of C: the chunk holding the last byte is the final one.
    expect(planRange(0, 2 * C + 1, C, 2 * C + 1)).toMatchObject({ lastChunk: 2 });
    // Stopping one byte short of the end does not need the final chunk.
    expect(planRange(0, 2 * C - 1, C, 2 * C)).toMatchObject({ lastChunk: 1 });
  });

  test('an empty range plans the one chunk at its start', () => {
    expect(planRange(2 * C, 2 * C, C, 10 * C)).toMatchObject({ firstChunk: 2, lastChunk: 2, skip: 0, length: 0 });
    expect(planRange(5, 5, C, 10 * C)).toMatchObject({ firstChunk: 0, lastChunk: 0, skip: 5, length: 0 });
  });

  test('bad ranges are RangeErrors', () => {
    expect(() => planRange(10, 9, C, 100)).toThrow(RangeError);
    expect(() => planRange(-1, 9, C, 100)).toThrow(RangeError);
    expect(() => planRange(0, 1.5, C, 100)).toThrow(RangeError);
    expect(() => planRange(0, 101, C, 100)).toThrow(RangeError); // past the end of the plaintext
    expect(() => planRange(0, 10, C, -1)).toThrow(RangeError);
  });
});

describe('suffixFetchLength', () => {
  test('ceil(n / C) + 1 chunks', () => {
    expect(suffixFetchLength(0, C)).toBe(STRIDE);
    expect(suffixFetchLength(1, C)).toBe(2 * STRIDE);
    expect(suffixFetchLength(C, C)).toBe(2 * STRIDE);
    expect(suffixFetchLength(C + 1, C)).toBe(3 * STRIDE);
  });
});
