import { ErrorCode, type Keyring, openStreamCipher } from '@encrypted-stream/codec';
import type { EncryptionHeader, WrappedKey } from '@encrypted-stream/codec/low-level';
import { KEYRING_ENV } from '../keyring-file';

/** Said in every human report made without a keyring. */
export const UNVERIFIED_NOTE = `UNVERIFIED: no keyring (--keyring, --identity, --kms-key-id… or $${KEYRING_ENV}): this is what the metadata claims, not authenticated`;

/** Said when the key unwraps but the header's context is not one the CLI knows. */
export const CUSTOM_CONTEXT_NOTE =
  'NOT VERIFIED: bound to a context other than none or {bucket, key}, so its header cannot be authenticated here';

/** What a header was bound to: nothing, `{ bucket, key }`, or a context the CLI does not know. */
export type ContextBinding = 'none' | 'location' | 'custom';

/**
 * Authenticates an object's header under `keyring` (one key unwrap) and finds
 * its context: opened with no context, then with `{ bucket, key }`. `custom`
 * when the key unwraps but neither context matches: the header is then not
 * authenticated (its context is unknown here). Any other failure throws
 * (an unknown key id, a tampered header or key block).
 */
export async function verifyHeader(
  header: EncryptionHeader,
  keyring: Keyring,
  bucket: string,
  key: string,
): Promise<ContextBinding> {
  const once = new UnwrapOnce(keyring);
  try {
    for (const [binding, context] of [
      ['none', {}],
      ['location', { bucket, key }],
    ] as const) {
      try {
        await openStreamCipher(header, { keyring: once, context });
        return binding;
      } catch (error) {
        if ((error as { code?: string }).code !== ErrorCode.CONTEXT_MISMATCH) throw error;
      }
    }
    return 'custom';
  } finally {
    once.wipe();
  }
}

/**
 * Unwraps one key block once, handing out copies: trying a second context
 * costs no second unwrap (for KMS, no second Decrypt). The codec checks the
 * key commitment of each copy, as for any unwrap.
 */
class UnwrapOnce implements Keyring {
  #dataKey: Promise<Uint8Array> | undefined;
  #held: Uint8Array | undefined;
  constructor(readonly keyring: Keyring) {}
  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    return this.keyring.wrap(dataKey, aad);
  }
  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    this.#dataKey ??= this.keyring.unwrap(wrapped, aad).then((dataKey) => {
      this.#held = dataKey;
      return dataKey;
    });
    return new Uint8Array(await this.#dataKey); // a copy: the codec wipes what unwrap returns
  }
  wipe(): void {
    this.#held?.fill(0);
  }
}
