import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { s3Settings } from '@encrypted-stream/test-support';

/** The built binary, run exactly as a user would: `node bin/encrypted-stream.js …`. */
export const BIN = resolve(__dirname, '../../bin/encrypted-stream.js');

const DIST = resolve(__dirname, '../../dist/main.js');

/** Exit codes as documented in `--help` (src/exit-codes.ts), spelled out independently. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  KEYRING: 3,
  INTEGRITY: 4,
  S3: 5,
  SOURCE_CHANGED: 6,
  INTERRUPTED: 130,
} as const;

/** What a finished run produced. */
export interface CliResult {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** Wall-clock time from spawn to exit. */
  readonly milliseconds: number;
}

/** How to run the binary. */
export interface RunOptions {
  /** Bytes for stdin (stdin is an empty pipe otherwise). */
  readonly input?: Buffer | string;
  /** A file given as stdin, like `< file`. */
  readonly stdinFile?: string;
  /** Extra environment (undefined removes a variable). */
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
}

/** A run in progress: the child, and its result once it exits. */
export interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
}

/**
 * The environment of every run: credentials and region the AWS way (the SDK's
 * default chain, as a user would have them), no keyring or state directory
 * inherited from the developer's shell. Node's warnings stay on (no
 * NODE_NO_WARNINGS), so every test that expects a one-line stderr also
 * catches warning noise such as the AWS SDK's Node-version warning.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(AWS_|ENCRYPTED_STREAM_)/.test(name) || name === 'NODE_NO_WARNINGS') delete env[name];
  }
  let s3: ReturnType<typeof s3Settings> | undefined;
  try {
    s3 = s3Settings();
  } catch {
    s3 = undefined; // local-only tests run without a server
  }
  Object.assign(env, {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    ...(s3
      ? { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region }
      : {}),
  });
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Fails early, with the fix, when the binary's build is missing. */
export function assertBuilt(): void {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build first (cd /work/main && pnpm run build)`);
}

/** Starts the binary; see {@link run}. */
export function start(args: readonly string[], options: RunOptions = {}): Running {
  assertBuilt();
  const t0 = performance.now();
  const stdinFd = options.stdinFile ? openSync(options.stdinFile, 'r') : undefined;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: cliEnv(options.env),
    stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'],
  });
  if (stdinFd !== undefined) closeSync(stdinFd);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (piece: Buffer) => stdout.push(piece));
  child.stderr?.on('data', (piece: Buffer) => stderr.push(piece));
  if (child.stdin) {
    child.stdin.on('error', () => {}); // EPIPE when the child exits without reading everything
    child.stdin.end(options.input ?? '');
  }
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolvePromise({
        args,
        code,
        signal,
        stdout: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
        milliseconds: performance.now() - t0,
      }),
    );
  });
  return { child, done };
}

/** Runs `encrypted-stream ARGS…` to completion. */
export function run(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return start(args, options).done;
}

function describe(result: CliResult): string {
  const out = result.stdout.toString('utf8');
  return [
    `encrypted-stream ${result.args.join(' ')}`,
    `exit code ${result.code}${result.signal ? `, signal ${result.signal}` : ''}`,
    `stderr: ${result.stderr || '(empty)'}`,
    `stdout: ${out.length > 2000 ? `${out.slice(0, 2000)}…` : out || '(empty)'}`,
  ].join('\n');
}

/** Asserts the exit code, showing the whole run when it differs. */
export function expectExit(result: CliResult, code: number): void {
  if (result.code !== code) throw new Error(`expected exit code ${code}\n${describe(result)}`);
}

/** Asserts success (exit 0). */
export function expectOk(result: CliResult): void {
  expectExit(result, EXIT.OK);
}

/**
 * Asserts a failure reported the way a user should see it: exit `code`, and
 * stderr one line `encrypted-stream: …` (no stack trace), matching `pattern`.
 */
export function expectOneLineError(result: CliResult, code: number, pattern?: RegExp): string {
  expectExit(result, code);
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one line on stderr\n${describe(result)}`);
  const line = lines[0] as string;
  expect(line).toMatch(/^encrypted-stream: \S/);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  if (pattern) expect(line).toMatch(pattern);
  return line;
}

/** The single JSON document a `--json` run printed on stdout. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  expectOk(result);
  return JSON.parse(result.stdout.toString('utf8')) as T;
}

/** `text` as one POSIX shell word. */
const shellWord = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `encrypted-stream ARGS…` with a terminal as its stdin, stdout and
 * stderr (util-linux `script` makes the pseudo-terminal), as a user at a
 * prompt would: progress bars are drawn only then. Returns the exit code and
 * everything the terminal showed (stdout and stderr together, with the
 * carriage returns and erase sequences of redrawn lines).
 */
export function runInTerminal(
  args: readonly string[],
  options: Pick<RunOptions, 'env'> = {},
): Promise<{ code: number | null; screen: string }> {
  assertBuilt();
  const command = [process.execPath, BIN, ...args].map(shellWord).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    env: cliEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  const output: Buffer[] = [];
  child.stdout.on('data', (piece: Buffer) => output.push(piece));
  child.stderr.on('data', (piece: Buffer) => output.push(piece));
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, screen: Buffer.concat(output).toString('utf8') }));
  });
}
