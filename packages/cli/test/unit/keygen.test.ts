/**
 * keygen and the keyring file, end to end: the built binary on real files.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecipientKeyring } from '@encrypted-stream/codec';
import { EXIT, expectOk, expectOneLineError, jsonOf, run } from '../helpers/cli';
import { useTempDir } from '../helpers/files';

interface KeyringFile {
  version: number;
  primary: string;
  keys: Record<string, string>;
}

const dir = useTempDir('keygen');
const path = (name: string) => join(dir.path, name);
const readKeyring = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as KeyringFile;
const mode = (file: string) => statSync(file).mode & 0o777;
const keyBytes = (encoded: string) => Buffer.from(encoded, 'base64url');

/** A small encrypt + decrypt through a keyring, proving the keyring file is usable. */
async function roundTrip(keyringArgs: string[], env?: Record<string, string>) {
  const plaintext = Buffer.from('a keyring that works\n');
  const encrypted = await run(['encrypt', ...keyringArgs], { input: plaintext, env });
  expectOk(encrypted);
  const decrypted = await run(['decrypt', ...keyringArgs], { input: encrypted.stdout, env });
  expectOk(decrypted);
  expect(decrypted.stdout.equals(plaintext)).toBe(true);
}

describe('keygen', () => {
  test.concurrent('creates a 0600 keyring file holding one random 32-byte key', async () => {
    const file = path('new.json');
    const result = jsonOf<{ keyring: string; primary: string; keys: string[] }>(
      await run(['keygen', '--keyring', file, '--id', 'first', '--json']),
    );
    expect(result).toEqual({ keyring: file, primary: 'first', keys: ['first'] });
    expect(mode(file)).toBe(0o600);
    const json = readKeyring(file);
    expect(json).toEqual({ version: 1, primary: 'first', keys: { first: expect.any(String) } });
    const key = keyBytes(json.keys.first as string);
    expect(key).toHaveLength(32);
    // Regression: keygen zeroed its key buffer after the keyring had taken a view of it,
    // so every keyring it wrote held the all-zero key.
    expect(key.equals(Buffer.alloc(32))).toBe(false);
    await roundTrip(['--keyring', file]);
  });

  test.concurrent('two keyrings get different keys; the default key id is generated', async () => {
    const a = path('a.json');
    const b = path('b.json');
    expectOk(await run(['keygen', '-k', a]));
    expectOk(await run(['keygen', '-k', b]));
    const [ja, jb] = [readKeyring(a), readKeyring(b)];
    expect(ja.primary).toMatch(/^key-\d{8}T\d{6}-[0-9a-f]{6}$/);
    expect(ja.primary).not.toBe(jb.primary);
    expect(ja.keys[ja.primary]).not.toBe(jb.keys[jb.primary]);
  });

  test.concurrent('refuses to overwrite an existing keyring (exit 3) and leaves it untouched', async () => {
    const file = path('keep.json');
    expectOk(await run(['keygen', '-k', file, '--id', 'keep']));
    const before = readFileSync(file);
    expectOneLineError(await run(['keygen', '-k', file]), EXIT.KEYRING, /already exists; not overwriting/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  test.concurrent('--add adds a new primary key and keeps the old one', async () => {
    const file = path('grow.json');
    expectOk(await run(['keygen', '-k', file, '--id', 'one']));
    const before = readKeyring(file);
    const result = jsonOf(await run(['keygen', '-k', file, '--add', '--id', 'two', '--json']));
    expect(result).toEqual({ keyring: file, primary: 'two', keys: ['one', 'two'] });
    const after = readKeyring(file);
    expect(after.primary).toBe('two');
    expect(after.keys.one).toBe(before.keys.one);
    expect(after.keys.two).not.toBe(after.keys.one);
    expect(keyBytes(after.keys.two as string).equals(Buffer.alloc(32))).toBe(false);
    expect(mode(file)).toBe(0o600);
    // Data encrypted under the new primary key names it.
    const encrypted = await run(['encrypt', '-k', file], { input: 'x' });
    expectOk(encrypted);
    expect(encrypted.stdout.subarray(97, 100).toString()).toBe('two');
    await roundTrip(['-k', file]);
  });

  test.concurrent('--add with an id already in the keyring is refused and changes nothing', async () => {
    const file = path('dup.json');
    expectOk(await run(['keygen', '-k', file, '--id', 'same']));
    const before = readFileSync(file);
    expectOneLineError(await run(['keygen', '-k', file, '--add', '--id', 'same']), EXIT.USAGE, /already/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  test.concurrent('a keyring readable by other users (0644) is refused (exit 3), for use and for --add', async () => {
    const file = path('open.json');
    expectOk(await run(['keygen', '-k', file, '--id', 'open']));
    chmodSync(file, 0o644);
    expectOneLineError(await run(['encrypt', '-k', file], { input: 'x' }), EXIT.KEYRING, /mode 644.*chmod 600/);
    expectOneLineError(await run(['keygen', '-k', file, '--add']), EXIT.KEYRING, /chmod 600/);
    expect(Object.keys(readKeyring(file).keys)).toEqual(['open']);
    chmodSync(file, 0o600);
    await roundTrip(['-k', file]);
  });

  test.concurrent('malformed keyrings are refused (exit 3)', async () => {
    const broken = path('broken.json');
    writeFileSync(broken, '{"version": 1, "primary": ', { mode: 0o600 });
    expectOneLineError(await run(['encrypt', '-k', broken], { input: 'x' }), EXIT.KEYRING, /not valid JSON/);

    const wrongShape = path('wrong-shape.json');
    writeFileSync(wrongShape, JSON.stringify({ hello: 'world' }), { mode: 0o600 });
    expectOneLineError(await run(['encrypt', '-k', wrongShape], { input: 'x' }), EXIT.KEYRING, /malformed/);

    const shortKey = path('short-key.json');
    writeFileSync(shortKey, JSON.stringify({ version: 1, primary: 'k', keys: { k: 'AAAA' } }), { mode: 0o600 });
    expectOneLineError(await run(['encrypt', '-k', shortKey], { input: 'x' }), EXIT.KEYRING, /malformed/);
  });

  test.concurrent('a missing keyring file, or none given at all, is exit 3', async () => {
    expectOneLineError(
      await run(['encrypt', '-k', path('absent.json')], { input: 'x' }),
      EXIT.KEYRING,
      /absent\.json cannot be read/,
    );
    expectOneLineError(await run(['encrypt'], { input: 'x' }), EXIT.KEYRING, /ENCRYPTED_STREAM_KEYRING/);
    expectOneLineError(await run(['keygen']), EXIT.KEYRING, /no keyring/);
  });

  test.concurrent('ENCRYPTED_STREAM_KEYRING names the keyring when --keyring is not given', async () => {
    const file = path('from-env.json');
    const env = { ENCRYPTED_STREAM_KEYRING: file };
    expectOk(await run(['keygen', '--id', 'env-key'], { env }));
    expect(readKeyring(file).primary).toBe('env-key');
    expect(mode(file)).toBe(0o600);
    await roundTrip([], env);
    // --keyring wins over the variable.
    const other = path('flag-wins.json');
    expectOk(await run(['keygen', '-k', other, '--id', 'flag-key'], { env }));
    const encrypted = await run(['encrypt', '-k', other], { input: 'x', env });
    expectOk(encrypted);
    expect(encrypted.stdout.subarray(97, 105).toString()).toBe('flag-key');
  });
});

describe('keygen --identity', () => {
  /** The identities (not comments) of an identity file. */
  const identitiesIn = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('ES-SECRET-KEY-1'));

  test.concurrent('writes a 0600 identity file and prints only its recipient; encrypt to it, decrypt with the file', async () => {
    const file = path('restore.key');
    const made = await run(['keygen', '--identity', file]);
    expectOk(made);
    const recipient = made.stdout.toString().trim();
    expect(made.stdout.toString()).toBe(`${recipient}\n`); // the recipient alone on stdout, for $(…)
    expect(recipient).toMatch(/^es-pub1[02-9ac-hj-np-z]{58}$/);
    expect(made.stderr).toMatch(/created .*restore\.key \(mode 0600; 1 identity\)/);
    expect(mode(file)).toBe(0o600);
    const [identity] = identitiesIn(file);
    expect(identity).toMatch(/^ES-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
    expect(readFileSync(file, 'utf8')).toContain(`# recipient: ${recipient}\n`);
    expect(await RecipientKeyring.recipientOf(identity as string)).toBe(recipient);
    expect(made.stdout.toString() + made.stderr).not.toContain(identity as string);

    const plaintext = Buffer.from('to a recipient\n');
    const encrypted = await run(['encrypt', '--recipient', recipient], { input: plaintext });
    expectOk(encrypted);
    const decrypted = await run(['decrypt', '--identity', file], { input: encrypted.stdout });
    expectOk(decrypted);
    expect(decrypted.stdout.equals(plaintext)).toBe(true);
    // The recipient alone unwraps nothing.
    expectOneLineError(
      await run(['decrypt', '--recipient', recipient], { input: encrypted.stdout }),
      EXIT.KEYRING,
      /ES_UNKNOWN_KEY: this recipient keyring holds no identity/,
    );
  });

  test.concurrent('--add appends a new identity (the old ones still unwrap); --json; never overwrites without --add', async () => {
    const file = path('grow.key');
    const first = (await run(['keygen', '--identity', file])).stdout.toString().trim();
    const old = await run(['encrypt', '--recipient', first], { input: 'old' });
    const before = readFileSync(file);
    expectOneLineError(await run(['keygen', '--identity', file]), EXIT.KEYRING, /already exists; not overwriting/);
    expect(readFileSync(file).equals(before)).toBe(true);

    const added = jsonOf<{ identityFile: string; recipient: string; keyId: string; recipients: string[] }>(
      await run(['keygen', '--identity', file, '--add', '--json']),
    );
    expect(added.recipient).not.toBe(first);
    expect(added.recipients).toEqual([first, added.recipient]);
    expect(added.keyId).toBe(await RecipientKeyring.keyIdOf(added.recipient));
    expect(identitiesIn(file)).toHaveLength(2);
    expect(mode(file)).toBe(0o600);
    // Both open; with only --identity, encrypt wraps to the last identity.
    const decryptedOld = await run(['decrypt', '--identity', file], { input: old.stdout });
    expect(decryptedOld.stdout.toString()).toBe('old');
    const fresh = await run(['encrypt', '--identity', file], { input: 'new' });
    expect(fresh.stdout.subarray(97, 97 + 32).toString()).toBe(added.keyId);
  });

  test.concurrent('refused: an identity file others can read (exit 3), --id, and --keyring with it (exit 2)', async () => {
    const file = path('open.key');
    expectOk(await run(['keygen', '--identity', file]));
    chmodSync(file, 0o644);
    expectOneLineError(
      await run(['decrypt', '--identity', file], { input: 'x' }),
      EXIT.KEYRING,
      /accessible by other users.*chmod 600/,
    );
    expectOneLineError(await run(['keygen', '--identity', file, '--add']), EXIT.KEYRING, /chmod 600/);
    expect(identitiesIn(file)).toHaveLength(1);
    expectOneLineError(
      await run(['keygen', '--identity', path('x.key'), '--id', 'x']),
      EXIT.USAGE,
      /--id names keys of a keyring file/,
    );
    expectOneLineError(
      await run(['keygen', '--identity', path('y.key'), '-k', path('y.json')]),
      EXIT.USAGE,
      /keygen makes one file: --keyring or --identity/,
    );
  });
});
