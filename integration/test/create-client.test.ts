/** createEncryptedS3Client(config, options): a ready client, end to end. */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { createEncryptedS3Client, lastPart, withEncryption } from '@encrypted-stream/s3';
import {
  clientConfig,
  contains,
  newKeyring,
  plainClient,
  seededBytes,
  useBucket,
} from '@encrypted-stream/test-support';
import { getBytes, getRaw } from './helpers/objects';

const bucket = useBucket('create-client');
const { keyring } = newKeyring();
const data = seededBytes('create-client', 150_000);

test('put, head, get, ranged get, copy and a multipart upload through createEncryptedS3Client', async () => {
  const client = createEncryptedS3Client(clientConfig(), { keyring });
  const plain = plainClient();
  try {
    expect(client).toBeInstanceOf(S3Client);
    expect(typeof client.encryption.resumeToken).toBe('function');

    await client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'c/one', Body: data, Metadata: { a: '1' } }));
    const raw = await getRaw(plain, bucket.name, 'c/one');
    expect(raw.body.length).toBe(ciphertextSize(data.length, DEFAULT_CHUNK_SIZE));
    expect(contains(raw.body, data.subarray(1000, 1032))).toBe(false);

    const head = await client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'c/one' }));
    expect(head.ContentLength).toBe(data.length);
    expect(head.Metadata).toEqual({ a: '1' });
    expect((await getBytes(client, { Bucket: bucket.name, Key: 'c/one' })).equals(data)).toBe(true);
    const slice = await getBytes(client, { Bucket: bucket.name, Key: 'c/one', Range: 'bytes=65530-65545' });
    expect(slice.equals(data.subarray(65530, 65546))).toBe(true);

    await client.send(new CopyObjectCommand({ Bucket: bucket.name, Key: 'c/two', CopySource: `${bucket.name}/c/one` }));
    expect((await getBytes(client, { Bucket: bucket.name, Key: 'c/two' })).equals(data)).toBe(true);

    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand(
        withEncryption({ Bucket: bucket.name, Key: 'c/mpu' }, { partSize: 5 * 1024 * 1024 }),
      ),
    );
    const token = client.encryption.resumeToken(UploadId as string, bucket.name, 'c/mpu');
    expect(typeof token).toBe('string');
    const part = await client.send(
      new UploadPartCommand(lastPart({ Bucket: bucket.name, Key: 'c/mpu', UploadId, PartNumber: 1, Body: data })),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket.name,
        Key: 'c/mpu',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect((await getBytes(client, { Bucket: bucket.name, Key: 'c/mpu' })).equals(data)).toBe(true);
  } finally {
    client.destroy();
    plain.destroy();
  }
});
