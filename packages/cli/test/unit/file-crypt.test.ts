/**
 * The block pipelines (src/file-encrypt.ts, src/file-decrypt.ts) against the
 * codec's stream path, in process: the same bytes for the same cipher and
 * nonces, the same plaintext, and the same error (code and message) for every
 * damaged input — with read blocks small enough that every case spans many.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { decryptStream, encryptStream, LocalKeyring, type StreamCipher } from '@encrypted-stream/codec';
import {
  type CryptoBackend,
  collectBytes,
  createStreamCipher,
  defaultBackend,
  encodeHeader,
  encryptBody,
} from '@encrypted-stream/codec/low-level';
import { decryptFile, encryptFile, type FileCryptOptions, writeAtomically } from '@encrypted-stream/codec/node';
import { flipByte, freshDir, listDir, randomData, useTempDir } from '../helpers/files';

const dir = useTempDir('crypt');
const keyring = LocalKeyring.single('crypt-test', new Uint8Array(32).fill(7));
let counter = 0;

/** The default backend with reproducible "random" bytes: SHA-256 of a counter, reset per run. */
async function seededBackend(): Promise<CryptoBackend> {
  const base = await defaultBackend();
  const randomBytes = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let at = 0; at < length; at += 32) {
      const block = createHash('sha256').update(`seed ${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, length - at)), at);
    }
    return out;
  };
  return { ...base, randomBytes };
}

/** Runs `body` on a read handle of `path`. */
async function withFile<T>(path: string, body: (handle: Awaited<ReturnType<typeof open>>) => Promise<T>) {
  const handle = await open(path, 'r');
  try {
    return await body(handle);
  } finally {
    await handle.close();
  }
}

/** The outcome of a run: its bytes, or its error's class, code and message. */
async function outcome(run: () => Promise<Uint8Array>): Promise<{ bytes?: Buffer; error?: string }> {
  try {
    return { bytes: Buffer.from(await run()) };
  } catch (error) {
    const e = error as Error & { code?: string };
    return { error: `${e.constructor.name} ${e.code ?? ''} ${e.message}` };
  }
}

/** Decrypts the file at `path` through decryptFile (into `out`); its bytes or error. */
function fileDecrypt(path: string, out: string, options: FileCryptOptions) {
  return outcome(async () => {
    await withFile(path, (handle) =>
      writeAtomically(out, (writer) => decryptFile(handle, { keyring }, writer, options)),
    );
    return readFileSync(out);
  });
}

/** Decrypts `data` through the codec's stream path, fed in 1000-byte pieces. */
function streamDecrypt(data: Uint8Array) {
  async function* pieces() {
    for (let at = 0; at < data.length; at += 1000) yield data.subarray(at, at + 1000);
  }
  return outcome(() => collectBytes(decryptStream(pieces(), { keyring })));
}

describe('encryptFile writes what the stream path writes', () => {
  const CASES: [number, number, number][] = [
    // [plaintext bytes, chunk size, read size]
    [0, 4096, 4096],
    [1, 4096, 4096],
    [4095, 4096, 3 * 4096],
    [4096, 4096, 3 * 4096],
    [4097, 4096, 3 * 4096],
    [3 * 4096, 4096, 3 * 4096],
    [6 * 4096, 4096, 3 * 4096],
    [100_003, 4096, 5 * 4096],
    [300_007, 65536, 65536],
    [1_048_576 + 5, 1_048_576, 4 * 1_048_576],
    [5 * 1_048_576 + 3, 65536, 4 * 1_048_576],
  ];

  test.each(CASES)('%i bytes, %i-byte chunks, %i-byte reads', async (size, chunkSize, readSize) => {
    const here = freshDir(dir.path, `enc-${size}-${chunkSize}-${readSize}`);
    const plaintext = randomData(size);
    writeFileSync(join(here, 'in'), plaintext);
    const backend = await seededBackend();
    const cipher: StreamCipher = await createStreamCipher({ keyring, backend, chunkSize, plaintextSize: size });
    counter = 1000; // the same nonces for both runs
    const expected = Buffer.concat([encodeHeader(cipher.header), await collectBytes(encryptBody(cipher, plaintext))]);
    counter = 1000;
    await withFile(join(here, 'in'), (handle) =>
      writeAtomically(join(here, 'out'), (writer) => encryptFile(cipher, handle, writer, { readSize })),
    );
    expect(readFileSync(join(here, 'out')).equals(expected)).toBe(true);
    expect(listDir(here)).toEqual(['in', 'out']);
  });

  test('a file longer or shorter than the size recorded fails like the stream path, leaving nothing', async () => {
    const here = freshDir(dir.path, 'enc-size');
    writeFileSync(join(here, 'in'), randomData(50_000));
    for (const [declared, message] of [
      [40_000, 'source is longer than the 40000 bytes declared'],
      [60_000, 'source ended after 50000 of the 60000 bytes declared'],
    ] as const) {
      const cipher = await createStreamCipher({ keyring, chunkSize: 4096, plaintextSize: declared });
      const stream = encryptBody(cipher, readFileSync(join(here, 'in')));
      await expect(collectBytes(stream)).rejects.toThrow(new RangeError(message));
      const viaFile = withFile(join(here, 'in'), (handle) =>
        writeAtomically(join(here, 'out'), (writer) => encryptFile(cipher, handle, writer, { readSize: 8192 })),
      );
      await expect(viaFile).rejects.toThrow(new RangeError(message));
      expect(listDir(here)).toEqual(['in']);
    }
  });
});

describe('decryptFile decrypts and fails exactly as decryptStream', () => {
  const SIZE = 10 * 4096 + 123; // 11 chunks of 4 KiB
  const SLOT = 4096 + 40;
  let plaintext: Buffer;
  /** [label, encrypted file] with the size recorded, and without (as from stdin). */
  const streams: Record<string, Buffer> = {};
  let prefix: number;

  beforeAll(async () => {
    plaintext = randomData(SIZE);
    const sized = encryptStream(plaintext, { keyring, chunkSize: 4096, plaintextSize: SIZE });
    streams.sized = Buffer.from(await collectBytes(sized));
    streams.unsized = Buffer.from(await collectBytes(encryptStream(plaintext, { keyring, chunkSize: 4096 })));
    prefix = streams.sized.length - (10 * SLOT + 123 + 40);
  });

  /** Damaged variants of an encrypted stream `s`. */
  const damage: [string, (s: Buffer) => Buffer][] = [
    ['intact', (s) => s],
    ['empty file', () => Buffer.alloc(0)],
    ['inside the header', (s) => s.subarray(0, 60)],
    ['header only', (s) => s.subarray(0, prefix)],
    ['not our format', () => randomData(5000)],
    ['a flipped byte in chunk 0', (s) => flipByte(s, prefix + 30)],
    ['a flipped byte in chunk 4', (s) => flipByte(s, prefix + 4 * SLOT + 100)],
    ['a flipped byte in the last tag', (s) => flipByte(s, s.length - 1)],
    ['flipped bytes in chunks 2 and 7', (s) => flipByte(flipByte(s, prefix + 2 * SLOT + 9), prefix + 7 * SLOT + 9)],
    ['cut at a chunk boundary', (s) => s.subarray(0, prefix + 6 * SLOT)],
    ['cut mid-chunk', (s) => s.subarray(0, prefix + 6 * SLOT + 1000)],
    ['cut 20 bytes into a chunk', (s) => s.subarray(0, prefix + 6 * SLOT + 20)],
    ['cut before the final chunk', (s) => s.subarray(0, prefix + 10 * SLOT)],
    ['one byte appended', (s) => Buffer.concat([s, Buffer.from([0])])],
    ['a whole chunk appended', (s) => Buffer.concat([s, s.subarray(prefix, prefix + SLOT)])],
    [
      'chunks 3 and 4 swapped',
      (s) =>
        Buffer.concat([
          s.subarray(0, prefix + 3 * SLOT),
          s.subarray(prefix + 4 * SLOT, prefix + 5 * SLOT),
          s.subarray(prefix + 3 * SLOT, prefix + 4 * SLOT),
          s.subarray(prefix + 5 * SLOT),
        ]),
    ],
  ];

  for (const kind of ['sized', 'unsized']) {
    test.each(damage)(`${kind}: %s`, async (label, change) => {
      const data = change(streams[kind] as Buffer);
      const here = freshDir(dir.path, `dec-${kind}-${label.replace(/\W+/g, '-')}`);
      writeFileSync(join(here, 'in.es'), data);
      const expected = await streamDecrypt(data);
      const runs: FileCryptOptions[] = [{ readSize: SLOT }, { readSize: 3 * SLOT }, { readSize: 64 * 1024 }];
      for (const options of runs) {
        const got = await fileDecrypt(join(here, 'in.es'), join(here, 'out'), options);
        expect(got).toEqual(expected);
        if (got.error)
          expect(listDir(here)).toEqual(['in.es']); // neither output nor temporary file
        else expect(listDir(here)).toEqual(['in.es', 'out']);
      }
      if (label === 'intact') expect(expected.bytes?.equals(plaintext)).toBe(true);
    });
  }

  test('a wrong keyring fails before any output, as the stream path does', async () => {
    const here = freshDir(dir.path, 'dec-wrong-key');
    writeFileSync(join(here, 'in.es'), streams.sized as Buffer);
    const other = LocalKeyring.single('crypt-test', new Uint8Array(32).fill(8));
    const viaFile = withFile(join(here, 'in.es'), (handle) =>
      writeAtomically(join(here, 'out'), (writer) => decryptFile(handle, { keyring: other }, writer)),
    );
    await expect(viaFile).rejects.toMatchObject({ code: 'ES_KEY_UNWRAP_FAILED' });
    expect(listDir(here)).toEqual(['in.es']);
  });
});
