/**
 * The final-chunk hole (issue 10): a stream cut after whole chunks, with 40
 * bytes appended where its final chunk should be, must never read as
 * complete. Every read that reaches the end of the plaintext authenticates
 * the final chunk (index floor(P/C), final flag set), even when P is a
 * multiple of the chunk size and that chunk is empty. Objects put from a file
 * also record their size, which the cut contradicts. Built binary, real S3.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { useBucket } from '@encrypted-stream/test-support';
import { EXIT, expectOk, expectOneLineError, jsonOf, run } from './helpers/cli';
import {
  ciphertextSize,
  flipByte,
  freshDir,
  listDir,
  randomData,
  selfContainedSize,
  useTempDir,
} from './helpers/files';
import { s3Flags } from './helpers/s3';

const CHUNK = 65536;
/** stdin records no size only when it spans more than one part (one part is one PutObject, size recorded). */
const PART = 5 * 1024 * 1024;
const STRIDE = CHUNK + 40;
const KEY_ID = 'final-chunk-key';
const dir = useTempDir('final');
const bucket = useBucket('final');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;
const cli = (args: string[], options: Parameters<typeof run>[1] = {}) =>
  run([...args, '-k', keyring, ...s3Flags()], options);

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', KEY_ID]));
});

/** `body` cut after its first two full chunks, with 40 arbitrary bytes where a final chunk would be. */
const cutAfterTwoChunks = (body: Buffer, start = 0) =>
  Buffer.concat([body.subarray(0, start + 2 * STRIDE), randomData(40)]);

/** Replaces an object's body the way any bucket writer could: same metadata and content type. */
async function replaceBody(key: string, change: (body: Buffer) => Buffer): Promise<void> {
  const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  await bucket.client.send(
    new PutObjectCommand({
      Bucket: bucket.name,
      Key: key,
      Body: change(body),
      Metadata: out.Metadata,
      ContentType: out.ContentType,
    }),
  );
}

/** Puts `plaintext` from a file or from stdin, in 5 MiB parts (stdin longer than one part records no size). */
async function putObject(key: string, plaintext: Buffer, from: 'file' | 'stdin') {
  const args = ['put', from === 'file' ? path(key.replace(/\W/g, '_')) : '-', url(key), '-q', '--part-size', '5MiB'];
  if (from === 'file') writeFileSync(args[1] as string, plaintext);
  expectOk(await cli([...args, '--state-dir', path('state')], from === 'stdin' ? { input: plaintext } : {}));
}

describe('an S3 object cut to 2 full chunks + 40 bytes', () => {
  test.concurrent.each([
    ['a 1,000,000-byte file', 1_000_000, 'file', /ES_SIZE_MISMATCH/],
    ['a file of exactly 3 × 64 KiB', 3 * CHUNK, 'file', /ES_SIZE_MISMATCH/],
    ['1,000,000 bytes from stdin (one PutObject: size recorded)', 1_000_000, 'stdin', /ES_SIZE_MISMATCH/],
    ['5 MiB + 1,000,000 bytes from stdin (two parts: no size recorded)', PART + 1_000_000, 'stdin', /ES_AUTH_FAILED/],
    ['5 MiB + 3 × 64 KiB from stdin (two parts: no size recorded)', PART + 3 * CHUNK, 'stdin', /ES_AUTH_FAILED/],
  ] as const)('%s: verify and get exit 4, get leaves no file', async (_label, size, from, reason) => {
    const key = `cut/${from}-${size}`;
    await putObject(key, randomData(size), from);
    expectOk(await cli(['verify', url(key), '-q'])); // intact, it verifies
    await replaceBody(key, (body) => cutAfterTwoChunks(body));

    expectOneLineError(await cli(['verify', url(key)]), EXIT.INTEGRITY, reason);
    const here = freshDir(dir.path, `get-${from}-${size}`);
    expectOneLineError(await cli(['get', url(key), join(here, 'out')]), EXIT.INTEGRITY, reason);
    // A range that reaches the (claimed) end must authenticate the final chunk too.
    expectOneLineError(await cli(['get', url(key), join(here, 'tail'), '--range=-100']), EXIT.INTEGRITY, reason);
    expect(listDir(here)).toEqual([]); // neither output nor a temporary file
  });

  test('the empty final chunk of a 5 MiB + 3 × 64 KiB object from stdin, altered: reads reaching the end fail, others work', async () => {
    const key = 'tail/empty-final';
    const size = PART + 3 * CHUNK;
    const plaintext = randomData(size);
    await putObject(key, plaintext, 'stdin');
    await replaceBody(key, (body) => {
      expect(body).toHaveLength(ciphertextSize(size)); // 83 full chunks, then the 40-byte empty final one
      return flipByte(body, body.length - 1);
    });
    const here = freshDir(dir.path, 'empty-final');
    for (const range of ['--range=-100', `--range=${size - 1}-`, `--range=0-${size - 1}`]) {
      expectOneLineError(await cli(['get', url(key), join(here, 'out'), range]), EXIT.INTEGRITY, /ES_AUTH_FAILED/);
    }
    expectOneLineError(await cli(['verify', url(key)]), EXIT.INTEGRITY, /ES_AUTH_FAILED/);
    expect(listDir(here)).toEqual([]);
    // A range that stops before the end does not need the final chunk.
    const early = await cli(['get', url(key), '-', `--range=${size - 200_000}-${size - 2}`]);
    expectOk(early);
    expect(early.stdout.equals(plaintext.subarray(size - 200_000, size - 1))).toBe(true);
  });

  test('head says whether the size it shows is authenticated', async () => {
    const fromFile = jsonOf(await cli(['head', url('cut/file-1000000'), '--json']));
    expect(fromFile).toMatchObject({ plaintextBytes: 1_000_000, sizeAuthenticated: true });
    const fromStdin = jsonOf(await cli(['head', url('tail/empty-final'), '--json']));
    expect(fromStdin).toMatchObject({ plaintextBytes: PART + 3 * CHUNK, sizeAuthenticated: false });
    const smallStdin = jsonOf(await cli(['head', url('cut/stdin-1000000'), '--json']));
    expect(smallStdin).toMatchObject({ sizeAuthenticated: true }); // cut, but the header still records 1,000,000
  });
});

describe('a local .es file cut to header + 2 full chunks + 40 bytes', () => {
  /** Encrypts `plaintext` from a file (size recorded) or stdin (none) and returns the .es bytes. */
  async function encrypted(name: string, plaintext: Buffer, from: 'file' | 'stdin'): Promise<Buffer> {
    const here = freshDir(dir.path, `enc-${name}`);
    if (from === 'stdin') {
      const out = await run(['encrypt', '-k', keyring], { input: plaintext });
      expectOk(out);
      return out.stdout;
    }
    writeFileSync(join(here, 'in'), plaintext);
    expectOk(await run(['encrypt', '-k', keyring, join(here, 'in'), '-o', join(here, 'in.es')]));
    return readFileSync(join(here, 'in.es'));
  }

  test.concurrent.each([
    ['a 1,000,000-byte file', 1_000_000, 'file', /ES_(SIZE_MISMATCH|TRUNCATED)/],
    ['a file of exactly 3 × 64 KiB', 3 * CHUNK, 'file', /ES_(SIZE_MISMATCH|TRUNCATED)/],
    ['1,000,000 bytes from stdin (no size recorded)', 1_000_000, 'stdin', /ES_AUTH_FAILED/],
    ['3 × 64 KiB from stdin (no size recorded)', 3 * CHUNK, 'stdin', /ES_AUTH_FAILED/],
  ] as const)('%s: decrypt exits 4 and leaves no file, --range to the end too', async (_label, size, from, reason) => {
    const name = `${from}-${size}`;
    const stored = await encrypted(name, randomData(size), from);
    const headerLength = stored.length - ciphertextSize(size);
    if (from === 'file') expect(stored).toHaveLength(selfContainedSize(size, KEY_ID));
    const here = freshDir(dir.path, `cut-${name}`);
    writeFileSync(join(here, 'in.es'), cutAfterTwoChunks(stored, headerLength));

    expectOneLineError(await run(['decrypt', '-k', keyring, join(here, 'in.es'), '-o', join(here, 'out')]), 4, reason);
    expectOneLineError(
      await run(['decrypt', '-k', keyring, join(here, 'in.es'), '-o', join(here, 'out'), '--range=-100']),
      EXIT.INTEGRITY,
      reason,
    );
    expect(listDir(here)).toEqual(['in.es']);
    const piped = await run(['decrypt', '-k', keyring], { stdinFile: join(here, 'in.es') });
    expectOneLineError(piped, EXIT.INTEGRITY, /ES_(SIZE_MISMATCH|TRUNCATED|AUTH_FAILED)/);
    expect(piped.stdout.length).toBeLessThanOrEqual(2 * CHUNK); // at most the chunks that authenticated
  });

  test('the empty final chunk of a 3 × 64 KiB file, altered: decrypt --range to the end fails', async () => {
    const plaintext = randomData(3 * CHUNK);
    const stored = await encrypted('empty-final', plaintext, 'file');
    const here = freshDir(dir.path, 'local-empty-final');
    writeFileSync(join(here, 'in.es'), flipByte(stored, stored.length - 1));
    const decrypt = (...extra: string[]) => run(['decrypt', '-k', keyring, join(here, 'in.es'), ...extra]);
    expectOneLineError(await decrypt('-o', join(here, 'out'), '--range=-100'), EXIT.INTEGRITY, /ES_AUTH_FAILED/);
    expectOneLineError(await decrypt('-o', join(here, 'out')), EXIT.INTEGRITY, /ES_AUTH_FAILED/);
    expect(listDir(here)).toEqual(['in.es']);
    const early = await decrypt('--range', `0-${3 * CHUNK - 2}`);
    expectOk(early);
    expect(early.stdout.equals(plaintext.subarray(0, 3 * CHUNK - 1))).toBe(true);
  });
});
