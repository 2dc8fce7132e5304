// The installed packages from strict TypeScript, as an ES module (nodenext):
// type-checked with the packages' own .d.mts types, then compiled and run.

import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { EncryptedStreamError, ErrorCode, type Keyring, LocalKeyring } from '@encrypted-stream/codec';
import { type EncryptionPlugin, getEncryptionPlugin, S3ErrorCode } from '@encrypted-stream/s3';
import { EncryptedUpload, type EncryptedUploadProgress } from '@encrypted-stream/s3/upload';

const env = process.env;
const config: S3ClientConfig = {
  endpoint: env.S3_ENDPOINT,
  region: env.S3_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: env.S3_ACCESS_KEY_ID ?? '', secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? '' },
};
const keyring: Keyring = LocalKeyring.single('k1', randomBytes(32));
const client = new S3Client(config);
const plugin: EncryptionPlugin = getEncryptionPlugin(client, { keyring });
client.middlewareStack.use(plugin);

const Bucket = env.BUCKET ?? '';
await client.send(new PutObjectCommand({ Bucket, Key: 'ts/one', Body: 'typed' }));
const got = await client.send(new GetObjectCommand({ Bucket, Key: 'ts/one', Range: 'bytes=-3' }));
const tail: string | undefined = await got.Body?.transformToString();
if (tail !== 'ped') throw new Error(`ranged read gave ${tail}`);

const seen: number[] = [];
const upload = new EncryptedUpload({
  client,
  params: { Bucket, Key: 'ts/two', Body: randomBytes(1000) },
  encryption: { keyring },
});
upload.on('httpUploadProgress', (progress: EncryptedUploadProgress) => seen.push(progress.loaded ?? 0));
await upload.done();

try {
  await client.send(new GetObjectCommand({ Bucket, Key: 'ts/one', PartNumber: 1 }));
  throw new Error('PartNumber was not refused');
} catch (error) {
  if (!(error instanceof EncryptedStreamError) || error.code !== S3ErrorCode.UNSUPPORTED_OPERATION) throw error;
}
const codes: string[] = [ErrorCode.AUTH_FAILED, ErrorCode.TRUNCATED];
client.destroy();
console.log(JSON.stringify({ label: 'strict-ts', ok: true, progressEvents: seen.length, codes: codes.length }));
