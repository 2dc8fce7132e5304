import type { Keyring } from '@encrypted-stream/codec';
import { DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { assertPartSize, DEFAULT_PART_SIZE, type EncryptionOptions, resolveOptions } from '../../src/options';
import { testKeyring } from '../helpers/common';

const keyring = testKeyring();
const MiB = 1024 * 1024;

describe('resolveOptions', () => {
  test('defaults', () => {
    const resolved = resolveOptions({ keyring });
    expect(resolved.keyring).toBe(keyring);
    expect(resolved.chunkSize).toBe(DEFAULT_CHUNK_SIZE);
    expect(resolved.chunkSize).toBe(64 * 1024);
    expect(resolved.partSize).toBe(DEFAULT_PART_SIZE);
    expect(resolved.partSize).toBe(8 * MiB);
    expect(resolved.passthrough).toBe(false);
    expect(resolved.bindsLocation).toBe(false);
    expect(resolved.contextFor({ bucket: 'b', key: 'k' })).toEqual({});
  });

  test('explicit values are kept', () => {
    const resolved = resolveOptions({ keyring, chunkSize: 4096, partSize: 5 * MiB, passthrough: true });
    expect(resolved).toMatchObject({ chunkSize: 4096, partSize: 5 * MiB, passthrough: true });
  });

  test.each([undefined, null, {}, { keyring: undefined }, { keyring: {} }, { keyring: { wrap: () => 0 } }])(
    'TypeError for a missing or bad keyring: %p',
    (options) => {
      expect(() => resolveOptions(options as unknown as EncryptionOptions)).toThrow(TypeError);
    },
  );

  test('any object with wrap() and unwrap() is a keyring', () => {
    const custom: Keyring = { wrap: keyring.wrap.bind(keyring), unwrap: keyring.unwrap.bind(keyring) };
    expect(resolveOptions({ keyring: custom }).keyring).toBe(custom);
  });

  test.each([4096, 8192, 64 * 1024, MiB, 8 * MiB])('chunk size %d is accepted', (chunkSize) => {
    expect(resolveOptions({ keyring, chunkSize }).chunkSize).toBe(chunkSize);
  });

  test('chunk size 16 MiB (the format maximum, FORMAT.md §2) is accepted with the default part size', () => {
    // BUG: the default 8 MiB partSize is not a multiple of 16 MiB, so a valid chunkSize is refused.
    expect(resolveOptions({ keyring, chunkSize: 16 * MiB }).chunkSize).toBe(16 * MiB);
  });

  test('chunk size 16 MiB is accepted with a matching part size', () => {
    expect(resolveOptions({ keyring, chunkSize: 16 * MiB, partSize: 16 * MiB }).chunkSize).toBe(16 * MiB);
  });

  test.each([
    ['not a power of two', 5000],
    ['not a power of two (multiple of 4 KiB)', 12 * 1024],
    ['below 4 KiB', 2048],
    ['above 16 MiB', 32 * MiB],
    ['zero', 0],
    ['negative', -4096],
    ['fractional', 4096.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('RangeError for a chunk size %s', (_, chunkSize) => {
    expect(() => resolveOptions({ keyring, chunkSize, partSize: 32 * MiB })).toThrow(RangeError);
  });

  test.each([
    ['not a multiple of the chunk size', { chunkSize: 64 * 1024, partSize: 5 * MiB + 1 }],
    ['half a chunk', { chunkSize: 64 * 1024, partSize: 32 * 1024 }],
    ['zero', { partSize: 0 }],
    ['negative', { partSize: -8 * MiB }],
    ['fractional', { chunkSize: 4096, partSize: 8192.5 }],
    ['NaN', { partSize: Number.NaN }],
    ['beyond 2^53', { chunkSize: 4096, partSize: 2 ** 60 }],
  ])('RangeError for a part size %s', (_, options) => {
    expect(() => resolveOptions({ keyring, ...options })).toThrow(RangeError);
  });

  test("context 'none' binds nothing", () => {
    const resolved = resolveOptions({ keyring, context: 'none' });
    expect(resolved.bindsLocation).toBe(false);
    expect(resolved.contextFor({ bucket: 'b', key: 'k' })).toEqual({});
  });

  test("context 'location' binds bucket and key", () => {
    const resolved = resolveOptions({ keyring, context: 'location' });
    expect(resolved.bindsLocation).toBe(true);
    expect(resolved.contextFor({ bucket: 'b', key: 'dir/k' })).toEqual({ bucket: 'b', key: 'dir/k' });
  });

  test('a context function is called with the location', () => {
    const fn = jest.fn(({ bucket, key }: { bucket: string; key: string }) => ({
      tenant: 'acme',
      path: `${bucket}:${key}`,
    }));
    const resolved = resolveOptions({ keyring, context: fn });
    expect(resolved.bindsLocation).toBe(true);
    expect(resolved.contextFor({ bucket: 'b', key: 'k' })).toEqual({ tenant: 'acme', path: 'b:k' });
    expect(fn).toHaveBeenCalledWith({ bucket: 'b', key: 'k' });
  });

  test.each(['bucket', 'LOCATION', 42, {}])('TypeError for context %p', (context) => {
    expect(() => resolveOptions({ keyring, context } as unknown as EncryptionOptions)).toThrow(TypeError);
  });
});

describe('assertPartSize', () => {
  test('accepts positive multiples', () => {
    expect(() => assertPartSize(4096, 4096)).not.toThrow();
    expect(() => assertPartSize(5 * MiB, 64 * 1024)).not.toThrow();
  });
  test('refuses the rest', () => {
    for (const size of [0, -4096, 4095, 6144, 1.5 * 4096, Number.NaN]) {
      expect(() => assertPartSize(size, 4096)).toThrow(RangeError);
    }
  });
});
