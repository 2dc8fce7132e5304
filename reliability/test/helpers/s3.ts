import { randomBytes } from 'node:crypto';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { type EncryptionOptions, type EncryptionPlugin, getEncryptionPlugin } from '@encrypted-stream/s3';

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
 * Client settings for the server under test (or, with `endpoint`, for a proxy in front
 * of it). Path style; `requestChecksumCalculation: 'WHEN_REQUIRED'` because Ceph RGW
 * rejects aws-chunked bodies.
 */
export function clientConfig(overrides: Partial<S3ClientConfig> = {}): S3ClientConfig {
  const env = s3Env();
  return {
    endpoint: env.endpoint,
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  };
}

/** A plain S3 client (no encryption): sees exactly what the server stores. */
export function plainClient(overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client(clientConfig(overrides));
}

/** An S3 client with the encryption plugin applied, and the plugin. */
export interface EncryptedClient {
  readonly client: S3Client;
  readonly plugin: EncryptionPlugin;
}

/** A new S3 client with the encryption plugin (pass `{ endpoint: proxy.endpoint }` to go through a proxy). */
export function encryptedClient(options: EncryptionOptions, overrides: Partial<S3ClientConfig> = {}): EncryptedClient {
  const client = plainClient(overrides);
  const plugin = getEncryptionPlugin(client, options);
  client.middlewareStack.use(plugin);
  return { client, plugin };
}

/** A keyring with one fresh random master key (or a given one, e.g. shared with a child process). */
export function newKeyring(
  keyId = 'rel-key-1',
  masterKey: Uint8Array = new Uint8Array(randomBytes(32)),
): { keyring: LocalKeyring; keyId: string; masterKey: Uint8Array } {
  return { keyring: LocalKeyring.single(keyId, masterKey), keyId, masterKey };
}
