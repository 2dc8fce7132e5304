import type { S3ClientConfig } from '@aws-sdk/client-s3';

/**
 * S3 client settings from the environment (S3_ENDPOINT, S3_ACCESS_KEY_ID,
 * S3_SECRET_ACCESS_KEY, S3_REGION) for the local server that
 * `scripts/s3-server.sh` starts, or any S3-compatible endpoint.
 */
export function s3ConfigFromEnv(): S3ClientConfig {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error('S3_ENDPOINT is not set: run `eval "$(bash scripts/s3-server.sh env)"` first');
  return {
    endpoint,
    region: process.env.S3_REGION ?? 'us-east-1',
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
    },
    // Ceph RGW rejects aws-chunked (streamed, trailing-checksum) uploads with 411.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  };
}
