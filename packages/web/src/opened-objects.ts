import type { StreamCipher } from '@encrypted-stream/codec';
import type { PresignedEncryptedGet } from '@encrypted-stream/s3/presign';

/**
 * An object ready to serve: its presigned GET and its opened header (data
 * key unwrapped, header and context authenticated).
 * @public
 */
export interface OpenedObject {
  readonly get: PresignedEncryptedGet;
  readonly cipher: StreamCipher;
  readonly plaintextSize: number;
  readonly ciphertextSize: number;
  /** When the presigned URL stops working (ms since the epoch), if it says. */
  readonly expiresAt: number | undefined;
}

/**
 * Opened objects by id, at most `capacity` (least recently used first out):
 * after an object's first request, each media range costs its one S3 GET and
 * no app server request or key unwrap. Concurrent first requests share one
 * open. An entry whose URL is within `marginMs` of expiring is opened anew,
 * from the previous entry (which `open` may reuse when nothing changed).
 */
export class OpenedObjects {
  readonly #entries = new Map<string, Promise<OpenedObject>>();
  readonly #open: (id: string, previous: OpenedObject | undefined) => Promise<OpenedObject>;
  readonly #capacity: number;
  readonly #marginMs: number;
  readonly #now: () => number;

  constructor(
    open: (id: string, previous: OpenedObject | undefined) => Promise<OpenedObject>,
    options: { capacity: number; marginMs: number; now: () => number },
  ) {
    this.#open = open;
    this.#capacity = options.capacity;
    this.#marginMs = options.marginMs;
    this.#now = options.now;
  }

  /** The object `id`, opened now or earlier. A failed open fails every request that shared it. */
  async get(id: string): Promise<OpenedObject> {
    const cached = this.#entries.get(id);
    if (!cached) return this.#start(id, undefined);
    this.#entries.delete(id); // re-inserted: most recently used last
    this.#entries.set(id, cached);
    const entry = await cached;
    if (!this.#expiring(entry)) return entry;
    if (this.#entries.get(id) === cached) this.#entries.delete(id);
    return this.#start(id, entry);
  }

  /** Drops `id` (its URL was refused, 403/412): the next request opens it anew. Returns what was cached. */
  async forget(id: string): Promise<OpenedObject | undefined> {
    const cached = this.#entries.get(id);
    this.#entries.delete(id);
    return cached?.catch(() => undefined);
  }

  /**
   * Opens `id` anew after S3 refused `failed` (its URL): unless another
   * request already did — then its newer entry (or its open in progress) is
   * shared, so requests refused together cost one resolve. `reuse` passes
   * `failed` to `open` as the previous entry (an expired URL, same object).
   */
  async reopen(id: string, failed: OpenedObject, reuse: boolean): Promise<OpenedObject> {
    for (;;) {
      const cached = this.#entries.get(id);
      if (!cached) return this.#start(id, reuse ? failed : undefined);
      const current = await cached.catch(() => undefined);
      if (this.#entries.get(id) !== cached) continue; // changed while we waited: look again
      if (current !== undefined && current !== failed) return current;
      this.#entries.delete(id);
      return this.#start(id, reuse ? failed : undefined);
    }
  }

  #expiring(entry: OpenedObject): boolean {
    return entry.expiresAt !== undefined && this.#now() + this.#marginMs >= entry.expiresAt;
  }

  #start(id: string, previous: OpenedObject | undefined): Promise<OpenedObject> {
    const existing = this.#entries.get(id);
    if (existing) return existing; // another request started the open meanwhile
    const opening = this.#open(id, previous);
    this.#entries.set(id, opening);
    // A failure is not cached: the next request tries again.
    opening.catch(() => {
      if (this.#entries.get(id) === opening) this.#entries.delete(id);
    });
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    return opening;
  }
}
