import { randomBytes } from 'node:crypto';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { type EncryptionOptions, type EncryptionPlugin, getEncryptionPlugin } from '@encrypted-stream/s3';
import { countRequests, type RequestCounter } from './request-counter';
import { s3Endpoint } from './s3-endpoint';

/**
 * Client settings for the server under test. `requestChecksumCalculation:
 * 'WHEN_REQUIRED'` because Ceph RGW answers 411 to aws-chunked streamed bodies.
 */
export function clientConfig(overrides: Partial<S3ClientConfig> = {}): S3ClientConfig {
  const endpoint = s3Endpoint();
  return {
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: endpoint.accessKeyId, secretAccessKey: endpoint.secretAccessKey },
    forcePathStyle: endpoint.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  };
}

/** A plain S3 client (no encryption): sees exactly what the server stores. */
export function plainClient(overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client(clientConfig(overrides));
}

/** An S3 client with the encryption plugin, its plugin, and a counter of the HTTP requests it sends. */
export interface EncryptedClient {
  readonly client: S3Client;
  readonly plugin: EncryptionPlugin;
  readonly requests: RequestCounter;
}

/** A new S3 client with the encryption plugin applied and its requests counted. */
export function encryptedClient(options: EncryptionOptions, overrides: Partial<S3ClientConfig> = {}): EncryptedClient {
  const client = plainClient(overrides);
  const plugin = getEncryptionPlugin(client, options);
  client.middlewareStack.use(plugin);
  return { client, plugin, requests: countRequests(client) };
}

/** A fresh 32-byte master key (tests that look for key bytes need to know them). */
export function newMasterKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** A keyring holding one fresh master key. */
export function newKeyring(keyId = 'it-key-1'): { keyring: LocalKeyring; keyId: string; masterKey: Uint8Array } {
  const masterKey = newMasterKey();
  return { keyring: LocalKeyring.single(keyId, masterKey), keyId, masterKey };
}

/** An encrypting client (see encryptedClient) for one test file or describe block, destroyed in afterAll. */
export function useEncryptedClient(
  options: EncryptionOptions,
  overrides: Partial<S3ClientConfig> = {},
): EncryptedClient {
  const enc = encryptedClient(options, overrides);
  afterAll(() => enc.client.destroy());
  return enc;
}

/** Runs `use` with a fresh encrypting client (see encryptedClient), destroyed once `use` settles. */
export async function withEncryptedClient<T>(
  options: EncryptionOptions,
  use: (enc: EncryptedClient) => Promise<T>,
  overrides: Partial<S3ClientConfig> = {},
): Promise<T> {
  const enc = encryptedClient(options, overrides);
  try {
    return await use(enc);
  } finally {
    enc.client.destroy();
  }
}
