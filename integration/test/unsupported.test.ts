/**
 * Operations that cannot work on client-side encrypted objects are refused by
 * the plugin before anything is sent; a few that are not intercepted are
 * documented by what they return.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  SelectObjectContentCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { S3ErrorCode } from '@encrypted-stream/s3';
import { newKeyring, seededBytes, useEncryptedBucket } from '@encrypted-stream/test-support';
import { rejection } from './helpers/objects';

const { keyring } = newKeyring();
const Key = 'unsupported/object';
const data = seededBytes('unsupported', 100_000);
const { bucket, enc } = useEncryptedBucket('unsupported', { keyring });

beforeAll(async () => {
  await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
});

describe('refused with ES_UNSUPPORTED_OPERATION before any request', () => {
  const commands: [string, () => unknown][] = [
    ['GetObject with PartNumber', () => new GetObjectCommand({ Bucket: bucket.name, Key, PartNumber: 1 })],
    ['HeadObject with PartNumber', () => new HeadObjectCommand({ Bucket: bucket.name, Key, PartNumber: 1 })],
    ['HeadObject with Range', () => new HeadObjectCommand({ Bucket: bucket.name, Key, Range: 'bytes=0-0' })],
    [
      'UploadPartCopy',
      () =>
        new UploadPartCopyCommand({
          Bucket: bucket.name,
          Key: 'unsupported/target',
          UploadId: 'any',
          PartNumber: 1,
          CopySource: `${bucket.name}/${Key}`,
        }),
    ],
    [
      'SelectObjectContent',
      () =>
        new SelectObjectContentCommand({
          Bucket: bucket.name,
          Key,
          Expression: 'SELECT * FROM S3Object',
          ExpressionType: 'SQL',
          InputSerialization: { CSV: {} },
          OutputSerialization: { CSV: {} },
        }),
    ],
  ];

  test.each(commands)('%s', async (_name, command) => {
    enc.requests.reset();
    const error = await rejection(enc.client.send(command() as never));
    expect(error.code).toBe(S3ErrorCode.UNSUPPORTED_OPERATION);
    expect(enc.requests.count).toBe(0);
  });
});

describe('not intercepted (documented behaviour)', () => {
  test('ListObjectsV2 reports the stored (ciphertext) size', async () => {
    const out = await enc.client.send(new ListObjectsV2Command({ Bucket: bucket.name, Prefix: Key }));
    expect(out.Contents?.map((o) => o.Size)).toEqual([ciphertextSize(data.length, DEFAULT_CHUNK_SIZE)]);
  });
});
