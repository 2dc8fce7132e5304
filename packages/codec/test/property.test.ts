import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import type { CryptoBackend } from '../src/crypto/backend/backend';
import { createStreamCipher } from '../src/crypto/stream-cipher';
import { ErrorCode, FormatError } from '../src/format/errors';
import { chunkOffset, ciphertextSize, plaintextSize, planRange, suffixFetchLength } from '../src/format/geometry';
import { decryptBody, decryptStream } from '../src/io/decrypt';
import { encryptBody, encryptBuffer, encryptStream } from '../src/io/encrypt';
import { decryptRange } from '../src/io/random-access';
import type { ByteSource } from '../src/io/sources';
import { DecryptingWriter } from '../src/node/decrypting-writer';
import { openEncryptedFile } from '../src/node/encrypted-file';
import { backend, C, collect, filler, hex, keyring, RecordingSink, STRIDE, seeded, splitAt, writeAll } from './helpers';

const MAX = Number.MAX_SAFE_INTEGER;
let on: CryptoBackend;
const kr = () => keyring('prop', new Uint8Array(32).fill(7), on);

beforeAll(async () => {
  on = await backend('native');
});

/** Offsets that favour chunk boundaries ± a few bytes, up to `max`. */
const offset = (max: number) =>
  fc.oneof(
    fc.integer({ min: 0, max }),
    fc
      .tuple(fc.integer({ min: 0, max: Math.floor(max / C) }), fc.integer({ min: -2, max: 2 }))
      .map(([k, d]) => Math.min(max, Math.max(0, k * C + d))),
  );
const size = offset(3 * C + 60);
const cuts = (max: number) => fc.array(fc.integer({ min: 0, max }), { maxLength: 12 });

type SourceKind = 'async-iterable' | 'iterable' | 'readable' | 'web-stream' | 'blob';
const sourceKind = fc.constantFrom<SourceKind>('async-iterable', 'iterable', 'readable', 'web-stream', 'blob');

/** `pieces` as the given kind of source. */
function source(kind: SourceKind, pieces: Uint8Array[]): ByteSource {
  switch (kind) {
    case 'async-iterable':
      return (async function* () {
        for (const p of pieces) yield p;
      })();
    case 'iterable':
      return pieces;
    case 'readable':
      return Readable.from(pieces.map((p) => Buffer.from(p)));
    case 'web-stream':
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (const p of pieces) controller.enqueue(p);
          controller.close();
        },
      });
    case 'blob':
      return new Blob(pieces as BlobPart[]);
  }
}

describe('random access returns exactly the requested slice', () => {
  test('decryptRange over random sizes and ranges, reading only the planned chunks in one call', async () => {
    await fc.assert(
      fc.asyncProperty(
        size,
        fc.boolean(),
        fc.array(fc.tuple(offset(4 * C), offset(4 * C)), { minLength: 1, maxLength: 6 }),
        async (n, recorded, ranges) => {
          const plaintext = filler(n, n + 11);
          const cipher = await createStreamCipher({
            keyring: kr(),
            backend: on,
            chunkSize: C,
            ...(recorded ? { plaintextSize: n } : {}),
          });
          const body = await collect(encryptBody(cipher, plaintext));
          for (const [start, end] of ranges) {
            const reads: [number, number][] = [];
            const read = (s: number, e: number) => {
              reads.push([s, e]);
              return body.subarray(s, e);
            };
            if (start > n) {
              await expect(collect(decryptRange(cipher, read, body.length, start, end))).rejects.toBeInstanceOf(
                RangeError,
              );
              continue;
            }
            const got = await collect(decryptRange(cipher, read, body.length, start, end));
            const stop = Math.min(Math.max(start, end), n);
            expect(hex(got)).toBe(hex(plaintext.subarray(start, stop)));
            const plan = planRange(start, stop, C, n);
            expect(reads).toEqual([[plan.cipherStart, Math.min(plan.cipherEnd, body.length)]]);
            expect(reads[0]![1] - reads[0]![0]).toBeLessThanOrEqual((plan.lastChunk - plan.firstChunk + 1) * STRIDE);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('openEncryptedFile over random files and ranges', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-prop-'));
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          size,
          fc.boolean(),
          fc.array(fc.tuple(offset(4 * C), offset(4 * C)), { minLength: 1, maxLength: 6 }),
          async (n, recorded, ranges) => {
            const plaintext = filler(n, n + 5);
            const options = { keyring: kr(), backend: on, chunkSize: C };
            const bytes = recorded
              ? await encryptBuffer(plaintext, options)
              : await collect(encryptStream(plaintext, options));
            const path = join(dir, `f${run++}.es`);
            await writeFile(path, bytes);
            const file = await openEncryptedFile(path, { keyring: kr(), backend: on });
            try {
              expect(file.plaintextSize).toBe(n);
              for (const [start, end] of ranges) {
                if (start > n) {
                  await expect(collect(file.read(start, end))).rejects.toBeInstanceOf(RangeError);
                  continue;
                }
                const got = await collect(file.read(start, end));
                expect(hex(got)).toBe(hex(plaintext.subarray(start, Math.min(Math.max(start, end), n))));
              }
            } finally {
              await file.close();
            }
          },
        ),
        { numRuns: 30 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('input split at random boundaries gives the same result as one buffer', () => {
  let run = 0;

  test('encryptStream and encryptBody: byte-identical ciphertext (same seeded randomness)', async () => {
    await fc.assert(
      fc.asyncProperty(size, cuts(3 * C + 60), sourceKind, fc.boolean(), async (n, at, kind, declare) => {
        const plaintext = filler(n, n + 3);
        const label = `split-${run++}`;
        const encrypt = async (input: ByteSource, label: string) => {
          const b = await seeded(label);
          const options = {
            keyring: keyring('prop', new Uint8Array(32), b),
            backend: b,
            chunkSize: C,
            ...(declare ? { plaintextSize: n } : {}),
          };
          return collect(encryptStream(input, options));
        };
        const whole = await encrypt(plaintext, label);
        const split = await encrypt(source(kind, splitAt(plaintext, at)), label);
        expect(hex(split)).toBe(hex(whole));
        // The chunks alone, from a cipher created the same way.
        const body = async (input: ByteSource) => {
          const b = await seeded(`${label}-body`);
          const cipher = await createStreamCipher({
            keyring: keyring('p', new Uint8Array(32), b),
            backend: b,
            chunkSize: C,
          });
          return collect(encryptBody(cipher, input));
        };
        expect(hex(await body(source(kind, splitAt(plaintext, at))))).toBe(hex(await body(plaintext)));
        // Control: another seed gives other bytes.
        expect(hex(await encrypt(plaintext, `${label}-other`))).not.toBe(hex(whole));
      }),
      { numRuns: 40 },
    );
  });

  test('decryptStream, decryptBody and DecryptingWriter: the same plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(size, fc.boolean(), cuts(3 * C + 400), sourceKind, async (n, recorded, at, kind) => {
        const plaintext = filler(n, n + 9);
        const options = { keyring: kr(), backend: on, chunkSize: C, context: { k: 'v' } };
        const bytes = recorded
          ? await encryptBuffer(plaintext, options)
          : await collect(encryptStream(plaintext, options));
        const pieces = splitAt(bytes, at);
        expect(hex(await collect(decryptStream(source(kind, pieces), options)))).toBe(hex(plaintext));

        const cipher = await createStreamCipher({ ...options, ...(recorded ? { plaintextSize: n } : {}) });
        const body = await collect(encryptBody(cipher, plaintext));
        expect(hex(await collect(decryptBody(cipher, source(kind, splitAt(body, at)))))).toBe(hex(plaintext));

        const sink = new RecordingSink();
        await writeAll(new DecryptingWriter(sink, options), pieces);
        expect([hex(sink.bytes), sink.ended]).toEqual([hex(plaintext), true]);

        const received: Uint8Array[] = [];
        const detached = new DecryptingWriter(
          (p) => {
            received.push(p.slice());
          },
          { ...options, header: cipher.header },
        );
        await writeAll(detached, splitAt(body, at));
        expect(hex(Buffer.concat(received))).toBe(hex(plaintext));
      }),
      { numRuns: 40 },
    );
  });
});

describe('geometry', () => {
  const exponent = fc.integer({ min: 12, max: 24 });
  /** FORMAT.md §8 in BigInt. */
  const exactCiphertext = (p: bigint, c: bigint) => (p / c) * (c + 40n) + (p % c) + 40n;

  test('plaintextSize(ciphertextSize(p)) === p, and ciphertextSize is exact or a RangeError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeNat(), fc.integer({ min: 0, max: 1 << 30 })), exponent, (p, e) => {
        const c = 2 ** e;
        const exact = exactCiphertext(BigInt(p), BigInt(c));
        if (exact > BigInt(MAX)) {
          expect(() => ciphertextSize(p, c)).toThrow(RangeError);
          return;
        }
        const s = ciphertextSize(p, c);
        expect(BigInt(s)).toBe(exact);
        expect(plaintextSize(s, c)).toBe(p);
      }),
      { numRuns: 2000 },
    );
  });

  test('sizes near 2^53 are exact or refused, never rounded', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX - 2 ** 40, max: MAX }), exponent, (n, e) => {
        const c = 2 ** e;
        const exact = exactCiphertext(BigInt(n), BigInt(c));
        if (exact > BigInt(MAX)) expect(() => ciphertextSize(n, c)).toThrow(RangeError);
        else expect(BigInt(ciphertextSize(n, c))).toBe(exact);
        // As a body size: exact plaintext size, or ES_TRUNCATED for sizes no stream has.
        const stride = BigInt(c + 40);
        const r = BigInt(n) % stride;
        if (r < 40n) {
          expect(() => plaintextSize(n, c)).toThrow(FormatError);
          try {
            plaintextSize(n, c);
          } catch (error) {
            expect((error as FormatError).code).toBe(ErrorCode.TRUNCATED);
          }
        } else {
          expect(BigInt(plaintextSize(n, c))).toBe((BigInt(n) / stride) * BigInt(c) + r - 40n);
        }
        // Chunk offsets: exact or RangeError.
        const index = Math.floor(n / c);
        const offsetExact = BigInt(index) * stride;
        if (offsetExact > BigInt(MAX)) expect(() => chunkOffset(index, c)).toThrow(RangeError);
        else expect(BigInt(chunkOffset(index, c))).toBe(offsetExact);
      }),
      { numRuns: 2000 },
    );
    // The largest plaintext whose ciphertext is representable, at 64 KiB chunks, and one more byte.
    const c = 65536n;
    let lo = 0n;
    let hi = BigInt(MAX);
    while (lo < hi) {
      const mid = (lo + hi + 1n) / 2n;
      if (exactCiphertext(mid, c) <= BigInt(MAX)) lo = mid;
      else hi = mid - 1n;
    }
    expect(BigInt(ciphertextSize(Number(lo), 65536))).toBe(exactCiphertext(lo, c));
    expect(() => ciphertextSize(Number(lo) + 1, 65536)).toThrow(RangeError);
    expect(() => ciphertextSize(MAX + 1, 65536)).toThrow(RangeError);
    expect(() => plaintextSize(MAX + 1, 65536)).toThrow(RangeError);
  });

  test('ciphertextSize of 5 TiB is exact', () => {
    const p = 5 * 2 ** 40;
    expect(ciphertextSize(p, 65536)).toBe(5 * 2 ** 24 * (65536 + 40) + 40);
    expect(BigInt(ciphertextSize(p, 65536))).toBe(5_500_913_582_120n);
    expect(BigInt(ciphertextSize(p, 4096))).toBe(exactCiphertext(BigInt(p), 4096n));
    expect(BigInt(ciphertextSize(p + 12345, 16 * 2 ** 20))).toBe(exactCiphertext(BigInt(p + 12345), 16n * 2n ** 20n));
    expect(plaintextSize(ciphertextSize(p, 65536), 65536)).toBe(p);
  });

  test('planRange covers exactly the chunks holding [start, end)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.maxSafeNat(), fc.integer({ min: 0, max: 1 << 24 })),
        fc.nat({ max: 1 << 22 }),
        exponent,
        (start, extra, e) => {
          const c = 2 ** e;
          const end = Math.min(MAX, start + extra);
          const total = Math.min(MAX, end + (extra % 3 === 0 ? 0 : extra)); // a third of the ranges reach the end
          let plan: ReturnType<typeof planRange>;
          try {
            plan = planRange(start, end, c, total);
          } catch (error) {
            // Only a chunk offset beyond 2^53 may be refused.
            expect(error).toBeInstanceOf(RangeError);
            expect(BigInt(Math.floor(Math.max(start, total) / c) + 1) * BigInt(c + 40)).toBeGreaterThan(BigInt(MAX));
            return;
          }
          if (end === total) {
            // The end of the plaintext: the final chunk (the one holding byte `total`, possibly empty) is planned.
            expect(plan.lastChunk).toBe(Math.floor(total / c));
          }
          expect(plan.firstChunk).toBe(Math.floor(start / c));
          expect(plan.skip).toBe(start - plan.firstChunk * c);
          expect(plan.length).toBe(end - start);
          expect(BigInt(plan.cipherStart)).toBe(BigInt(plan.firstChunk) * BigInt(c + 40));
          expect(BigInt(plan.cipherEnd)).toBe(BigInt(plan.lastChunk + 1) * BigInt(c + 40));
          if (end > start) {
            // First and last chunk each hold a byte of the range; nothing outside is planned.
            expect(plan.firstChunk * c).toBeLessThanOrEqual(start);
            expect(start).toBeLessThan((plan.firstChunk + 1) * c);
            if (end < total) expect(plan.lastChunk * c).toBeLessThan(end);
            expect(end).toBeLessThanOrEqual((plan.lastChunk + 1) * c);
            expect(plan.skip + plan.length).toBeLessThanOrEqual((plan.lastChunk - plan.firstChunk + 1) * c);
          } else if (end < total) {
            expect(plan.lastChunk).toBe(plan.firstChunk);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('suffixFetchLength always holds the last n plaintext bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * C }), fc.integer({ min: 0, max: 40 * C }), (total, n) => {
        const suffix = Math.min(n, total);
        const body = ciphertextSize(total, C);
        const fetched = Math.min(body, suffixFetchLength(suffix, C));
        // The fetched tail starts at or before the chunk holding the first suffix byte.
        const firstNeeded = planRange(total - suffix, total, C, total).cipherStart;
        expect(body - fetched).toBeLessThanOrEqual(firstNeeded);
      }),
      { numRuns: 500 },
    );
  });
});
