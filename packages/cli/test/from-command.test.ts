/**
 * `put - --from-command CMD` against the real S3 server: a pipe's end of file
 * looks the same whether its writer finished or died, so `put` runs the
 * producer itself and stores the object only when it exited with status 0.
 * Every failure is tried within one part (one PutObject) and over several
 * parts (multipart): nothing may be stored, and no upload may stay open.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBucket } from '@encrypted-stream/test-support';
import { EXIT, expectExit, expectOk, jsonOf, run } from './helpers/cli';
import { randomData, useTempDir } from './helpers/files';
import { expectNothingStored, s3Flags } from './helpers/s3';

const MiB = 1024 * 1024;
const dir = useTempDir('from-command');
const bucket = useBucket('from-command');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;
const cli = (args: string[]) => run([...args, '-k', keyring, ...s3Flags()]);
const put = (key: string, command: string, ...extra: string[]) =>
  cli(['put', '-', url(key), '--from-command', command, '--part-size', '5MiB', ...extra]);

/** Sizes tried: within one part (one PutObject), and three parts (multipart). */
const SIZES = [
  [1000, 'one PutObject'],
  [12 * MiB + 5, 'multipart'],
] as const;
const sourceOf = (size: number) => path(`source-${size}`);

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'from-command-key']));
  for (const [size] of SIZES) writeFileSync(sourceOf(size), randomData(size));
});

/** The last line of stderr (a shell may print its own lines before ours). */
const lastLine = (stderr: string) => stderr.trim().split('\n').at(-1);

describe.each(SIZES)('%i bytes (%s)', (size, _how) => {
  test('a command that exits 0: stored, and reads back', async () => {
    const key = `ok-${size}`;
    // Its stderr passes through to ours.
    const result = await put(key, `echo producing >&2; cat '${sourceOf(size)}'`, '--json');
    expect(result.stderr).toContain('producing');
    expect(jsonOf(result)).toMatchObject({ key, plaintextBytes: size });
    const back = await cli(['get', url(key), '-']);
    expectOk(back);
    expect(back.stdout.equals(readFileSync(sourceOf(size)))).toBe(true);
  });

  test.each([
    [
      'exit-3',
      'exits with status 3 after all of its output',
      (f: string) => `cat '${f}'; exit 3`,
      /exited with status 3/,
    ],
    [
      'killed',
      'dies halfway (killed after half of its output)',
      (f: string, n: number) => `head -c ${Math.floor(n / 2)} '${f}'; kill -9 $$`,
      /killed by SIGKILL/,
    ],
    ['missing', 'cannot be found (the shell exits 127)', () => 'no-such-command-of-es', /exited with status 127/],
  ])('a command (%s) that %s: exit 1, nothing stored', async (name, _what, command, message) => {
    const key = `failed-${size}-${name}`;
    const result = await put(key, command(sourceOf(size), size));
    expectExit(result, EXIT.FAILURE);
    expect(lastLine(result.stderr)).toMatch(/^encrypted-stream: --from-command /);
    expect(lastLine(result.stderr)).toMatch(message);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    await expectNothingStored(bucket, key);
  });
});

test('an upload that fails stops the command instead of waiting for it', async () => {
  // `yes` never ends: put must end it once the upload failed (here: no such bucket).
  const result = await cli([
    'put',
    '-',
    `s3://${bucket.name}-missing/key`,
    '--from-command',
    'exec yes',
    '--part-size',
    '5MiB',
  ]);
  expectExit(result, EXIT.S3);
  expect(result.milliseconds).toBeLessThan(20_000);
});

test.each([
  [['put', 'FILE', 's3://b/k', '--from-command', 'true'], /--from-command replaces stdin: give - as the source/],
  [['put', '-', 's3://b/k', '--from-command', ' '], /--from-command needs a command/],
])('usage mistakes: %j → exit 2', async (args, message) => {
  const result = await cli(args.map((a) => (a === 'FILE' ? sourceOf(1000) : a)));
  expectExit(result, EXIT.USAGE);
  expect(result.stderr).toMatch(message);
});
