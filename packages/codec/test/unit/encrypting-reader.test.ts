import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CryptoBackend } from '../../src/crypto/backend/backend';
import { ErrorCode } from '../../src/format/errors';
import { ciphertextSize } from '../../src/format/geometry';
import { decodeHeader, encodeHeader } from '../../src/format/header';
import { decryptBody, decryptBuffer } from '../../src/io/decrypt';
import { EncryptingReader } from '../../src/io/encrypting-reader';
import { bufferSource, type RandomAccessSource } from '../../src/io/random-access-source';
import { fileSource } from '../../src/node/file-source';
import { backend, C, collect, concat, failureCode, filler, hex, keyring, STRIDE } from '../helpers';

let on: CryptoBackend;
let options: { keyring: ReturnType<typeof keyring>; backend: CryptoBackend; chunkSize: number };

beforeAll(async () => {
  on = await backend('native');
  options = { keyring: keyring('reader', filler(32, 77), on), backend: on, chunkSize: C };
});

describe('EncryptingReader', () => {
  test.each([0, 1, C - 1, C, 2 * C + 300])('size known up front, and a full read decrypts (%i bytes)', async (n) => {
    const plaintext = filler(n, n + 1);
    const reader = await EncryptingReader.create(bufferSource(plaintext), options);
    const prefix = encodeHeader(reader.cipher.header).length;
    expect(reader.size).toBe(prefix + ciphertextSize(n, C));
    expect(reader.cipher.header.stream.plaintextSize).toBe(n);
    const all = await reader.read(0, reader.size);
    expect(all.length).toBe(reader.size);
    expect(hex(await decryptBuffer(all, options))).toBe(hex(plaintext));
    // Reads past the end are clamped.
    expect(hex(await reader.read(0, reader.size + 1000))).toBe(hex(all));
    expect((await reader.read(reader.size, 10)).length).toBe(0);
    expect((await reader.read(reader.size + 5, 10)).length).toBe(0);
  });

  test('detached framing: the body only', async () => {
    const plaintext = filler(C + 10, 3);
    const reader = await EncryptingReader.create(bufferSource(plaintext), { ...options, framing: 'detached' });
    expect(reader.size).toBe(ciphertextSize(C + 10, C));
    const body = await reader.read(0, reader.size);
    expect(hex(await collect(decryptBody(reader.cipher, body)))).toBe(hex(plaintext));
  });

  test('a read at any offset equals the same slice of a full read; reads are deterministic', async () => {
    const plaintext = filler(2 * C + 300, 9);
    const reader = await EncryptingReader.create(bufferSource(plaintext), options);
    const all = await reader.read(0, reader.size);
    const prefix = decodeHeader(all)!.length;
    const interesting = [
      0,
      1,
      95,
      96,
      prefix - 1,
      prefix,
      prefix + 1,
      prefix + 24,
      prefix + STRIDE - 1,
      prefix + STRIDE,
    ];
    const offsets = [...interesting, ...Array.from({ length: 40 }, (_, i) => Math.floor((i * reader.size) / 40))];
    for (const offset of offsets) {
      for (const length of [0, 1, 17, 200, STRIDE, STRIDE + 1, 2 * STRIDE + 5, reader.size]) {
        const got = await reader.read(offset, length);
        expect([offset, length, hex(got)]).toEqual([offset, length, hex(all.subarray(offset, offset + length))]);
      }
    }
    // Streams from any offset agree too, one chunk per piece after the prefix.
    expect(hex(concat(...(await collectPieces(reader.stream()))))).toBe(hex(all));
    for (const offset of [0, 50, prefix, prefix + 100, prefix + STRIDE, reader.size - 1, reader.size]) {
      expect(hex(concat(...(await collectPieces(reader.stream(offset)))))).toBe(hex(all.subarray(offset)));
    }
    const pieces = await collectPieces(reader.stream());
    expect(pieces.map((p) => p.length)).toEqual([prefix, STRIDE, STRIDE, 340]);
  });

  test('re-reading a chunk whose source bytes changed gives it a new nonce; unchanged chunks are identical', async () => {
    const plaintext = filler(3 * C + 10, 4);
    const reader = await EncryptingReader.create(bufferSource(plaintext), { ...options, framing: 'detached' });
    const before = await reader.read(0, reader.size);
    plaintext[C + 5] = (plaintext[C + 5] as number) ^ 0xff; // inside chunk 1 (bufferSource does not copy)
    const after = await reader.read(0, reader.size);
    const chunk = (bytes: Uint8Array, i: number) => bytes.subarray(i * STRIDE, (i + 1) * STRIDE);
    expect(hex(chunk(after, 0))).toBe(hex(chunk(before, 0)));
    expect(hex(chunk(after, 2))).toBe(hex(chunk(before, 2)));
    expect(hex(chunk(after, 3))).toBe(hex(chunk(before, 3)));
    // The changed chunk: different nonce, so (key, nonce) is never reused with different plaintext.
    expect(hex(chunk(after, 1).subarray(0, 24))).not.toBe(hex(chunk(before, 1).subarray(0, 24)));
    expect(hex(await collect(decryptBody(reader.cipher, after)))).toBe(hex(plaintext));
    // Changing it back restores the original bytes (the nonce depends only on index, finality and plaintext).
    plaintext[C + 5] = (plaintext[C + 5] as number) ^ 0xff;
    expect(hex(await reader.read(0, reader.size))).toBe(hex(before));
  });

  test('nonces are unique across chunks with identical plaintext, and across readers', async () => {
    const plaintext = new Uint8Array(3 * C); // every chunk is zeros
    const a = await EncryptingReader.create(bufferSource(plaintext), { ...options, framing: 'detached' });
    const b = await EncryptingReader.create(bufferSource(plaintext), { ...options, framing: 'detached' });
    const nonces = new Set<string>();
    for (const reader of [a, b]) {
      const body = await reader.read(0, reader.size);
      for (let i = 0; i < 4; i++) nonces.add(hex(body.subarray(i * STRIDE, i * STRIDE + 24)));
    }
    expect(nonces.size).toBe(8);
  });

  test('a source that shrank fails with SIZE_MISMATCH', async () => {
    let data = filler(2 * C + 50, 5);
    const source: RandomAccessSource = { size: data.length, read: async (o, l) => data.subarray(o, o + l) };
    const reader = await EncryptingReader.create(source, options);
    data = data.subarray(0, C + 10);
    const prefix = reader.size - ciphertextSize(2 * C + 50, C);
    // Chunk 0 is still whole; chunk 1 and the final chunk are short.
    expect((await reader.read(0, prefix + STRIDE)).length).toBe(prefix + STRIDE);
    expect(await failureCode(reader.read(prefix + STRIDE, 10))).toBe(ErrorCode.SIZE_MISMATCH);
    expect(await failureCode(reader.read(0, reader.size))).toBe(ErrorCode.SIZE_MISMATCH);
    expect(await failureCode(collect(reader.stream()))).toBe(ErrorCode.SIZE_MISMATCH);
  });

  test('over a file that is truncated after the reader was created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-reader-'));
    const path = join(dir, 'plain');
    const plaintext = filler(2 * C + 50, 6);
    await writeFile(path, plaintext);
    const handle = await open(path, 'r');
    try {
      const reader = await EncryptingReader.create(await fileSource(handle), options);
      expect(hex(await decryptBuffer(await reader.read(0, reader.size), options))).toBe(hex(plaintext));
      await truncate(path, 100);
      expect(await failureCode(reader.read(0, reader.size))).toBe(ErrorCode.SIZE_MISMATCH);
    } finally {
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('argument errors', async () => {
    const reader = await EncryptingReader.create(bufferSource(filler(10)), options);
    for (const [o, l] of [
      [-1, 1],
      [0, -1],
      [0.5, 1],
      [0, Number.NaN],
      [Number.MAX_SAFE_INTEGER + 1, 1],
    ]) {
      await expect(reader.read(o as number, l as number)).rejects.toBeInstanceOf(RangeError);
    }
    await expect(EncryptingReader.create(null as unknown as RandomAccessSource, options)).rejects.toBeInstanceOf(
      TypeError,
    );
    await expect(
      EncryptingReader.create({ size: 1.5, read: async () => new Uint8Array(0) }, options),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(
      EncryptingReader.create(bufferSource(filler(10)), { ...options, chunkSize: 1000 }),
    ).rejects.toBeInstanceOf(RangeError);
    expect(() => bufferSource('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

async function collectPieces(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const p of pieces) out.push(p.slice());
  return out;
}
