import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@encrypted-stream/codec';

/** A fresh 32-byte master key (tests that look for key bytes need to know them). */
export function newMasterKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** A keyring holding one master key: a fresh random one, or `masterKey` (e.g. shared with a child process). */
export function newKeyring(
  keyId = 'it-key-1',
  masterKey: Uint8Array = newMasterKey(),
): { keyring: LocalKeyring; keyId: string; masterKey: Uint8Array } {
  return { keyring: LocalKeyring.single(keyId, masterKey), keyId, masterKey };
}
