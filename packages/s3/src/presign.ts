/**
 * Presigned URLs for encrypted objects: GETs that return the stored
 * ciphertext to a reader holding the key, and PutObject / UploadPart URLs
 * whose body the caller encrypts with a data key this package made. (Plain
 * `getSignedUrl` through the plugged client: see presign-passthrough.ts.)
 */
export {
  type OpenedPresignedGet,
  openPresignedGet,
  type PresignedEncryptedGet,
  type PresignGetInput,
  type PresignGetOptions,
  presignEncryptedGet,
} from './presign-download';
export {
  type PlaintextBody,
  type PresignedEncryptedPart,
  type PresignedEncryptedUpload,
  type PresignPartOptions,
  type PresignPutInput,
  type PresignPutOptions,
  presignEncryptedPut,
  presignEncryptedUploadPart,
} from './presign-upload';
export type { PresignedRequest, PresignFunction } from './presigned-request';
