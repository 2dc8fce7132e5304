/**
 * encrypt / decrypt of local files and pipes, end to end: the built binary,
 * real files in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT, expectOk, expectOneLineError, jsonOf, run, start } from '../helpers/cli';
import { flipByte, freshDir, listDir, randomData, selfContainedSize, useTempDir } from '../helpers/files';

const dir = useTempDir('local');
const path = (name: string) => join(dir.path, name);
const KEY_ID = 'local-test';
let keyring: string;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', KEY_ID]));
});

const SIZES = [0, 1, 65535, 65536, 65537, 3_000_017];

describe('encrypt / decrypt round trips', () => {
  test.concurrent.each(SIZES)('%i bytes, file to file', async (size) => {
    const plaintext = randomData(size);
    const here = freshDir(dir.path, `rt-${size}`);
    const [input, encrypted, output] = [join(here, 'in'), join(here, 'in.es'), join(here, 'out')];
    writeFileSync(input, plaintext);
    const enc = jsonOf(await run(['encrypt', '-k', keyring, input, '-o', encrypted, '--json']));
    expect(enc).toEqual({ input, output: encrypted, plaintextBytes: size });
    const stored = readFileSync(encrypted);
    expect(stored).toHaveLength(selfContainedSize(size, KEY_ID));
    expect(stored.subarray(0, 5).toString('latin1')).toBe('ESTR\x01');
    if (size >= 64) expect(stored.includes(plaintext.subarray(0, 64))).toBe(false);
    expectOk(await run(['decrypt', '-k', keyring, encrypted, '-o', output]));
    expect(readFileSync(output).equals(plaintext)).toBe(true);
    expect(listDir(here)).toEqual(['in', 'in.es', 'out']); // no temporary file left behind
  });

  test.concurrent.each(SIZES)('%i bytes, stdin to stdout', async (size) => {
    const plaintext = randomData(size);
    const enc = await run(['encrypt', '-k', keyring], { input: plaintext });
    expectOk(enc);
    expect(enc.stdout).toHaveLength(selfContainedSize(size, KEY_ID));
    const dec = await run(['decrypt', '-k', keyring, '-'], { input: enc.stdout });
    expectOk(dec);
    expect(dec.stdout.equals(plaintext)).toBe(true);
  });

  test('a file encrypted from stdin decrypts from the file, and stdin from a file redirect', async () => {
    const plaintext = randomData(200_003);
    writeFileSync(path('mixed'), plaintext);
    // `encrypted-stream encrypt < mixed > mixed.es`
    const enc = await run(['encrypt', '-k', keyring, '-o', path('mixed.es')], { stdinFile: path('mixed') });
    expectOk(enc);
    const dec = await run(['decrypt', '-k', keyring, path('mixed.es')]);
    expectOk(dec);
    expect(dec.stdout.equals(plaintext)).toBe(true);
    expect(dec.stderr).toMatch(/^decrypted .* to -\n$/); // the summary goes to stderr when stdout carries data
  });

  test('--chunk-size writes other chunk sizes, which decrypt without being told', async () => {
    const plaintext = randomData(100_000);
    const enc = await run(['encrypt', '-k', keyring, '--chunk-size', '4KiB'], { input: plaintext });
    expectOk(enc);
    expect(enc.stdout[6]).toBe(12); // chunk size exponent: 2^12
    expect(enc.stdout).toHaveLength(selfContainedSize(100_000, KEY_ID, 4096));
    const dec = await run(['decrypt', '-k', keyring], { input: enc.stdout });
    expectOk(dec);
    expect(dec.stdout.equals(plaintext)).toBe(true);
  });
});

describe('file to file: the block pipeline (reads ahead, writes in flight)', () => {
  const BIG = 9 * 1024 * 1024 + 17; // three 4 MiB read blocks, the last one short
  let plaintext: Buffer;
  let here: string;
  let viaFile: Buffer;

  beforeAll(async () => {
    plaintext = randomData(BIG);
    here = freshDir(dir.path, 'big');
    writeFileSync(join(here, 'in'), plaintext);
    expectOk(await run(['encrypt', '-k', keyring, join(here, 'in'), '-o', join(here, 'in.es')]));
    viaFile = readFileSync(join(here, 'in.es'));
  });

  test('round trip, and both directions interoperate with the stdin/stdout path', async () => {
    expect(viaFile).toHaveLength(selfContainedSize(BIG, KEY_ID));
    expectOk(await run(['decrypt', '-k', keyring, join(here, 'in.es'), '-o', join(here, 'out')]));
    expect(readFileSync(join(here, 'out')).equals(plaintext)).toBe(true);
    const piped = await run(['decrypt', '-k', keyring], { input: viaFile });
    expectOk(piped);
    expect(piped.stdout.equals(plaintext)).toBe(true);
    const enc = await run(['encrypt', '-k', keyring], { input: plaintext });
    expectOk(enc);
    writeFileSync(join(here, 'piped.es'), enc.stdout);
    expectOk(await run(['decrypt', '-k', keyring, join(here, 'piped.es'), '-o', join(here, 'out2')]));
    expect(readFileSync(join(here, 'out2')).equals(plaintext)).toBe(true);
  });

  test.concurrent.each([
    [
      'a flipped byte in the third read block',
      (s: Buffer) => flipByte(s, s.length - 5000),
      /ES_AUTH_FAILED: chunk 143 /,
    ],
    ['cut inside the third read block', (s: Buffer) => s.subarray(0, s.length - 100), /ES_(TRUNCATED|AUTH_FAILED)/],
    [
      'cut at a chunk boundary',
      (s: Buffer) => s.subarray(0, 96 + 1 + KEY_ID.length + 2 + 72 + 100 * 65576),
      /ES_TRUNCATED/,
    ],
    ['one byte appended', (s: Buffer) => Buffer.concat([s, Buffer.from([1])]), /ES_TRAILING_DATA/],
  ])('%s: exit 4, no output file', async (label, change, pattern) => {
    const there = freshDir(dir.path, `big-${label.replace(/\W+/g, '-')}`);
    writeFileSync(join(there, 'in.es'), change(viaFile));
    const result = await run(['decrypt', '-k', keyring, join(there, 'in.es'), '-o', join(there, 'out')]);
    expectOneLineError(result, EXIT.INTEGRITY, pattern);
    expect(listDir(there)).toEqual(['in.es']);
  });

  test.concurrent.each([
    ['4KiB', 4096, 12],
    ['1MiB', 1024 * 1024, 20],
    ['16MiB', 16 * 1024 * 1024, 24],
  ])('--chunk-size %s, file to file', async (text, chunk, exponent) => {
    const there = freshDir(dir.path, `big-chunk-${text}`);
    const size = 2 * chunk + 4097;
    const data = plaintext.subarray(0, Math.min(size, BIG));
    writeFileSync(join(there, 'in'), data);
    expectOk(
      await run(['encrypt', '-k', keyring, '--chunk-size', text, join(there, 'in'), '-o', join(there, 'in.es')]),
    );
    const stored = readFileSync(join(there, 'in.es'));
    expect(stored[6]).toBe(exponent);
    expect(stored).toHaveLength(selfContainedSize(data.length, KEY_ID, chunk));
    expectOk(await run(['decrypt', '-k', keyring, join(there, 'in.es'), '-o', join(there, 'out')]));
    expect(readFileSync(join(there, 'out')).equals(data)).toBe(true);
    expect(listDir(there)).toEqual(['in', 'in.es', 'out']);
  });

  test('encrypt and decrypt start without loading the AWS SDK', async () => {
    const there = freshDir(dir.path, 'no-sdk');
    const hook = join(there, 'hook.js');
    // Reports every module request naming the SDK or our S3 package, on stderr: by package name,
    // or by the bundle's chunk file (dist/chunks/s3.js, sdk-s3.js, sdk-kms.js: scripts/bundle.cjs).
    writeFileSync(
      hook,
      `const M = require('module'); const load = M._load;
       M._load = function (request, ...rest) {
         if (/@aws-sdk\\/|@encrypted-stream\\/s3|(^|\\/)(s3|sdk-s3|sdk-kms)\\.js$/.test(request)) process.stderr.write('LOADED ' + request + '\\n');
         return load.call(this, request, ...rest);
       };`,
    );
    const env = { NODE_OPTIONS: `--require ${hook}` };
    writeFileSync(join(there, 'in'), randomData(1000));
    const enc = await run(['encrypt', '-k', keyring, join(there, 'in'), '-o', join(there, 'in.es')], { env });
    expectOk(enc);
    const dec = await run(['decrypt', '-k', keyring, join(there, 'in.es')], { env });
    expectOk(dec);
    expect(enc.stderr + dec.stderr).not.toMatch(/LOADED/);
    const ranged = await run(['decrypt', '-k', keyring, join(there, 'in.es'), '--range', '0-9'], { env });
    expectOk(ranged);
    expect(ranged.stderr).toMatch(/LOADED (@encrypted-stream\/s3|\S*\bs3\.js)/); // the hook does see the package when it is used
  });

  test('a named pipe is read as a stream, its size not recorded (stat says 0)', async () => {
    const there = freshDir(dir.path, 'fifo');
    const fifo = join(there, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const data = randomData(200_000);
    const writer = new Promise<void>((resolve, reject) => writeFile(fifo, data).then(resolve, reject));
    const result = await run(['encrypt', '-k', keyring, fifo, '-o', join(there, 'out.es')]);
    await writer;
    expectOk(result);
    const dec = await run(['decrypt', '-k', keyring, join(there, 'out.es')]);
    expectOk(dec);
    expect(dec.stdout.equals(data)).toBe(true);
  });

  test('-o to a device or a named pipe writes into it (no temporary file renamed over it)', async () => {
    const there = freshDir(dir.path, 'special');
    const data = randomData(300_000);
    writeFileSync(join(there, 'in'), data);
    expectOk(await run(['encrypt', '-k', keyring, join(there, 'in'), '-o', '/dev/null']));
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expectOk(await run(['encrypt', '-k', keyring, join(there, 'in'), '-o', join(there, 'in.es')]));
    const fifo = join(there, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = readFile(fifo);
    expectOk(await run(['decrypt', '-k', keyring, join(there, 'in.es'), '-o', fifo]));
    expect((await reader).equals(data)).toBe(true);
    expect(listDir(there).sort()).toEqual(['in', 'in.es', 'pipe']);
  });

  test('Ctrl-C mid-output removes the temporary file: nothing is left behind', async () => {
    const there = freshDir(dir.path, 'interrupted');
    const fifo = join(there, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const running = start(['encrypt', '-k', keyring, fifo, '-o', join(there, 'out.es')]);
    const feeder = createWriteStream(fifo);
    feeder.on('error', () => {}); // EPIPE once the interrupted reader is gone: expected
    feeder.write(randomData(200_000)); // the input stays open: the command waits for more
    for (let i = 0; i < 200 && !listDir(there).some((name) => name.endsWith('.partial')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(listDir(there).some((name) => name.endsWith('.partial'))).toBe(true);
    running.child.kill('SIGINT');
    const result = await running.done;
    feeder.destroy();
    expect(result.signal).toBe('SIGINT');
    expect(listDir(there)).toEqual(['pipe']);
  });
});

describe('decrypt --range', () => {
  const SIZE = 300_007; // 5 chunks of 64 KiB
  let plaintext: Buffer;
  let encrypted: string;

  beforeAll(async () => {
    plaintext = randomData(SIZE);
    writeFileSync(path('ranged'), plaintext);
    encrypted = path('ranged.es');
    expectOk(await run(['encrypt', '-k', keyring, path('ranged'), '-o', encrypted]));
  });

  test.concurrent.each([
    ['1000-1999', 1000, 2000],
    ['0-0', 0, 1],
    ['65530-131080', 65530, 131081], // three chunks
    ['65536-65536', 65536, 65537], // first byte of a chunk
    ['299990-999999', 299990, SIZE], // end clipped to the size
    ['200000-', 200000, SIZE],
    ['-1', SIZE - 1, SIZE],
    ['-70000', SIZE - 70000, SIZE],
    ['-999999', 0, SIZE], // suffix longer than the plaintext: all of it
  ])('--range %s to stdout equals the slice', async (range, start, end) => {
    const result = await run(['decrypt', '-k', keyring, encrypted, `--range=${range}`]);
    expectOk(result);
    expect(result.stdout.equals(plaintext.subarray(start, end))).toBe(true);
  });

  test.concurrent.each([
    ['-70000', SIZE - 70000],
    ['-1', SIZE - 1],
  ])('--range %s as two arguments (a space, no =) reads the same suffix', async (range, start) => {
    const result = await run(['decrypt', '-k', keyring, encrypted, '--range', range]);
    expectOk(result);
    expect(result.stdout.equals(plaintext.subarray(start))).toBe(true);
  });

  test('--range to a file, with --json', async () => {
    const out = path('range.out');
    const result = jsonOf(
      await run(['decrypt', '-k', keyring, encrypted, '--range', '100000-199999', '-o', out, '--json']),
    );
    expect(result).toEqual({ input: encrypted, output: out, start: 100000, end: 200000, plaintextSize: SIZE });
    expect(readFileSync(out).equals(plaintext.subarray(100000, 200000))).toBe(true);
  });

  test('a range outside the plaintext is a usage error (exit 2)', async () => {
    expectOneLineError(await run(['decrypt', '-k', keyring, encrypted, '--range', `${SIZE}-`]), EXIT.USAGE, /outside/);
    expectOneLineError(await run(['decrypt', '-k', keyring, encrypted, '--range=-0']), EXIT.USAGE, /outside/);
  });

  test('--range needs a file, not stdin (exit 2)', async () => {
    expectOneLineError(
      await run(['decrypt', '-k', keyring, '--range', '0-9'], { input: readFileSync(encrypted) }),
      EXIT.USAGE,
      /needs a file/,
    );
  });

  test('a range reads only its chunks: a damaged chunk elsewhere does not matter, inside it fails', async () => {
    const stored = readFileSync(encrypted);
    const damaged = path('ranged-damaged.es');
    const chunk4 = 96 + 1 + KEY_ID.length + 2 + 72 + 4 * (65536 + 40) + 100; // inside chunk 4 (the last)
    writeFileSync(damaged, flipByte(stored, chunk4));
    const fine = await run(['decrypt', '-k', keyring, damaged, '--range', '0-99999']);
    expectOk(fine);
    expect(fine.stdout.equals(plaintext.subarray(0, 100000))).toBe(true);
    expectOneLineError(await run(['decrypt', '-k', keyring, damaged, '--range=-10']), EXIT.INTEGRITY, /ES_AUTH_FAILED/);
  });
});

describe('damaged input and wrong keys', () => {
  let plaintext: Buffer;
  let stored: Buffer;
  const bodyStart = 96 + 1 + KEY_ID.length + 2 + 72;

  beforeAll(async () => {
    plaintext = randomData(300_000);
    const enc = await run(['encrypt', '-k', keyring], { input: plaintext });
    expectOk(enc);
    stored = enc.stdout;
  });

  /** Decrypts `data` from a file to a file; expects exit `code` (4), no output and no temporary file left. */
  async function expectRejectedToFile(name: string, data: Buffer, pattern: RegExp, code: number = EXIT.INTEGRITY) {
    const here = freshDir(dir.path, name);
    writeFileSync(join(here, 'in.es'), data);
    const result = await run(['decrypt', '-k', keyring, join(here, 'in.es'), '-o', join(here, 'out')]);
    expectOneLineError(result, code, pattern);
    expect(listDir(here)).toEqual(['in.es']); // neither the output nor a hidden .partial file
  }

  test.concurrent.each([
    ['first chunk', bodyStart + 10],
    ['middle chunk', bodyStart + 2 * (65536 + 40) + 5000],
    ['last chunk tag', 'last'],
  ] as const)('a flipped byte in the %s: exit 4, no output file', async (_label, where) => {
    const offset = where === 'last' ? stored.length - 1 : where;
    await expectRejectedToFile(`flip-${offset}`, flipByte(stored, offset), /ES_AUTH_FAILED/);
  });

  test.concurrent.each([
    ['chunk size', 6],
    ['stream id', 20],
    ['key commitment', 50],
    ['wrapped key', 96 + 1 + KEY_ID.length + 2 + 30],
  ])('a flipped byte in the %s: exit 4 (tampered), no output file', async (_label, offset) => {
    // The wrapped data key is bound to the whole 96-byte header (FORMAT.md §6), so header damage
    // surfaces as a key-unwrap failure under a key the keyring holds: integrity, exit 4.
    await expectRejectedToFile(`flip-h${offset}`, flipByte(stored, offset), /ES_KEY_UNWRAP_FAILED.*altered/);
  });

  test('a flipped byte in the key id: reads as a key the keyring lacks (exit 3)', async () => {
    await expectRejectedToFile('flip-keyid', flipByte(stored, 96 + 1 + 2), /ES_UNKNOWN_KEY/, EXIT.KEYRING);
  });

  test('a flipped byte piped through stdin/stdout: exit 4', async () => {
    const result = await run(['decrypt', '-k', keyring], { input: flipByte(stored, bodyStart + 3 * (65536 + 40)) });
    expectOneLineError(result, EXIT.INTEGRITY, /ES_AUTH_FAILED: chunk 3/);
    // Only chunks that authenticated may have been written.
    expect(plaintext.subarray(0, result.stdout.length).equals(result.stdout)).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(3 * 65536);
  });

  test.concurrent.each([
    ['mid-chunk', 200_000],
    ['at a chunk boundary', bodyStart + 4 * (65536 + 40)],
    ['inside the header', 50],
    ['to nothing', 0],
  ])('a file truncated %s: exit 4, no output file', async (_label, length) => {
    // A cut leaving 40+ bytes of a chunk makes it look final, and it fails authentication (FORMAT.md §5).
    await expectRejectedToFile(`cut-${length}`, stored.subarray(0, length), /ES_(TRUNCATED|AUTH_FAILED)/);
  });

  test('bytes appended after the final chunk: exit 4', async () => {
    await expectRejectedToFile('appended', Buffer.concat([stored, Buffer.from([0])]), /ES_/);
  });

  test('plaintext that is not our format: exit 4', async () => {
    await expectRejectedToFile('not-ours', randomData(5000), /ES_MALFORMED/);
  });

  test('a keyring without the key (exit 3); another key under the same id looks like tampering (exit 4)', async () => {
    const here = freshDir(dir.path, 'wrong-keys');
    const input = join(here, 'in.es');
    writeFileSync(input, stored);
    const other = path('other-keyring.json');
    const impostor = path('impostor-keyring.json');
    expectOk(await run(['keygen', '-k', other, '--id', 'someone-else']));
    expectOk(await run(['keygen', '-k', impostor, '--id', KEY_ID]));
    expectOneLineError(
      await run(['decrypt', '-k', other, input, '-o', join(here, 'out')]),
      EXIT.KEYRING,
      /ES_UNKNOWN_KEY.*local-test/,
    );
    expectOneLineError(
      await run(['decrypt', '-k', impostor, input, '-o', join(here, 'out')]),
      EXIT.INTEGRITY,
      /ES_KEY_UNWRAP_FAILED.*or the keyring holds a different key under this id/,
    );
    expect(listDir(here)).toEqual(['in.es']);
  });

  test('a missing input file is a one-line failure (exit 1)', async () => {
    expectOneLineError(await run(['decrypt', '-k', keyring, path('no-such-file')]), EXIT.FAILURE, /ENOENT/);
    expectOneLineError(await run(['encrypt', '-k', keyring, path('no-such-file')]), EXIT.FAILURE, /ENOENT/);
  });
});
