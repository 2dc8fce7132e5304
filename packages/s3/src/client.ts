import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { EncryptionOptions } from './options';
import { type EncryptionPlugin, getEncryptionPlugin } from './plugin';

/**
 * Convenience: a new S3Client with the encryption plugin applied.
 * The plugin is returned too, for multipart resume tokens.
 * @public
 */
export function createEncryptedS3Client(
  config: S3ClientConfig,
  options: EncryptionOptions,
): S3Client & { readonly encryption: EncryptionPlugin } {
  const client = new S3Client(config);
  const encryption = getEncryptionPlugin(client, options);
  client.middlewareStack.use(encryption);
  return Object.assign(client, { encryption });
}
