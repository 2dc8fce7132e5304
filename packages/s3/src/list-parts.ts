import { paginateListParts, type S3Client } from '@aws-sdk/client-s3';
import { withEncryption } from './markers';
import type { ListedPart } from './upload-state';

/**
 * Every part of an upload, through the SDK's paginator. The input is marked
 * raw (the plugin lets it through untouched); the paginator sets the marker on
 * that same object, so the symbol-keyed mark stays on every page's request.
 * The loop stops at the first page that is not truncated: S3 (and RGW) also
 * return `NextPartNumberMarker` on the last page, which the paginator alone
 * would follow with one more request (or, where a store repeats it, forever).
 */
export async function listAllParts(client: S3Client, bucket: string, key: string, uploadId: string) {
  const parts: (ListedPart & { ETag?: string })[] = [];
  const input = withEncryption({ Bucket: bucket, Key: key, UploadId: uploadId }, { raw: true });
  for await (const page of paginateListParts({ client }, input)) {
    parts.push(...(page.Parts ?? []));
    if (!page.IsTruncated) break;
  }
  return parts;
}
