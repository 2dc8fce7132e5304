import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
} from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, KeyError, type Keyring } from '@encrypted-stream/codec';
import type { WrappedKey } from '@encrypted-stream/codec/low-level';

/**
 * The key of one upload's journal: 32 random bytes in a file of their own
 * (`upload-ID.key`, mode 0600, beside `upload-ID.json`), made when the upload
 * starts and deleted with the journal when it completes or is abandoned.
 *
 * Two keys derive from it (HKDF-SHA256, no salt):
 *
 * - `info = "encrypted-stream cli journal v3 data key"`: AES-256-GCM key
 *   that seals the upload's data key into the journal, once (random 96-bit
 *   nonce; aad = the journal's destination, source path and upload id);
 * - `info = "encrypted-stream cli journal v3 mac"`: HMAC-SHA256 key of the
 *   MAC over the whole journal (canonical JSON, {@link canonicalJson}),
 *   recomputed at every write.
 *
 * So a journal is readable and editable only together with its key file: a
 * journal copied on its own (a backup of the state directory, a bug report)
 * reveals no data key, an edit without the key fails the MAC, and once the
 * key file is gone no copy of the journal ever opens again.
 */
export class JournalKey {
  readonly #sealKey: Buffer;
  readonly #macKey: Buffer;

  private constructor(key: Uint8Array) {
    this.#sealKey = Buffer.from(
      hkdfSync('sha256', key, new Uint8Array(0), 'encrypted-stream cli journal v3 data key', 32),
    );
    this.#macKey = Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), 'encrypted-stream cli journal v3 mac', 32));
  }

  /** A new random key, written to `path` (0600, synced; a stale file of a forgotten journal is replaced). */
  static async create(path: string): Promise<JournalKey> {
    const key = randomFillSync(Buffer.alloc(KEY_BYTES));
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await unlink(path).catch(() => {}); // left by a run that died between removing its journal and its key
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.chmod(0o600);
        await handle.writeFile(key);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return new JournalKey(key);
    } finally {
      key.fill(0);
    }
  }

  /**
   * The key in `path`: `missing` when there is no such file; a reason
   * string when it is not a regular file of 32 bytes that only its owner can access.
   */
  static async read(path: string): Promise<JournalKey | 'missing' | { readonly invalid: string }> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return 'missing';
      return { invalid: `its key file ${path} cannot be read` };
    }
    try {
      const info = await handle.stat();
      if (!info.isFile() || (info.mode & 0o077) !== 0) {
        return { invalid: `its key file ${path} is not a file that only its owner can access` };
      }
      const key = await handle.readFile();
      if (key.length !== KEY_BYTES) return { invalid: `its key file ${path} is not ${KEY_BYTES} bytes` };
      const journalKey = new JournalKey(key);
      key.fill(0);
      return journalKey;
    } finally {
      await handle.close();
    }
  }

  /** Deletes the key file (nothing when it is gone already). */
  static async remove(path: string): Promise<void> {
    await unlink(path).catch(() => {});
  }

  /** `nonce ‖ AES-256-GCM(dataKey) ‖ tag`, base64url, bound to `binding`. */
  seal(dataKey: Uint8Array, binding: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, nonce);
    cipher.setAAD(Buffer.from(binding, 'utf8'));
    const sealed = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  /** The data key {@link seal} sealed with this key and `binding`, or undefined. */
  open(sealed: string, binding: string): Uint8Array | undefined {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length !== 12 + KEY_BYTES + 16) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(binding, 'utf8'));
    decipher.setAuthTag(bytes.subarray(12 + KEY_BYTES));
    try {
      return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(12, 12 + KEY_BYTES)), decipher.final()]));
    } catch {
      return undefined;
    }
  }

  /** HMAC-SHA256 of `value`'s canonical JSON, base64url. */
  mac(value: unknown): string {
    return createHmac('sha256', this.#macKey).update(canonicalJson(value), 'utf8').digest('base64url');
  }

  /** Whether `mac` is {@link mac}`(value)`, compared in constant time. */
  verify(value: unknown, mac: unknown): boolean {
    if (typeof mac !== 'string') return false;
    const expected = Buffer.from(this.mac(value), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

const KEY_BYTES = 32;

/**
 * JSON with every object's keys sorted (recursively), so that a MAC does not
 * depend on the order a parser or writer happens to keep.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Wraps with `inner` and keeps a copy of the data key it was asked to wrap:
 * how `put` learns the data key of the multipart upload it starts (the
 * codec draws it inside `createStreamCipher` and wipes it after the wrap), to
 * seal it in the journal. Used for one upload's creation only.
 */
export class DataKeyCapture implements Keyring {
  #dataKey: Uint8Array | undefined;
  constructor(readonly inner: Keyring) {}

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const wrapped = await this.inner.wrap(dataKey, aad);
    if (this.#dataKey) throw new Error('unreachable: one data key per upload');
    this.#dataKey = new Uint8Array(dataKey); // a copy: the codec wipes its own after the wrap
    return wrapped;
  }

  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    return this.inner.unwrap(wrapped, aad);
  }

  /** The data key wrapped (once), handed over: the capture forgets it. */
  take(): Uint8Array {
    const dataKey = this.#dataKey;
    if (!dataKey) throw new Error('unreachable: no data key was wrapped');
    this.#dataKey = undefined;
    return dataKey;
  }
}

/**
 * A keyring that "unwraps" by handing back a data key the process already
 * holds (from the journal): how `put` resumes its own upload without
 * unwrapping, so that a host that cannot unwrap (a recipient without the
 * identity, KMS with Encrypt but not Decrypt) resumes too. It proves nothing
 * by itself: the codec checks the key against the header's key commitment,
 * and the resume token's MAC under it, as for any keyring. It never wraps.
 */
export class HeldDataKey implements Keyring {
  readonly #dataKey: Uint8Array;
  constructor(dataKey: Uint8Array) {
    this.#dataKey = dataKey;
  }

  async wrap(): Promise<WrappedKey> {
    throw new TypeError('a held data key does not wrap');
  }

  async unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    if (!wrapped) throw new KeyError(ErrorCode.UNKNOWN_KEY, 'no key block');
    return new Uint8Array(this.#dataKey); // a copy: the codec wipes what unwrap returns
  }
}
