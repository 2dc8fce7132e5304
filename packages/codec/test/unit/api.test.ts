import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as root from '../../src';
import * as lowLevel from '../../src/low-level';

/** The names of both entries a dependant can import. */
const codec = { ...root, ...lowLevel };

import type { CryptoBackend } from '../../src/crypto/backend/backend';
import type { Keyring } from '../../src/crypto/keyring';
import { createStreamCipher, openStreamCipher, type StreamCipher } from '../../src/crypto/stream-cipher';
import { ChunkDecoder } from '../../src/engine/chunk-decoder';
import { ChunkEncoder } from '../../src/engine/chunk-encoder';
import {
  AuthenticationError,
  ContextMismatchError,
  EncryptedStreamError,
  ErrorCode,
  FormatError,
  KeyError,
} from '../../src/format/errors';
import { decodeHeader } from '../../src/format/header';
import { decryptBody, decryptBuffer, decryptStream, readHeader } from '../../src/io/decrypt';
import { encryptBody, encryptBuffer, encryptStream } from '../../src/io/encrypt';
import { EncryptingReader } from '../../src/io/encrypting-reader';
import { decryptRange, verifiedPlaintextSize } from '../../src/io/random-access';
import { bufferSource } from '../../src/io/random-access-source';
import { trimRange } from '../../src/io/range';
import { openEncryptedFile } from '../../src/node/encrypted-file';
import {
  backend,
  C,
  codeOf,
  collect,
  concat,
  drain,
  failureCode,
  filler,
  flipBit,
  fromPieces,
  hex,
  keyring,
  STRIDE,
} from '../helpers';

let on: CryptoBackend;
let kr: ReturnType<typeof keyring>;
let options: { keyring: ReturnType<typeof keyring>; backend: CryptoBackend };

beforeAll(async () => {
  on = await backend('native');
  kr = keyring('api', filler(32, 33), on);
  options = { keyring: kr, backend: on };
});

/** Rejects (or throws) an argument error, not an EncryptedStreamError. */
async function expectArgumentError(work: () => unknown, type: typeof TypeError | typeof RangeError) {
  let thrown: unknown;
  try {
    await work();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  expect(thrown).not.toBeInstanceOf(EncryptedStreamError);
}

describe('zero-length plaintext', () => {
  test('every API encrypts and decrypts it: one empty final chunk', async () => {
    const empty = new Uint8Array(0);
    const bytes = await encryptBuffer(empty, { ...options, chunkSize: C });
    const { header, length } = decodeHeader(bytes)!;
    expect(header.stream.plaintextSize).toBe(0);
    expect(bytes.length - length).toBe(40);
    expect((await decryptBuffer(bytes, options)).length).toBe(0);

    const unsized = await collect(encryptStream([], { ...options, chunkSize: C }));
    expect(decodeHeader(unsized)!.header.stream.plaintextSize).toBeUndefined();
    expect((await collect(decryptStream(unsized, options))).length).toBe(0);

    const cipher = await createStreamCipher({ ...options, chunkSize: C, plaintextSize: 0 });
    const body = await collect(encryptBody(cipher, empty));
    expect(body.length).toBe(40);
    expect((await collect(decryptBody(cipher, body))).length).toBe(0);
    expect((await collect(decryptRange(cipher, (s, e) => body.subarray(s, e), 40, 0, 0))).length).toBe(0);
    expect((await collect(decryptRange(cipher, (s, e) => body.subarray(s, e), 40, 0, 100))).length).toBe(0);
    // The empty final chunk is still authenticated.
    expect(
      await failureCode(collect(decryptRange(cipher, (s, e) => flipBit(body, 39, 0).subarray(s, e), 40, 0, 0))),
    ).toBe(ErrorCode.AUTH_FAILED);

    const reader = await EncryptingReader.create(bufferSource(empty), { ...options, chunkSize: C });
    expect((await decryptBuffer(await reader.read(0, reader.size), options)).length).toBe(0);

    const dir = await mkdtemp(join(tmpdir(), 'es-empty-'));
    try {
      await writeFile(join(dir, 'e'), bytes);
      const file = await openEncryptedFile(join(dir, 'e'), options);
      expect(file.plaintextSize).toBe(0);
      expect((await collect(file.read(0, 0))).length).toBe(0);
      await file.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an empty body is not an empty stream', async () => {
    const cipher = await createStreamCipher({ ...options, chunkSize: C });
    expect(await failureCode(collect(decryptBody(cipher, new Uint8Array(0))))).toBe(ErrorCode.TRUNCATED);
  });
});

describe('the default backend and chunk size', () => {
  test('defaultBackend / getBackend, and a default-size round trip through the package entry point', async () => {
    const chosen = await codec.defaultBackend();
    expect(['native', 'libsodium']).toContain(chosen.name);
    expect((await codec.getBackend('libsodium')).name).toBe('libsodium');
    expect((await codec.getBackend('native')).name).toBe('native');
    const keys = codec.LocalKeyring.single('default', filler(32, 1));
    const plaintext = filler(codec.DEFAULT_CHUNK_SIZE + 1, 2);
    const bytes = await codec.encryptBuffer(plaintext, { keyring: keys });
    expect(bytes[6]).toBe(16);
    expect(bytes.length).toBe(96 + 1 + 7 + 2 + 72 + codec.ciphertextSize(plaintext.length, codec.DEFAULT_CHUNK_SIZE));
    expect(hex(await codec.decryptBuffer(bytes, { keyring: keys }))).toBe(hex(plaintext));
  });

  test('the constants match FORMAT.md', () => {
    expect([codec.HEADER_SIZE, codec.NONCE_SIZE, codec.TAG_SIZE, codec.CHUNK_OVERHEAD, codec.KEY_SIZE]).toEqual([
      96, 24, 16, 40, 32,
    ]);
    expect([codec.MIN_CHUNK_EXPONENT, codec.MAX_CHUNK_EXPONENT, codec.DEFAULT_CHUNK_SIZE]).toEqual([12, 24, 65536]);
    expect(Object.values(codec.ErrorCode).every((c) => /^ES_[A-Z_]+$/.test(c))).toBe(true);
  });
});

describe('error classes', () => {
  test('codes and hierarchy', () => {
    const cases: [EncryptedStreamError, string][] = [
      [new AuthenticationError('x'), ErrorCode.AUTH_FAILED],
      [new FormatError(ErrorCode.TRUNCATED, 'x'), ErrorCode.TRUNCATED],
      [new KeyError(ErrorCode.UNKNOWN_KEY, 'x'), ErrorCode.UNKNOWN_KEY],
      [new ContextMismatchError(), ErrorCode.CONTEXT_MISMATCH],
    ];
    for (const [error, code] of cases) {
      expect(error).toBeInstanceOf(EncryptedStreamError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.name).toBe(error.constructor.name);
    }
  });
});

describe('argument errors are TypeError / RangeError', () => {
  const notKeyring = { wrap: async () => ({}) } as unknown as Keyring;

  test.each<[string, () => unknown, typeof TypeError | typeof RangeError]>([
    ['encryptBuffer(string)', () => encryptBuffer('abc' as unknown as Uint8Array, options), TypeError],
    ['decryptBuffer(string)', () => decryptBuffer('abc' as unknown as Uint8Array, options), TypeError],
    ['no options', () => encryptBuffer(new Uint8Array(1), undefined as unknown as typeof options), TypeError],
    ['no keyring', () => encryptBuffer(new Uint8Array(1), { backend: on } as unknown as typeof options), TypeError],
    ['a keyring without unwrap', () => encryptBuffer(new Uint8Array(1), { keyring: notKeyring }), TypeError],
    [
      'decrypting without a keyring',
      async () => decryptBuffer(await encryptBuffer(new Uint8Array(1), options), {} as typeof options),
      TypeError,
    ],
    ['chunkSize 1000', () => encryptBuffer(new Uint8Array(1), { ...options, chunkSize: 1000 }), RangeError],
    ['chunkSize 2^25', () => encryptBuffer(new Uint8Array(1), { ...options, chunkSize: 2 ** 25 }), RangeError],
    ['plaintextSize -1', () => createStreamCipher({ ...options, plaintextSize: -1 }), RangeError],
    ['plaintextSize 1.5', () => createStreamCipher({ ...options, plaintextSize: 1.5 }), RangeError],
    ['plaintextSize NaN', () => createStreamCipher({ ...options, plaintextSize: Number.NaN }), RangeError],
    ['plaintextSize 2^53', () => createStreamCipher({ ...options, plaintextSize: 2 ** 53 }), RangeError],
    [
      'source longer than declared',
      () => collect(encryptStream(new Uint8Array(11), { ...options, plaintextSize: 10 })),
      RangeError,
    ],
    [
      'source shorter than declared',
      () => collect(encryptStream(new Uint8Array(9), { ...options, plaintextSize: 10 })),
      RangeError,
    ],
    ['a string source', () => collect(encryptStream('abc' as unknown as Uint8Array, options)), TypeError],
    ['a number source', () => collect(decryptStream(5 as unknown as Uint8Array, options)), TypeError],
    [
      'decryptRange start < 0',
      async () => collect(decryptRange(await cipherFor(10), () => new Uint8Array(0), 50, -1, 5)),
      RangeError,
    ],
    [
      'decryptRange start > size',
      async () => collect(decryptRange(await cipherFor(10), () => new Uint8Array(0), 50, 11, 20)),
      RangeError,
    ],
    [
      'decryptRange start 1.5',
      async () => collect(decryptRange(await cipherFor(10), () => new Uint8Array(0), 50, 1.5, 5)),
      RangeError,
    ],
    ['ChunkEncoder firstChunk -1', async () => new ChunkEncoder(await cipherFor(), -1), RangeError],
    ['ChunkDecoder firstChunk 0.5', async () => new ChunkDecoder(await cipherFor(), { firstChunk: 0.5 }), RangeError],
    [
      'ChunkDecoder past the final chunk',
      async () => new ChunkDecoder(await cipherFor(), { firstChunk: 2, plaintextSize: C }),
      RangeError,
    ],
    [
      'a non-final run that is not whole chunks',
      async () => collect(encryptBody(await cipherFor(), new Uint8Array(10), { final: false })),
      RangeError,
    ],
  ])('%s', async (_name, work, type) => {
    await expectArgumentError(work, type);
  });

  test('StreamCipher and ChunkEncoder misuse', async () => {
    const cipher = await cipherFor();
    expect(() => cipher.encryptChunk(0, false, [new Uint8Array(C - 1)])).toThrow(RangeError);
    expect(() => cipher.encryptChunk(0, true, [new Uint8Array(C)])).toThrow(RangeError);
    expect(() => cipher.encryptChunk(0, true, [new Uint8Array(1)], new Uint8Array(12))).toThrow(RangeError);
    expect(() => cipher.decryptChunk(0, true, new Uint8Array(23), [], new Uint8Array(16))).toThrow(RangeError);
    expect(() => cipher.decryptChunk(0, true, new Uint8Array(24), [], new Uint8Array(15))).toThrow(RangeError);
    const encoder = new ChunkEncoder(cipher);
    encoder.finish();
    expect(() => encoder.push(new Uint8Array(1))).toThrow(RangeError);
    expect(() => encoder.finish()).toThrow(RangeError);
  });
});

async function cipherFor(plaintextSize?: number): Promise<StreamCipher> {
  return createStreamCipher({ ...options, chunkSize: C, ...(plaintextSize === undefined ? {} : { plaintextSize }) });
}

describe('chunk-level building blocks', () => {
  test('multipart-style runs (firstChunk, final) concatenate into one body', async () => {
    const plaintext = filler(5 * C + 17, 44);
    const cipher = await cipherFor(plaintext.length);
    const part1 = await collect(encryptBody(cipher, plaintext.subarray(0, 2 * C), { final: false }));
    const part2 = await collect(encryptBody(cipher, plaintext.subarray(2 * C, 4 * C), { firstChunk: 2, final: false }));
    const part3 = await collect(encryptBody(cipher, plaintext.subarray(4 * C), { firstChunk: 4 }));
    expect([part1.length, part2.length]).toEqual([2 * STRIDE, 2 * STRIDE]);
    const body = concat(part1, part2, part3);
    expect(hex(await collect(decryptBody(cipher, body)))).toBe(hex(plaintext));
    // Parts in the wrong order do not authenticate.
    expect(await failureCode(collect(decryptBody(cipher, concat(part2, part1, part3))))).toBe(ErrorCode.AUTH_FAILED);
  });

  test('ChunkEncoder / ChunkDecoder track chunk indexes; a mid-stream run decodes with firstChunk', async () => {
    const plaintext = filler(3 * C + 5, 45);
    const cipher = await cipherFor();
    const encoder = new ChunkEncoder(cipher);
    const out = [...encoder.push(plaintext.subarray(0, C + 1)), ...encoder.push(plaintext.subarray(C + 1))];
    expect(encoder.nextChunk).toBe(3);
    out.push(...encoder.finish());
    expect(encoder.nextChunk).toBe(4);
    const body = concat(...out);
    const decoder = new ChunkDecoder(cipher, { firstChunk: 1, expectFinal: false });
    const middle = decoder.push(body.subarray(STRIDE, 3 * STRIDE));
    expect(hex(concat(...middle))).toBe(hex(plaintext.subarray(C, 3 * C)));
    expect(decoder.nextChunk).toBe(3);
    expect(decoder.done).toBe(false);
    expect(decoder.finish()).toEqual([]);
    // Without expectFinal: false, stopping on a boundary is truncation.
    const strict = new ChunkDecoder(cipher, { firstChunk: 1 });
    strict.push(body.subarray(STRIDE, 3 * STRIDE));
    expect(codeOf(catchSync(() => strict.finish()))).toBe(ErrorCode.TRUNCATED);
    // The wrong firstChunk does not authenticate.
    const shifted = new ChunkDecoder(cipher, { firstChunk: 2, expectFinal: false });
    expect(codeOf(catchSync(() => shifted.push(body.subarray(STRIDE, 2 * STRIDE))))).toBe(ErrorCode.AUTH_FAILED);
  });

  test('readHeader splits the prefix from the body, whatever the piece boundaries', async () => {
    const bytes = await encryptBuffer(filler(C + 3, 46), { ...options, chunkSize: C });
    const { length } = decodeHeader(bytes)!;
    for (const cut of [1, 96, 97, length - 1, length, length + 1]) {
      const { header, body } = await readHeader(fromPieces([bytes.subarray(0, cut), bytes.subarray(cut)]));
      expect(header.keyId).toBe('api');
      expect(hex(await collect(body))).toBe(hex(bytes.subarray(length)));
    }
  });

  test('trimRange: exact slices, and TRUNCATED when the input runs short', async () => {
    const pieces = [filler(10, 1), filler(10, 2), filler(10, 3)];
    const all = concat(...pieces);
    expect(hex(await collect(trimRange(fromPieces(pieces), 5, 20)))).toBe(hex(all.subarray(5, 25)));
    expect(hex(await collect(trimRange(fromPieces(pieces), 0, 0)))).toBe('');
    expect(codeOf((await drain(trimRange(fromPieces(pieces), 25, 6))).error)).toBe(ErrorCode.TRUNCATED);
  });

  test('verifiedPlaintextSize checks the body size against the header', async () => {
    const cipher = await cipherFor(C + 1);
    expect(verifiedPlaintextSize(cipher, STRIDE + 41)).toBe(C + 1);
    expect(codeOf(catchSync(() => verifiedPlaintextSize(cipher, STRIDE + 42)))).toBe(ErrorCode.SIZE_MISMATCH);
    expect(codeOf(catchSync(() => verifiedPlaintextSize(cipher, STRIDE)))).toBe(ErrorCode.TRUNCATED);
    const unsized = await cipherFor();
    expect(verifiedPlaintextSize(unsized, STRIDE + 42)).toBe(C + 2);
  });

  test('openStreamCipher works from the detached strings alone', async () => {
    const cipher = await cipherFor(5);
    const body = await collect(encryptBody(cipher, filler(5)));
    const opened = await openStreamCipher(codec.fromDetachedHeader(codec.toDetachedHeader(cipher.header)), options);
    expect(hex(await collect(decryptBody(opened, body)))).toBe(hex(filler(5)));
  });
});

describe('openEncryptedFile', () => {
  test('ranged reads, size checks and errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'es-file-'));
    try {
      const plaintext = filler(3 * C + 9, 47);
      const bytes = await encryptBuffer(plaintext, { ...options, chunkSize: C });
      const path = join(dir, 'f');
      await writeFile(path, bytes);
      const file = await openEncryptedFile(path, options);
      expect(file.plaintextSize).toBe(plaintext.length);
      expect(hex(await collect(file.read(C - 3, 2 * C + 3)))).toBe(hex(plaintext.subarray(C - 3, 2 * C + 3)));
      expect(hex(await collect(file.read(3 * C, 10 ** 9)))).toBe(hex(plaintext.subarray(3 * C)));
      await file.close();

      // A byte appended to the file: the body size no longer matches the header.
      await writeFile(path, concat(bytes, Uint8Array.of(0)));
      expect(await failureCode(openEncryptedFile(path, options))).toBe(ErrorCode.SIZE_MISMATCH);
      // A chunk damaged on disk: the range that touches it fails, others still read.
      const prefix = decodeHeader(bytes)!.length;
      await writeFile(path, flipBit(bytes, prefix + STRIDE + 100, 1));
      const damaged = await openEncryptedFile(path, options);
      expect(hex(await collect(damaged.read(0, C)))).toBe(hex(plaintext.subarray(0, C)));
      const { output, error } = await drain(damaged.read(C - 10, C + 10));
      // Chunk 0 authenticated, so its 10 bytes are released; nothing of chunk 1.
      expect(codeOf(error)).toBe(ErrorCode.AUTH_FAILED);
      expect(hex(output)).toBe(hex(plaintext.subarray(C - 10, C)));
      await damaged.close();
      // Not an encrypted file; and too short to hold a header.
      await writeFile(path, filler(500, 1));
      expect(await failureCode(openEncryptedFile(path, options))).toBe(ErrorCode.MALFORMED);
      await writeFile(path, bytes.subarray(0, 50));
      expect(await failureCode(openEncryptedFile(path, options))).toBe(ErrorCode.TRUNCATED);
      await expect(openEncryptedFile(join(dir, 'missing'), options)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function catchSync(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
