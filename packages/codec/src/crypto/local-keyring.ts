import { concatBytes, copyBytes, fromBase64Url, toBase64Url, utf8 } from '../format/bytes';
import { HEADER_SIZE, KEY_SIZE, LABEL_LOCAL_WRAP, NONCE_SIZE, TAG_SIZE } from '../format/constants';
import { ErrorCode, KeyError } from '../format/errors';
import { assertKeyId, type WrappedKey } from '../format/header';
import type { CryptoBackend } from './backend/backend';
import { defaultBackend } from './backend/select';
import type { Keyring } from './keyring';

const WRAPPED_SIZE = NONCE_SIZE + KEY_SIZE + TAG_SIZE;

/**
 * The JSON form of a local keyring (what the CLI keeps in a 0600 file).
 * @public
 */
export interface LocalKeyringJSON {
  /** Always 1. */
  readonly version: 1;
  /** Id of the key that wraps new data keys. */
  readonly primary: string;
  /** Key id to base64url of the 32-byte master key. */
  readonly keys: Readonly<Record<string, string>>;
}

/**
 * Holds named 32-byte master keys. New streams are wrapped under the primary
 * key; streams wrapped under any other held key still open, so keys rotate
 * without re-encrypting data (FORMAT.md §6).
 * @public
 */
export class LocalKeyring implements Keyring {
  readonly #keys: Map<string, Uint8Array>;
  readonly #primary: string;
  readonly #backend: Promise<CryptoBackend>;
  readonly #backendOption: CryptoBackend | undefined;

  /**
   * @param keys - key id to master key (32 bytes each)
   * @param primary - the id that wraps new data keys; defaults to the last id given
   */
  constructor(keys: Readonly<Record<string, Uint8Array>>, primary?: string, backend?: CryptoBackend) {
    const entries = Object.entries(keys ?? {});
    if (entries.length === 0) throw new RangeError('a keyring needs at least one master key');
    for (const [id, key] of entries) {
      assertKeyId(id);
      if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) {
        throw new RangeError(`master key "${id}" must be ${KEY_SIZE} bytes`);
      }
    }
    this.#keys = new Map(entries.map(([id, key]) => [id, copyBytes(key)])); // the caller may wipe its copy
    this.#primary = primary ?? (entries[entries.length - 1]?.[0] as string);
    if (!this.#keys.has(this.#primary)) throw new RangeError(`primary key "${this.#primary}" is not in the keyring`);
    this.#backendOption = backend;
    this.#backend = backend ? Promise.resolve(backend) : defaultBackend();
  }

  /** A keyring holding one key. */
  static single(keyId: string, masterKey: Uint8Array): LocalKeyring {
    return new LocalKeyring({ [keyId]: masterKey }, keyId);
  }

  /** Reads the JSON form; throws TypeError/RangeError on anything malformed. */
  static fromJSON(json: unknown): LocalKeyring {
    const j = json as Partial<LocalKeyringJSON> | null;
    if (j?.version !== 1 || typeof j.primary !== 'string' || typeof j.keys !== 'object' || !j.keys) {
      throw new TypeError('not a version 1 keyring');
    }
    // A prototype-less map: a key id such as "__proto__" is an ordinary key here.
    const keys: Record<string, Uint8Array> = Object.create(null);
    for (const [id, encoded] of Object.entries(j.keys)) {
      const key = typeof encoded === 'string' ? fromBase64Url(encoded) : undefined;
      if (!key || key.length !== KEY_SIZE) throw new RangeError(`key "${id}" is not 32 bytes of base64url`);
      keys[id] = key;
    }
    return new LocalKeyring(keys, j.primary);
  }

  /** The JSON form. It contains the master keys: store it like a private key. */
  toJSON(): LocalKeyringJSON {
    const keys: Record<string, string> = Object.create(null);
    for (const [id, key] of this.#keys) keys[id] = toBase64Url(key);
    return { version: 1, primary: this.#primary, keys };
  }

  /** A new keyring with `masterKey` added as the primary key (the old keys still unwrap). */
  withPrimaryKey(keyId: string, masterKey: Uint8Array): LocalKeyring {
    if (this.#keys.has(keyId)) throw new RangeError(`key "${keyId}" is already in the keyring`);
    return new LocalKeyring({ ...Object.fromEntries(this.#keys), [keyId]: masterKey }, keyId, this.#backendOption);
  }

  /** Id of the key that wraps new data keys. */
  get primaryKeyId(): string {
    return this.#primary;
  }

  /** Ids of every held key. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const backend = await this.#backend;
    const nonce = backend.randomBytes(NONCE_SIZE);
    const sealed = backend.seal(this.#keys.get(this.#primary) as Uint8Array, nonce, wrapAad(this.#primary, aad), [
      dataKey,
    ]);
    return { keyId: this.#primary, wrappedKey: concatBytes([nonce, ...sealed]) };
  }

  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const masterKey = this.#keys.get(wrapped.keyId);
    if (!masterKey) throw new KeyError(ErrorCode.UNKNOWN_KEY, `the keyring holds no key "${wrapped.keyId}"`);
    const w = wrapped.wrappedKey;
    if (w.length !== WRAPPED_SIZE) throw new KeyError(ErrorCode.KEY_UNWRAP_FAILED, 'wrapped key has the wrong length');
    const backend = await this.#backend;
    const opened = backend.open(
      masterKey,
      w.subarray(0, NONCE_SIZE),
      wrapAad(wrapped.keyId, aad),
      [w.subarray(NONCE_SIZE, NONCE_SIZE + KEY_SIZE)],
      w.subarray(NONCE_SIZE + KEY_SIZE),
    );
    if (!opened) {
      throw new KeyError(ErrorCode.KEY_UNWRAP_FAILED, `the data key did not authenticate under key "${wrapped.keyId}"`);
    }
    return concatBytes(opened);
  }
}

function wrapAad(keyId: string, header: Uint8Array): Uint8Array {
  if (header.length !== HEADER_SIZE) throw new RangeError(`aad must be the ${HEADER_SIZE}-byte stream header`);
  const id = utf8(keyId);
  return concatBytes([utf8(LABEL_LOCAL_WRAP), Uint8Array.of(id.length), id, header]);
}
