/**
 * encrypted-stream HTTP gateway: serves decrypted, authenticated objects from
 * an encrypted bucket to browsers and media players (RFC 9110 ranges).
 * @packageDocumentation
 */
export { HostAllowList, LOOPBACK_HOSTS } from './allowed-hosts';
export { ConcurrencyLimit, type SlotResult } from './concurrency-limit';
export { etagListMatches, ifRangeHolds } from './conditional';
export { DEFAULT_INLINE_TYPES, inlinePatterns, isInline, safeContentType } from './content-type';
export type { GatewayLogEntry } from './logging';
export { folderPrefix, type GatewayScope, resolveObjectPath } from './object-path';
export {
  createPresignService,
  type PresignAction,
  type PresignedPartUpload,
  type PresignServiceHandler,
  type PresignServiceOptions,
} from './presign-service';
export {
  PresignServiceError,
  PresignServiceErrorCode,
  type PresignServiceErrorCodeValue,
} from './presign-service-errors';
export { createGatewayHandler, type GatewayHandler, type GatewayOptions } from './request-handler';
export { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from './security-headers';
export { signPath, verifySignedPath } from './signed-links';
