/**
 * encrypted-stream codec: chunked, authenticated, seekable XChaCha20-Poly1305
 * encryption of byte streams (format v1, see FORMAT.md). This entry is what an
 * application needs and runs in any JavaScript runtime; Node streams and files
 * are in `@encrypted-stream/codec/node`, the building blocks in
 * `@encrypted-stream/codec/low-level`.
 * @packageDocumentation
 */
export type { Keyring } from './crypto/keyring';
export { LocalKeyring, type LocalKeyringJSON } from './crypto/local-keyring';
export { RecipientKeyring, type RecipientKeyringOptions } from './crypto/recipient-keyring';
export { type CreateOptions, type OpenOptions, openStreamCipher, type StreamCipher } from './crypto/stream-cipher';
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
export { decryptBuffer, decryptStream, readHeader } from './io/decrypt';
export { encryptBuffer, encryptStream } from './io/encrypt';
export { type BodyReader, decryptRange } from './io/random-access';
export type { ByteSource } from './io/sources';
