import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecipientKeyring } from '../../src/crypto/recipient-keyring';
import { EncryptedStreamError } from '../../src/format/errors';
import { formatIdentity } from '../../src/format/recipient-text';
import { readIdentityFile, writeIdentityFile } from '../../src/node/identity-file';
import { filler } from '../helpers';

const ONE = formatIdentity(filler(32, 41));
const TWO = formatIdentity(filler(32, 42));
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'es-identity-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

const posix = process.platform !== 'win32';

describe('identity files', () => {
  test('written 0600 with a recipient comment per identity; read back in order', async () => {
    const path = join(dir, 'identity.txt');
    await writeIdentityFile(path, [ONE, TWO.toLowerCase()]);
    if (posix) expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).toContain(`# recipient: ${await RecipientKeyring.recipientOf(ONE)}\n${ONE}\n`);
    expect(text).toContain(`# recipient: ${await RecipientKeyring.recipientOf(TWO)}\n${TWO}\n`);
    expect(await readIdentityFile(path)).toEqual([ONE, TWO]);
    const keyring = new RecipientKeyring({ identities: await readIdentityFile(path) });
    expect(await keyring.recipient()).toBe(await RecipientKeyring.recipientOf(TWO));
  });

  test('an existing file is never replaced unless asked; then atomically, still 0600', async () => {
    const path = join(dir, 'identity.txt');
    await writeIdentityFile(path, [ONE]);
    expect(((await rejection(writeIdentityFile(path, [TWO]))) as NodeJS.ErrnoException).code).toBe('EEXIST');
    expect(await readIdentityFile(path)).toEqual([ONE]);
    await writeIdentityFile(path, [ONE, TWO], { overwrite: true });
    expect(await readIdentityFile(path)).toEqual([ONE, TWO]);
    if (posix) expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  (posix ? test : test.skip).each([
    ['644', 0o644],
    ['640', 0o640],
    ['604', 0o604],
    ['660', 0o660],
    ['720', 0o720],
  ])('a file with mode %s is refused before it is read', async (_octal, mode) => {
    const path = join(dir, 'identity.txt');
    await writeFile(path, `${ONE}\n`);
    await chmod(path, mode);
    const error = await rejection(readIdentityFile(path));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/accessible by other users .*chmod 600/);
  });

  (posix ? test : test.skip)('0400 is fine; a symlink is judged by its target', async () => {
    const path = join(dir, 'identity.txt');
    await writeFile(path, `${ONE}\n`, { mode: 0o400 });
    expect(await readIdentityFile(path)).toEqual([ONE]);
    await symlink(path, join(dir, 'link'));
    expect(await readIdentityFile(join(dir, 'link'))).toEqual([ONE]);
  });

  test('a directory, a missing file, malformed content (named by line, never echoed)', async () => {
    await mkdir(join(dir, 'sub'), { mode: 0o700 });
    expect(await rejection(readIdentityFile(join(dir, 'sub')))).toBeInstanceOf(RangeError);
    expect(((await rejection(readIdentityFile(join(dir, 'absent')))) as NodeJS.ErrnoException).code).toBe('ENOENT');
    const path = join(dir, 'identity.txt');
    const typo = `${ONE.slice(0, 40)}${ONE[40] === 'Q' ? 'P' : 'Q'}${ONE.slice(41)}`;
    await writeFile(path, `# mine\n${ONE}\n${typo}\n`, { mode: 0o600 });
    const error = await rejection(readIdentityFile(path));
    expect(error).toBeInstanceOf(RangeError);
    expect(error).not.toBeInstanceOf(EncryptedStreamError);
    expect(error.message).toMatch(/line 3/);
    expect(error.message).not.toContain(typo.slice(15, 60));
  });

  test('writing refuses bad identities before creating anything', async () => {
    const path = join(dir, 'identity.txt');
    await expect(writeIdentityFile(path, [])).rejects.toBeInstanceOf(RangeError);
    await expect(writeIdentityFile(path, [ONE, 'es-pub1nope'])).rejects.toBeInstanceOf(RangeError);
    await expect(writeIdentityFile(5 as never, [ONE])).rejects.toBeInstanceOf(TypeError);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
