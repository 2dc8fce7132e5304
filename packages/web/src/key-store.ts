/**
 * The page's key, kept in its origin: IndexedDB, which the page and its
 * Service Worker share. Anything that runs script in the origin (an XSS, a
 * compromised dependency, a browser extension with access to the site) can
 * read it; see SECURITY.md, "Encrypted media in the browser".
 */
import { type Keyring, LocalKeyring, RecipientKeyring } from '@encrypted-stream/codec';
import { parseIdentity } from '@encrypted-stream/codec/low-level';
import { EncryptedMediaError, WebErrorCode } from './errors';

/**
 * Where the key lives.
 * @public
 */
export interface KeyStoreOptions {
  /** IndexedDB database name (default `encrypted-stream`). */
  readonly database?: string;
  /** The IndexedDB factory (default: the global `indexedDB`). */
  readonly indexedDB?: IDBFactory;
}

/** What is stored: a 32-byte master key with its key id, or an identity string. */
type StoredKey =
  | { readonly kind: 'local'; readonly keyId: string; readonly key: Uint8Array }
  | { readonly kind: 'identity'; readonly identity: string };

const STORE = 'keys';
const ENTRY = 'current';

function openDatabase(options: KeyStoreOptions): Promise<IDBDatabase> {
  const factory = options.indexedDB ?? globalThis.indexedDB;
  if (!factory) throw new TypeError('IndexedDB is not available here');
  return new Promise((resolve, reject) => {
    const request = factory.open(options.database ?? 'encrypted-stream', 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function transact<T>(
  options: KeyStoreOptions,
  mode: IDBTransactionMode,
  run: (s: IDBObjectStore) => IDBRequest<T>,
) {
  const db = await openDatabase(options);
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = run(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/**
 * A new random 32-byte master key (WebCrypto's CSPRNG).
 * @public
 */
export function generateMasterKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/**
 * Stores the origin's key, replacing any before: a 32-byte master key (a
 * `LocalKeyring` with `keyId`, default `k`), or an identity string
 * (`ES-SECRET-KEY-1…`, a `RecipientKeyring` that also writes to its own
 * recipient). Checked before it is stored; errors never quote it.
 * @public
 */
export async function saveKey(secret: Uint8Array | string, options: KeyStoreOptions & { keyId?: string } = {}) {
  let entry: StoredKey;
  if (typeof secret === 'string') {
    parseIdentity(secret.trim()); // RangeError for anything that is not one
    entry = { kind: 'identity', identity: secret.trim() };
  } else if (secret instanceof Uint8Array) {
    if (secret.length !== 32) throw new RangeError('a master key is 32 bytes');
    const keyId = options.keyId ?? 'k';
    LocalKeyring.single(keyId, secret); // checks the key id
    entry = { kind: 'local', keyId, key: secret.slice() };
  } else {
    throw new TypeError('the key must be 32 bytes or an ES-SECRET-KEY-1… identity');
  }
  await transact(options, 'readwrite', (store) => store.put(entry, ENTRY));
}

/**
 * The keyring of the stored key; `ES_NO_KEY` when none is stored.
 * @public
 */
export async function loadKeyring(options: KeyStoreOptions = {}): Promise<Keyring> {
  const entry = (await transact(options, 'readonly', (store) => store.get(ENTRY))) as StoredKey | undefined;
  if (!entry) throw new EncryptedMediaError(WebErrorCode.NO_KEY, 'no key is stored in this origin');
  if (entry.kind === 'identity') return new RecipientKeyring({ identities: [entry.identity] });
  return LocalKeyring.single(entry.keyId, new Uint8Array(entry.key));
}

/**
 * Deletes the stored key (sign-out).
 * @public
 */
export async function deleteKey(options: KeyStoreOptions = {}): Promise<void> {
  await transact(options, 'readwrite', (store) => store.delete(ENTRY));
}
