/**
 * Resume tokens are not authenticated: base64url JSON of { v, b: bucket, k: key,
 * u: uploadId, p: partSize, h: the detached header (stream header, key id,
 * WRAPPED data key) }. Nothing in them is secret (the header is the object's
 * future metadata), and whoever edits one cannot obtain the data key (it is
 * wrapped under the master key and bound to the stream header) nor make the
 * victim's upload readable with other content. An edited token makes the upload
 * fail: at resume (ES_INVALID_RESUME_TOKEN, ES_UNKNOWN_KEY, ES_KEY_UNWRAP_FAILED,
 * ES_CONTEXT_MISMATCH), at UploadPart (S3's NoSuchUpload, RangeError on part
 * sizes, or parts encrypted at the wrong chunk indices), at Complete (ES_INVALID_UPLOAD), or — when the edit keeps every check
 * happy (another valid header of the same keyring, another part size used
 * consistently) — at the first read of the completed object (ES_AUTH_FAILED).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { EncryptedMultipartUpload, type EncryptionOptions } from '@encrypted-stream/s3';
import { ES_H, ES_K, ES_W, expectDetected, getRaw, plaintextFor, useVictim, victimRead } from './support';

const { bucket, keyring, victim } = useVictim('adv-token', 'adv-1');
const PART = 5 * 2 ** 20;
const data = plaintextFor('token', PART + 1000);

interface TokenBody {
  v: number;
  b: string;
  k: string;
  u: string;
  p: number;
  h: { h: string; k: string; w: string };
}
const decode = (token: string): TokenBody => JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
const encode = (body: TokenBody): string => Buffer.from(JSON.stringify(body)).toString('base64url');

let counter = 0;
/** Starts an upload whose part 1 is uploaded; returns it and its token. */
async function started(options: EncryptionOptions = { keyring }) {
  const Key = `upload-${++counter}`;
  const upload = await EncryptedMultipartUpload.create(
    bucket.client,
    { Bucket: bucket.name, Key },
    { ...options, partSize: PART },
  );
  await upload.uploadPart(1, data.subarray(0, PART));
  return { Key, upload, token: upload.resumeToken };
}

async function rejectionOf(promise: Promise<unknown>): Promise<{ code: string; error: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; name?: string };
    return { code: e.code ?? e.name ?? String(error), error };
  }
  throw new Error('expected a failure');
}

/** Records a case whose failure happens at resume / upload / complete (not at read). */
function failed(name: string, got: { code: string }, code: string) {
  expectDetected(
    name,
    { ok: false, stage: 'request', code: got.code, delivered: Buffer.alloc(0), error: undefined },
    code,
  );
}

test('an untampered token resumes and completes a readable object (control)', async () => {
  const { Key, token } = await started();
  const again = await EncryptedMultipartUpload.resume(bucket.client, token, { keyring });
  await again.uploadPart(2, data.subarray(PART), { isLastPart: true });
  await again.complete();
  const read = await victimRead(victim, bucket.name, Key);
  expect(read.ok && read.data.equals(data)).toBe(true);
});

test('uploadId edited → the resumed upload fails at UploadPart (NoSuchUpload)', async () => {
  const { token } = await started();
  const body = decode(token);
  body.u = `${body.u.slice(0, -4)}AAAA`;
  const again = await EncryptedMultipartUpload.resume(bucket.client, encode(body), { keyring });
  failed(
    'resume token: uploadId edited',
    await rejectionOf(again.uploadPart(2, data.subarray(PART), { isLastPart: true })),
    'NoSuchUpload',
  );
});

test("bucket/key edited → NoSuchUpload at UploadPart ('none'), ES_CONTEXT_MISMATCH at resume ('location')", async () => {
  const { token } = await started();
  const body = decode(token);
  body.k = 'somewhere-else';
  const again = await EncryptedMultipartUpload.resume(bucket.client, encode(body), { keyring });
  failed(
    "resume token: object key edited, context 'none'",
    await rejectionOf(again.uploadPart(2, data.subarray(PART), { isLastPart: true })),
    'NoSuchUpload',
  );

  const bound = await started({ keyring, context: 'location' });
  const edited = decode(bound.token);
  edited.k = 'somewhere-else';
  failed(
    "resume token: object key edited, context 'location'",
    await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, encode(edited), { keyring, context: 'location' })),
    'ES_CONTEXT_MISMATCH',
  );
});

test('partSize edited → ES_INVALID_UPLOAD at Complete; if the original process completes, ES_AUTH_FAILED at the first read', async () => {
  const { Key, upload, token } = await started();
  const body = decode(token);
  body.p = 2 * PART;
  const tampered = await EncryptedMultipartUpload.resume(bucket.client, encode(body), { keyring });
  // The final part goes up encrypted at the wrong chunk indices.
  await tampered.uploadPart(2, data.subarray(PART), { isLastPart: true });
  failed(
    'resume token: partSize edited, tampered process completes',
    await rejectionOf(tampered.complete()),
    'ES_INVALID_UPLOAD',
  );
  await upload.complete(); // the untampered process's view of the parts passes the size checks
  expectDetected(
    'resume token: partSize edited, original process completes',
    await victimRead(victim, bucket.name, Key),
    'ES_AUTH_FAILED',
    {
      plaintext: data,
      atMost: PART,
    },
  );
});

test("header replaced by another object's (same keyring) → resumes and completes, ES_AUTH_FAILED at the first read", async () => {
  await victim.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'donor', Body: 'donor' }));
  const donor = (await getRaw(bucket.client, bucket.name, 'donor')).metadata;
  const { Key, token } = await started();
  const body = decode(token);
  body.h = { h: donor[ES_H] as string, k: donor[ES_K] as string, w: donor[ES_W] as string };
  const tampered = await EncryptedMultipartUpload.resume(bucket.client, encode(body), { keyring });
  await tampered.uploadPart(2, data.subarray(PART), { isLastPart: true });
  await tampered.complete();
  expectDetected(
    "resume token: header replaced by another object's, upload completes",
    await victimRead(victim, bucket.name, Key),
    'ES_AUTH_FAILED',
    { plaintext: data, atMost: PART },
  );
});

test('header of another keyring → ES_UNKNOWN_KEY; wrapped key edited → ES_KEY_UNWRAP_FAILED; garbage → ES_INVALID_RESUME_TOKEN', async () => {
  const { token } = await started();
  const other = LocalKeyring.single('elsewhere', new Uint8Array(32).fill(7));
  const foreign = await EncryptedMultipartUpload.create(
    bucket.client,
    { Bucket: bucket.name, Key: 'foreign' },
    { keyring: other, partSize: PART },
  );
  const foreignBody = decode(foreign.resumeToken);
  await foreign.abort();

  const swapped = decode(token);
  swapped.h = foreignBody.h;
  failed(
    'resume token: header of another keyring',
    await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, encode(swapped), { keyring })),
    'ES_UNKNOWN_KEY',
  );

  const edited = decode(token);
  const w = Buffer.from(edited.h.w, 'base64url');
  w[30] = (w[30] as number) ^ 1;
  edited.h.w = w.toString('base64url');
  failed(
    'resume token: wrapped key edited',
    await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, encode(edited), { keyring })),
    'ES_KEY_UNWRAP_FAILED',
  );

  for (const garbage of [
    token.slice(0, 40),
    `x${token}`,
    encode({ ...decode(token), p: 12345 }),
    encode({ ...decode(token), v: 2 }),
  ]) {
    const got = await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, garbage, { keyring }));
    expect(got.code).toBe('ES_INVALID_RESUME_TOKEN');
  }
  failed(
    'resume token: truncated, re-encoded with a bad part size or version',
    await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, token.slice(0, 40), { keyring })),
    'ES_INVALID_RESUME_TOKEN',
  );
});
