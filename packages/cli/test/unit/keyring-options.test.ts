/**
 * The keyring options' rules, on the built binary with no S3 server and no
 * KMS: exactly one keyring writes (exit 2 for two), one recipient per object,
 * malformed recipients, ARNs and account ids (exit 2, before any file is read
 * or request sent), files that are missing or malformed (exit 3), and
 * $ENCRYPTED_STREAM_KEYRING used only when no keyring option is given.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, expectOk, expectOneLineError, run } from '../helpers/cli';
import { useTempDir } from '../helpers/files';

const dir = useTempDir('keyring-options');
const path = (name: string) => join(dir.path, name);
const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
let keyring: string;
let identityFile: string;
let recipient: string;
let identity: string;
let file: string;

beforeAll(async () => {
  keyring = path('keyring.json');
  expectOk(await run(['keygen', '-k', keyring, '-q']));
  identityFile = path('id.key');
  const made = await run(['keygen', '--identity', identityFile]);
  expectOk(made);
  recipient = made.stdout.toString().trim();
  identity = readFileSync(identityFile, 'utf8').match(/^ES-SECRET-KEY-1\S+$/m)![0];
  file = path('source.bin');
  writeFileSync(file, 'some bytes\n');
});

/** A run with an endpoint nothing listens on and no credentials: nothing may be sent. */
const bare = (args: string[], env: Record<string, string | undefined> = {}) =>
  run([...args, '--endpoint', 'http://127.0.0.1:9', '--path-style'], {
    env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_REGION: 'us-east-1', ...env },
  });

describe('exit 2: keyring options that conflict or are malformed', () => {
  test.concurrent.each([
    [
      'put with --keyring and --recipient',
      () => ['put', file, 's3://b/k', '-k', keyring, '--recipient', recipient],
      /put wraps each object's data key with one keyring, but --keyring and --recipient\/--identity were given: keep one/,
    ],
    [
      'put with --recipient and --kms-key-id',
      () => ['put', file, 's3://b/k', '--recipient', recipient, '--kms-key-id', ARN],
      /but --recipient\/--identity and --kms-key-id\/--kms-discovery-account were given/,
    ],
    [
      'encrypt with --identity and --kms-key-id',
      () => ['encrypt', file, '--identity', identityFile, '--kms-key-id', ARN],
      /encrypt wraps each object's data key with one keyring/,
    ],
    [
      'two recipients',
      () => ['put', file, 's3://b/k', '--recipient', recipient, '--recipient', recipient],
      /one recipient per object \(FORMAT\.md §6\)/,
    ],
    [
      '--recipient and --recipients-file',
      () => ['encrypt', file, '--recipient', recipient, '--recipients-file', file],
      /one recipient per object/,
    ],
    [
      'a mistyped recipient',
      () => ['encrypt', file, '--recipient', `${recipient.slice(0, -1)}x`],
      /--recipient: not a recipient: expected es-pub1… \(65 characters\) with a valid checksum/,
    ],
    [
      'an identity passed as the recipient',
      () => ['encrypt', file, '--recipient', identity],
      /--recipient: this is an identity \(a private key\), not a recipient/,
    ],
    [
      'a KMS alias ARN',
      () => ['put', file, 's3://b/k', '--kms-key-id', 'arn:aws:kms:us-east-1:111122223333:alias/backups'],
      /--kms-key-id "arn:aws:kms:us-east-1:111122223333:alias\/backups" is not a KMS key ARN/,
    ],
    [
      'a bare KMS key id',
      () => ['get', 's3://b/k', '-', '--kms-key-id', '1234abcd-12ab-34cd-56ef-1234567890ab'],
      /is not a KMS key ARN/,
    ],
    [
      'a discovery account that is not 12 digits',
      () => ['get', 's3://b/k', '-', '--kms-discovery-account', '1234'],
      /--kms-discovery-account "1234" is not a 12-digit AWS account id/,
    ],
    [
      '--kms-endpoint without a KMS key',
      () => ['get', 's3://b/k', '-', '-k', keyring, '--kms-endpoint', 'http://127.0.0.1:9'],
      /--kms-endpoint needs --kms-key-id or --kms-discovery-account/,
    ],
    [
      '--kms-profile without a KMS key',
      () => ['encrypt', file, '-k', keyring, '--kms-profile', 'x'],
      /--kms-profile needs --kms-key-id/,
    ],
    [
      'put with only a discovery account',
      () => ['put', file, 's3://b/k', '--kms-discovery-account', '111122223333'],
      /--kms-discovery-account only unwraps: put needs the key to wrap with, --kms-key-id ARN/,
    ],
    [
      'rotate with a recipient and a KMS key, no --to',
      () => ['rotate', 's3://b/p', '--recipient', recipient, '--kms-key-id', ARN],
      /rotate re-wraps to one keyring, but both a recipient and a --kms-key-id were given: say which with --to recipient or --to kms/,
    ],
    [
      'rotate --to something else',
      () => ['rotate', 's3://b/p', '-k', keyring, '--to', 'aws'],
      /--to "aws": expected keyring, recipient or kms/,
    ],
    [
      'rotate --to a keyring not given',
      () => ['rotate', 's3://b/p', '-k', keyring, '--to', 'kms'],
      /--to kms: no --kms-key-id\/--kms-discovery-account given/,
    ],
  ] as const)('%s', async (_name, args, pattern) => {
    const result = await bare([...args()]);
    const line = expectOneLineError(result, EXIT.USAGE, pattern);
    expect(line).not.toContain(identity); // never repeated, whatever the mistake
  });
});

describe('exit 3: keyring files missing or malformed; nothing to read with', () => {
  test.concurrent('a recipients file with two recipients, an identity, or none; a missing one', async () => {
    const two = path('two.recipients');
    writeFileSync(two, `# backups\n${recipient}\n${recipient}\n`);
    expectOneLineError(
      await bare(['encrypt', file, '--recipients-file', two]),
      EXIT.KEYRING,
      /must hold exactly one recipient \(es-pub1…\), found 2/,
    );
    const secret = path('secret.recipients');
    writeFileSync(secret, `# oops\n${identity}\n`);
    const line = expectOneLineError(
      await bare(['encrypt', file, '--recipients-file', secret]),
      EXIT.KEYRING,
      /secret\.recipients, line 2: this is an identity \(a private key\), not a recipient/,
    );
    expect(line).not.toContain(identity);
    expectOneLineError(
      await bare(['encrypt', file, '--recipients-file', path('absent')]),
      EXIT.KEYRING,
      /recipients file \S+absent cannot be read/,
    );
    const good = path('good.recipients');
    writeFileSync(good, `# the restore host's\n\n${recipient}\n`);
    expectOk(await bare(['encrypt', file, '-o', path('to-file.es'), '--recipients-file', good]));
  });

  test.concurrent('an identity file that is missing or is not one', async () => {
    expectOneLineError(
      await bare(['decrypt', file, '--identity', path('absent.key')]),
      EXIT.KEYRING,
      /identity file \S+absent\.key cannot be read/,
    );
    const notIdentity = path('not-identity.key');
    writeFileSync(notIdentity, `${recipient}\n`, { mode: 0o600 });
    expectOneLineError(
      await bare(['decrypt', file, '--identity', notIdentity]),
      EXIT.KEYRING,
      /line 1: this is a recipient \(a public key\), not an identity/,
    );
  });

  test.concurrent('an object under a key type no keyring given reads: the key id says which option it needs', async () => {
    const toRecipient = await bare(['encrypt', '--recipient', recipient], {});
    expectOk(toRecipient);
    const out = await run(['decrypt', '-k', keyring], { input: toRecipient.stdout });
    expectOneLineError(
      out,
      EXIT.KEYRING,
      /ES_UNKNOWN_KEY: key id "es-x25519-[\w-]{22}" is an X25519 recipient: pass the --identity file holding its identity/,
    );
  });
});

describe('$ENCRYPTED_STREAM_KEYRING', () => {
  test.concurrent('is used only when no keyring option is given', async () => {
    const env = { ENCRYPTED_STREAM_KEYRING: path('no-such-keyring.json') };
    // A recipient given: the variable is not even looked at (its file does not exist).
    const encrypted = await bare(['encrypt', '--recipient', recipient], env);
    expectOk(encrypted);
    expectOk(await run(['decrypt', '--identity', identityFile], { input: encrypted.stdout, env }));
    // Nothing given: the variable names the keyring.
    expectOneLineError(
      await run(['encrypt'], { input: 'x', env }),
      EXIT.KEYRING,
      /no-such-keyring\.json cannot be read/,
    );
  });
});
