import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat } from 'node:fs/promises';
import { LocalKeyring } from '@encrypted-stream/codec';
import { CliError, ExitCode } from './exit-codes';

/** The environment variable naming the keyring file when --keyring is not given. */
export const KEYRING_ENV = 'ENCRYPTED_STREAM_KEYRING';

const keyringError = (message: string) => new CliError(ExitCode.KEYRING, message);

/** Which keyring file to use: --keyring, else $ENCRYPTED_STREAM_KEYRING. */
export function keyringPath(flag: string | undefined): string {
  const path = flag ?? process.env[KEYRING_ENV];
  if (!path) throw keyringError(`no keyring: pass --keyring FILE or set ${KEYRING_ENV}`);
  return path;
}

/**
 * Refuses (exit code 3) a secret file that is missing or that the group or
 * other users can access (like ssh does with private keys); `what` names it
 * in the message ("keyring", "signing key").
 */
export async function checkPrivateFile(path: string, what: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw keyringError(`${what} ${path} cannot be read`);
  }
  if ((info.mode & 0o077) !== 0) {
    throw keyringError(
      `${what} ${path} is accessible by other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
}

/** Loads a keyring file, refusing files other users can read (see {@link checkPrivateFile}). */
export async function loadKeyring(path: string): Promise<LocalKeyring> {
  await checkPrivateFile(path, 'keyring');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw keyringError(`keyring ${path} is not valid JSON`);
  }
  try {
    return LocalKeyring.fromJSON(json);
  } catch (error) {
    throw keyringError(`keyring ${path} is malformed: ${(error as Error).message}`);
  }
}

/** Writes a keyring atomically with mode 0600; `create` refuses to overwrite an existing file. */
export async function saveKeyring(path: string, keyring: LocalKeyring, create: boolean): Promise<void> {
  const data = `${JSON.stringify(keyring.toJSON(), null, 2)}\n`;
  if (create) {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST')
        throw keyringError(`${path} already exists; not overwriting it`);
      throw error;
    }
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    return;
  }
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  await handle.writeFile(data);
  await handle.sync();
  await handle.close();
  await rename(temp, path);
}
