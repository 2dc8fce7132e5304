/**
 * put / get / head / ls / verify against the real S3 server, end to end:
 * the built binary, real files, credentials from the environment.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { useBucket } from '@encrypted-stream/test-support';
import { type CliResult, EXIT, expectExit, expectOk, expectOneLineError, jsonOf, run } from './helpers/cli';
import { ciphertextSize, flipByte, freshDir, listDir, randomData, useTempDir } from './helpers/files';
import { s3Flags } from './helpers/s3';

const MiB = 1024 * 1024;
const dir = useTempDir('objects');
const bucket = useBucket('objects');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
const KEY_ID = 'objects-key';
let keyring: string;
/** The CLI with the keyring and the server's flags. */
const cli = (args: string[], options: Parameters<typeof run>[1] = {}) =>
  run([...args, '-k', keyring, ...s3Flags()], options);

async function rawObject(key: string) {
  const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), metadata: out.Metadata ?? {}, out };
}

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', KEY_ID]));
});

/** Plaintext of the objects the tests put, by key. */
const objects = new Map<string, Buffer>();

describe('put / get round trips', () => {
  test.concurrent.each([
    [0, 1],
    [1, 1],
    [65537, 1],
    [12_000_001, 3],
  ])('a %i-byte file in %i part(s), back to a file', async (size, parts) => {
    const key = `files/f-${size}`;
    const plaintext = randomData(size);
    writeFileSync(path(`up-${size}`), plaintext);
    const put = jsonOf(
      await cli(['put', path(`up-${size}`), url(key), '--part-size', '5MiB', '--state-dir', path('state'), '--json']),
    );
    expect(put).toMatchObject({
      bucket: bucket.name,
      key,
      plaintextBytes: size,
      parts,
      partsUploaded: parts,
      partsResumed: 0,
    });
    objects.set(key, plaintext);
    // What S3 holds is ciphertext of the documented size, not the plaintext.
    const raw = await rawObject(key);
    expect(raw.body).toHaveLength(ciphertextSize(size));
    if (size >= 64) expect(raw.body.includes(plaintext.subarray(0, 64))).toBe(false);
    expect(Object.keys(raw.metadata).sort()).toEqual(['es-h', 'es-k', 'es-w']);
    expect(raw.metadata['es-k']).toBe(KEY_ID);

    const here = freshDir(dir.path, `down-${size}`);
    const get = jsonOf(await cli(['get', url(key), join(here, 'out'), '--json']));
    expect(get).toMatchObject({ bucket: bucket.name, key, output: join(here, 'out'), bytes: size });
    expect(readFileSync(join(here, 'out')).equals(plaintext)).toBe(true);
    expect(listDir(here)).toEqual(['out']); // no temporary file left behind
  });

  test.concurrent.each([
    [1, 'a file'],
    [2, 'a file'],
    [1, 'stdin'],
    [2, 'stdin'],
  ] as const)(
    'more parts than --concurrency %i, from %s: each part buffer is reused, every part intact',
    async (concurrency, from) => {
      // 4 parts, the last one short: with one or two part buffers, parts 2–4 are read
      // into a buffer that held an earlier part, so a buffer reused before uploadPart was
      // done with it (or a stale tail in the short last part) would corrupt the object.
      const name = `reuse-${from === 'stdin' ? 'stdin' : 'file'}-${concurrency}`;
      const key = `files/${name}`;
      const plaintext = randomData(3 * 5 * MiB + 777);
      writeFileSync(path(`${name}.src`), plaintext);
      const source = from === 'stdin' ? '-' : path(`${name}.src`);
      const args = ['--part-size', '5MiB', '--concurrency', String(concurrency), '--state-dir', path('state')];
      const input = from === 'stdin' ? { input: plaintext } : {};
      const put = jsonOf(await cli(['put', source, url(key), ...args, '--json'], input));
      expect(put).toMatchObject({
        plaintextBytes: plaintext.length,
        parts: 4,
        ...(from === 'a file' ? { partsUploaded: 4 } : {}),
      });
      const here = freshDir(dir.path, name);
      expectOk(await cli(['get', url(key), join(here, 'out')]));
      expect(readFileSync(join(here, 'out')).equals(plaintext)).toBe(true);
    },
  );

  test('stdin to put, get to stdout (2 parts)', async () => {
    const key = 'piped/stdin';
    const plaintext = randomData(7 * MiB + 3);
    const put = jsonOf(await cli(['put', '-', url(key), '--part-size', '5MiB', '--json'], { input: plaintext }));
    expect(put).toEqual({ bucket: bucket.name, key, plaintextBytes: plaintext.length, parts: 2 });
    objects.set(key, plaintext);
    const get = await cli(['get', url(key), '-']);
    expectOk(get);
    expect(get.stdout.equals(plaintext)).toBe(true);
    expect(get.stderr).toMatch(/^downloaded 7\.00 MiB from s3:\/\/\S+ to - in [\d.]+ s\n$/); // the summary goes to stderr when stdout carries data
    // --json with data on stdout: the JSON goes to stderr.
    const json = await cli(['get', url(key), '-', '--json']);
    expectOk(json);
    expect(json.stdout.equals(plaintext)).toBe(true);
    expect(JSON.parse(json.stderr)).toMatchObject({ key, output: '-', bytes: plaintext.length });
  });

  test('empty stdin makes an empty object', async () => {
    const key = 'piped/empty';
    expectOk(await cli(['put', '-', url(key), '-q']));
    objects.set(key, Buffer.alloc(0));
    const get = await cli(['get', url(key), '-']);
    expectOk(get);
    expect(get.stdout).toHaveLength(0);
  });

  test('get without a destination writes the key basename in the working directory', async () => {
    const result = await run(['get', url('files/f-65537'), '-k', keyring, ...s3Flags()], { cwd: dir.path });
    expectOk(result);
    expect(readFileSync(path('f-65537')).equals(objects.get('files/f-65537')!)).toBe(true);
  });
});

describe('get --range', () => {
  const key = 'files/f-12000001';
  const boundary = 5 * MiB; // first byte of the second part
  test.concurrent.each([
    ['a-b inside a chunk', '1000-1999', 1000, 2000],
    ['a-b across a part boundary', `${boundary - 70000}-${boundary + 70000}`, boundary - 70000, boundary + 70001],
    ['a-', '11900000-', 11_900_000, 12_000_001],
    ['-n', '-100000', 12_000_001 - 100_000, 12_000_001],
    ['a-b past the end', '11999990-99999999', 11_999_990, 12_000_001],
  ])('%s (%s) equals the slice', async (_label, range, start, end) => {
    const result = await cli(['get', url(key), '-', `--range=${range}`]);
    expectOk(result);
    expect(result.stdout.equals(objects.get(key)!.subarray(start, end))).toBe(true);
  });

  test.concurrent.each([
    ['-100000', 12_000_001 - 100_000],
    ['-1', 12_000_001 - 1],
  ])('--range %s as two arguments (a space, no =) reads the same suffix', async (range, start) => {
    const result = await cli(['get', url(key), '-', '--range', range]);
    expectOk(result);
    expect(result.stdout.equals(objects.get(key)!.subarray(start))).toBe(true);
  });

  test('a range to a file, with --json', async () => {
    const result = jsonOf(await cli(['get', url(key), path('ranged.out'), '--range', '5000000-5999999', '--json']));
    expect(result).toMatchObject({ bytes: 1_000_000, contentRange: 'bytes 5000000-5999999/12000001' });
    expect(readFileSync(path('ranged.out')).equals(objects.get(key)!.subarray(5_000_000, 6_000_000))).toBe(true);
  });

  test('a range outside the object: one-line error, no file', async () => {
    const before = listDir(dir.path);
    const result = await cli(['get', url(key), path('outside.out'), '--range', '12000001-']);
    expectOneLineError(result, EXIT.S3, /InvalidRange.*416/);
    expect(listDir(dir.path)).toEqual(before);
  });
});

describe('head, ls', () => {
  test('head --json: plaintext size, chunk size, key id, format version, context', async () => {
    const head = jsonOf(await cli(['head', url('files/f-12000001'), '--json']));
    expect(head).toMatchObject({
      bucket: bucket.name,
      key: 'files/f-12000001',
      encrypted: true,
      plaintextBytes: 12_000_001,
      storedBytes: ciphertextSize(12_000_001),
      chunkSize: 65536,
      keyId: KEY_ID,
      formatVersion: 1,
      context: 'none',
    });
    const human = await cli(['head', url('files/f-0')]);
    expectOk(human);
    expect(human.stdout.toString()).toMatch(/plaintext size +0 bytes/);
    expect(human.stdout.toString()).toContain(`key id           ${KEY_ID}`);
  });

  test('ls --json: plaintext sizes; a plaintext object put by a plain client is encrypted: false', async () => {
    await bucket.client.send(
      new PutObjectCommand({ Bucket: bucket.name, Key: 'plain/readme.txt', Body: 'not encrypted\n' }),
    );
    const all = jsonOf<{ objects: Record<string, unknown>[] }>(await cli(['ls', `s3://${bucket.name}`, '--json']));
    const byKey = new Map(all.objects.map((o) => [o.key, o]));
    for (const [key, plaintext] of objects) {
      expect(byKey.get(key)).toEqual({
        key,
        encrypted: true,
        plaintextBytes: plaintext.length,
        storedBytes: ciphertextSize(plaintext.length),
        keyId: KEY_ID,
        verified: true,
        context: 'none',
      });
    }
    expect(byKey.get('plain/readme.txt')).toEqual({ key: 'plain/readme.txt', encrypted: false, storedBytes: 14 });

    const prefixed = jsonOf<{ prefix: string; objects: { key: string }[] }>(await cli(['ls', url('piped/'), '--json']));
    expect(prefixed.prefix).toBe('piped/');
    expect(prefixed.objects.map((o) => o.key).sort()).toEqual(['piped/empty', 'piped/stdin']);
  });

  test('get / verify of a plaintext object: refused as not encrypted (exit 4), no file, promptly', async () => {
    const before = listDir(dir.path);
    const get = await cli(['get', url('plain/readme.txt'), path('readme.out')]);
    expectOneLineError(get, EXIT.INTEGRITY, /ES_NOT_ENCRYPTED/);
    expect(listDir(dir.path)).toEqual(before);
    const verify = await cli(['verify', url('plain/readme.txt')]);
    expectOneLineError(verify, EXIT.INTEGRITY, /verification failed: ES_NOT_ENCRYPTED/);
    // Regression: the refused response's body used to stay open, and the process lingered ~65 s before exiting.
    expect(get.milliseconds).toBeLessThan(15_000);
    expect(verify.milliseconds).toBeLessThan(15_000);
  });

  test('a missing object: one-line S3 error (exit 5)', async () => {
    expectOneLineError(await cli(['get', url('no/such/key'), path('missing.out')]), EXIT.S3, /NoSuchKey/);
    expectOneLineError(await cli(['head', url('no/such/key')]), EXIT.S3, /404/);
    expect(listDir(dir.path)).not.toContain('missing.out');
  });
});

describe('verify and tampering', () => {
  const key = 'tamper/victim';
  let plaintext: Buffer;

  beforeAll(async () => {
    plaintext = randomData(300_000);
    writeFileSync(path('victim'), plaintext);
    expectOk(await cli(['put', path('victim'), url(key), '-q', '--state-dir', path('state')]));
  });

  test('verify: OK objects exit 0 with every byte authenticated', async () => {
    const result = jsonOf<{ results: unknown[] }>(
      await cli(['verify', url(key), url('files/f-12000001'), url('piped/empty'), '--json']),
    );
    expect(result.results).toEqual([
      { bucket: bucket.name, key, ok: true, bytes: 300_000 },
      { bucket: bucket.name, key: 'files/f-12000001', ok: true, bytes: 12_000_001 },
      { bucket: bucket.name, key: 'piped/empty', ok: true, bytes: 0 },
    ]);
  });

  test('a byte flipped in the stored object: verify exit 4, get exit 4 and no file left', async () => {
    // Rewrite the object as a plain client would: same metadata, one ciphertext byte changed.
    const raw = await rawObject(key);
    await bucket.client.send(
      new PutObjectCommand({
        Bucket: bucket.name,
        Key: key,
        Body: flipByte(raw.body, 150_000),
        Metadata: raw.metadata,
        ContentType: raw.out.ContentType,
      }),
    );

    const verify = await cli(['verify', url('files/f-1'), url(key), '--json']);
    expectExit4WithJson(verify);
    const human = await cli(['verify', url(key)]);
    expectExit(human, EXIT.INTEGRITY);
    expect(human.stdout.toString()).toMatch(/^FAIL +s3:\/\/\S+\/tamper\/victim +ES_AUTH_FAILED/);
    expect(human.stderr).toMatch(/^encrypted-stream: verification failed: ES_AUTH_FAILED: .*\n$/);

    const before = listDir(dir.path);
    expectOneLineError(await cli(['get', url(key), path('victim.out')]), EXIT.INTEGRITY, /ES_AUTH_FAILED/);
    expect(listDir(dir.path)).toEqual(before); // neither victim.out nor a hidden .partial file

    // Ranges away from the damaged chunk still read; ranges over it fail.
    const head = await cli(['get', url(key), '-', '--range', '0-99999']);
    expectOk(head);
    expect(head.stdout.equals(plaintext.subarray(0, 100_000))).toBe(true);
    expectOneLineError(await cli(['get', url(key), '-', '--range', '140000-160000']), EXIT.INTEGRITY, /AUTH/);
  });

  function expectExit4WithJson(result: CliResult) {
    expectOneLineError(result, EXIT.INTEGRITY, /verification failed: ES_AUTH_FAILED/);
    const json = JSON.parse(result.stdout.toString()) as { results: Record<string, unknown>[] };
    expect(json.results).toEqual([
      { bucket: bucket.name, key: 'files/f-1', ok: true, bytes: 1 },
      { bucket: bucket.name, key, ok: false, error: expect.stringMatching(/^ES_AUTH_FAILED/) },
    ]);
  }
});
