/**
 * encrypted-stream HTTP gateway: serves decrypted, authenticated objects from
 * an encrypted bucket to browsers and media players (RFC 9110 ranges).
 * @packageDocumentation
 */
export { etagListMatches, ifRangeHolds } from './conditional';
export {
  createGatewayHandler,
  type GatewayHandler,
  type GatewayLogEntry,
  type GatewayOptions,
} from './handler';
export { type GatewayScope, resolveObjectPath } from './object-path';
export { signPath, verifySignedPath } from './signed-links';
