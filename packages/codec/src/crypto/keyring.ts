import type { WrappedKey } from '../format/header';

/**
 * Wraps and unwraps data keys. Async so that a KMS can stand behind it.
 *
 * `aad` is the 96-byte stream header; implementations must bind it to the
 * wrapped key (FORMAT.md §6) so a key block cannot be moved to another stream.
 * @public
 */
export interface Keyring {
  /** Wraps `dataKey` under the keyring's primary key. */
  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey>;
  /**
   * Recovers the data key. Throws KeyError with ES_UNKNOWN_KEY when the key id
   * is not held, ES_KEY_UNWRAP_FAILED when the wrapped bytes do not authenticate.
   */
  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array>;
}

/** Throws TypeError unless `value` looks like a {@link Keyring}. */
export function assertKeyring(value: unknown): asserts value is Keyring {
  const k = value as Partial<Keyring> | null;
  if (!k || typeof k.wrap !== 'function' || typeof k.unwrap !== 'function') {
    throw new TypeError('keyring must implement wrap() and unwrap()');
  }
}
