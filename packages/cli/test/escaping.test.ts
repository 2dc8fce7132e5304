/**
 * Keys are chosen by whoever can write to the bucket: ls, head, verify and
 * error messages print them with control and bidi characters escaped, and
 * --json keeps them exact for parsers while holding none of those characters
 * raw. Built binary, real S3.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { useBucket } from '@encrypted-stream/test-support';
import { EXIT, expectOk, expectOneLineError, jsonOf, run } from './helpers/cli';
import { randomData, useTempDir } from './helpers/files';
import { s3Flags } from './helpers/s3';

const dir = useTempDir('escaping');
const bucket = useBucket('escaping');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;
const cli = (args: string[]) => run([...args, '-k', keyring, ...s3Flags()]);

/** An encrypted object whose key turns the terminal red and reverses the rest of the line. */
const EVIL = 'esc/\x1b[31mred\u202Etxt.exe';
const EVIL_SHOWN = 'esc/\\x1b[31mred\\u{202e}txt.exe';
/** A plaintext object whose key sets the window title (OSC … BEL) and clears the screen (C1 CSI). */
const TITLE = 'esc/plain\x1b]0;pwned\x07\u009b2J';
const TITLE_SHOWN = 'esc/plain\\x1b]0;pwned\\x07\\x9b2J';

/** What a terminal would act on, line breaks aside. */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', 'escaping-key']));
  writeFileSync(path('source'), randomData(1000));
  expectOk(await cli(['put', path('source'), url(EVIL), '-q', '--state-dir', path('state')]));
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: TITLE, Body: 'plain' }));
});

test('ls prints keys escaped; --json keeps them exact, nothing raw', async () => {
  const human = await cli(['ls', url('esc/')]);
  expectOk(human);
  const out = human.stdout.toString();
  expect(out).not.toMatch(UNSAFE);
  expect(out).toContain(`encrypted (escaping-key)  ${EVIL_SHOWN}\n`);
  expect(out).toContain(`  ${TITLE_SHOWN}\n`);

  const json = await cli(['ls', url('esc/'), '--json']);
  expect(json.stdout.toString()).not.toMatch(UNSAFE);
  const keys = jsonOf<{ objects: { key: string }[] }>(json).objects.map((o) => o.key);
  expect(keys.sort()).toEqual([EVIL, TITLE].sort());
});

test('head and verify print the key escaped', async () => {
  const head = await cli(['head', url(EVIL)]);
  expectOk(head);
  expect(head.stdout.toString()).not.toMatch(UNSAFE);
  expect(head.stdout.toString().split('\n')[0]).toBe(`s3://${bucket.name}/${EVIL_SHOWN}`);
  expect(jsonOf(await cli(['head', url(EVIL), '--json']))).toMatchObject({ key: EVIL, plaintextBytes: 1000 });

  const verify = await cli(['verify', url(EVIL)]);
  expectOk(verify);
  expect(verify.stdout.toString()).toBe(`OK    s3://${bucket.name}/${EVIL_SHOWN}  1000 bytes authenticated\n`);
});

test('an error message quoting the key is escaped and stays one line', async () => {
  const result = await cli(['get', url(TITLE), path('out')]);
  expect(result.stderr).not.toMatch(UNSAFE);
  expectOneLineError(
    result,
    EXIT.INTEGRITY,
    new RegExp(`ES_NOT_ENCRYPTED: .*${escapeRegExp(TITLE_SHOWN)} is not encrypted`),
  );
  const verify = await cli(['verify', url(TITLE), '--json']);
  expect(`${verify.stdout}${verify.stderr}`).not.toMatch(UNSAFE);
  expect(JSON.parse(verify.stdout.toString()).results[0].key).toBe(TITLE);
});

test('a local file name in an error is escaped too', async () => {
  const result = await run(['put', path('no\x1b[2Jsuch'), url('x'), '-k', keyring, ...s3Flags()]);
  expect(result.stderr).not.toMatch(UNSAFE);
  expectOneLineError(result, EXIT.FAILURE, /ENOENT.*no\\x1b\[2Jsuch/);
});

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
