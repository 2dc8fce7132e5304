/**
 * encrypted-stream codec: chunked, authenticated, seekable XChaCha20-Poly1305
 * encryption of byte streams (format v1, see FORMAT.md).
 * @packageDocumentation
 */
export type { CryptoBackend } from './backend/backend';
export { defaultBackend, getBackend } from './backend/select';
export { BodyEncoder, type BodyRunOptions } from './body-encoder';
export { ChunkDecoder, type ChunkDecoderOptions } from './chunk-decoder';
export { ChunkEncoder } from './chunk-encoder';
export {
  CHUNK_OVERHEAD,
  DEFAULT_CHUNK_SIZE,
  HEADER_SIZE,
  KEY_SIZE,
  MAX_CHUNK_EXPONENT,
  MIN_CHUNK_EXPONENT,
  NONCE_SIZE,
  TAG_SIZE,
} from './constants';
export type { EncryptionContext } from './context';
export { decryptBody, decryptBuffer, decryptStream, readHeader } from './decrypt';
export { DecryptingWriter, type DecryptingWriterOptions, type PlaintextSink } from './decrypting-writer';
export { encryptBody, encryptBuffer, encryptStream } from './encrypt';
export { type EncryptedFile, openEncryptedFile } from './encrypted-file';
export { EncryptingReader, type EncryptingReaderOptions } from './encrypting-reader';
export {
  AuthenticationError,
  ContextMismatchError,
  EncryptedStreamError,
  ErrorCode,
  type ErrorCodeValue,
  FormatError,
  KeyError,
} from './errors';
export {
  assertChunkSize,
  chunkCount,
  chunkOffset,
  ciphertextSize,
  plaintextSize,
  planRange,
  type RangePlan,
  suffixFetchLength,
} from './geometry';
export {
  type DetachedHeader,
  decodeHeader,
  type EncryptionHeader,
  encodeHeader,
  fromDetachedHeader,
  type StreamHeader,
  toDetachedHeader,
  type WrappedKey,
} from './header';
export type { Keyring } from './keyring';
export { LocalKeyring, type LocalKeyringJSON } from './local-keyring';
export { decryptingStream, encryptingStream } from './node-streams';
export { type BodyReader, decryptRange, verifiedPlaintextSize } from './random-access';
export { bufferSource, fileSource, type RandomAccessSource } from './random-access-source';
export { trimRange } from './range';
export { RangeDecoder, type RangeDecoderOptions } from './range-decoder';
export { type ByteSource, collectBytes, toByteIterable } from './sources';
export {
  type CreateOptions,
  createStreamCipher,
  type OpenOptions,
  openStreamCipher,
  rewrapHeader,
  StreamCipher,
} from './stream-cipher';
