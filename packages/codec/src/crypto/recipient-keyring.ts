import { ErrorCode, KeyError } from '../format/errors';
import type { WrappedKey } from '../format/header';
import {
  formatIdentity,
  formatRecipient,
  parseIdentities,
  parseIdentity,
  parseRecipient,
} from '../format/recipient-text';
import type { CryptoBackend } from './backend/backend';
import { defaultBackend } from './backend/select';
import { loadSodium, type Sodium } from './backend/sodium';
import type { Keyring } from './keyring';
import { recipientKeyId } from './recipient-key-id';
import { unwrapWithIdentity, wrapToRecipient } from './recipient-wrap';
import { x25519PublicKey } from './x25519';

/**
 * What a {@link RecipientKeyring} holds.
 * @public
 */
export interface RecipientKeyringOptions {
  /**
   * The recipient (X25519 public key, `es-pub1…`) that new data keys are
   * wrapped to. Default: the public key of the last identity.
   */
  readonly recipient?: string;
  /**
   * Identities (X25519 private keys, `ES-SECRET-KEY-1…`) that unwrap: a list,
   * or the text of an identity file (one per line, `#` comments). Omit them on
   * a host that must write but never read.
   */
  readonly identities?: string | readonly string[];
  /** Force a crypto backend (default: the fastest available). */
  readonly backend?: CryptoBackend;
}

interface Identity {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

interface Ready {
  readonly sodium: Sodium;
  readonly backend: CryptoBackend;
  /** The public key new data keys are wrapped to, and its key id. */
  readonly primary: { readonly publicKey: Uint8Array; readonly keyId: string };
  /** Key id (the recipient's fingerprint) to identity. */
  readonly identities: ReadonlyMap<string, Identity>;
}

/**
 * A public-key keyring (FORMAT.md §6, "X25519 recipients"). Wrapping needs only
 * a recipient's public key, so a backup host holding just `es-pub1…` can write
 * streams that it cannot read; unwrapping needs the matching identity (private
 * key). Each stream is wrapped to one recipient; its key id is a one-way
 * fingerprint of it (`es-x25519-…`, see {@link RecipientKeyring.keyIdOf}), so
 * the stored metadata does not reveal the public key. An identity file may hold
 * several identities (old and new) so that streams wrapped to any of them still
 * open.
 *
 * Unwrap failures: a key block for a recipient whose identity is not held is
 * `ES_UNKNOWN_KEY`; a tampered, truncated or moved one is `ES_KEY_UNWRAP_FAILED`.
 * @public
 */
export class RecipientKeyring implements Keyring {
  readonly #recipient: Uint8Array | undefined;
  readonly #secretKeys: readonly Uint8Array[];
  readonly #backendOption: CryptoBackend | undefined;
  #ready: Promise<Ready> | undefined;

  /**
   * Parses and checks every key now: TypeError/RangeError for a malformed
   * recipient or identity, or for a keyring with neither.
   */
  constructor(options: RecipientKeyringOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const { recipient, identities, backend } = options;
    this.#recipient = recipient === undefined ? undefined : parseRecipient(recipient);
    if (identities === undefined) {
      this.#secretKeys = [];
    } else if (typeof identities === 'string') {
      this.#secretKeys = parseIdentities(identities);
    } else if (Array.isArray(identities)) {
      this.#secretKeys = identities.map((identity, i) => {
        try {
          return parseIdentity(identity);
        } catch (error) {
          if (error instanceof RangeError) throw new RangeError(`identities[${i}]: ${error.message}`);
          throw error;
        }
      });
    } else {
      throw new TypeError('identities must be a string or an array of strings');
    }
    if (!this.#recipient && this.#secretKeys.length === 0) {
      throw new RangeError('a recipient keyring needs a recipient or at least one identity');
    }
    this.#backendOption = backend;
  }

  /**
   * A new identity (`ES-SECRET-KEY-1…`): 32 bytes from libsodium's CSPRNG.
   * Keep it secret (`writeIdentityFile` writes it 0600); writers get its
   * recipient, {@link RecipientKeyring.recipientOf}.
   */
  static async generateIdentity(): Promise<string> {
    const sodium = await loadSodium();
    const { privateKey, publicKey } = sodium.crypto_box_keypair();
    try {
      return formatIdentity(privateKey);
    } finally {
      privateKey.fill(0);
      publicKey.fill(0);
    }
  }

  /** The recipient (`es-pub1…`) of an identity: what writers need. TypeError/RangeError for a malformed identity. */
  static async recipientOf(identity: string): Promise<string> {
    const secretKey = parseIdentity(identity);
    try {
      return formatRecipient(x25519PublicKey(await loadSodium(), secretKey));
    } finally {
      secretKey.fill(0);
    }
  }

  /**
   * The key id (`es-x25519-` and 22 base64url characters) of every stream
   * wrapped to `recipient`: what `head` shows. TypeError/RangeError for a malformed recipient.
   */
  static async keyIdOf(recipient: string): Promise<string> {
    return recipientKeyId(await defaultBackend(), parseRecipient(recipient));
  }

  /** Whether this keyring holds at least one identity (a write-only keyring unwraps nothing). */
  get canUnwrap(): boolean {
    return this.#secretKeys.length > 0;
  }

  /** Derives the public keys (libsodium loads asynchronously) once. */
  #prepare(): Promise<Ready> {
    this.#ready ??= (async () => {
      const sodium = await loadSodium();
      const backend = this.#backendOption ?? (await defaultBackend());
      const identities = new Map<string, Identity>();
      for (const secretKey of this.#secretKeys) {
        const publicKey = x25519PublicKey(sodium, secretKey);
        identities.set(recipientKeyId(backend, publicKey), { secretKey, publicKey });
      }
      const publicKey = this.#recipient ?? [...identities.values()].at(-1)?.publicKey;
      if (!publicKey) throw new Error('unreachable: the constructor requires a recipient or an identity');
      return { sodium, backend, primary: { publicKey, keyId: recipientKeyId(backend, publicKey) }, identities };
    })();
    return this.#ready;
  }

  /** The recipient (`es-pub1…`) new data keys are wrapped to. */
  async recipient(): Promise<string> {
    return formatRecipient((await this.#prepare()).primary.publicKey);
  }

  /**
   * Wraps `dataKey` to the recipient, bound to `aad` (the 96-byte stream
   * header). RangeError if the recipient is a low-order point.
   */
  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const { sodium, backend, primary } = await this.#prepare();
    const wrappedKey = wrapToRecipient(sodium, backend, primary.publicKey, dataKey, aad);
    return { keyId: primary.keyId, wrappedKey };
  }

  /**
   * Recovers the data key with the identity whose recipient has the key id:
   * `ES_UNKNOWN_KEY` if none is held, `ES_KEY_UNWRAP_FAILED` if the wrapped
   * key does not authenticate for that identity and this stream header.
   */
  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const { sodium, backend, identities } = await this.#prepare();
    const identity = identities.get(wrapped?.keyId);
    if (!identity) {
      throw new KeyError(
        ErrorCode.UNKNOWN_KEY,
        identities.size === 0
          ? 'this recipient keyring holds no identity: it can wrap data keys but not unwrap them'
          : `the keyring holds no identity for key id "${wrapped?.keyId}"`,
      );
    }
    const { secretKey, publicKey } = identity;
    const dataKey = unwrapWithIdentity(sodium, backend, secretKey, publicKey, wrapped.wrappedKey, aad);
    if (!dataKey) {
      throw new KeyError(ErrorCode.KEY_UNWRAP_FAILED, `the data key did not authenticate for "${wrapped.keyId}"`);
    }
    return dataKey;
  }
}
