import { randomBytes, randomFillSync } from 'node:crypto';
import { LocalKeyring, RecipientKeyring } from '@encrypted-stream/codec';
import { readIdentityFile, writeIdentityFile } from '@encrypted-stream/codec/node';
import type { Command } from '../command';
import { stringOption } from '../command';
import type { CommandContext } from '../command-context';
import { CliError, ExitCode, usageError } from '../exit-codes';
import { keyringPath, loadKeyring, saveKeyring } from '../keyring-file';

function defaultKeyId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `key-${stamp}-${randomBytes(3).toString('hex')}`;
}

const keyringError = (message: string) => new CliError(ExitCode.KEYRING, message);

/**
 * `keygen --identity FILE`: a new X25519 identity in a new identity file
 * (0600, never overwriting), or with --add appended to an existing one (its
 * identities kept, the file replaced atomically). Prints the recipient, which
 * writers get; never the identity.
 */
async function identityKeygen(context: CommandContext, path: string, add: boolean): Promise<void> {
  let identities: string[] = [];
  if (add) {
    try {
      identities = await readIdentityFile(path);
    } catch (error) {
      if (error instanceof RangeError) throw keyringError(error.message);
      throw keyringError(`identity file ${path} cannot be read`);
    }
  }
  const identity = await RecipientKeyring.generateIdentity();
  const recipient = await RecipientKeyring.recipientOf(identity);
  try {
    await writeIdentityFile(path, [...identities, identity], { overwrite: add });
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST')
      throw keyringError(`${path} already exists; not overwriting it`);
    throw error;
  }
  const recipients = await Promise.all([...identities, identity].map((i) => RecipientKeyring.recipientOf(i)));
  if (context.options.json) {
    context.report(
      { identityFile: path, recipient, keyId: await RecipientKeyring.keyIdOf(recipient), recipients },
      recipient,
    );
    return;
  }
  // The recipient on stdout alone (for `$(…)` and pipes), even with --quiet; what happened on stderr.
  context.stdout.write(`${recipient}\n`);
  if (!context.options.quiet) {
    context.stderr.write(
      `${add ? 'added an identity to' : 'created'} ${path} (mode 0600; ${recipients.length} ${recipients.length === 1 ? 'identity' : 'identities'}); its recipient is on stdout: give it to writers (--recipient)\n`,
    );
  }
}

/** `keygen`: create a keyring file or an identity file (0600, never overwriting), or add a new key to one. */
export const keygen: Command = {
  name: 'keygen',
  usage: 'keygen (--keyring FILE [--id ID] | --identity FILE) [--add]',
  summary: 'create a keyring file or an X25519 identity file (prints its recipient), or --add a new key to one',
  help: [
    '--keyring FILE: writes a new keyring file (mode 0600, never overwriting one) holding one random 32-byte',
    'key, or with --add a new primary key to an existing one (older keys stay, so older objects still open;',
    '`rotate` re-wraps them to the new key). Keys are never printed.',
    '',
    '--identity FILE: writes a new identity file (an X25519 private key, ES-SECRET-KEY-1…, mode 0600, never',
    'overwriting one) and prints its recipient (public key, es-pub1…) on stdout: writers need only that',
    '(put --recipient), and cannot read what they write; readers pass the file (get --identity). With --add',
    'a new identity is appended (the old ones still unwrap) and its recipient printed: `rotate --identity',
    'FILE --recipient NEW` moves objects to it. The identity itself is never printed.',
  ],
  options: {
    id: {
      type: 'string',
      value: 'ID',
      description: "the new key's id (default: key-<UTC time>-<random>; --keyring only)",
    },
    identity: {
      type: 'string',
      value: 'FILE',
      description: 'make an X25519 identity file instead, and print its recipient',
    },
    add: { type: 'boolean', description: 'add a new key (primary key, or identity) to the existing file' },
  },
  examples: [
    'encrypted-stream keygen --keyring ~/.es-keyring',
    'encrypted-stream keygen --keyring ~/.es-keyring --add --id 2025-q3',
    'encrypted-stream keygen --identity ~/restore.key > backup-host.recipient',
  ],
  async run(context, args, values) {
    if (args.length > 0) throw usageError('keygen takes no positional arguments');
    const identityFile = stringOption(values, 'identity');
    if (identityFile !== undefined) {
      if (context.options.keyring !== undefined) {
        throw usageError('keygen makes one file: --keyring or --identity, not both');
      }
      if (stringOption(values, 'id') !== undefined) {
        throw usageError('--id names keys of a keyring file; an identity is named by its recipient');
      }
      await identityKeygen(context, identityFile, values.add === true);
      return;
    }
    const path = keyringPath(context.options.keyring);
    const id = stringOption(values, 'id') ?? defaultKeyId();
    // A plain Uint8Array, not a Buffer: LocalKeyring copies keys with slice(), which on a Buffer is a view,
    // so zeroing a Buffer below would zero the key the keyring holds (and keygen would save all-zero keys).
    const key = randomFillSync(new Uint8Array(32));
    let keyring: LocalKeyring;
    try {
      keyring = values.add ? (await loadKeyring(path)).withPrimaryKey(id, key) : LocalKeyring.single(id, key);
    } finally {
      key.fill(0);
    }
    await saveKeyring(path, keyring, !values.add);
    context.report(
      { keyring: path, primary: keyring.primaryKeyId, keys: keyring.keyIds },
      `${values.add ? 'added' : 'created'} key "${id}" (primary) in ${path}; keys: ${keyring.keyIds.join(', ')}`,
    );
  },
};
