import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { bodySource, isInMemory, knownLength } from '../../src/body';
import { bytesOf, filler } from '../helpers/common';

let dir: string;
let file: string;
const FILE_SIZE = 1000;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'es-s3-body-'));
  file = join(dir, 'data.bin');
  writeFileSync(file, filler(FILE_SIZE));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Opens a read stream, runs `check` before anything is read, and closes the stream again. */
async function withStream<T>(options: Parameters<typeof createReadStream>[1], check: (s: Readable) => T): Promise<T> {
  const stream = createReadStream(file, options);
  const closed = once(stream, 'close');
  try {
    return check(stream);
  } finally {
    stream.destroy();
    await closed;
  }
}

describe('knownLength', () => {
  test.each([
    ['empty string', '', 0],
    ['ASCII', 'hello', 5],
    ['two-byte characters', 'é€', 5],
    ['astral characters (4 bytes each)', '😀😀', 8],
    ['mixed', 'aé€😀', 10],
  ])('string: %s is its UTF-8 byte length', (_, text, bytes) => {
    expect(knownLength(text, undefined)).toBe(bytes);
    expect(knownLength(text, undefined)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  test('a string ignores a ContentLength that disagrees', () => {
    expect(knownLength('€', 1)).toBe(3);
  });

  test('Uint8Array, Buffer and views', () => {
    expect(knownLength(new Uint8Array(17), undefined)).toBe(17);
    expect(knownLength(Buffer.alloc(3), undefined)).toBe(3);
    expect(knownLength(new Uint8Array(100).subarray(10, 30), undefined)).toBe(20);
    expect(knownLength(new Uint8Array(0), 99)).toBe(0);
  });

  test('Blob', () => {
    expect(knownLength(new Blob(['abc', new Uint8Array(10)]), undefined)).toBe(13);
    expect(knownLength(new Blob([]), undefined)).toBe(0);
    expect(knownLength(new Blob(['€']), undefined)).toBe(3);
  });

  test('absent body is empty', () => {
    expect(knownLength(undefined, undefined)).toBe(0);
    expect(knownLength(null, undefined)).toBe(0);
  });

  test('fs read stream: the file size by stat', async () => {
    await withStream(undefined, (s) => expect(knownLength(s, undefined)).toBe(FILE_SIZE));
  });

  test.each([
    [{ start: 100 }, FILE_SIZE - 100],
    [{ end: 99 }, 100],
    [{ start: 10, end: 19 }, 10],
    [{ start: 0, end: 0 }, 1],
    [{ start: 990, end: 5000 }, 10],
    [{ start: 999 }, 1],
    [{ start: FILE_SIZE }, 0],
    [{ start: 5000 }, 0],
    [{ start: 5000, end: 6000 }, 0],
  ])('fs read stream with %p (inclusive end, as createReadStream)', async (options, expected) => {
    await withStream(options, (s) => expect(knownLength(s, undefined)).toBe(expected));
  });

  test('fs read stream: the computed length is what the stream yields', async () => {
    for (const options of [{ start: 10, end: 19 }, { start: 990, end: 5000 }, { end: 0 }, {}]) {
      const expected = await withStream(options, (s) => knownLength(s, undefined));
      expect((await bytesOf(createReadStream(file, options))).length).toBe(expected);
    }
  });

  test('ContentLength overrides for streams', async () => {
    expect(knownLength(Readable.from([Buffer.from('abc')]), 3)).toBe(3);
    expect(knownLength(new PassThrough(), 42)).toBe(42);
    expect(knownLength(new PassThrough(), 0)).toBe(0);
    await withStream(undefined, (s) => expect(knownLength(s, 7)).toBe(7));
  });

  test('streams of unknown length are undefined', () => {
    expect(knownLength(Readable.from([Buffer.from('abc')]), undefined)).toBeUndefined();
    expect(knownLength(new PassThrough(), undefined)).toBeUndefined();
    expect(knownLength(new Blob(['abc']).stream(), undefined)).toBeUndefined();
    // Only a Readable with a path is taken for a file stream.
    expect(knownLength({ path: file }, undefined)).toBeUndefined();
  });
});

describe('isInMemory / bodySource', () => {
  test('strings and bytes are in memory; streams and Blobs are not', () => {
    expect(isInMemory('x')).toBe(true);
    expect(isInMemory(new Uint8Array(1))).toBe(true);
    expect(isInMemory(Buffer.alloc(1))).toBe(true);
    expect(isInMemory(new Blob(['x']))).toBe(false);
    expect(isInMemory(new PassThrough())).toBe(false);
    expect(isInMemory(undefined)).toBe(false);
  });

  test('strings become their UTF-8 bytes; absent bodies empty bytes', async () => {
    expect(Buffer.from(await bytesOf(bodySource('aé€😀') as Uint8Array))).toEqual(Buffer.from('aé€😀', 'utf8'));
    expect(bodySource(undefined)).toEqual(new Uint8Array(0));
    expect(bodySource(null)).toEqual(new Uint8Array(0));
    const bytes = new Uint8Array(3);
    expect(bodySource(bytes)).toBe(bytes);
  });
});
