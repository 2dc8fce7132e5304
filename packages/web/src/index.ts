/**
 * encrypted-stream in the browser: a Service Worker that answers a media
 * element's Range requests by decrypting one ranged GET of an encrypted S3
 * object each (presigned by the app server, which holds no key), the page's
 * encrypted multipart upload through the same app server, and the key kept
 * in the page's origin (IndexedDB).
 * @packageDocumentation
 */
export { decryptingBody } from './decrypting-body';
export { EncryptedMediaError, WebErrorCode, type WebErrorCodeValue } from './errors';
export { type PlaintextRange, parsePlaintextRange } from './http-range';
export { deleteKey, generateMasterKey, type KeyStoreOptions, loadKeyring, saveKey } from './key-store';
export {
  createMediaHandler,
  type MediaHandler,
  type MediaHandlerOptions,
  type MediaLogEntry,
  type MediaS3Request,
} from './media-handler';
export { safeMediaType } from './media-type';
export type { OpenedObject } from './opened-objects';
export {
  fetchPresignedGet,
  type PresignClient,
  type PresignedPart,
  presignClient,
} from './presign-client';
export { presignedUrlExpiry } from './presigned-expiry';
export { checkPresignedGet } from './presigned-get';
export {
  type FetchEventLike,
  type ServeEncryptedMediaOptions,
  type ServiceWorkerScopeLike,
  serveEncryptedMedia,
} from './service-worker';
export { type UploadOptions, type UploadProgress, type UploadResult, uploadEncrypted } from './upload';
