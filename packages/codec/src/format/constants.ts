/** Bytes of the fixed stream header. @public */
export const HEADER_SIZE = 96;
/** Bytes of a chunk's random XChaCha20 nonce. @public */
export const NONCE_SIZE = 24;
/** Bytes of a Poly1305 tag. @public */
export const TAG_SIZE = 16;
/** Ciphertext bytes added to every chunk (nonce + tag). @public */
export const CHUNK_OVERHEAD = NONCE_SIZE + TAG_SIZE;
/** Smallest allowed chunk size exponent (4 KiB). @public */
export const MIN_CHUNK_EXPONENT = 12;
/** Largest allowed chunk size exponent (16 MiB). @public */
export const MAX_CHUNK_EXPONENT = 24;
/** Default chunk size: 64 KiB. @public */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Bytes of a data key and of a local master key. @public */
export const KEY_SIZE = 32;

export const MAGIC = Uint8Array.of(0x45, 0x53, 0x54, 0x52); // "ESTR"
export const VERSION = 1;
export const SUITE_XCHACHA20POLY1305_HKDF_SHA256 = 1;
export const FLAG_SIZE_RECORDED = 0x01;
export const STREAM_ID_SIZE = 32;
export const COMMITMENT_SIZE = 32;
export const CONTEXT_TAG_SIZE = 16;
/** Longest key id, in UTF-8 bytes (FORMAT.md §3). */
export const MAX_KEY_ID_LENGTH = 200;
/** Longest wrapped data key a self-contained header holds (FORMAT.md §3). */
export const MAX_WRAPPED_KEY_LENGTH = 1024;
/** Longest self-contained prefix (FORMAT.md §3: header, then length-prefixed key id and wrapped key): one read holds it. */
export const MAX_PREFIX_SIZE = HEADER_SIZE + 1 + MAX_KEY_ID_LENGTH + 2 + MAX_WRAPPED_KEY_LENGTH;
/** Longest wrapped key that fits the detached `w` value (252 base64url chars). */
export const MAX_DETACHED_WRAPPED_KEY_LENGTH = 189;

export const LABEL_PAYLOAD = 'encrypted-stream v1 payload';
export const LABEL_COMMITMENT = 'encrypted-stream v1 commitment';
export const LABEL_CONTEXT = 'encrypted-stream v1 context';
/** Keys the MACs over state kept outside the stream (resume tokens, source digests), FORMAT.md §4. */
export const LABEL_STATE = 'encrypted-stream v1 state';
export const LABEL_LOCAL_WRAP = 'encrypted-stream v1 local wrap';
