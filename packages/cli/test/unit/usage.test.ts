/**
 * Argument mistakes: exit 2 and one clear line on stderr, before any keyring
 * is read or any request is sent; --help documents the exit codes.
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, expectOk, expectOneLineError, run } from '../helpers/cli';
import { useTempDir } from '../helpers/files';

const dir = useTempDir('usage');
const path = (name: string) => join(dir.path, name);
let keyring: string;
let file: string;
let sparse: string;
const GiB = 1024 ** 3;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'usage']));
  file = path('source.bin');
  writeFileSync(file, 'some bytes\n');
  // 60 GiB that take no disk space: 12,288 parts of 5 MiB, more than S3's 10,000.
  sparse = path('sparse-60GiB.bin');
  writeFileSync(sparse, '');
  truncateSync(sparse, 60 * GiB);
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
    [
      'get --range followed by one of its own options',
      ['get', 's3://b/k', '-', '--range', '-q'],
      /ambiguous.*use '--range=-XYZ'/,
    ],
    ['get --range -x (a dash, not a suffix range)', ['get', 's3://b/k', '-', '--range', '-x'], /--range: "-x" is not/],
    ['put --part-size -5MiB (with a space)', ['put', 'f', 's3://b/k', '--part-size', '-5MiB'], /"-5MiB" is not a size/],
    [
      'get --range without a value',
      ['get', 's3://b/k', '-', '--range'],
      /get: Option '--range <value>' argument missing/,
    ],
    [
      'put --part-size with an unknown unit',
      ['put', 'f', 's3://b/k', '--part-size', '5q'],
      /--part-size: "5q" is not a size: a whole number of bytes, or of KiB, MiB or GiB .*e\.g\. 65536, 64KiB, 16MiB/,
    ],
    [
      "put --part-size 1MiB (below S3's minimum part)",
      ['put', 'f', 's3://b/k', '--part-size', '1MiB'],
      /--part-size 1MiB is below S3's 5 MiB minimum part size: set --part-size 5MiB or more/,
    ],
    ['put --part-size 0', ['put', 'f', 's3://b/k', '--part-size', '0'], /--part-size 0 is below S3's 5 MiB minimum/],
    ['put --part-size 1', ['put', 'f', 's3://b/k', '--part-size', '1'], /--part-size 1 is below S3's 5 MiB minimum/],
    [
      "put --part-size 6GiB (above S3's largest part)",
      ['put', 'f', 's3://b/k', '--part-size', '6GiB'],
      /--part-size 6GiB is above the largest part, \d+ bytes of plaintext in 64KiB chunks \(its ciphertext must fit .*\): set --part-size \d+MiB or less/,
    ],
    [
      'put --part-size not a multiple of the chunk size',
      ['put', 'f', 's3://b/k', '--part-size', '6000000'],
      /--part-size 6000000 is not a multiple of the 64KiB chunk size: set --part-size 5888KiB/,
    ],
    [
      'put --part-size not a multiple of --chunk-size',
      ['put', 'f', 's3://b/k', '--part-size', '5MiB', '--chunk-size', '4MiB'],
      /--part-size 5MiB is not a multiple of the 4MiB chunk size: set --part-size 8MiB/,
    ],
    [
      'put --chunk-size not a power of two',
      ['put', 'f', 's3://b/k', '--chunk-size', '1000'],
      /--chunk-size 1000 is not a power of two from 4KiB to 16MiB/,
    ],
    ['put --chunk-size above 16 MiB', ['put', 'f', 's3://b/k', '--chunk-size', '32MiB'], /--chunk-size 32MiB is not/],
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

  test.concurrent('put --part-size 1MiB of a real file: refused before the first request, saying what to set', async () => {
    expectOneLineError(
      await withKeyring(['put', file, 's3://bucket/key', '--part-size', '1MiB']),
      EXIT.USAGE,
      /^encrypted-stream: --part-size 1MiB is below S3's 5 MiB minimum part size: set --part-size 5MiB or more \(or leave it out: 8MiB, more for files above 78\.1 GiB\)$/,
    );
  });

  test.concurrent('put of a file that needs more than 10,000 parts of --part-size: names the size that works', async () => {
    const line = expectOneLineError(
      await withKeyring(['put', sparse, 's3://bucket/key', '--part-size', '5MiB']),
      EXIT.USAGE,
      /sparse-60GiB\.bin \(60\.0 GiB\) in parts of --part-size 5MiB would take 12288 parts; S3 allows 10000: set --part-size 7MiB or more/,
    );
    expect(line).toMatch(/or leave it out to have it chosen\)$/);
    // Even without a keyring: the size is checked before the keyring is read.
    expectOneLineError(
      await bare(['put', sparse, 's3://b/k', '--part-size', '6MiB']),
      EXIT.USAGE,
      /12288 parts|10240 parts/,
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

  test.concurrent('put --help: the recorded size, one PutObject, part limits, the resume rules, --verify-source', async () => {
    const result = await run(['put', '--help']);
    expectOk(result);
    const text = result.stdout.toString();
    expect(text).toMatch(/plaintext size is recorded in the authenticated header/);
    expect(text).toMatch(/stdin \(-\) ending within one part\. Longer stdin records no size/);
    expect(text).toMatch(/Input that fits in one part is sent as one PutObject/);
    expect(text).toMatch(
      /Part sizes follow S3: 5MiB … 5GiB once encrypted \(4GiB on Node 20, whose buffers end there\),\s+at most 10000 parts/,
    );
    expect(text).toMatch(
      /A rerun with another --part-size or\s+--chunk-size than the interrupted upload used is refused \(exit 2\)/,
    );
    expect(text).toMatch(/size, modification and status-change times \(ns\), inode and device/);
    expect(text).toMatch(/Nothing is hashed unless --verify-source/);
    expect(text).toMatch(/altered or names another destination: exit 4/);
    expect(text).toMatch(
      /older version \(no data key, or plaintext SHA-256 per part\) is\s+not trusted: exit 6, use --restart/,
    );
    expect(text).toMatch(/The journal \(0600\) keeps the upload's data key, sealed under a key file of its own/);
    expect(text).toMatch(
      /a host that can wrap but not unwrap \(--recipient alone, or KMS Encrypt without\s+Decrypt\) resumes its own uploads/,
    );
    expect(text).toMatch(/A rerun with another keyring than the\s+upload's .* is refused \(exit 2\)/);
  });

  test('no arguments at all: the help text, exit 2', async () => {
    const result = await run([]);
    expect(result.code).toBe(EXIT.USAGE);
    expect(result.stdout.toString()).toMatch(/^encrypted-stream — /);
  });

  test.concurrent('--version: the package version, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const result = await run(['--version']);
    expectOk(result);
    expect(result.stdout.toString()).toBe(`encrypted-stream ${version}\n`);
    expect(result.stderr).toBe('');
  });

  test.concurrent("the general help lists every command and says how to get one command's help", async () => {
    const text = (await run(['--help'])).stdout.toString();
    expect(text).toMatch(/^commands:$/m);
    for (const command of ['serve', 'share']) expect(text).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(text).toMatch(/encrypted-stream help COMMAND +\(or COMMAND --help\)/);
    expect(text).toMatch(/encrypted-stream --version/);
    expect(text).toMatch(/^ {2}-k, --keyring FILE +keyring file/m);
  });

  /** Every command's own options, spelled out independently of the sources. */
  const OPTIONS: Record<string, string[]> = {
    keygen: ['--id ID', '--identity FILE', '--add'],
    encrypt: ['-o, --output OUT', '--chunk-size SIZE'],
    decrypt: ['-o, --output OUT', '--range RANGE'],
    put: [
      '--part-size SIZE',
      '--chunk-size SIZE',
      '--concurrency N',
      '--restart',
      '--verify-source',
      '--state-dir DIR',
    ],
    get: ['--range RANGE'],
    head: [],
    ls: [],
    verify: [],
    rotate: ['--to TYPE'],
    serve: [
      '--port PORT',
      '--host ADDRESS',
      '--allow-host NAME',
      '--sign-key FILE',
      '--inline TYPE',
      '--max-concurrent N',
    ],
    share: ['--sign-key FILE', '--expires DURATION', '--base URL'],
  };

  test.concurrent.each(Object.entries(OPTIONS))(
    '%s --help and help %s: the same full help (usage, each option described, global options, examples)',
    async (command, options) => {
      const [flag, word] = await Promise.all([run([command, '--help']), run(['help', command])]);
      expectOk(flag);
      expectOk(word);
      const text = flag.stdout.toString();
      expect(word.stdout.toString()).toBe(text);
      expect(text).toMatch(new RegExp(`^usage: encrypted-stream ${command}( |$)`, 'm'));
      for (const option of options) {
        // The option in the left column (long-only ones indented past a short's place), its description beside it.
        const column = `${option.startsWith('--') ? '      ' : '  '}${option}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        expect(text).toMatch(new RegExp(`^${column} {2,}\\S`, 'm'));
      }
      if (options.length > 0) expect(text).toMatch(/^options:$/m);
      expect(text).toMatch(/^options for every command:$/m);
      expect(text).toMatch(/^ {2}-k, --keyring FILE +keyring file/m);
      expect(text).toMatch(new RegExp(`^examples:\\n {2}(\\S+ \\| )?encrypted-stream ${command} `, 'm'));
      expect(flag.stderr).toBe('');
    },
  );

  /** The keyring options, spelled out independently of the sources. */
  const KEYRING_OPTIONS = [
    '--recipient RECIPIENT',
    '--recipients-file FILE',
    '--identity FILE',
    '--kms-key-id ARN',
    '--kms-discovery-account ID',
    '--kms-endpoint URL',
    '--kms-profile NAME',
  ];

  test.concurrent.each(['put', 'encrypt', 'get', 'decrypt', 'head', 'ls', 'verify', 'rotate', 'serve'])(
    '%s --help: the keyring options, and which keyring writes and which read',
    async (command) => {
      const text = (await run([command, '--help'])).stdout.toString();
      const section = text.slice(text.indexOf('\nkeyring options:\n'));
      expect(section).toMatch(/^\nkeyring options:\n/);
      for (const option of KEYRING_OPTIONS) expect(section).toMatch(new RegExp(`^ {6}${option} {2,}\\S`, 'm'));
      expect(section).toMatch(/Writing uses exactly one of the three; reading uses\s+every one given/);
      expect(section).toMatch(/A recipient cannot\s+unwrap: reading with it alone fails \(exit 3\)/);
    },
  );

  test.concurrent.each(['keygen', 'ls', 'share'])(
    '%s --help shows the keyring options only if it wraps or unwraps (ls: yes; keygen, share: no)',
    async (command) => {
      const text = (await run([command, '--help'])).stdout.toString();
      expect(text.includes('\nkeyring options:\n')).toBe(command === 'ls');
    },
  );

  test.concurrent('rotate --help: the target rule and one line per kind of rotation', async () => {
    const text = (await run(['rotate', '--help'])).stdout.toString();
    expect(text).toMatch(
      /Every keyring option given reads \(the old key blocks\); the target wraps the new ones: --to/,
    );
    for (const pattern of [
      /local → KMS: +--keyring FILE --kms-key-id ARN/,
      /KMS key A → B: +--kms-key-id B --kms-key-id A/,
      /recipient → new: +--identity OLD\.key --recipient es-pub1…\(new\)/,
      /local → recipient: +--keyring FILE --recipient es-pub1…/,
      /KMS → local: +--keyring FILE --kms-key-id ARN --to keyring/,
    ]) {
      expect(text).toMatch(pattern);
    }
  });

  test.concurrent('help of an unknown command: exit 2, one line', async () => {
    expectOneLineError(
      await run(['help', 'nope']),
      EXIT.USAGE,
      /unknown command "nope" \(see encrypted-stream --help\)/,
    );
  });
});
