/**
 * What a user at a terminal sees (issue 12): progress lines with sizes, rates
 * and ETAs in human units, `rotate` counting objects, and no AWS SDK
 * Node-version warning (while other warnings still show). The built binary
 * under a pseudo-terminal (util-linux `script`), against the real S3 server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBucket } from '@encrypted-stream/test-support';
import { expectOk, run, runInTerminal } from './helpers/cli';
import { randomData, useTempDir } from './helpers/files';
import { s3Flags } from './helpers/s3';

const dir = useTempDir('terminal');
const bucket = useBucket('terminal');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'terminal-key']));
});

/** Every state of the redrawn lines a terminal showed (split at carriage returns, erase sequences dropped). */
const screenLines = (screen: string) =>
  screen
    .replace(/\x1b\[K/g, '')
    .split(/\r\n|\r|\n/)
    .filter((line) => line.trim() !== '');

/** A size or rate as human-units.ts writes it: three significant digits and a binary unit. */
const SIZE = String.raw`(\d{1,3} B|(\d\.\d\d|\d\d\.\d|\d{3}) (KiB|MiB|GiB))`;

test('put of a file: progress in KiB/MiB with a bar, percent, rate per second and an ETA', async () => {
  writeFileSync(path('twelve'), randomData(12_000_001));
  const { code, screen } = await runInTerminal([
    'put',
    path('twelve'),
    url('twelve'),
    '-k',
    keyring,
    ...s3Flags(),
    '--part-size',
    '5MiB',
    '--concurrency',
    '1',
    '--state-dir',
    path('state'),
  ]);
  expect(code).toBe(0);
  const progress = screenLines(screen).filter((line) => line.startsWith('put s3://'));
  expect(progress.length).toBeGreaterThan(0);
  const shape = new RegExp(
    String.raw`^put s3://\S+/twelve  ${SIZE} / 11\.4 MiB  \[[#.]{24}\]  \d{1,3}%  ${SIZE}/s(  ETA (\d+s|\d+m\d\ds|\d+h\d\dm))?$`,
  );
  for (const line of progress) expect(line).toMatch(shape);
  expect(progress.at(-1)).toMatch(/ 11\.4 MiB \/ 11\.4 MiB {2}\[#{24}\] {2}100% /);
  expect(screen).not.toMatch(/\d\.\d{4,}/); // no unrounded numbers anywhere
  expect(screen).toMatch(/uploaded 11\.4 MiB to s3:\/\/\S+\/twelve in 3 part\(s\) in \d+\.\d s/);
});

test('rotate: progress counts objects, never bytes', async () => {
  for (const name of ['one', 'two', 'three']) {
    expectOk(await run(['put', '-', url(`rot/${name}`), '-k', keyring, ...s3Flags(), '-q'], { input: name }));
  }
  expectOk(await run(['keygen', '-k', keyring, '--add', '--id', 'terminal-key-2']));
  const { code, screen } = await runInTerminal(['rotate', url('rot/'), '-k', keyring, ...s3Flags()]);
  expect(code).toBe(0);
  const progress = screenLines(screen).filter((line) => line.startsWith('rotate s3://'));
  expect(progress.length).toBeGreaterThan(0);
  for (const line of progress) {
    expect(line).toMatch(
      /^rotate s3:\/\/\S+\/rot\/ {2}[0-3] \/ 3 objects {2}\[[#.]{24}\] {2}\d{1,3}% {2}\d+(\.\d+)? objects\/s( {2}ETA \S+)?$/,
    );
    expect(line).not.toMatch(/\bB\b|KiB|MiB|kB|MB/);
  }
  expect(progress.at(-1)).toMatch(/ 3 \/ 3 objects .* 100% /);
  expect(screen).toMatch(/rotated 3, already under "terminal-key-2" 0/);
});

describe("the AWS SDK's Node-version warning", () => {
  const major = Number(process.versions.node.split('.')[0]);
  const switchName = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

  test('is not printed: stderr stays empty (Node warnings on)', async () => {
    const result = await run(['ls', url(''), ...s3Flags()]);
    expectOk(result);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
    expect(result.stderr).toMatch(/^(encrypted-stream: no keyring[^\n]*\n)?$/); // at most ls's own note
  });

  test("is the SDK's, and shows when the user turns it back on (so the test above can fail)", async () => {
    const result = await run(['ls', url(''), ...s3Flags(), '--json'], { env: { [switchName]: 'false' } });
    expectOk(result);
    if (major < 22) expect(result.stderr).toMatch(/NodeVersionSupportWarning: The AWS SDK for JavaScript \(v3\)/);
    else expect(result.stderr).toBe(''); // the SDK warns only below Node 22
  });

  test('other warnings still print', async () => {
    const canary = path('canary.js');
    writeFileSync(canary, "process.once('beforeExit', () => process.emitWarning('still shown', 'CanaryWarning'));\n");
    const result = await run(['ls', url(''), ...s3Flags(), '--json'], {
      env: { NODE_OPTIONS: `--require=${canary}` },
    });
    expectOk(result);
    expect(result.stderr).toMatch(/CanaryWarning: still shown/);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});
