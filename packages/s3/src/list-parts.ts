import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { withEncryption } from './markers';
import type { ListedPart } from './upload-state';

/** Every part of an upload, following ListParts pagination. */
export async function listAllParts(client: S3Client, bucket: string, key: string, uploadId: string) {
  const parts: (ListedPart & { ETag?: string })[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListPartsCommand(
        withEncryption(
          { Bucket: bucket, Key: key, UploadId: uploadId, ...(marker ? { PartNumberMarker: marker } : {}) },
          { raw: true },
        ),
      ),
    );
    parts.push(...(page.Parts ?? []));
    if (!page.IsTruncated || !page.NextPartNumberMarker) return parts;
    marker = page.NextPartNumberMarker;
  }
}
