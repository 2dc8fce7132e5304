import { randomBytes } from 'node:crypto';
import { LocalKeyring } from '@encrypted-stream/codec';

/** The S3 server under test, from `eval "$(bash scripts/s3-server.sh env)"`. */
export interface S3Env {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Reads S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION (throws if S3_ENDPOINT is unset). */
export function s3Env(): S3Env {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error('S3_ENDPOINT is not set: eval "$(bash scripts/s3-server.sh env)"');
  return {
    endpoint,
    region: process.env.S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
  };
}

/**
 * Clients for the server under test (path style, `WHEN_REQUIRED` checksums
 * because Ceph RGW rejects aws-chunked bodies): the integration suite's,
 * shared rather than copied. Pass `{ endpoint: proxy.endpoint }` to go
 * through a fault proxy.
 */
export {
  clientConfig,
  type EncryptedClient,
  encryptedClient,
  plainClient,
  useEncryptedClient,
} from '../../../integration/test/helpers/clients';

/** A keyring with one fresh random master key (or a given one, e.g. shared with a child process). */
export function newKeyring(
  keyId = 'rel-key-1',
  masterKey: Uint8Array = new Uint8Array(randomBytes(32)),
): { keyring: LocalKeyring; keyId: string; masterKey: Uint8Array } {
  return { keyring: LocalKeyring.single(keyId, masterKey), keyId, masterKey };
}
