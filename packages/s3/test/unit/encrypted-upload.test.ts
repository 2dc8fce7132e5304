/**
 * EncryptedUpload's options and part geometry: partSize in plaintext bytes,
 * checked against S3's limits before anything is sent; progress in plaintext
 * bytes; typed events. Uploads against a real server are in
 * integration/test/multipart-upload.test.ts.
 */
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { EncryptedUpload, type EncryptedUploadProgress } from '../../src/upload';
import {
  defaultUploadPartSize,
  MAX_PART_BYTES,
  partCount,
  plaintextBytesIn,
  uploadGeometry,
} from '../../src/upload-geometry';
import { C, STRIDE, testKeyring } from '../helpers/common';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const keyring = testKeyring();
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const K = DEFAULT_CHUNK_SIZE;

/** How lib-storage cuts `total` bytes into parts of `partSize` (a single PutObject when it fits one). */
function libStorageParts(total: number, partSize: number): number[] {
  if (total <= partSize) return [total];
  const parts: number[] = [];
  for (let start = 0; start < total; start += partSize) parts.push(Math.min(partSize, total - start));
  return parts;
}

describe('uploadGeometry', () => {
  test('a part of partSize plaintext bytes is whole chunks of ciphertext', () => {
    expect(uploadGeometry(8 * MiB, K, undefined)).toEqual({ partSize: 8 * MiB, cipherPartSize: 128 * (K + 40) });
    expect(uploadGeometry(5 * MiB, C, 1000)).toEqual({ partSize: 5 * MiB, cipherPartSize: 1280 * STRIDE });
  });

  test.each<[string, number, number, number | undefined, RegExp]>([
    ['not a multiple of the chunk size', 5 * MiB + 1, K, undefined, /multiple of the 65536-byte chunk size/],
    ['zero', 0, K, undefined, /positive multiple/],
    ['fractional', 5.5 * MiB + 0.5, K, undefined, /positive multiple/],
    ['under 5 MiB', 5 * MiB - K, K, undefined, /at least 5242880 bytes/],
    ['over 5 GiB with its overhead', 5 * GiB, K, undefined, /more than S3's 5 GiB per part/],
    ['a known body that needs more than 10,000 parts', 5 * MiB, K, 10_000 * 5 * MiB, /10001 parts.*at least 5308416/],
  ])('RangeError: %s', (_, partSize, chunkSize, size, message) => {
    expect(() => uploadGeometry(partSize, chunkSize, size)).toThrow(RangeError);
    expect(() => uploadGeometry(partSize, chunkSize, size)).toThrow(message);
  });

  test('the largest part size under 5 GiB of ciphertext is accepted', () => {
    const largest = Math.floor(MAX_PART_BYTES / (K + 40)) * K;
    expect(uploadGeometry(largest, K, undefined).cipherPartSize).toBeLessThanOrEqual(MAX_PART_BYTES);
  });

  test.each([0, 1, K - 1, K, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 10 * MiB, 10 * MiB + 39, 31 * MiB + 12_345])(
    'partCount matches how lib-storage cuts the ciphertext of %d bytes (5 MiB parts)',
    (size) => {
      const { cipherPartSize } = uploadGeometry(5 * MiB, K, size);
      const cut = libStorageParts(ciphertextSize(size, K), cipherPartSize);
      expect(cut).toHaveLength(partCount(size, 5 * MiB));
      // every part but the last is whole chunks: exactly partSize plaintext bytes
      for (const part of cut.slice(0, -1)) expect(plaintextBytesIn(part, K)).toBe(5 * MiB);
      expect(cut.reduce((sum, part) => sum + plaintextBytesIn(part, K), 0)).toBe(size);
    },
  );

  test('the default is 8 MiB (or the chunk size), grown so a known body fits 10,000 parts', () => {
    expect(defaultUploadPartSize(K, undefined)).toBe(8 * MiB);
    expect(defaultUploadPartSize(16 * MiB, undefined)).toBe(16 * MiB);
    expect(defaultUploadPartSize(K, 10 * GiB)).toBe(8 * MiB);
    for (const size of [80_000 * MiB, 80_000 * MiB + 1, 100 * GiB, 1024 * GiB + 7]) {
      const partSize = defaultUploadPartSize(K, size);
      expect(partSize % K).toBe(0);
      expect(partCount(size, partSize)).toBeLessThanOrEqual(10_000);
      expect(partCount(size, partSize - K)).toBeGreaterThan(10_000); // the smallest that fits
      expect(() => uploadGeometry(partSize, K, size)).not.toThrow();
    }
  });
});

describe('plaintextBytesIn: progress in plaintext bytes', () => {
  test('exact for whole parts in any combination, the last one included', () => {
    const partSize = 5 * MiB;
    const { cipherPartSize } = uploadGeometry(partSize, K, undefined);
    const size = 3 * partSize + 12_345;
    const last = ciphertextSize(size, K) - 3 * cipherPartSize;
    expect(plaintextBytesIn(cipherPartSize, K)).toBe(partSize);
    expect(plaintextBytesIn(last, K)).toBe(12_345);
    expect(plaintextBytesIn(2 * cipherPartSize + last, K)).toBe(2 * partSize + 12_345); // parts done out of order
    expect(plaintextBytesIn(3 * cipherPartSize + last, K)).toBe(size);
    expect(plaintextBytesIn(ciphertextSize(0, K), K)).toBe(0);
    expect(plaintextBytesIn(0, K)).toBe(0);
  });

  test('never more than the plaintext sent, within 40 bytes of it', () => {
    for (const cipherBytes of [1, 39, 40, 41, K + 40, K + 79, K + 81, 7 * (K + 40) + 1000]) {
      const plain = plaintextBytesIn(cipherBytes, K);
      const exact = (cipherBytes * K) / (K + 40);
      expect(plain).toBeLessThanOrEqual(Math.ceil(exact));
      expect(plain).toBeGreaterThanOrEqual(exact - 40);
    }
  });
});

describe('EncryptedUpload options: checked before anything is sent', () => {
  const client = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  afterAll(() => client.destroy());
  const params = { Bucket: 'b', Key: 'k', Body: 'x' };

  test.each<[string, Record<string, unknown>]>([
    ['partSize under 5 MiB', { partSize: 5 * MiB - K }],
    ['partSize not a multiple of the chunk size', { partSize: 5 * MiB + 1 }],
    [
      'partSize that makes more than 10,000 parts of a known body',
      {
        partSize: 5 * MiB,
        params: { ...params, Body: Readable.from([]), ContentLength: 60 * GiB },
      },
    ],
    ['queueSize 0', { queueSize: 0 }],
    ['queueSize 1.5', { queueSize: 1.5 }],
  ])('RangeError: %s', (_, options) => {
    expect(() => new EncryptedUpload({ client, params, encryption: { keyring }, ...options })).toThrow(RangeError);
  });

  test('partSize: 8 MiB by default, grown for a big known body, in plaintext bytes as given', () => {
    expect(new EncryptedUpload({ client, params, encryption: { keyring } }).partSize).toBe(8 * MiB);
    const big = { ...params, Body: Readable.from([]), ContentLength: 100 * GiB };
    const grown = new EncryptedUpload({ client, params: big, encryption: { keyring } }).partSize;
    expect(partCount(100 * GiB, grown)).toBeLessThanOrEqual(10_000);
    expect(new EncryptedUpload({ client, params, encryption: { keyring }, partSize: 6 * MiB }).partSize).toBe(6 * MiB);
  });

  test('typed events: httpUploadProgress listeners get EncryptedUploadProgress; other names do not compile', () => {
    const upload = new EncryptedUpload({ client, params, encryption: { keyring } });
    const seen: number[] = [];
    const listener = (progress: EncryptedUploadProgress) => seen.push(progress.loaded);
    expect(upload.on('httpUploadProgress', listener)).toBe(upload);
    upload.emit('httpUploadProgress', { loaded: 5, Bucket: 'b', Key: 'k' });
    upload.off('httpUploadProgress', listener);
    upload.once('httpUploadProgress', (progress) => seen.push(progress.loaded * 2));
    upload.emit('httpUploadProgress', { loaded: 7, Bucket: 'b', Key: 'k' });
    upload.emit('httpUploadProgress', { loaded: 9, Bucket: 'b', Key: 'k' });
    expect(seen).toEqual([5, 14]);
    // @ts-expect-error: no such event
    upload.on('httpUploadProgres', () => {});
    // @ts-expect-error: the listener gets a progress object
    upload.on('httpUploadProgress', (progress: string) => progress);
  });
});
