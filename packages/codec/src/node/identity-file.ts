import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { RecipientKeyring } from '../crypto/recipient-keyring';
import { formatIdentity, parseIdentities, parseIdentity } from '../format/recipient-text';

/** Group and other permission bits: an identity file must have none. */
const SHARED_BITS = 0o077;

/**
 * Reads an identity file (X25519 private keys, FORMAT.md §6): one
 * `ES-SECRET-KEY-1…` per line, empty lines and `#` comments ignored. Refuses,
 * with a RangeError and before reading a byte, anything but a regular file and
 * a file that its group or other users may access (like ssh with private keys;
 * not checked on Windows, which has no such modes). Malformed content is a
 * RangeError naming the line, never its text. Returns the identities in
 * canonical form, for {@link RecipientKeyring}'s `identities`.
 * @public
 */
export async function readIdentityFile(path: string): Promise<string[]> {
  if (typeof path !== 'string') throw new TypeError('path must be a string');
  // O_NOFOLLOW is not set: a symlink to a private file is fine, the target's mode is what is checked.
  const handle = await open(path, constants.O_RDONLY);
  try {
    const info = await handle.stat(); // the opened file itself: no swap between the check and the read
    if (!info.isFile()) throw new RangeError(`identity file ${path} is not a regular file`);
    if (process.platform !== 'win32' && (info.mode & SHARED_BITS) !== 0) {
      throw new RangeError(
        `identity file ${path} is accessible by other users (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
      );
    }
    const text = await handle.readFile('utf8');
    try {
      return parseIdentities(text).map((key) => {
        const identity = formatIdentity(key);
        key.fill(0);
        return identity;
      });
    } catch (error) {
      throw new RangeError(`identity file ${path}: ${(error as Error).message}`);
    }
  } finally {
    await handle.close();
  }
}

/** Options of {@link writeIdentityFile}. @public */
export interface WriteIdentityFileOptions {
  /** Replace an existing file (atomically, through a temporary file and a rename). Default: refuse. */
  readonly overwrite?: boolean;
}

/**
 * Writes identities to a new file with mode 0600, each preceded by a comment
 * naming its recipient (public key), which is safe to share. Without
 * `overwrite`, an existing file is never replaced (the `EEXIST` error of
 * `open` is thrown). TypeError/RangeError for a malformed identity, before
 * anything is written.
 * @public
 */
export async function writeIdentityFile(
  path: string,
  identities: readonly string[],
  options: WriteIdentityFileOptions = {},
): Promise<void> {
  if (typeof path !== 'string') throw new TypeError('path must be a string');
  if (!Array.isArray(identities) || identities.length === 0) {
    throw new RangeError('identities must be a non-empty array of ES-SECRET-KEY-1… strings');
  }
  const lines = ['# encrypted-stream identity file: X25519 private keys. Keep it secret (mode 0600).'];
  for (const identity of identities) {
    const key = parseIdentity(identity);
    lines.push(`# recipient: ${await RecipientKeyring.recipientOf(identity)}`, formatIdentity(key));
    key.fill(0);
  }
  const text = `${lines.join('\n')}\n`;
  if (!options.overwrite) {
    await writeNew(path, text);
    return;
  }
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeNew(temp, text);
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** Creates `path` (never replacing a file) with mode 0600, writes `text` and syncs it; removes it on failure. */
async function writeNew(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  let written = false;
  try {
    await handle.chmod(0o600); // the umask only removes bits, but a file system may ignore the mode given to open
    await handle.writeFile(text);
    await handle.sync();
    written = true;
  } finally {
    await handle.close();
    if (!written) await unlink(path).catch(() => {});
  }
}
