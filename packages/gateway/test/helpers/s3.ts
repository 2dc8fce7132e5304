import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { getEncryptionPlugin } from '@encrypted-stream/s3';
import { createBucket, destroyBucket, plainClient } from '@encrypted-stream/test-support';

/** A fresh keyring with one random master key (the gateway tests need only the keyring). */
export function newKeyring(): LocalKeyring {
  return LocalKeyring.single('k', randomBytes(32));
}

/** A client for the server under test with the encryption plugin applied (no request counter). */
export function encryptedClient(keyring: LocalKeyring): S3Client {
  const client = plainClient();
  client.middlewareStack.use(getEncryptionPlugin(client, { keyring }));
  return client;
}

/**
 * A test file's S3 fixture: a fresh bucket (deleted with its objects in
 * afterAll), a keyring, an encrypting client to upload with and a plain one.
 */
export function useS3(label: string) {
  const state = {
    bucket: '',
    keyring: newKeyring(),
    plain: undefined as unknown as S3Client,
    encrypted: undefined as unknown as S3Client,
    /** Uploads `body` encrypted (through the plugin). */
    async putEncrypted(key: string, body: Uint8Array | string, extra: Partial<PutObjectCommandInput> = {}) {
      await state.encrypted.send(new PutObjectCommand({ Bucket: state.bucket, Key: key, Body: body, ...extra }));
    },
    /** Uploads `body` as it is (no encryption). */
    async putPlain(key: string, body: Uint8Array | string, extra: Partial<PutObjectCommandInput> = {}) {
      await state.plain.send(new PutObjectCommand({ Bucket: state.bucket, Key: key, Body: body, ...extra }));
    },
  };
  beforeAll(async () => {
    state.plain = plainClient();
    state.encrypted = encryptedClient(state.keyring);
    state.bucket = await createBucket(state.plain, `gw-${label}`);
  }, 90_000);
  afterAll(async () => {
    if (state.bucket) await destroyBucket(state.plain, state.bucket);
    state.plain?.destroy();
    state.encrypted?.destroy();
  });
  return state;
}
