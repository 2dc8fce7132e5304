/**
 * encrypted-stream codec: chunked, authenticated, seekable XChaCha20-Poly1305
 * encryption of byte streams (format v1, see FORMAT.md).
 * @packageDocumentation
 */
export type { CryptoBackend } from './crypto/backend/backend';
export { defaultBackend, getBackend } from './crypto/backend/select';
export type { Keyring } from './crypto/keyring';
export { LocalKeyring, type LocalKeyringJSON } from './crypto/local-keyring';
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
export {
  CHUNK_OVERHEAD,
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  KEY_SIZE,
  MAX_CHUNK_EXPONENT,
  MIN_CHUNK_EXPONENT,
  NONCE_SIZE,
  TAG_SIZE,
} from './format/constants';
export type { EncryptionContext } from './format/context';
export {
  AuthenticationError,
  ContextMismatchError,
  EncryptedStreamError,
  ErrorCode,
  type ErrorCodeValue,
  FormatError,
  KeyError,
} from './format/errors';
export {
  assertChunkSize,
  chunkCount,
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
export { decryptBody, decryptBuffer, decryptStream, readHeader } from './io/decrypt';
export { encryptBody, encryptBuffer, encryptStream } from './io/encrypt';
export { EncryptingReader, type EncryptingReaderOptions } from './io/encrypting-reader';
export { type BodyReader, decryptRange, verifiedPlaintextSize } from './io/random-access';
export { bufferSource, type RandomAccessSource } from './io/random-access-source';
export { trimRange } from './io/range';
export { type ByteSource, collectBytes, toByteIterable } from './io/sources';
export { DecryptingWriter, type DecryptingWriterOptions, type PlaintextSink } from './node/decrypting-writer';
export { type EncryptedFile, openEncryptedFile } from './node/encrypted-file';
export { fileSource } from './node/file-source';
export { decryptingStream, encryptingStream } from './node/node-streams';
