import { Readable } from 'node:stream';
import type { CryptoBackend } from '../../src/crypto/backend/backend';
import { decryptStream } from '../../src/io/decrypt';
import { encryptBuffer, encryptStream } from '../../src/io/encrypt';
import { type ByteSource, collectBytes, toByteIterable } from '../../src/io/sources';
import { backend, C, collect, concat, filler, hex, keyring, splitAt } from '../helpers';

let on: CryptoBackend;
let options: { keyring: ReturnType<typeof keyring>; backend: CryptoBackend; chunkSize: number };

beforeAll(async () => {
  on = await backend('native');
  options = { keyring: keyring('src', filler(32, 5), on), backend: on, chunkSize: C };
});

const data = filler(2 * C + 77, 12);
const pieces = () => splitAt(data, [1, 1000, C, C + 1, 2 * C]);

const kinds: [string, () => ByteSource][] = [
  ['Uint8Array', () => data],
  ['Buffer', () => Buffer.from(data)],
  ['ArrayBuffer', () => data.slice().buffer],
  [
    'a Uint8Array view into a larger buffer',
    () => concat(new Uint8Array(10), data, new Uint8Array(10)).subarray(10, 10 + data.length),
  ],
  ['Node Readable', () => Readable.from(pieces().map((p) => Buffer.from(p)))],
  [
    'web ReadableStream',
    () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          for (const p of pieces()) c.enqueue(p);
          c.close();
        },
      }),
  ],
  ['Blob', () => new Blob(pieces() as BlobPart[])],
  [
    'async iterable',
    () =>
      (async function* () {
        for (const p of pieces()) yield p;
      })(),
  ],
  ['sync iterable', () => pieces()],
  ['an empty piece among others', () => [new Uint8Array(0), ...pieces(), new Uint8Array(0)]],
];

describe('byte sources', () => {
  test.each(kinds)('%s: toByteIterable yields the bytes', async (_name, make) => {
    expect(hex(await collectBytes(toByteIterable(make())))).toBe(hex(data));
  });

  test.each(kinds)('%s: encryptStream and decryptStream accept it', async (_name, make) => {
    const encrypted = await collect(encryptStream(make(), options));
    expect(hex(await collect(decryptStream(encrypted, options)))).toBe(hex(data));
  });

  test.each(kinds.filter(([n]) => !n.includes('ArrayBuffer')))('%s as ciphertext for decryptStream', async (_n) => {
    const encrypted = await encryptBuffer(data, options);
    // The same kind of source, over the ciphertext.
    const cuts = [1, 97, 200, C, 2 * C];
    const split = splitAt(encrypted, cuts);
    const sources: Record<string, ByteSource> = {
      Uint8Array: encrypted,
      Buffer: Buffer.from(encrypted),
      'a Uint8Array view into a larger buffer': concat(new Uint8Array(3), encrypted).subarray(3),
      'Node Readable': Readable.from(split.map((p) => Buffer.from(p))),
      'web ReadableStream': new ReadableStream<Uint8Array>({
        start(c) {
          for (const p of split) c.enqueue(p);
          c.close();
        },
      }),
      Blob: new Blob(split as BlobPart[]),
      'async iterable': (async function* () {
        yield* split;
      })(),
      'sync iterable': split,
      'an empty piece among others': [new Uint8Array(0), ...split, new Uint8Array(0)],
    };
    expect(hex(await collect(decryptStream(sources[_n]!, options)))).toBe(hex(data));
  });

  test('strings from a text-mode Readable or async iterable are UTF-8', async () => {
    const text = 'héllo wörld';
    const readable = Readable.from(['hé', 'llo', ' wörld'], { objectMode: true });
    expect(Buffer.from(await collectBytes(toByteIterable(readable))).toString('utf8')).toBe(text);
    const asyncStrings = (async function* () {
      yield 'hé';
      yield 'llo wörld';
    })();
    expect(Buffer.from(await collectBytes(toByteIterable(asyncStrings))).toString('utf8')).toBe(text);
  });

  test('the source is pulled lazily: an endless source can be encrypted chunk by chunk', async () => {
    let produced = 0;
    const endless = (async function* () {
      for (;;) {
        produced += 1000;
        yield new Uint8Array(1000);
      }
    })();
    let received = 0;
    for await (const piece of encryptStream(endless, options)) {
      received += piece.length;
      if (received >= 200 + 3 * (C + 40)) break; // the prefix and three chunks
    }
    // It read about three chunks' worth, not the endless rest.
    expect(produced).toBeGreaterThanOrEqual(3 * C);
    expect(produced).toBeLessThan(5 * C);
  });

  test('anything else is a TypeError', async () => {
    for (const bad of [42, null, undefined, {}, 'a string', true]) {
      await expect(collectBytes(toByteIterable(bad as unknown as ByteSource))).rejects.toBeInstanceOf(TypeError);
    }
    const yieldsNumbers = (async function* () {
      yield 1 as unknown as Uint8Array;
    })();
    await expect(collectBytes(toByteIterable(yieldsNumbers))).rejects.toBeInstanceOf(TypeError);
    await expect(collectBytes(toByteIterable([[1, 2]] as unknown as Iterable<Uint8Array>))).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(collect(encryptStream(5 as unknown as ByteSource, options))).rejects.toBeInstanceOf(TypeError);
  });
});
