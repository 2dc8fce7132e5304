import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { s3Settings } from './s3-settings';

/**
 * Client settings for the server under test (see {@link s3Settings}).
 * `requestChecksumCalculation: 'WHEN_REQUIRED'` because Ceph RGW answers 411
 * to aws-chunked streamed bodies. Pass `{ endpoint: proxy.endpoint }` to go
 * through a proxy.
 */
export function clientConfig(overrides: Partial<S3ClientConfig> = {}): S3ClientConfig {
  const settings = s3Settings();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // Node 20 is what this project supports
  return {
    endpoint: settings.endpoint,
    region: settings.region,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...overrides,
  };
}

/** A plain S3 client (no encryption): sees exactly what the server stores. */
export function plainClient(overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client(clientConfig(overrides));
}
