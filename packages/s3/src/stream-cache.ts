import { type EncryptionContext, type Keyring, openStreamCipher, type StreamCipher } from '@encrypted-stream/codec';
import { type EncryptionHeader, encodeHeader, toBase64Url } from '@encrypted-stream/codec/low-level';

/** Default number of opened streams a plugin keeps (a few hundred bytes each). */
export const DEFAULT_STREAM_CACHE_SIZE = 256;

/**
 * Streams already opened, by exact header bytes (stream header and key
 * block) and context, least recently used first out. Ranged reads of one
 * object (a video player seeking, a gateway serving many clients) then pay
 * the key unwrap, the key commitment and context checks and the HKDF once
 * rather than per request. A hit stands for a check that passed with the
 * very same inputs and keyring; failures are never kept.
 */
export class StreamCache {
  readonly #capacity: number;
  readonly #keyring: Keyring;
  readonly #entries = new Map<string, Promise<StreamCipher>>();

  constructor(keyring: Keyring, capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    }
    this.#keyring = keyring;
    this.#capacity = capacity;
  }

  /** The opened stream of `header` under `context` (see openStreamCipher for the checks and errors). */
  open(header: EncryptionHeader, context: EncryptionContext): Promise<StreamCipher> {
    if (this.#capacity === 0) return openStreamCipher(header, { keyring: this.#keyring, context });
    const id = cacheKey(header, context);
    let entry = this.#entries.get(id);
    if (entry) {
      this.#entries.delete(id); // re-inserted below: most recently used
    } else {
      entry = openStreamCipher(header, { keyring: this.#keyring, context });
      entry.catch(() => {
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
      });
    }
    this.#entries.set(id, entry);
    if (this.#entries.size > this.#capacity) this.#entries.delete(this.#entries.keys().next().value as string);
    return entry;
  }
}

/** Header bytes and context entries, unambiguously: base64url has no NUL, names and values are JSON-quoted. */
function cacheKey(header: EncryptionHeader, context: EncryptionContext): string {
  const entries = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${toBase64Url(encodeHeader(header))}\0${JSON.stringify(entries)}`;
}
