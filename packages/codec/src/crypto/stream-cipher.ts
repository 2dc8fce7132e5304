import { utf8 } from '../format/bytes';
import { DEFAULT_CHUNK_SIZE, KEY_SIZE, NONCE_SIZE, STREAM_ID_SIZE, TAG_SIZE } from '../format/constants';
import type { EncryptionContext } from '../format/context';
import { AuthenticationError, ContextMismatchError, ErrorCode, KeyError } from '../format/errors';
import { assertChunkSize } from '../format/geometry';
import { type EncryptionHeader, encodeStreamHeader, makeEncryptionHeader } from '../format/header';
import type { CryptoBackend } from './backend/backend';
import { defaultBackend } from './backend/select';
import { assertKeyring, type Keyring } from './keyring';
import { type DerivedKeys, deriveKeys } from './stream-keys';

/**
 * Options shared by everything that opens an existing stream.
 * @public
 */
export interface OpenOptions {
  /** Unwraps the stream's data key. */
  readonly keyring: Keyring;
  /** The context the stream was bound to (default: empty). */
  readonly context?: EncryptionContext;
  /** Force a crypto backend (default: the fastest available). */
  readonly backend?: CryptoBackend;
}

/**
 * Options for a new stream.
 * @public
 */
export interface CreateOptions extends OpenOptions {
  /** Plaintext bytes per chunk: a power of two, 4 KiB … 16 MiB (default 64 KiB). */
  readonly chunkSize?: number;
  /** The total plaintext size, when known: recorded and authenticated in the header. */
  readonly plaintextSize?: number;
}

/**
 * The keys of one stream, ready to encrypt or decrypt its chunks. Chunk-level
 * building block of every higher-level API (FORMAT.md §5).
 * @public
 */
export class StreamCipher {
  /** The stream's header (stream header + key block). */
  readonly header: EncryptionHeader;
  readonly #payloadKey: Uint8Array;
  readonly #stateKey: Uint8Array;
  readonly #backend: CryptoBackend;
  readonly #aadBytes = new Uint8Array(41);
  readonly #aadView = new DataView(this.#aadBytes.buffer);

  /** @internal use {@link createStreamCipher} or {@link openStreamCipher}. */
  constructor(header: EncryptionHeader, keys: Pick<DerivedKeys, 'payloadKey' | 'stateKey'>, backend: CryptoBackend) {
    this.header = header;
    this.#payloadKey = keys.payloadKey;
    this.#stateKey = keys.stateKey;
    this.#aadBytes.set(backend.sha256(header.streamBytes), 0); // headerDigest, FORMAT.md §2
    this.#backend = backend;
  }

  /** Plaintext bytes per chunk. */
  get chunkSize(): number {
    return this.header.stream.chunkSize;
  }

  /** The backend doing the work. */
  get backend(): CryptoBackend {
    return this.#backend;
  }

  /**
   * headerDigest || u64(index) || u8(final), written into one buffer reused for
   * every chunk (both backends consume the AAD before returning).
   */
  #aad(index: number, final: boolean): Uint8Array {
    const view = this.#aadView;
    view.setUint32(32, Math.floor(index / 2 ** 32)); // exact: index < 2^53
    view.setUint32(36, index >>> 0);
    view.setUint8(40, final ? 1 : 0);
    return this.#aadBytes;
  }

  /**
   * Encrypts one chunk given as pieces. Returns `[nonce, ...ciphertext, tag]`.
   * A non-final chunk must hold exactly `chunkSize` bytes, a final one fewer.
   * `nonce` defaults to fresh random bytes; pass one only if it is unique per
   * (key, plaintext) as the synthetic nonces of {@link EncryptingReader} are.
   */
  encryptChunk(
    index: number,
    final: boolean,
    plaintext: readonly Uint8Array[],
    nonce: Uint8Array = this.#backend.randomBytes(NONCE_SIZE),
  ): Uint8Array[] {
    const length = plaintext.reduce((n, p) => n + p.length, 0);
    if (final ? length >= this.chunkSize : length !== this.chunkSize) {
      throw new RangeError(`a ${final ? 'final' : 'non-final'} chunk cannot hold ${length} bytes`);
    }
    if (nonce.length !== NONCE_SIZE) throw new RangeError(`nonce must be ${NONCE_SIZE} bytes`);
    return [nonce, ...this.#backend.seal(this.#payloadKey, nonce, this.#aad(index, final), plaintext)];
  }

  /**
   * A MAC (HMAC-SHA256, 32 bytes) over state that a writer keeps outside the
   * stream and must get back unaltered — a resume token, a digest of a source
   * part — under a key derived from the data key (FORMAT.md §4), so only a
   * holder of the data key can make one. `purpose` separates uses: a MAC made
   * for one purpose never verifies for another.
   */
  stateMac(purpose: string, message: Uint8Array): Uint8Array {
    const label = utf8(purpose);
    if (label.length === 0 || label.length > 255) throw new RangeError('purpose must be 1 … 255 bytes of UTF-8');
    return this.#backend.hmacSha256(this.#stateKey, [Uint8Array.of(label.length), label, message]);
  }

  /** Whether `mac` is {@link stateMac}`(purpose, message)`, compared in constant time. */
  verifyStateMac(purpose: string, message: Uint8Array, mac: Uint8Array): boolean {
    return mac.length === 32 && this.#backend.equal(this.stateMac(purpose, message), mac);
  }

  /**
   * Decrypts one chunk. Returns its plaintext pieces only if the tag verified;
   * otherwise throws AuthenticationError and releases nothing.
   */
  decryptChunk(
    index: number,
    final: boolean,
    nonce: Uint8Array,
    ciphertext: readonly Uint8Array[],
    tag: Uint8Array,
  ): Uint8Array[] {
    if (nonce.length !== NONCE_SIZE || tag.length !== TAG_SIZE) throw new RangeError('bad nonce or tag length');
    const plaintext = this.#backend.open(this.#payloadKey, nonce, this.#aad(index, final), ciphertext, tag);
    if (!plaintext) throw new AuthenticationError(`chunk ${index} failed authentication`);
    return plaintext;
  }
}

/**
 * Starts a new stream: a fresh random data key and stream id, wrapped by the keyring.
 * @public
 */
export async function createStreamCipher(options: CreateOptions): Promise<StreamCipher> {
  assertKeyring(options?.keyring);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  assertChunkSize(chunkSize);
  const { plaintextSize } = options;
  if (plaintextSize !== undefined && (!Number.isSafeInteger(plaintextSize) || plaintextSize < 0)) {
    throw new RangeError(`plaintextSize must be a non-negative safe integer, got ${plaintextSize}`);
  }
  const backend = options.backend ?? (await defaultBackend());
  const dataKey = backend.randomBytes(KEY_SIZE);
  try {
    const streamId = backend.randomBytes(STREAM_ID_SIZE);
    const keys = deriveKeys(backend, dataKey, streamId, options.context);
    const streamBytes = encodeStreamHeader({
      chunkSize,
      plaintextSize,
      streamId,
      commitment: keys.commitment,
      contextTag: keys.contextTag,
    });
    const wrapped = await options.keyring.wrap(dataKey, streamBytes);
    return new StreamCipher(makeEncryptionHeader(streamBytes, wrapped), keys, backend);
  } finally {
    dataKey.fill(0);
  }
}

/** Unwraps and checks a stream's data key (FORMAT.md §9 steps 3–4). */
async function unwrapDataKey(header: EncryptionHeader, options: OpenOptions) {
  assertKeyring(options?.keyring);
  const backend = options.backend ?? (await defaultBackend());
  const dataKey = await options.keyring.unwrap(header, header.streamBytes);
  const keys = deriveKeys(backend, dataKey, header.stream.streamId, options.context);
  if (!backend.equal(keys.commitment, header.stream.commitment)) {
    dataKey.fill(0);
    throw new KeyError(ErrorCode.KEY_COMMITMENT_MISMATCH, 'the data key does not match the header commitment');
  }
  return { backend, dataKey, keys };
}

/**
 * Opens an existing stream: unwraps its data key, checks the key commitment and
 * then the context, in constant time, before any chunk is touched.
 * @public
 */
export async function openStreamCipher(header: EncryptionHeader, options: OpenOptions): Promise<StreamCipher> {
  const { backend, dataKey, keys } = await unwrapDataKey(header, options);
  dataKey.fill(0);
  if (!backend.equal(keys.contextTag, header.stream.contextTag)) throw new ContextMismatchError();
  return new StreamCipher(header, keys, backend);
}

/**
 * Re-wraps a stream's data key under `to`'s primary key (key rotation). The
 * stream header and chunks are unchanged; only the key block is new. Needs no
 * context: the key commitment proves the unwrapped key is the stream's.
 * @public
 */
export async function rewrapHeader(
  header: EncryptionHeader,
  from: Keyring,
  to: Keyring = from,
  backend?: CryptoBackend,
): Promise<EncryptionHeader> {
  assertKeyring(to);
  const { dataKey } = await unwrapDataKey(header, { keyring: from, ...(backend ? { backend } : {}) });
  try {
    return makeEncryptionHeader(header.streamBytes, await to.wrap(dataKey, header.streamBytes));
  } finally {
    dataKey.fill(0);
  }
}
