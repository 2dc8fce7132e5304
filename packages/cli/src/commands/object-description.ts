import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { plaintextSize } from '@encrypted-stream/codec/low-level';
import { readEncryptionHeader } from '@encrypted-stream/s3';

/** What a HEAD tells about an object, without decrypting anything. */
export async function describeObject(client: S3Client, bucket: string, key: string) {
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const header = readEncryptionHeader(head.Metadata);
  const storedBytes = head.ContentLength ?? 0;
  if (!header) return { key, encrypted: false as const, storedBytes, head };
  return {
    key,
    encrypted: true as const,
    storedBytes,
    plaintextBytes: header.stream.plaintextSize ?? plaintextSize(storedBytes, header.stream.chunkSize),
    header,
    head,
  };
}
