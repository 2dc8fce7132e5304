/**
 * `@encrypted-stream/codec/low-level`: the building blocks that the s3
 * plugin, the CLI and the gateway assemble — the header and its detached
 * form, chunk geometry, the stream cipher, the synchronous chunk engines and
 * body (not self-contained) encryption. Applications want the root entry.
 * @packageDocumentation
 */
export type { CryptoBackend } from './crypto/backend/backend';
export { defaultBackend, getBackend } from './crypto/backend/select';
export type { Keyring } from './crypto/keyring';
export {
  type CreateOptions,
  createStreamCipher,
  type OpenOptions,
  openStreamCipher,
  rewrapHeader,
  StreamCipher,
} from './crypto/stream-cipher';
export { BodyEncoder, type BodyRunOptions } from './engine/body-encoder';
export { ChunkDecoder, type ChunkDecoderOptions } from './engine/chunk-decoder';
export { ChunkEncoder } from './engine/chunk-encoder';
export { RangeDecoder, type RangeDecoderOptions } from './engine/range-decoder';
export { fromBase64Url, toBase64Url } from './format/bytes';
export {
  CHUNK_OVERHEAD,
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  KEY_SIZE,
  MAX_CHUNK_EXPONENT,
  MAX_KEY_ID_LENGTH,
  MAX_WRAPPED_KEY_LENGTH,
  MIN_CHUNK_EXPONENT,
  NONCE_SIZE,
  TAG_SIZE,
} from './format/constants';
export type { EncryptionContext } from './format/context';
export {
  assertChunkSize,
  chunkOffset,
  ciphertextSize,
  plaintextSize,
  planRange,
  type RangePlan,
  suffixFetchLength,
} from './format/geometry';
export {
  type DetachedHeader,
  decodeHeader,
  type EncryptionHeader,
  encodeHeader,
  fromDetachedHeader,
  type StreamHeader,
  toDetachedHeader,
  type WrappedKey,
} from './format/header';
export {
  formatIdentity,
  formatRecipient,
  parseIdentities,
  parseIdentity,
  parseRecipient,
} from './format/recipient-text';
export { decryptBody, readHeader } from './io/decrypt';
export { encryptBody } from './io/encrypt';
export { EncryptingReader, type EncryptingReaderOptions } from './io/encrypting-reader';
export { type BodyReader, decryptRange, verifiedPlaintextSize } from './io/random-access';
export { bufferSource, type RandomAccessSource } from './io/random-access-source';
export { type ByteSource, collectBytes } from './io/sources';
