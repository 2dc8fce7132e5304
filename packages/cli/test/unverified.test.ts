/**
 * `head` and `ls` without a keyring (issue 12): they show what the object
 * metadata says, clearly marked unverified; with a keyring (flag or
 * environment) they authenticate each header, and a forged one is reported
 * (exit 4). Built binary, real S3.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { useBucket } from '@encrypted-stream/test-support';
import { EXIT, expectExit, expectOk, expectOneLineError, jsonOf, run } from './helpers/cli';
import { ciphertextSize, randomData, useTempDir } from './helpers/files';
import { s3Flags } from './helpers/s3';

const KEY_ID = 'unverified-key';
const dir = useTempDir('unverified');
const bucket = useBucket('unverified');
const path = (name: string) => join(dir.path, name);
const url = (key: string) => `s3://${bucket.name}/${key}`;
let keyring: string;
/** The CLI without any keyring (none in the environment either: helpers/cli.ts clears it). */
const bare = (args: string[]) => run([...args, ...s3Flags()]);
const keyed = (args: string[]) => run([...args, '-k', keyring, ...s3Flags()]);

async function rawObject(key: string) {
  const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), metadata: out.Metadata ?? {} };
}

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '--id', KEY_ID]));
  writeFileSync(path('a'), randomData(1000));
  writeFileSync(path('victim'), randomData(70_000));
  expectOk(await keyed(['put', path('a'), url('docs/a'), '-q']));
  expectOk(await keyed(['put', path('victim'), url('forged/victim'), '-q']));
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'docs/plain.txt', Body: 'plain\n' }));
  // Forged: the victim's body and key block under another object's header (its size, its chunk layout).
  const [victim, other] = await Promise.all([rawObject('forged/victim'), rawObject('docs/a')]);
  await bucket.client.send(
    new PutObjectCommand({
      Bucket: bucket.name,
      Key: 'forged/victim',
      Body: victim.body,
      Metadata: { ...victim.metadata, 'es-h': other.metadata['es-h'] as string },
    }),
  );
});

describe('head', () => {
  test('without a keyring: the metadata, marked UNVERIFIED, exit 0', async () => {
    const human = await bare(['head', url('docs/a')]);
    expectOk(human);
    const lines = human.stdout.toString().split('\n');
    expect(lines[0]).toBe(url('docs/a'));
    expect(lines[1]).toMatch(
      /^ {2}UNVERIFIED: no keyring \(--keyring, --identity, --kms-key-id… or \$ENCRYPTED_STREAM_KEYRING\)/,
    );
    expect(human.stdout.toString()).toMatch(/plaintext size +1000 bytes \(0\.98 KiB\), recorded in the header\n/);
    expect(human.stdout.toString()).not.toMatch(/, authenticated in the header/);
    expect(human.stdout.toString()).toMatch(/context +unknown \(needs the keyring\)/);
    expect(human.stderr).toBe('');

    expect(jsonOf(await bare(['head', url('docs/a'), '--json']))).toMatchObject({
      encrypted: true,
      verified: false,
      plaintextBytes: 1000,
      storedBytes: ciphertextSize(1000),
      sizeRecorded: true,
      sizeAuthenticated: false,
      keyId: KEY_ID,
      context: 'unknown',
    });
  });

  test('with a keyring, from --keyring or the environment: verified, as before', async () => {
    const flagged = jsonOf(await keyed(['head', url('docs/a'), '--json']));
    const fromEnv = jsonOf(
      await run(['head', url('docs/a'), '--json', ...s3Flags()], { env: { ENCRYPTED_STREAM_KEYRING: keyring } }),
    );
    for (const result of [flagged, fromEnv]) {
      expect(result).toMatchObject({ verified: true, sizeAuthenticated: true, context: 'none', keyId: KEY_ID });
    }
    const human = await keyed(['head', url('docs/a')]);
    expect(human.stdout.toString()).not.toMatch(/UNVERIFIED/);
    expect(human.stdout.toString()).toMatch(/1000 bytes \(0\.98 KiB\), authenticated in the header/);
  });

  test('a forged header: shown as claimed without a keyring (marked), refused with one (exit 4)', async () => {
    // What the metadata claims is another object's size: exactly why it must say unverified.
    expect(jsonOf(await bare(['head', url('forged/victim'), '--json']))).toMatchObject({
      verified: false,
      plaintextBytes: 1000,
    });
    expectOneLineError(await keyed(['head', url('forged/victim')]), EXIT.INTEGRITY, /ES_KEY_UNWRAP_FAILED/);
  });

  test('a plaintext object needs no keyring either', async () => {
    const result = await bare(['head', url('docs/plain.txt')]);
    expectOk(result);
    expect(result.stdout.toString()).toBe(`${url('docs/plain.txt')}: not encrypted (6 bytes)\n`);
  });
});

describe('ls', () => {
  test('without a keyring: every encrypted row marked unverified, and a note on stderr', async () => {
    const human = await bare(['ls', url('docs/')]);
    expectOk(human);
    expect(human.stdout.toString()).toBe(
      `${'1000'.padStart(14)}  encrypted (${KEY_ID}, unverified)  docs/a\n${'6'.padStart(14)}  plaintext   docs/plain.txt\n`,
    );
    expect(human.stderr).toBe(
      "encrypted-stream: no keyring (--keyring, --identity, --kms-key-id… or $ENCRYPTED_STREAM_KEYRING): the sizes and key ids above are what each object's metadata claims, unverified\n",
    );
    const json = await bare(['ls', url('docs/'), '--json']);
    expect(json.stderr).toBe('');
    expect(jsonOf(json)).toEqual({
      bucket: bucket.name,
      prefix: 'docs/',
      verified: false,
      objects: [
        {
          key: 'docs/a',
          encrypted: true,
          verified: false,
          plaintextBytes: 1000,
          storedBytes: ciphertextSize(1000),
          keyId: KEY_ID,
        },
        { key: 'docs/plain.txt', encrypted: false, storedBytes: 6 },
      ],
    });
  });

  test('with a keyring: each header authenticated', async () => {
    const result = jsonOf<{ verified: boolean; objects: Record<string, unknown>[] }>(
      await keyed(['ls', url('docs/'), '--json']),
    );
    expect(result.verified).toBe(true);
    expect(result.objects[0]).toMatchObject({ key: 'docs/a', verified: true, context: 'none' });
    const human = await keyed(['ls', url('docs/')]);
    expectOk(human);
    expect(human.stdout.toString()).toContain(`  encrypted (${KEY_ID})  docs/a\n`);
    expect(human.stderr).toBe('');
  });

  test('a forged header: listed unverified without a keyring (exit 0); FAILED with one, after every row (exit 4)', async () => {
    const claimed = await bare(['ls', url(''), '--json']);
    expectOk(claimed);
    const forged = await keyed(['ls', url('')]);
    expectExit(forged, EXIT.INTEGRITY);
    const rows = forged.stdout.toString().split('\n');
    expect(rows).toContain(`${'1000'.padStart(14)}  encrypted (${KEY_ID})  docs/a`);
    expect(rows.find((r) => r.endsWith('forged/victim'))).toMatch(/FAILED \(unverified-key\): ES_KEY_UNWRAP_FAILED/);
    expect(forged.stderr).toMatch(/^encrypted-stream: 1 object header\(s\) failed verification: ES_KEY_UNWRAP_FAILED/);
  });
});
