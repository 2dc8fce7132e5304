import { randomBytes, randomFillSync } from 'node:crypto';
import { LocalKeyring } from '@encrypted-stream/codec';
import type { Command } from '../command';
import { stringOption } from '../command';
import { usageError } from '../exit-codes';
import { keyringPath, loadKeyring, saveKeyring } from '../keyring-file';

function defaultKeyId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  return `key-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** `keygen`: create a keyring file (0600, never overwriting) or add a new primary key to one. */
export const keygen: Command = {
  name: 'keygen',
  usage: 'keygen --keyring FILE [--id ID] [--add]',
  summary: 'create a keyring file, or --add a new primary key to one',
  help: [
    'Writes a new keyring file (mode 0600, never overwriting one) holding one random 32-byte key, or with',
    '--add a new primary key to an existing one (older keys stay, so older objects still open; `rotate`',
    're-wraps them to the new key). Keys are never printed.',
  ],
  options: {
    id: { type: 'string', value: 'ID', description: "the new key's id (default: key-<UTC time>-<random>)" },
    add: { type: 'boolean', description: 'add a new primary key to the existing keyring' },
  },
  examples: [
    'encrypted-stream keygen --keyring ~/.es-keyring',
    'encrypted-stream keygen --keyring ~/.es-keyring --add --id 2025-q3',
  ],
  async run(context, args, values) {
    if (args.length > 0) throw usageError('keygen takes no positional arguments');
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
