import { usageError } from './exit-codes';

/** An `s3://bucket/key` (or `s3://bucket/prefix`) argument. */
export interface S3Url {
  readonly bucket: string;
  readonly key: string;
}

/** Parses `s3://bucket/key`; `key` may be empty only when `allowEmptyKey` (prefixes). */
export function parseS3Url(text: string, allowEmptyKey = false): S3Url {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(text);
  if (!m?.[1]) throw usageError(`"${text}" is not an s3://bucket/key URL`);
  const key = m[2] ?? '';
  if (!key && !allowEmptyKey) throw usageError(`"${text}" names no object key`);
  return { bucket: m[1], key };
}

/** Whether an argument is an S3 URL. */
export const isS3Url = (text: string | undefined): boolean => typeof text === 'string' && text.startsWith('s3://');
