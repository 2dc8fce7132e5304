import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

/** Every object under a prefix, as an array (ls and rotate need the count before starting). */
export async function listAllObjects(client: S3Client, bucket: string, prefix: string) {
  const objects: { key: string; size: number }[] = [];
  // The SDK's paginator follows NextContinuationToken until IsTruncated is false.
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) if (object.Key) objects.push({ key: object.Key, size: object.Size ?? 0 });
  }
  return objects;
}
