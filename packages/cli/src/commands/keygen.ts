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
  options: { id: { type: 'string' }, add: { type: 'boolean' } },
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
