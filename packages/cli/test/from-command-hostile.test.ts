/**
 * Hostile cases for `put - --from-command CMD` (see from-command.test.ts for
 * the plain ones): producers that close their stdout early and fail later,
 * background children that hold the pipe, failures exactly at a part
 * boundary, empty output, a flood of stderr, --json and -q, commands whose
 * text must not be echoed, and interruptions (SIGINT/SIGTERM to put alone, or
 * Ctrl-C to the whole process group as a terminal sends it). The promise:
 * stored only if CMD exited 0; otherwise exit 1 (130 when interrupted),
 * nothing stored, no multipart upload left open, CMD ended.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listOpenUploads, useBucket } from '@encrypted-stream/test-support';
import {
  BIN,
  type CliResult,
  cliEnv,
  EXIT,
  expectExit,
  expectOk,
  jsonOf,
  type Running,
  run,
  start,
} from './helpers/cli';
import { randomData, useTempDir } from './helpers/files';
import { expectNothingStored, s3Flags } from './helpers/s3';

const MiB = 1024 * 1024;
const BIG = 12 * MiB + 5;
const dir = useTempDir('from-command-hostile');
const bucket = useBucket('from-cmd-hostile');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;
let data: Buffer;
let F: string; // a file of BIG random bytes, quoted for the shell
const cliArgs = (args: string[]) => [...args, '-k', keyring, ...s3Flags()];
const cli = (args: string[]) => run(cliArgs(args));
const putArgs = (key: string, command: string, ...extra: string[]) =>
  cliArgs(['put', '-', url(key), '--from-command', command, '--part-size', '5MiB', ...extra]);
const put = (key: string, command: string, ...extra: string[]) => run(putArgs(key, command, ...extra));
/** The first `n` bytes of the source file, as a shell command. */
const first = (n: number) => `head -c ${n} ${F}`;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'from-command-hostile-key']));
  data = randomData(BIG);
  writeFileSync(path('source'), data);
  F = `'${path('source')}'`;
});

/** Asserts that `key` reads back as exactly `expected`, and no upload of it stays open. */
async function expectStored(key: string, expected: Buffer) {
  const back = await cli(['get', url(key), '-']);
  expectOk(back);
  expect(back.stdout.length).toBe(expected.length);
  expect(back.stdout.equals(expected)).toBe(true);
  expect((await listOpenUploads(bucket.client, bucket.name, key)).filter((upload) => upload.Key === key)).toEqual([]);
}

/** Our own lines on stderr (the shell and CMD may print theirs before). */
const ourLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('encrypted-stream:'));

/** A failure of CMD, reported as one line of ours, last, matching `message`; no stack. */
function expectCommandFailure(result: CliResult, message: RegExp) {
  expectExit(result, EXIT.FAILURE);
  expect(ourLines(result.stderr)).toHaveLength(1);
  expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^encrypted-stream: --from-command /);
  expect(result.stderr.trim().split('\n').at(-1)).toMatch(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

/** Whether `pid` runs (a zombie counts as ended). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Whether `pid` ended within `ms`. */
async function endsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * An interrupted put: exit 130, one line of ours that says so, never a bare
 * stream error such as "Premature close". Only when the signal reached CMD
 * too (`cmdToo`: Ctrl-C at a terminal signals the whole foreground group) may
 * CMD's death be reported instead (exit 1, "--from-command …"); a signal to
 * put alone never touched CMD: whatever ended CMD then was put's own doing.
 */
function expectInterrupted(code: number | null, stderr: string, cmdToo = false) {
  expect(cmdToo ? [EXIT.INTERRUPTED, EXIT.FAILURE] : [EXIT.INTERRUPTED]).toContain(code);
  const lines = ourLines(stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    code === EXIT.INTERRUPTED ? /^encrypted-stream: interrupted/ : /^encrypted-stream: --from-command /,
  );
}

/** Waits for `file` (a PID written by CMD) and returns the PID. */
async function pidIn(file: string, ms = 10_000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8').trim();
      if (/^\d+$/.test(text)) return Number(text);
    }
    if (Date.now() > deadline) throw new Error(`${file} was never written`);
    await sleep(20);
  }
}

/** The result if the run exits within `ms`; otherwise kills it and everything named by `pids`, and returns undefined. */
async function exitWithin(running: Running, ms: number, pids: number[] = []): Promise<CliResult | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const result = await Promise.race([running.done, late]);
  clearTimeout(timer);
  if (result) return result;
  running.child.kill('SIGKILL');
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await running.done;
  return undefined;
}

/** Resolves when `child` itself exited (not waiting for its stdio to close, as `done` does). */
const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

describe.each([
  [1000, 'one PutObject'],
  [BIG, 'multipart'],
] as const)('%i bytes (%s)', (size, _how) => {
  test('CMD closes its stdout after its output, keeps running, exits 4 a second later: exit 1, nothing stored', async () => {
    const key = `closed-early-fail-${size}`;
    const result = await put(key, `${first(size)}; exec >&-; sleep 1; exit 4`);
    expectCommandFailure(result, /exited with status 4$/);
    expect(result.milliseconds).toBeGreaterThanOrEqual(1000); // it waited for the status
    await expectNothingStored(bucket, key);
  });

  test('CMD closes its stdout after its output and exits 0 a second later: stored', async () => {
    const key = `closed-early-ok-${size}`;
    const result = await put(key, `${first(size)}; exec 1>&-; sleep 1; exit 0`, '--json');
    expect(jsonOf(result)).toMatchObject({ key, plaintextBytes: size });
    await expectStored(key, data.subarray(0, size));
  });

  test('a background child of CMD writes the rest after CMD exited 0: all of it is stored', async () => {
    const key = `late-writer-${size}`;
    const half = Math.floor(size / 2);
    const result = await put(
      key,
      `${first(half)}; (sleep 1; ${first(size)} | tail -c +${half + 1}) & exit 0`,
      '--json',
    );
    expect(jsonOf(result)).toMatchObject({ key, plaintextBytes: size });
    await expectStored(key, data.subarray(0, size));
  });

  test('CMD exits 3 while a background child still holds the pipe: exit 1, nothing stored', async () => {
    const key = `held-pipe-${size}`;
    // put itself exits at once (README); its stdio closes only when the sleeping child ends.
    const running = start(putArgs(key, `${first(size)}; (sleep 4) & exit 3`));
    const t0 = Date.now();
    await exited(running.child);
    expect(Date.now() - t0).toBeLessThan(3_000);
    const result = await running.done;
    expectCommandFailure(result, /exited with status 3$/);
    await expectNothingStored(bucket, key);
  });

  test('CMD floods stderr (3 MiB) and fails: our line comes last, nothing stored', async () => {
    const key = `stderr-flood-fail-${size}`;
    const result = await put(key, `head -c ${3 * MiB} /dev/zero | tr '\\0' e >&2; echo >&2; ${first(size)}; exit 9`);
    expect(result.stderr.length).toBeGreaterThanOrEqual(3 * MiB);
    expectCommandFailure(result, /exited with status 9$/);
    await expectNothingStored(bucket, key);
  });
});

test('CMD floods stderr (3 MiB) then exits 0: stored, its stderr passed on', async () => {
  const key = 'stderr-flood-ok';
  const result = await put(key, `head -c ${3 * MiB} /dev/zero | tr '\\0' e >&2; echo >&2; ${first(1000)}`, '--json');
  expect(jsonOf(result)).toMatchObject({ key, plaintextBytes: 1000 });
  expect(result.stderr.length).toBeGreaterThanOrEqual(3 * MiB);
  expect(result.stderr).toMatch(/^e+\n$/);
  await expectStored(key, data.subarray(0, 1000));
});

describe.each([
  [5 * MiB, 1],
  [10 * MiB, 2],
] as const)('output of exactly %i bytes (%i part(s)) in one write', (size, parts) => {
  const oneWrite = () => `dd if=${F} bs=${size} count=1 iflag=fullblock 2>/dev/null`;

  test('then exit 1: exit 1, nothing stored', async () => {
    const key = `boundary-fail-${size}`;
    const result = await put(key, `${oneWrite()}; exit 1`);
    expectCommandFailure(result, /exited with status 1$/);
    await expectNothingStored(bucket, key);
  });

  test('then exit 0: stored in exactly that many parts', async () => {
    const key = `boundary-ok-${size}`;
    const result = await put(key, oneWrite(), '--json');
    expect(jsonOf(result)).toMatchObject({ key, plaintextBytes: size, parts });
    await expectStored(key, data.subarray(0, size));
  });
});

describe('no output at all', () => {
  test('status 0: an empty object is stored', async () => {
    const key = 'empty-ok';
    const result = await put(key, 'true', '--json');
    expect(jsonOf(result)).toMatchObject({ key, plaintextBytes: 0 });
    await expectStored(key, Buffer.alloc(0));
  });

  test('stdout closed at once, status 0 half a second later: an empty object is stored', async () => {
    const key = 'empty-closed-ok';
    expectOk(await put(key, 'exec >&-; sleep 0.5; exit 0'));
    await expectStored(key, Buffer.alloc(0));
  });

  test('status 1: nothing stored', async () => {
    const key = 'empty-fail';
    const result = await put(key, 'exit 1');
    expectCommandFailure(result, /exited with status 1$/);
    await expectNothingStored(bucket, key);
  });

  test('stdout closed at once, status 5 half a second later: nothing stored', async () => {
    const key = 'empty-closed-fail';
    const result = await put(key, 'exec >&-; sleep 0.5; exit 5');
    expectCommandFailure(result, /exited with status 5$/);
    await expectNothingStored(bucket, key);
  });
});

describe('--json and -q', () => {
  test('--json, CMD fails: nothing on stdout, one line of ours on stderr, nothing stored', async () => {
    const key = 'json-fail';
    const result = await put(key, `${first(BIG)}; exit 2`, '--json');
    expectCommandFailure(result, /exited with status 2$/);
    expect(result.stdout.length).toBe(0);
    await expectNothingStored(bucket, key);
  });

  test('-q, CMD fails: nothing on stdout, still the one line on stderr, nothing stored', async () => {
    const key = 'quiet-fail';
    const result = await put(key, `${first(1000)}; exit 2`, '-q');
    expectCommandFailure(result, /exited with status 2$/);
    expect(result.stdout.length).toBe(0);
    await expectNothingStored(bucket, key);
  });

  test('-q, CMD succeeds: nothing on stdout or stderr, stored', async () => {
    const key = 'quiet-ok';
    const result = await put(key, first(BIG), '-q');
    expectOk(result);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toBe('');
    await expectStored(key, data);
  });
});

describe('the command text is never repeated', () => {
  const MARKER = 'Sekret-Marker-7f3a';
  test.each([
    ['exits 1 (the shell prints nothing)', `false # ${MARKER}`, /exited with status 1$/, []],
    ['killed halfway', `${first(1000)}; kill -9 $$ # ${MARKER}`, /killed by SIGKILL$/, []],
    ['not found (the shell names it)', `${MARKER}-not-a-command`, /exited with status 127$/, []],
    ['exits 1, with --verbose', `${first(BIG)}; false # ${MARKER}`, /exited with status 1$/, ['--verbose']],
  ])('CMD %s: no line of ours holds its text', async (name, command, message, extra) => {
    const key = `marker-${name.replace(/\W+/g, '-')}`;
    const result = await put(key, command, ...(extra as string[]));
    expectExit(result, EXIT.FAILURE);
    expect(result.stderr).toMatch(/^encrypted-stream: --from-command /m);
    expect(ourLines(result.stderr).at(-1)).toMatch(message);
    // Every line but the shell's own ("sh: 1: …: not found").
    const notTheShells = result.stderr.split('\n').filter((line) => !/^(\/bin\/)?sh: /.test(line));
    for (const line of notTheShells) expect(line).not.toContain(MARKER);
    expect(result.stdout.toString('utf8')).not.toContain(MARKER);
    await expectNothingStored(bucket, key);
  });
});

describe('interruptions', () => {
  /** A producer that never ends: `chunk` bytes every `pause` seconds, its shell's PID in `pidFile`. */
  const endless = (pidFile: string, chunk: number, pause: number) =>
    `echo $$ > '${pidFile}'; while :; do ${first(chunk)}; sleep ${pause}; done`;

  test('SIGINT to put while CMD produces a multipart upload: exit 130, nothing stored, CMD ended', async () => {
    const key = 'sigint-multipart';
    const pidFile = path('sigint-multipart.pid');
    const running = start(putArgs(key, endless(pidFile, MiB, 0.2)));
    const pid = await pidIn(pidFile);
    await sleep(2500); // past the first part: the multipart upload is open
    running.child.kill('SIGINT');
    const result = await exitWithin(running, 10_000, [pid]);
    if (!result) throw new Error('put did not end within 10 s of SIGINT');
    expectInterrupted(result.code, result.stderr);
    expect(await endsWithin(pid, 1000)).toBe(true);
    await expectNothingStored(bucket, key);
  });

  test.each(['SIGINT', 'SIGTERM'] as const)(
    '%s to put while CMD trickles output (still within the first part): put ends promptly with 130, nothing stored, CMD ended',
    async (signal) => {
      const key = `trickle-${signal}`;
      const pidFile = path(`trickle-${signal}.pid`);
      const running = start(putArgs(key, endless(pidFile, 100, 0.1)));
      const pid = await pidIn(pidFile);
      await sleep(1000);
      running.child.kill(signal);
      const result = await exitWithin(running, 4000, [pid]);
      if (!result) {
        throw new Error(`put was still running 4 s after ${signal} (killed by the test); CMD never ends by itself`);
      }
      expectInterrupted(result.code, result.stderr);
      expect(await endsWithin(pid, 1000)).toBe(true);
      await expectNothingStored(bucket, key);
    },
  );

  test('SIGINT to put while it waits for the status of CMD, which closed its stdout: put ends promptly with 130, nothing stored', async () => {
    const key = 'sigint-waiting';
    const pidFile = path('sigint-waiting.pid');
    const running = start(putArgs(key, `echo $$ > '${pidFile}'; ${first(1000)}; exec >&-; sleep 8; exit 0`));
    const pid = await pidIn(pidFile);
    await sleep(1000);
    running.child.kill('SIGINT');
    const t0 = Date.now();
    // put's own exit (CMD's orphaned `sleep` may hold put's stderr open after it: see the last test).
    await Promise.race([exited(running.child), sleep(12_000)]);
    const waited = Date.now() - t0;
    const result = await exitWithin(running, 12_000, [pid]);
    if (!result) throw new Error('put did not end within 12 s of SIGINT');
    expectInterrupted(result.code, result.stderr);
    await expectNothingStored(bucket, key);
    if (waited > 3000) throw new Error(`put ignored SIGINT for ${waited} ms, until CMD exited by itself`);
  });

  test('Ctrl-C as a terminal sends it (SIGINT to the process group) during a multipart upload: exit 130 or 1, nothing stored', async () => {
    const key = 'ctrl-c-group';
    const pidFile = path('ctrl-c-group.pid');
    const child = spawn(process.execPath, [BIN, ...putArgs(key, endless(pidFile, MiB, 0.2))], {
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a shell's foreground job
    });
    let stderr = '';
    child.stderr?.on('data', (piece: Buffer) => {
      stderr += piece.toString('utf8');
    });
    child.stdout?.resume();
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const pid = await pidIn(pidFile);
    await sleep(2500);
    process.kill(-(child.pid as number), 'SIGINT');
    const code = await Promise.race([done, sleep(10_000).then(() => 'late' as const)]);
    if (code === 'late') {
      process.kill(-(child.pid as number), 'SIGKILL');
      await done;
      throw new Error('put did not end within 10 s of Ctrl-C');
    }
    expectInterrupted(code, stderr, true);
    expect(await endsWithin(pid, 1000)).toBe(true);
    await expectNothingStored(bucket, key);
  });
});

test('our upload fails (no such bucket): put exits at once and ends CMD, not waiting for its background child', async () => {
  const kidFile = path('kid.pid');
  const shFile = path('sh.pid');
  // The kid holds no pipe we read. CMD stays in put's process group, so that it keeps the
  // terminal (ssh and sudo prompts): put ends CMD's shell, and what the shell started ends
  // when it next writes to the closed pipe; this one never writes (README, --from-command).
  const command = `echo $$ > '${shFile}'; sh -c 'echo $$ > "$0"; exec sleep 6' '${kidFile}' & ${first(6 * MiB)}; wait`;
  const running = start(
    cliArgs(['put', '-', `s3://${bucket.name}-missing/key`, '--from-command', command, '--part-size', '5MiB']),
  );
  const kid = await pidIn(kidFile);
  const sh = await pidIn(shFile);
  const startedAt = Date.now();
  await exited(running.child);
  expect(Date.now() - startedAt).toBeLessThan(5_000);
  expect(await endsWithin(sh, 1000)).toBe(true);
  try {
    process.kill(kid, 'SIGTERM');
  } catch {
    // already gone
  }
  expectExit(await running.done, EXIT.S3);
});
