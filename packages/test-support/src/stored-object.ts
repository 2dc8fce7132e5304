import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readAll } from './streams';

/**
 * Rewrites the stored bytes of `bucket/key` through `client` (a plain one:
 * what an attacker with write access to the bucket can do), keeping its
 * metadata and content type: `edit` changes the bytes in place.
 */
export async function editStoredObject(
  client: S3Client,
  bucket: string,
  key: string,
  edit: (bytes: Buffer) => void,
): Promise<void> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await readAll(got.Body));
  edit(bytes);
  await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: bytes,
      Metadata: got.Metadata,
      ContentType: got.ContentType,
    }),
  );
}
