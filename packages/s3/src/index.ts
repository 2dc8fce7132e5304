/**
 * encrypted-stream for the AWS SDK v3: a drop-in S3 client plugin, encrypted
 * multipart uploads and authenticated ranged reads.
 * @packageDocumentation
 */
export { createEncryptedS3Client } from './client';
export { EncryptedS3Error, S3ErrorCode, type S3ErrorCodeValue } from './errors';
export { type CommandEncryptionOptions, ENCRYPTION_OPTIONS, lastPart, withEncryption } from './markers';
export { METADATA_KEYS, readEncryptionHeader, userMetadata } from './metadata';
export { EncryptedMultipartUpload, type MultipartUploadOptions, type ResumeOptions } from './multipart-upload';
export { DEFAULT_PART_SIZE, type EncryptionOptions, type ObjectLocation } from './options';
export { type EncryptionPlugin, encryptionMiddlewareOptions, getEncryptionPlugin } from './plugin';
export {
  type OpenedPresignedGet,
  openPresignedGet,
  type PlaintextBody,
  type PresignedEncryptedGet,
  type PresignedEncryptedPart,
  type PresignedEncryptedUpload,
  type PresignedRequest,
  type PresignFunction,
  type PresignGetInput,
  type PresignGetOptions,
  type PresignPartOptions,
  type PresignPutInput,
  type PresignPutOptions,
  presignEncryptedGet,
  presignEncryptedPut,
  presignEncryptedUploadPart,
} from './presign';
export { type ByteRange, parseRange, resolveRange } from './ranges';
export { copySourceOf, type RotationResult, rotateObjectKey } from './rotate';
