/**
 * `@encrypted-stream/kms`: an AWS KMS keyring for encrypted-stream. Each
 * object's data key is wrapped by a KMS key (one `Encrypt` per object
 * written, one `Decrypt` per object opened) under an encryption context bound
 * to the object's stream header (FORMAT.md §6, KMS keyring).
 * @packageDocumentation
 */
export { type KmsKeyArn, parseKmsKeyArn } from './arn';
export {
  KMS_CONTEXT_HEADER_NAME,
  KMS_CONTEXT_PURPOSE,
  KMS_CONTEXT_PURPOSE_NAME,
  kmsEncryptionContext,
} from './encryption-context';
export {
  KmsErrorCode,
  type KmsErrorCodeValue,
  type KmsFailure,
  KmsKeyringError,
  type KmsOperation,
} from './errors';
export {
  type KmsDiscoveryFilter,
  type KmsKeyDescription,
  KmsKeyring,
  type KmsKeyringOptions,
  MAX_KMS_WRAPPED_KEY_LENGTH,
} from './kms-keyring';
