/**
 * The local-file building blocks, in process: block reads with read-ahead,
 * positioned writes in flight, the atomic temp-file-and-rename, and gathered
 * output from any async iterable.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { FileWriter, readBlocks, writeAtomically } from '@encrypted-stream/codec/node';
import { writeOutput } from '../../src/atomic-output';
import { freshDir, listDir, randomData, useTempDir } from '../helpers/files';

const dir = useTempDir('pipeline');

/** Reads `path` with readBlocks, copying each block (they are only valid until the next). */
async function blocksOf(path: string, start: number, blockSize: number): Promise<Buffer[]> {
  const handle = await open(path, 'r');
  try {
    const out: Buffer[] = [];
    for await (const block of readBlocks(handle, blockSize, start)) out.push(Buffer.from(block));
    return out;
  } finally {
    await handle.close();
  }
}

describe('readBlocks', () => {
  test.each([0, 1, 999, 1000, 1001, 5000, 5001])('a %i-byte file in 1000-byte blocks', async (size) => {
    const data = randomData(size);
    const path = join(dir.path, `blocks-${size}`);
    writeFileSync(path, data);
    const blocks = await blocksOf(path, 0, 1000);
    expect(blocks.map((b) => b.length)).toEqual(
      Array.from({ length: Math.ceil(size / 1000) }, (_, i) => Math.min(1000, size - i * 1000)),
    );
    expect(Buffer.concat(blocks).equals(data)).toBe(true);
  });

  test('from an offset, and past the end of the file', async () => {
    const data = randomData(2500);
    const path = join(dir.path, 'blocks-offset');
    writeFileSync(path, data);
    const blocks = await blocksOf(path, 700, 1000);
    expect(blocks.map((b) => b.length)).toEqual([1000, 800]);
    expect(Buffer.concat(blocks).equals(data.subarray(700))).toBe(true);
    expect(await blocksOf(path, 9999, 1000)).toEqual([]);
  });

  test('a block stays intact while the next one is read ahead', async () => {
    const data = randomData(10_000);
    const path = join(dir.path, 'blocks-ahead');
    writeFileSync(path, data);
    const handle = await open(path, 'r');
    try {
      let at = 0;
      for await (const block of readBlocks(handle, 1000)) {
        const copy = Buffer.from(block);
        await new Promise((resolve) => setTimeout(resolve, 5)); // the read-ahead lands meanwhile
        expect(Buffer.from(block).equals(copy)).toBe(true);
        expect(copy.equals(data.subarray(at, at + 1000))).toBe(true);
        at += block.length;
      }
      expect(at).toBe(10_000);
    } finally {
      await handle.close();
    }
  });

  test('stopping early waits for the read in flight, so the file can be closed', async () => {
    const path = join(dir.path, 'blocks-stop');
    writeFileSync(path, randomData(10_000));
    const handle = await open(path, 'r');
    for await (const block of readBlocks(handle, 1000)) {
      expect(block.length).toBe(1000);
      break;
    }
    await handle.close(); // no read may be pending on a closed file (it would fail unhandled)
  });
});

describe('FileWriter', () => {
  test.each([1, 3])('pieces land in order at their positions, in bounded writes, %i in flight', async (inFlight) => {
    const path = join(dir.path, `writer-${inFlight}`);
    const handle = await open(path, 'w');
    const writer = new FileWriter(handle, 10, {
      maxWrite: 1000,
      maxInFlight: inFlight,
      maxQueued: 3000,
      syncEvery: 4000,
    });
    const sizes = [10, 2500, 0, 999, 1, 7000, 24, 65536, 16, 24, 63, 64, 1, 1];
    const pieces = sizes.map((size) => randomData(size));
    for (let i = 0; i < pieces.length; i += 2) await writer.write(pieces.slice(i, i + 2));
    expect(writer.position).toBe(10 + sizes.reduce((a, b) => a + b));
    await writer.finish();
    await handle.close();
    const written = readFileSync(path);
    expect(written.subarray(10).equals(Buffer.concat(pieces))).toBe(true);
    expect(written.subarray(0, 10).equals(Buffer.alloc(10))).toBe(true);
  });

  test('a failed write is thrown by a later call', async () => {
    const path = join(dir.path, 'writer-fails');
    writeFileSync(path, '');
    const handle = await open(path, 'r'); // writes fail with EBADF
    const writer = new FileWriter(handle, 0, { maxInFlight: 1 });
    const attempt = async () => {
      for (let i = 0; i < 3; i++) await writer.write([randomData(100)]);
      await writer.finish();
    };
    await expect(attempt()).rejects.toMatchObject({ code: 'EBADF' });
    await writer.settle();
    await handle.close();
  });
});

describe('writeAtomically / writeOutput', () => {
  test('the file appears, mode 0600, only once complete', async () => {
    const here = freshDir(dir.path, 'atomic-ok');
    const target = join(here, 'out');
    const data = randomData(3_000_001);
    await writeAtomically(target, async (writer) => {
      await writer.write([data.subarray(0, 1_000_000)]);
      expect(listDir(here)).toEqual([expect.stringMatching(/^\.out\.[0-9a-f]{12}\.partial$/)]);
      await writer.write([data.subarray(1_000_000)]);
    });
    expect(listDir(here)).toEqual(['out']);
    expect(readFileSync(target).equals(data)).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  test('a failure leaves neither the file nor the temporary file', async () => {
    const here = freshDir(dir.path, 'atomic-fail');
    const failure = new Error('boom');
    await expect(
      writeAtomically(join(here, 'out'), async (writer) => {
        for (let i = 0; i < 20; i++) await writer.write([randomData(300_000)]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(listDir(here)).toEqual([]);
  });

  test('writeOutput gathers any iterable to a file byte for byte', async () => {
    const here = freshDir(dir.path, 'gather');
    const pieces = Array.from({ length: 300 }, (_, i) => randomData((i * 7919) % 20_000));
    async function* source() {
      for (const piece of pieces) yield piece;
    }
    await writeOutput(join(here, 'out'), source(), new PassThrough());
    expect(readFileSync(join(here, 'out')).equals(Buffer.concat(pieces))).toBe(true);
    expect(listDir(here)).toEqual(['out']);
  });

  test('writeOutput: an iterable that fails midway leaves nothing', async () => {
    const here = freshDir(dir.path, 'gather-fail');
    async function* source() {
      for (let i = 0; i < 50; i++) yield randomData(100_000);
      throw new RangeError('source broke');
    }
    await expect(writeOutput(join(here, 'out'), source(), new PassThrough())).rejects.toThrow('source broke');
    expect(listDir(here)).toEqual([]);
  });

  test('writeOutput to "-" streams to stdout', async () => {
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    const data = randomData(100_000);
    await writeOutput(
      '-',
      (async function* () {
        yield data.subarray(0, 5);
        yield data.subarray(5);
      })(),
      stdout,
    );
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });
});
