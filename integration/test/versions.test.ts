/**
 * A versioned bucket: reads, ranged reads and copies of an older version
 * through the plugin must use that version's header and bytes.
 */
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { CHUNK_OVERHEAD, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { copySourceOf } from '@encrypted-stream/s3';
import {
  encryptedClient,
  newKeyring,
  seededBytes,
  seededPieces,
  useEncryptedBucket,
} from '@encrypted-stream/test-support';
import { getBytes } from './helpers/objects';

const { keyring } = newKeyring();
const MiB = 1024 * 1024;
const Key = 'versioned/object';
/** v1 is large (40 MiB), v2 (the latest) is small. */
const S1 = 40 * MiB;
const v2 = seededBytes('versions-v2', 1000);
let v1Id: string;
let v2Id: string;
const { bucket, enc, plain } = useEncryptedBucket('versions', { keyring });

beforeAll(async () => {
  await plain.send(
    new PutBucketVersioningCommand({ Bucket: bucket.name, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const put1 = await enc.client.send(
    new PutObjectCommand({
      Bucket: bucket.name,
      Key,
      Body: Readable.from(seededPieces('versions-v1', S1)),
      ContentLength: S1,
      Metadata: { version: 'one' },
    }),
  );
  const put2 = await enc.client.send(
    new PutObjectCommand({ Bucket: bucket.name, Key, Body: v2, Metadata: { version: 'two' } }),
  );
  v1Id = put1.VersionId as string;
  v2Id = put2.VersionId as string;
  expect(v1Id).toBeTruthy();
  expect(v2Id).not.toBe(v1Id);
});

test('latest and older versions read back; HeadObject of each reports its own size', async () => {
  expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(v2)).toBe(true);
  const head1 = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key, VersionId: v1Id }));
  expect(head1.ContentLength).toBe(S1);
  expect(head1.Metadata).toEqual({ version: 'one' });
  const out = await enc.client.send(
    new GetObjectCommand({ Bucket: bucket.name, Key, VersionId: v1Id, Range: `bytes=${S1 - 100}-` }),
  );
  expect(out.Metadata).toEqual({ version: 'one' });
  expect(Buffer.from(await out.Body!.transformToByteArray()).equals(seededBytes('versions-v1', 100, S1 - 100))).toBe(
    true,
  );
});

test('CopyObject REPLACE from an older version copies that version (its header, its bytes)', async () => {
  await enc.client.send(
    new CopyObjectCommand({
      Bucket: bucket.name,
      Key: 'versioned/copy-of-v1-tail',
      CopySource: `${copySourceOf(bucket.name, Key)}?versionId=${encodeURIComponent(v1Id)}`,
      MetadataDirective: 'REPLACE',
      Metadata: { copied: 'from-v1' },
    }),
  );
  const got = await getBytes(enc.client, {
    Bucket: bucket.name,
    Key: 'versioned/copy-of-v1-tail',
    Range: `bytes=${S1 - 10}-`,
  });
  expect(got.equals(seededBytes('versions-v1', 10, S1 - 10))).toBe(true);
});

/*
 * A reader with a smaller chunkSize guesses v1's tail past its stored end, S3
 * answers 416, and the plugin asks HeadObject for the real geometry, but
 * without the request's VersionId: it gets the LATEST version's metadata and
 * size (v2, 1000 bytes) and answers 416 "object size 1000" for a perfectly
 * valid range of v1. (The same HeadObject also drops SSE-C key headers,
 * ExpectedBucketOwner and RequestPayer.)
 */
test('a ranged read of an older version that needs the geometry fallback uses that version', async () => {
  const reader = encryptedClient({ keyring, chunkSize: 16 * 1024 });
  try {
    const got = await getBytes(reader.client, {
      Bucket: bucket.name,
      Key,
      VersionId: v1Id,
      Range: `bytes=${S1 - 10}-`,
    });
    expect(got.equals(seededBytes('versions-v1', 10, S1 - 10))).toBe(true);
    const head = reader.requests.withMethod('HEAD')[0];
    expect(head?.query.versionId).toBe(v1Id);
  } finally {
    reader.client.destroy();
  }
});

test('the stored sizes are what the geometry says', async () => {
  const head = await plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key, VersionId: v1Id }));
  expect(head.ContentLength).toBe(S1 + (S1 / DEFAULT_CHUNK_SIZE + 1) * CHUNK_OVERHEAD);
});
