/**
 * What the server stores: read every kind of object back raw with a plain
 * client and look for the plaintext (and the keys) in it.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_CHUNK_SIZE, fromDetachedHeader } from '@encrypted-stream/codec/low-level';
import { EncryptedMultipartUpload, METADATA_KEYS } from '@encrypted-stream/s3';
import { EncryptedUpload } from '@encrypted-stream/s3/upload';
import { contains, markedBytes, newKeyring, useEncryptedBucket } from '@encrypted-stream/test-support';
import { getBytes, getRaw, type RawObject } from './helpers/objects';

const { keyring, masterKey } = newKeyring();
const MiB = 1024 * 1024;
/** A distinctive 32-byte marker, written every 4 KiB of the plaintext. */
const MARKER = Buffer.from('<<encrypted-stream-at-rest-mark>', 'ascii');
const SIZE = 6 * MiB + 4321;
const plaintext = markedBytes('at-rest', SIZE, MARKER);
const { bucket, enc, plain } = useEncryptedBucket('at-rest', { keyring });

/** Checks that nothing of the plaintext or the keys can be found in a stored object. */
async function expectOpaque(raw: RawObject) {
  expect(MARKER).toHaveLength(32);
  expect(contains(plaintext, MARKER)).toBe(true); // the needle is really in the plaintext …
  expect(contains(raw.body, MARKER)).toBe(false); // … and not in what is stored
  for (const half of [MARKER.subarray(0, 16), MARKER.subarray(16)]) expect(contains(raw.body, half)).toBe(false);

  // 16-byte windows of the plaintext, sampled at random offsets: none is stored.
  const samples = 100;
  for (let i = 0; i < samples; i++) {
    const at = randomBytes(4).readUInt32BE() % (SIZE - 16);
    expect(contains(raw.body, plaintext.subarray(at, at + 16))).toBe(false);
  }

  // Neither the master key nor the object's data key appears, in the body or the metadata.
  const header = fromDetachedHeader({
    h: raw.metadata[METADATA_KEYS.h],
    k: raw.metadata[METADATA_KEYS.k],
    w: raw.metadata[METADATA_KEYS.w],
  });
  const dataKey = Buffer.from(await keyring.unwrap(header, header.streamBytes));
  const metadata = Buffer.from(JSON.stringify(raw.metadata));
  for (const secret of [Buffer.from(masterKey), dataKey]) {
    expect(contains(raw.body, secret)).toBe(false);
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(contains(metadata, Buffer.from(secret.toString(encoding)))).toBe(false);
    }
  }
  // Stored size: plaintext plus 40 bytes per chunk, nothing else.
  expect(raw.body.length).toBe(SIZE + (Math.floor(SIZE / DEFAULT_CHUNK_SIZE) + 1) * 40);
}

test('PutObject', async () => {
  await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'rest/put', Body: plaintext }));
  await expectOpaque(await getRaw(plain, bucket.name, 'rest/put'));
  expect((await getBytes(enc.client, { Bucket: bucket.name, Key: 'rest/put' })).equals(plaintext)).toBe(true);
});

test('EncryptedUpload (multipart)', async () => {
  await new EncryptedUpload({
    client: plain,
    params: { Bucket: bucket.name, Key: 'rest/upload', Body: plaintext },
    encryption: { keyring },
    partSize: 5 * MiB,
  }).done();
  await expectOpaque(await getRaw(plain, bucket.name, 'rest/upload'));
});

test('EncryptedMultipartUpload', async () => {
  const P = 5 * MiB;
  const upload = await EncryptedMultipartUpload.create(
    plain,
    { Bucket: bucket.name, Key: 'rest/multipart' },
    { keyring, partSize: P },
  );
  await upload.uploadPart(1, plaintext.subarray(0, P));
  await upload.uploadPart(2, plaintext.subarray(P), { isLastPart: true });
  await upload.complete();
  await expectOpaque(await getRaw(plain, bucket.name, 'rest/multipart'));
});

test('the same plaintext stored twice gives unrelated ciphertexts', async () => {
  const small = plaintext.subarray(0, 200_000);
  await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'rest/twice-a', Body: small }));
  await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'rest/twice-b', Body: small }));
  const a = await getRaw(plain, bucket.name, 'rest/twice-a');
  const b = await getRaw(plain, bucket.name, 'rest/twice-b');
  expect(a.metadata[METADATA_KEYS.h]).not.toBe(b.metadata[METADATA_KEYS.h]);
  for (let at = 0; at + 16 <= a.body.length; at += 4099) {
    expect(contains(b.body, a.body.subarray(at, at + 16))).toBe(false);
  }
});
