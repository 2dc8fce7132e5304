import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { type EncryptionOptions, type EncryptionPlugin, getEncryptionPlugin } from '@encrypted-stream/s3';
import { plainClient } from './clients';
import { countRequests, type RequestCounter } from './request-counter';

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
