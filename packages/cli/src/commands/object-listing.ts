import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** Every object under a prefix (ListObjectsV2, paginated). */
async function* listObjects(client: S3Client, bucket: string, prefix: string) {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const object of page.Contents ?? []) if (object.Key) yield { key: object.Key, size: object.Size ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Every object under a prefix, as an array (ls and rotate need the count before starting). */
export async function listAllObjects(client: S3Client, bucket: string, prefix: string) {
  const objects: { key: string; size: number }[] = [];
  for await (const o of listObjects(client, bucket, prefix)) objects.push(o);
  return objects;
}
