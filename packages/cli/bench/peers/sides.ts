/**
 * The command lines each side runs for each operation, as a user would type
 * them: our built CLI, `age`, rclone (crypt and plain), the plain AWS SDK
 * (a small Node program), and bare `node` as the start-up floor.
 */
import { resolve } from 'node:path';
import type { S3Settings } from '@encrypted-stream/test-support';
import type { CommandLine } from './measure-process';
import type { RcloneRemotes } from './rclone-remotes';

/** What a side can be asked to do; a side leaves out what it has no equivalent for. */
export interface Side {
  /** Name in the table. */
  readonly name: string;
  /** A file-name-safe short name (object keys, profile folders). */
  readonly slug: string;
  encrypt?(input: string, output: string): CommandLine;
  decrypt?(input: string, output: string): CommandLine;
  put?(file: string, key: string): CommandLine;
  get?(key: string, file: string): CommandLine;
  /** `count` bytes from `start` of object `key` into `file`. */
  range?(key: string, start: number, count: number, file: string): CommandLine;
  head?(key: string): CommandLine;
  /** The cheapest complete run of the program: start-up alone. */
  noop?(): CommandLine;
}

/** The built CLI entry point, run as `node bin/encrypted-stream.js` (what the shebang does). */
export const CLI_BIN = resolve(__dirname, '../../bin/encrypted-stream.js');

/** The plain-SDK program (JavaScript: no ts-node start-up in its figures). */
const SDK_BASELINE = resolve(__dirname, 'sdk-baseline.js');

/** Environment variables every S3 client reads (the SDK's default chain); RGW needs checksums only when required. */
export function awsEnv(settings: S3Settings): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: settings.accessKeyId,
    AWS_SECRET_ACCESS_KEY: settings.secretAccessKey,
    AWS_REGION: settings.region,
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Settings of our CLI side. */
export interface OursOptions {
  readonly keyring: string;
  /** Absent: the local operations only. */
  readonly s3?: { readonly settings: S3Settings; readonly bucket: string; readonly stateDir: string };
  readonly partBytes: number;
  readonly concurrency: number;
  /** Extra `node` flags before the script (`--cpu-prof …` for the profiling pass). */
  readonly nodeFlags?: readonly string[];
}

/** encrypted-stream's CLI. */
export function oursSide(options: OursOptions): Side {
  const { keyring, s3 } = options;
  const localEnv = { ...process.env };
  delete localEnv.ENCRYPTED_STREAM_KEYRING; // the keyring is always -k: no user setting leaks in
  const cli = (args: string[], env: NodeJS.ProcessEnv = localEnv): CommandLine => ({
    command: process.execPath,
    args: [...(options.nodeFlags ?? []), CLI_BIN, ...args],
    env,
  });
  const side: Side = {
    name: 'encrypted-stream',
    slug: 'ours',
    encrypt: (input, output) => cli(['encrypt', input, '-o', output, '-k', keyring, '-q']),
    decrypt: (input, output) => cli(['decrypt', input, '-o', output, '-k', keyring, '-q']),
    noop: () => cli(['--help']),
  };
  if (!s3) return side;
  const env: NodeJS.ProcessEnv = { ...awsEnv(s3.settings), ENCRYPTED_STREAM_STATE_DIR: s3.stateDir };
  delete env.ENCRYPTED_STREAM_KEYRING;
  const flags = ['--endpoint', s3.settings.endpoint, ...(s3.settings.forcePathStyle ? ['--path-style'] : [])];
  const url = (key: string) => `s3://${s3.bucket}/${key}`;
  return {
    ...side,
    put: (file, key) =>
      cli(
        [
          'put',
          file,
          url(key),
          '--part-size',
          `${options.partBytes / 1024}KiB`,
          '--concurrency',
          String(options.concurrency),
          ...flags,
          '-k',
          keyring,
          '-q',
        ],
        env,
      ),
    get: (key, file) => cli(['get', url(key), file, ...flags, '-k', keyring, '-q'], env),
    range: (key, start, count, file) =>
      cli(['get', url(key), file, '--range', `${start}-${start + count - 1}`, ...flags, '-k', keyring, '-q'], env),
    head: (key) => cli(['head', url(key), ...flags, '-k', keyring, '-q'], env),
  };
}

/** age with an X25519 identity (no passphrase prompt), file → file. */
export function ageSide(identityFile: string, recipient: string): Side {
  const env = { ...process.env };
  return {
    name: 'age',
    slug: 'age',
    encrypt: (input, output) => ({ command: 'age', args: ['-r', recipient, '-o', output, input], env }),
    decrypt: (input, output) => ({ command: 'age', args: ['-d', '-i', identityFile, '-o', output, input], env }),
    noop: () => ({ command: 'age', args: ['--version'], env }),
  };
}

/** rclone through the crypt remote (`crypt: true`) or the plain S3 remote. */
export function rcloneSide(remotes: RcloneRemotes, crypt: boolean): Side {
  const path = (key: string) => (crypt ? remotes.crypt(key) : remotes.plain(key));
  const rclone = (args: string[], stdoutFile?: string): CommandLine => ({
    command: 'rclone',
    args: [...args, '-q'],
    env: remotes.env,
    ...(stdoutFile ? { stdoutFile } : {}),
  });
  return {
    name: crypt ? 'rclone crypt' : 'rclone (plain)',
    slug: crypt ? 'rclone-crypt' : 'rclone-plain',
    put: (file, key) => rclone(['copyto', file, path(key)]),
    get: (key, file) => rclone(['copyto', path(key), file]),
    range: (key, start, count, file) =>
      rclone(['cat', '--offset', String(start), '--count', String(count), path(key)], file),
    // `lsjson --stat`: one object's size and time, rclone's nearest to `head`.
    head: (key) => rclone(['lsjson', '--stat', path(key)]),
    noop: () => rclone(['version']),
  };
}

/** The plain AWS SDK (lib-storage Upload, GetObject, HeadObject) in a minimal Node program. */
export function sdkSide(settings: S3Settings, bucket: string, partBytes: number, concurrency: number): Side {
  const env = {
    ...awsEnv(settings),
    BENCH_ENDPOINT: settings.endpoint,
    BENCH_PATH_STYLE: String(settings.forcePathStyle),
  };
  const node = (args: string[]): CommandLine => ({ command: process.execPath, args: [SDK_BASELINE, ...args], env });
  return {
    name: 'AWS SDK (plain)',
    slug: 'sdk',
    put: (file, key) => node(['put', bucket, key, file, String(partBytes), String(concurrency)]),
    get: (key, file) => node(['get', bucket, key, file]),
    range: (key, start, count, file) => node(['range', bucket, key, file, String(start), String(count)]),
    head: (key) => node(['head', bucket, key]),
  };
}

/** Bare `node -e 0`: the floor any Node CLI's start-up stands on. */
export function nodeFloorSide(): Side {
  return {
    name: 'node -e 0 (floor)',
    slug: 'node',
    noop: () => ({ command: process.execPath, args: ['-e', '0'], env: { ...process.env } }),
  };
}
