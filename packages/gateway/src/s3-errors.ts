import type { ServerResponse } from 'node:http';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EncryptedStreamError } from '@encrypted-stream/codec';
import { describeError, type GatewayLog } from './logging';
import { end, validatorHeaders } from './responses';

/** The parts of an S3 (or plugin) error the mapping reads. */
export interface S3Failure {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  /** Set by the plugin on a 416: the plaintext size. */
  ActualObjectSize?: string;
}

/** What {@link answerS3Failure} needs besides the error. */
export interface S3FailureContext {
  readonly client: S3Client;
  readonly log: GatewayLog;
  readonly bucket: string;
  readonly key: string;
  readonly ifNoneMatch?: string;
}

/**
 * Answers a failed S3 request: 304, 404, 412 and 416 pass through with the
 * headers HTTP requires of them; anything else (S3 down, a header that fails
 * authentication) is logged and becomes 502.
 */
export async function answerS3Failure(res: ServerResponse, error: S3Failure, context: S3FailureContext): Promise<void> {
  const { bucket, key } = context;
  const status = error.$metadata?.httpStatusCode;
  if (status === 304 || error.name === 'NotModified') {
    return end(res, 304, validatorHeaders(await currentValidators(context)));
  }
  if (status === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound') return end(res, 404);
  if (status === 412) return end(res, 412);
  if (status === 416 || error.name === 'InvalidRange') {
    const size = await plaintextSize(context, error);
    return end(res, 416, size === undefined ? {} : { 'content-range': `bytes */${size}` });
  }
  context.log({
    level: 'error',
    event: error instanceof EncryptedStreamError ? 'decrypt-failed' : 's3-failed',
    bucket,
    key,
    detail: describeError(error),
  });
  return end(res, 502);
}

/**
 * S3's own 304 is an error without headers, but a 304 must carry the ETag
 * (RFC 9110 §15.4.5). After a single-tag If-None-Match it is that tag (S3's
 * ETags are strong); otherwise (If-Modified-Since) one HeadObject finds it.
 */
async function currentValidators(context: S3FailureContext): Promise<{ ETag?: string; LastModified?: Date }> {
  const { ifNoneMatch } = context;
  const single = ifNoneMatch === undefined ? null : /^\s*(?:W\/)?("[^",]*")\s*$/.exec(ifNoneMatch);
  if (single) return { ETag: single[1] };
  try {
    return await context.client.send(new HeadObjectCommand({ Bucket: context.bucket, Key: context.key }));
  } catch {
    return {};
  }
}

async function plaintextSize(context: S3FailureContext, error: S3Failure): Promise<number | undefined> {
  // The plugin reports S3's 416 with the plaintext size.
  if (error.ActualObjectSize !== undefined) return Number(error.ActualObjectSize);
  try {
    return (await context.client.send(new HeadObjectCommand({ Bucket: context.bucket, Key: context.key })))
      .ContentLength;
  } catch {
    return undefined;
  }
}
