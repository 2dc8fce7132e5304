/**
 * Argument mistakes: exit 2 and one clear line on stderr, before any keyring
 * is read or any request is sent; --help documents the exit codes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, expectOk, expectOneLineError, run } from '../helpers/cli';
import { useTempDir } from '../helpers/files';

const dir = useTempDir('usage');
const path = (name: string) => join(dir.path, name);
let keyring: string;
let file: string;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'usage']));
  file = path('source.bin');
  writeFileSync(file, 'some bytes\n');
});

/**
 * With no keyring, no credentials and an endpoint nothing listens on: a usage
 * error must be found before any of them would be needed (else exit 3 or 5).
 */
const bare = ([command, ...rest]: string[]) =>
  run([command as string, '--endpoint', 'http://127.0.0.1:9', '--path-style', ...rest], {
    env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_REGION: 'us-east-1' },
  });

describe('usage errors: exit 2, one line, nothing read or sent', () => {
  test.concurrent.each([
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate".*--help/],
    ['a command name in the wrong case', ['PUT', 'a', 's3://b/k'], /unknown command "PUT"/],
    ['put without arguments', ['put'], /put needs a source/],
    ['put with only a source', ['put', 'file.bin'], /put needs a source/],
    ['put with three arguments', ['put', 'a', 's3://b/k', 'extra'], /put needs a source/],
    ['get without arguments', ['get'], /get needs an s3:\/\/bucket\/key/],
    ['get with three arguments', ['get', 's3://b/k', 'out', 'extra'], /get needs/],
    ['head without arguments', ['head'], /head needs one s3:\/\/bucket\/key/],
    ['ls without arguments', ['ls'], /ls needs one/],
    ['verify without arguments', ['verify'], /verify needs at least one/],
    ['rotate without arguments', ['rotate'], /rotate needs one/],
    ['keygen with a positional argument', ['keygen', 'extra'], /keygen takes no positional arguments/],
    ['encrypt with two inputs', ['encrypt', 'a', 'b'], /encrypt takes one input/],
    ['decrypt with two inputs', ['decrypt', 'a', 'b'], /decrypt takes one input/],
    [
      'put to a non-s3 URL',
      ['put', 'file.bin', 'https://bucket/key'],
      /"https:\/\/bucket\/key" is not an s3:\/\/bucket\/key URL/,
    ],
    ['put to a bucket without a key', ['put', 'file.bin', 's3://bucket'], /"s3:\/\/bucket" names no object key/],
    ['put to a bucket with a slash but no key', ['put', 'file.bin', 's3://bucket/'], /names no object key/],
    ['get from s3:// alone', ['get', 's3://'], /not an s3:\/\/bucket\/key URL/],
    ['get from s3:///key (no bucket)', ['get', 's3:///key'], /not an s3:\/\/bucket\/key URL/],
    ['head of a bare path', ['head', 'bucket/key'], /not an s3:\/\/bucket\/key URL/],
    ['ls of a bare name', ['ls', 'bucket'], /not an s3:\/\/bucket\/key URL/],
    ['verify with one bad URL among good ones', ['verify', 's3://b/k', 'b/k2'], /"b\/k2" is not an s3/],
    ['get --range with letters', ['get', 's3://b/k', '-', '--range', 'abc'], /--range: "abc" is not a-b, a- or -n/],
    ['get --range with a list', ['get', 's3://b/k', '-', '--range', '0-1,5-6'], /--range: "0-1,5-6"/],
    ['get --range in bytes= form', ['get', 's3://b/k', '-', '--range', 'bytes=0-1'], /--range: "bytes=0-1"/],
    ['get --range empty', ['get', 's3://b/k', '-', '--range='], /--range: "" is not/],
    ['decrypt --range with letters', ['decrypt', 'in.es', '--range', '1-x'], /--range: "1-x"/],
    ['decrypt --range from stdin', ['decrypt', '--range', '0-9'], /--range needs a file, not stdin/],
    ['get --range -n without =', ['get', 's3://b/k', '-', '--range', '-100'], /ambiguous.*use '--range=-XYZ'/],
    [
      'get --range without a value',
      ['get', 's3://b/k', '-', '--range'],
      /get: Option '--range <value>' argument missing/,
    ],
    [
      'put --part-size with an unknown unit',
      ['put', 'f', 's3://b/k', '--part-size', '5q'],
      /--part-size: "5q" is not a size/,
    ],
    ['put --part-size negative', ['put', 'f', 's3://b/k', '--part-size=-5MiB'], /--part-size: "-5MiB" is not a size/],
    ['put --part-size fractional', ['put', 'f', 's3://b/k', '--part-size', '5.5MiB'], /--part-size: "5.5MiB"/],
    ['put --part-size huge', ['put', 'f', 's3://b/k', '--part-size', '99999999999999999999'], /too large/],
    ['put --concurrency 0', ['put', 'f', 's3://b/k', '--concurrency', '0'], /--concurrency must be 1 … 64/],
    ['put --concurrency not a number', ['put', 'f', 's3://b/k', '--concurrency', 'many'], /--concurrency/],
    ['put --verify-source of stdin', ['put', '-', 's3://b/k', '--verify-source'], /--verify-source needs a file/],
    ['encrypt --chunk-size with an unknown unit', ['encrypt', '--chunk-size', '64kb'], /--chunk-size: "64kb"/],
    ['an unknown option', ['get', 's3://b/k', '--bogus'], /get: Unknown option '--bogus'/],
    ['a value for a flag', ['ls', 's3://b', '--json=yes'], /--json' does not take an argument/],
  ])('%s', async (_label, args, pattern) => {
    expectOneLineError(await bare(args), EXIT.USAGE, pattern);
  });
});

describe('usage errors found once the keyring is loaded: still exit 2 and no request', () => {
  // The endpoint has nothing listening: had a request been sent, the exit code would be 5.
  const withKeyring = ([command, ...rest]: string[]) => bare([command as string, '-k', keyring, ...rest]);

  test.concurrent.each([
    ['--part-size 0', '0'],
    ['--part-size 1', '1'],
    ['--part-size not a multiple of the chunk size', '5000000'],
  ])('put %s', async (_label, size) => {
    expectOneLineError(
      await withKeyring(['put', file, 's3://bucket/key', '--part-size', size]),
      EXIT.USAGE,
      /partSize must be a positive multiple of the 65536-byte chunk size/,
    );
  });

  test.concurrent('get --range with its end before its start', async () => {
    expectOneLineError(
      await withKeyring(['get', 's3://bucket/key', '-', '--range', '5-3']),
      EXIT.USAGE,
      /before its start/,
    );
  });

  test.concurrent('encrypt --chunk-size that is not a power of two', async () => {
    expectOneLineError(await withKeyring(['encrypt', file, '--chunk-size', '1000']), EXIT.USAGE, /power of two/);
  });

  test.concurrent('put of a directory', async () => {
    expectOneLineError(await withKeyring(['put', dir.path, 's3://bucket/key']), EXIT.USAGE, /is not a regular file/);
  });
});

describe('help', () => {
  test.concurrent.each([['--help'], ['-h'], ['help']])(
    '%s: exit 0, commands and exit codes on stdout',
    async (flag) => {
      const result = await run([flag]);
      expectOk(result);
      const text = result.stdout.toString();
      for (const command of ['keygen', 'encrypt', 'decrypt', 'put', 'get', 'head', 'ls', 'verify', 'rotate']) {
        expect(text).toMatch(new RegExp(`^  ${command} `, 'm'));
      }
      expect(text).toMatch(/exit codes: 0 ok, 1 failure, 2 usage, 3 keyring, 4 integrity .*5 S3 or network/);
      expect(text).toMatch(/6 source changed .*130 interrupted/);
      expect(result.stderr).toBe('');
    },
  );

  test.concurrent.each([['put'], ['get'], ['decrypt'], ['rotate']])(
    '%s --help: exit 0, the usage line',
    async (command) => {
      const result = await run([command, '--help']);
      expectOk(result);
      expect(result.stdout.toString()).toMatch(new RegExp(`^usage: encrypted-stream ${command} `));
    },
  );

  test.concurrent('--help says which exit codes a tamper produces', async () => {
    const text = (await run(['--help'])).stdout.toString();
    expect(text).toMatch(/tampering exits 4: .*header, wrapped key or encryption metadata/);
    expect(text).toMatch(/edited key id, which reads as a key the keyring lacks \(3\)/);
  });

  test.concurrent('put --help: the recorded size (not for stdin), the resume rule, --verify-source', async () => {
    const result = await run(['put', '--help']);
    expectOk(result);
    const text = result.stdout.toString();
    expect(text).toMatch(/plaintext size is recorded in the authenticated header/);
    expect(text).toMatch(/stdin \(-\) records no size/);
    expect(text).toMatch(/size, modification and status-change times \(ns\), inode and device/);
    expect(text).toMatch(/Nothing is hashed unless --verify-source/);
    expect(text).toMatch(/altered or names another destination: exit 4/);
    expect(text).toMatch(/older version .* not trusted: exit 6, use --restart/);
  });

  test('no arguments at all: the help text, exit 2', async () => {
    const result = await run([]);
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stdout.toString()).toMatch(/^encrypted-stream — /);
  });
});
