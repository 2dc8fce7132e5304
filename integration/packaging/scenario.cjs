// What a new user does with the installed packages, written once and run by
// both the ES module (esm.mjs) and the CommonJS (cjs.cjs) program, each
// passing the modules it loaded its own way. Settings come from the S3_*
// variables and BUCKET; prints one JSON line and exits non-zero on any failure.
'use strict';
const { Readable } = require('node:stream');
const { createHash, randomBytes } = require('node:crypto');
const assert = require('node:assert/strict');

function clientConfig(env) {
  return {
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE !== 'false',
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    // Ceph RGW rejects aws-chunked bodies; SDKs older than 3.729 ignore this setting.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  };
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/**
 * @param {object} m the loaded modules: `s3` (@aws-sdk/client-s3), `codec`, `plugin` (@encrypted-stream/s3),
 *   `upload` (@encrypted-stream/s3/upload)
 */
async function run(m, label, env = process.env) {
  const { S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand } = m.s3;
  const Bucket = env.BUCKET;
  const keyring = m.codec.LocalKeyring.single('k1', randomBytes(32));

  // The README's one set-up line, on the user's own client.
  const client = new S3Client(clientConfig(env));
  client.middlewareStack.use(m.plugin.getEncryptionPlugin(client, { keyring }));

  const Key = `${label}/hello.txt`;
  const text = 'hello, encrypted world';
  await client.send(new PutObjectCommand({ Bucket, Key, Body: text, Metadata: { owner: label } }));
  const ranged = await client.send(new GetObjectCommand({ Bucket, Key, Range: 'bytes=1-3' }));
  assert.equal(await ranged.Body.transformToString(), 'ell');
  assert.equal(ranged.ContentRange, `bytes 1-3/${text.length}`);
  const whole = await client.send(new GetObjectCommand({ Bucket, Key }));
  assert.equal(await whole.Body.transformToString(), text);
  const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
  assert.equal(head.ContentLength, text.length);
  assert.deepEqual(head.Metadata, { owner: label });

  // What the store holds is ciphertext.
  const plain = new S3Client(clientConfig(env));
  const stored = Buffer.from(
    await (await plain.send(new GetObjectCommand({ Bucket, Key }))).Body.transformToByteArray(),
  );
  assert.ok(!stored.includes(Buffer.from('encrypted world')), 'the stored object holds the plaintext');

  // lib-storage through EncryptedUpload: a stream of unknown length, several parts.
  const data = randomBytes(11 * 1024 * 1024 + 123);
  const big = `${label}/big.bin`;
  const upload = new m.upload.EncryptedUpload({
    client,
    params: { Bucket, Key: big, Body: Readable.from([data.subarray(0, 7e6), data.subarray(7e6)]) },
    encryption: { keyring },
    partSize: 5 * 1024 * 1024,
  });
  await upload.done();
  const back = await client.send(new GetObjectCommand({ Bucket, Key: big, Range: 'bytes=5000000-' }));
  assert.equal(sha256(await back.Body.transformToByteArray()), sha256(data.subarray(5_000_000)));

  // A reader without the key gets the project's error, with its stable code.
  const stranger = new S3Client(clientConfig(env));
  stranger.middlewareStack.use(
    m.plugin.getEncryptionPlugin(stranger, { keyring: m.codec.LocalKeyring.single('other', randomBytes(32)) }),
  );
  const failure = await stranger.send(new GetObjectCommand({ Bucket, Key })).then(
    () => assert.fail('a foreign keyring read the object'),
    (error) => error,
  );
  assert.ok(failure instanceof m.codec.EncryptedStreamError, `not an EncryptedStreamError: ${failure}`);
  assert.equal(failure.code, 'ES_UNKNOWN_KEY');

  for (const c of [client, plain, stranger]) c.destroy();
  return { label, ok: true };
}

module.exports = { run, clientConfig };
