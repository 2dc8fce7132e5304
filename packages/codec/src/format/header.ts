import { copyBytes, fromBase64Url, toBase64Url } from './bytes';
import {
  COMMITMENT_SIZE,
  CONTEXT_TAG_SIZE,
  FLAG_SIZE_RECORDED,
  HEADER_SIZE,
  MAGIC,
  MAX_CHUNK_EXPONENT,
  MAX_DETACHED_WRAPPED_KEY_LENGTH,
  MAX_KEY_ID_LENGTH,
  MAX_WRAPPED_KEY_LENGTH,
  MIN_CHUNK_EXPONENT,
  STREAM_ID_SIZE,
  SUITE_XCHACHA20POLY1305_HKDF_SHA256,
  VERSION,
} from './constants';
import { ErrorCode, FormatError } from './errors';

/**
 * The 96-byte stream header (FORMAT.md §2), authenticated by every chunk.
 * @public
 */
export interface StreamHeader {
  /** Plaintext bytes per chunk (a power of two, 4 KiB … 16 MiB). */
  readonly chunkSize: number;
  /** Plaintext size when it was known at encryption time. */
  readonly plaintextSize: number | undefined;
  /** 32 random bytes naming this stream. */
  readonly streamId: Uint8Array;
  /** Commitment to the data key. */
  readonly commitment: Uint8Array;
  /** Binds the stream to its context. */
  readonly contextTag: Uint8Array;
}

/**
 * The key block (FORMAT.md §3): which master key wrapped the data key, and the wrapped bytes.
 * @public
 */
export interface WrappedKey {
  /** Printable ASCII id of the wrapping key, 1 … 200 characters. */
  readonly keyId: string;
  /** Keyring-specific wrapped data key. */
  readonly wrappedKey: Uint8Array;
}

/**
 * Everything a decoder needs besides the chunks: the stream header and its key block.
 * @public
 */
export interface EncryptionHeader extends WrappedKey {
  /** The parsed stream header. */
  readonly stream: StreamHeader;
  /** Its exact 96 encoded bytes (what chunks and key wrapping authenticate). */
  readonly streamBytes: Uint8Array;
}

/**
 * The detached framing (FORMAT.md §7): three ASCII strings, each under 256 characters.
 * @public
 */
export interface DetachedHeader {
  /** base64url of the 96-byte stream header. */
  readonly h: string;
  /** Key id. */
  readonly k: string;
  /** base64url of the wrapped data key. */
  readonly w: string;
}

const malformed = (what: string) => new FormatError(ErrorCode.MALFORMED, what);

const KEY_ID_PATTERN = /^[\x21-\x7e]+$/;

/** Throws TypeError/RangeError unless `keyId` is usable in a key block. */
export function assertKeyId(keyId: unknown): asserts keyId is string {
  if (typeof keyId !== 'string') throw new TypeError('keyId must be a string');
  if (keyId.length < 1 || keyId.length > MAX_KEY_ID_LENGTH || !KEY_ID_PATTERN.test(keyId)) {
    throw new RangeError(`keyId must be 1–${MAX_KEY_ID_LENGTH} printable ASCII characters without spaces`);
  }
}

/** Encodes a stream header into its 96 bytes. */
export function encodeStreamHeader(header: StreamHeader): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = SUITE_XCHACHA20POLY1305_HKDF_SHA256;
  out[6] = Math.log2(header.chunkSize);
  out[7] = header.plaintextSize === undefined ? 0 : FLAG_SIZE_RECORDED;
  view.setBigUint64(8, BigInt(header.plaintextSize ?? 0));
  out.set(header.streamId, 16);
  out.set(header.commitment, 48);
  out.set(header.contextTag, 80);
  return out;
}

/** Parses and validates the 96-byte stream header (FORMAT.md §2). */
export function parseStreamHeader(bytes: Uint8Array): StreamHeader {
  if (bytes.length !== HEADER_SIZE) throw malformed(`stream header must be ${HEADER_SIZE} bytes, got ${bytes.length}`);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw malformed('not an encrypted-stream header');
  if (bytes[4] !== VERSION) throw new FormatError(ErrorCode.UNSUPPORTED_VERSION, `unsupported version ${bytes[4]}`);
  if (bytes[5] !== SUITE_XCHACHA20POLY1305_HKDF_SHA256) {
    throw new FormatError(ErrorCode.UNSUPPORTED_VERSION, `unsupported algorithm suite ${bytes[5]}`);
  }
  const exponent = bytes[6] as number;
  if (exponent < MIN_CHUNK_EXPONENT || exponent > MAX_CHUNK_EXPONENT) throw malformed('chunk size out of range');
  const flags = bytes[7] as number;
  if ((flags & ~FLAG_SIZE_RECORDED) !== 0) throw malformed('reserved header flags are set');
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(8);
  if (!(flags & FLAG_SIZE_RECORDED) && size !== 0n) throw malformed('plaintext size present without its flag');
  // Sizes beyond 2^53 are valid in the format but not representable here.
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('plaintext size exceeds 2^53 - 1');
  return {
    chunkSize: 2 ** exponent,
    plaintextSize: flags & FLAG_SIZE_RECORDED ? Number(size) : undefined,
    streamId: copyBytes(bytes, 16, 16 + STREAM_ID_SIZE),
    commitment: copyBytes(bytes, 48, 48 + COMMITMENT_SIZE),
    contextTag: copyBytes(bytes, 80, 80 + CONTEXT_TAG_SIZE),
  };
}

function checkWrappedKeyLength(length: number, max: number): void {
  if (length < 1 || length > max) throw malformed(`wrapped key must be 1–${max} bytes`);
}

/** Builds an {@link EncryptionHeader} from parsed parts, validating the key block. */
export function makeEncryptionHeader(streamBytes: Uint8Array, key: WrappedKey): EncryptionHeader {
  const stream = parseStreamHeader(streamBytes);
  if (typeof key.keyId !== 'string' || key.keyId.length > MAX_KEY_ID_LENGTH || !KEY_ID_PATTERN.test(key.keyId)) {
    throw malformed('key id must be 1–200 printable ASCII characters');
  }
  checkWrappedKeyLength(key.wrappedKey.length, MAX_WRAPPED_KEY_LENGTH);
  return { stream, streamBytes: copyBytes(streamBytes), keyId: key.keyId, wrappedKey: copyBytes(key.wrappedKey) };
}

/** Self-contained prefix: stream header || key block (FORMAT.md §3, §7). @public */
export function encodeHeader(header: EncryptionHeader): Uint8Array {
  const keyId = new TextEncoder().encode(header.keyId);
  const out = new Uint8Array(HEADER_SIZE + 1 + keyId.length + 2 + header.wrappedKey.length);
  out.set(header.streamBytes, 0);
  out[HEADER_SIZE] = keyId.length;
  out.set(keyId, HEADER_SIZE + 1);
  new DataView(out.buffer).setUint16(HEADER_SIZE + 1 + keyId.length, header.wrappedKey.length);
  out.set(header.wrappedKey, HEADER_SIZE + 3 + keyId.length);
  return out;
}

/**
 * Parses a self-contained prefix from the start of `bytes`.
 * Returns `undefined` when more bytes are needed, else the header and its encoded length.
 * @public
 */
export function decodeHeader(bytes: Uint8Array): { header: EncryptionHeader; length: number } | undefined {
  if (bytes.length < HEADER_SIZE + 1) return undefined;
  const streamBytes = bytes.subarray(0, HEADER_SIZE);
  parseStreamHeader(streamBytes); // fail fast on a foreign file, before waiting for more bytes
  const keyIdLength = bytes[HEADER_SIZE] as number;
  if (keyIdLength === 0 || keyIdLength > MAX_KEY_ID_LENGTH) throw malformed('key id length out of range');
  const wrappedAt = HEADER_SIZE + 1 + keyIdLength + 2;
  if (bytes.length < wrappedAt) return undefined;
  const wrappedLength = new DataView(bytes.buffer, bytes.byteOffset).getUint16(wrappedAt - 2);
  checkWrappedKeyLength(wrappedLength, MAX_WRAPPED_KEY_LENGTH); // a length field never sizes an allocation
  if (bytes.length < wrappedAt + wrappedLength) return undefined;
  const keyId = String.fromCharCode(...bytes.subarray(HEADER_SIZE + 1, HEADER_SIZE + 1 + keyIdLength));
  const header = makeEncryptionHeader(streamBytes, {
    keyId,
    wrappedKey: bytes.subarray(wrappedAt, wrappedAt + wrappedLength),
  });
  return { header, length: wrappedAt + wrappedLength };
}

/** The detached framing of a header (FORMAT.md §7). @public */
export function toDetachedHeader(header: EncryptionHeader): DetachedHeader {
  if (header.wrappedKey.length > MAX_DETACHED_WRAPPED_KEY_LENGTH) {
    throw new RangeError(`a detached header holds wrapped keys of at most ${MAX_DETACHED_WRAPPED_KEY_LENGTH} bytes`);
  }
  return { h: toBase64Url(header.streamBytes), k: header.keyId, w: toBase64Url(header.wrappedKey) };
}

/** Parses the detached framing; any malformed value is FormatError(ES_MALFORMED). @public */
export function fromDetachedHeader(detached: Partial<Record<keyof DetachedHeader, unknown>>): EncryptionHeader {
  const { h, k, w } = detached;
  if (typeof h !== 'string' || typeof k !== 'string' || typeof w !== 'string') {
    throw malformed('detached header needs string values h, k and w');
  }
  if (h.length > 255 || k.length > 255 || w.length > 255) throw malformed('detached header value too long');
  const streamBytes = fromBase64Url(h);
  const wrappedKey = fromBase64Url(w);
  if (!streamBytes || !wrappedKey) throw malformed('detached header is not canonical base64url');
  checkWrappedKeyLength(wrappedKey.length, MAX_DETACHED_WRAPPED_KEY_LENGTH);
  return makeEncryptionHeader(streamBytes, { keyId: k, wrappedKey });
}
