/**
 * put's part sizes against S3's limits (5 MiB … 5 GiB a part, 10,000 parts):
 * checked before anything is sent, with a message that says what to set;
 * without --part-size, one that fits is chosen.
 */
import { constants } from 'node:buffer';
import { CliError } from '../../src/exit-codes';
import { checkPartSize, maxPartSize, partSizeFor } from '../../src/part-size';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/** What one encrypted part may take: S3's 5 GiB, or a Node buffer's maximum when smaller (4 GiB on Node 20). */
const CEILING = Math.min(5 * GiB, constants.MAX_LENGTH);

/** The usage error `fn` throws (exit 2), as its message. */
function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error('expected a usage error');
}

test.each([4 * KiB, 64 * KiB, 16 * MiB])(
  'the largest part in %d-byte chunks: at most 5 GiB (and a Node buffer) once encrypted, with room for an empty final chunk',
  (chunk) => {
    const max = maxPartSize(chunk);
    expect(max % chunk).toBe(0);
    const stored = (max / chunk) * (chunk + 40) + 40;
    expect(stored).toBeLessThanOrEqual(CEILING);
    expect(stored + chunk + 40).toBeGreaterThan(CEILING); // one chunk more would not fit
  },
);

describe('checkPartSize', () => {
  test.each([
    [5 * MiB, 64 * KiB],
    [8 * MiB, 64 * KiB],
    [16 * MiB, 16 * MiB],
    [maxPartSize(64 * KiB), 64 * KiB],
  ])('%d bytes in %d-byte chunks is fine', (part, chunk) => {
    expect(() => checkPartSize(part, chunk)).not.toThrow();
  });

  test.each([
    [1 * MiB, 64 * KiB, /--part-size 1MiB is below S3's 5 MiB minimum part size: set --part-size 5MiB or more/],
    [0, 64 * KiB, /--part-size 0 is below S3's 5 MiB minimum/],
    [5 * MiB - 64 * KiB, 64 * KiB, /--part-size 5056KiB is below .*set --part-size 5MiB or more/],
    [
      5 * GiB,
      64 * KiB,
      /--part-size 5GiB is above the largest part, \d+ bytes of plaintext in 64KiB chunks \(its ciphertext must fit (S3's 5 GiB part limit|one Node [\d.]+ buffer, 4 GiB \(S3 would take 5 GiB\))\): set --part-size \d+MiB or less/,
    ],
    [6_000_000, 64 * KiB, /--part-size 6000000 is not a multiple of the 64KiB chunk size: set --part-size 5888KiB/],
    [5 * MiB, 4 * MiB, /--part-size 5MiB is not a multiple of the 4MiB chunk size: set --part-size 8MiB/],
  ])('%d bytes in %d-byte chunks: %s', (part, chunk, message) => {
    expect(usageMessage(() => checkPartSize(part, chunk))).toMatch(message);
  });
});

describe('partSizeFor', () => {
  test.each([
    [0, 8 * MiB],
    [1000, 8 * MiB],
    [78 * GiB, 8 * MiB], // 9,984 parts of 8 MiB
    [100 * GiB, 11 * MiB], // ceil(100 GiB / 10,000) = 10.24 MiB → 11 MiB
    [4 * 1024 * GiB, 420 * MiB],
  ])('no --part-size, a %d-byte file: %d-byte parts, at most 10,000 of them', (size, expected) => {
    const chosen = partSizeFor(size, undefined, 64 * KiB, 'f');
    expect(chosen).toBe(expected);
    expect(Math.ceil(size / chosen)).toBeLessThanOrEqual(10_000);
    expect(() => checkPartSize(chosen, 64 * KiB)).not.toThrow();
  });

  test('with 16 MiB chunks the default part is one chunk', () => {
    expect(partSizeFor(1000, undefined, 16 * MiB, 'f')).toBe(16 * MiB);
  });

  test('a --part-size that fits is kept', () => {
    expect(partSizeFor(60 * GiB, 7 * MiB, 64 * KiB, 'f')).toBe(7 * MiB);
  });

  test('a --part-size needing more than 10,000 parts: the message names the smallest that works', () => {
    expect(usageMessage(() => partSizeFor(60 * GiB, 5 * MiB, 64 * KiB, 'big.bin'))).toBe(
      'big.bin (60.0 GiB) in parts of --part-size 5MiB would take 12288 parts; S3 allows 10000: set --part-size 7MiB or more (or leave it out to have it chosen)',
    );
    expect(partSizeFor(60 * GiB, 7 * MiB, 64 * KiB, 'big.bin')).toBe(7 * MiB); // and that one works
  });

  test("above S3's 5 TiB object limit: refused whatever the part size", () => {
    expect(usageMessage(() => partSizeFor(5 * 1024 * GiB, undefined, 64 * KiB, 'huge'))).toMatch(
      /huge is 5\.00 TiB: S3 objects hold at most 5 TiB/,
    );
  });
});
