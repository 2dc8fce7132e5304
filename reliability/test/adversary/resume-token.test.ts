/**
 * Resume tokens (v2) are base64url JSON of { v, b: bucket, k: key, u: uploadId,
 * p: partSize, h: the detached header (stream header, key id, WRAPPED data
 * key), f: the final part once marked, m: a MAC } where m is HMAC-SHA256 under
 * a key derived from the upload's data key over every other field. Nothing in
 * a token is secret, and nobody without the data key can edit one: every edit
 * fails at resume with ES_INVALID_RESUME_TOKEN (the codec's reason as `cause`),
 * except a header the caller's keyring cannot name at all (ES_UNKNOWN_KEY).
 * Before v2 (issue 10), an edited header made the owner's new parts valid
 * chunks of another object's stream.
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
  f?: [number, number];
  m: string;
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

type Edit = (body: TokenBody, donor: TokenBody) => void;

test.each<[string, Edit]>([
  [
    'uploadId edited',
    (b) => {
      b.u = `${b.u.slice(0, -4)}AAAA`;
    },
  ],
  [
    'object key edited',
    (b) => {
      b.k = 'somewhere-else';
    },
  ],
  [
    'bucket edited',
    (b) => {
      b.b = `${b.b}-x`;
    },
  ],
  [
    'part size edited (doubled)',
    (b) => {
      b.p = 2 * b.p;
    },
  ],
  [
    'part size edited (not a chunk multiple)',
    (b) => {
      b.p = 12345;
    },
  ],
  [
    'final part added',
    (b) => {
      b.f = [1, 10];
    },
  ],
  [
    "header replaced by another object's (same keyring)",
    (b, donor) => {
      b.h = donor.h;
    },
  ],
  [
    "header and MAC replaced by another upload's",
    (b, donor) => {
      b.h = donor.h;
      b.m = donor.m;
    },
  ],
  [
    'wrapped key edited',
    (b) => {
      const w = Buffer.from(b.h.w, 'base64url');
      w[30] = (w[30] as number) ^ 1;
      b.h.w = w.toString('base64url');
    },
  ],
  [
    'MAC removed',
    (b) => {
      b.m = '';
    },
  ],
  [
    'downgraded to v1 without a MAC',
    (b) => {
      b.v = 1;
      delete (b as Partial<TokenBody>).m;
    },
  ],
])('%s → ES_INVALID_RESUME_TOKEN at resume, nothing uploaded', async (name, edit) => {
  const { token } = await started();
  const donor = decode((await started()).token);
  const body = decode(token);
  edit(body, donor);
  failed(
    `resume token: ${name}`,
    await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, encode(body), { keyring })),
    'ES_INVALID_RESUME_TOKEN',
  );
});

test("object key edited, context 'location' → ES_INVALID_RESUME_TOKEN caused by ES_CONTEXT_MISMATCH", async () => {
  const bound = await started({ keyring, context: 'location' });
  const edited = decode(bound.token);
  edited.k = 'somewhere-else';
  const got = await rejectionOf(
    EncryptedMultipartUpload.resume(bucket.client, encode(edited), { keyring, context: 'location' }),
  );
  failed("resume token: object key edited, context 'location'", got, 'ES_INVALID_RESUME_TOKEN');
  expect(((got.error as Error).cause as { code?: string }).code).toBe('ES_CONTEXT_MISMATCH');
});

test('a genuine token for another destination than the caller names → ES_INVALID_RESUME_TOKEN', async () => {
  const { Key, token } = await started();
  failed(
    'resume token: genuine, for another key than the caller names',
    await rejectionOf(
      EncryptedMultipartUpload.resume(bucket.client, token, { keyring, bucket: bucket.name, key: `${Key}-2` }),
    ),
    'ES_INVALID_RESUME_TOKEN',
  );
  const again = await EncryptedMultipartUpload.resume(bucket.client, token, { keyring, bucket: bucket.name, key: Key });
  expect(again.key).toBe(Key);
});

test("the owner's parts cannot be made into another object's chunks (the attack of issue 10)", async () => {
  // The adversary reads X's metadata and splices X's header into the owner's token.
  await victim.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'x-target', Body: data.subarray(0, 1000) }));
  const x = (await getRaw(bucket.client, bucket.name, 'x-target')).metadata;
  const { token } = await started();
  const body = decode(token);
  body.h = { h: x[ES_H] as string, k: x[ES_K] as string, w: x[ES_W] as string };
  failed(
    "resume token: header replaced by object X's, to splice the owner's data into X",
    await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, encode(body), { keyring })),
    'ES_INVALID_RESUME_TOKEN',
  );
  const read = await victimRead(victim, bucket.name, 'x-target');
  expect(read.ok && read.data.equals(data.subarray(0, 1000))).toBe(true);
});

test('header of another keyring → ES_UNKNOWN_KEY; garbage → ES_INVALID_RESUME_TOKEN', async () => {
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

  for (const garbage of [token.slice(0, 40), `x${token}`, encode({ ...decode(token), v: 3 })]) {
    const got = await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, garbage, { keyring }));
    expect(got.code).toBe('ES_INVALID_RESUME_TOKEN');
  }
  failed(
    'resume token: truncated, or re-encoded with a bad version',
    await rejectionOf(EncryptedMultipartUpload.resume(bucket.client, token.slice(0, 40), { keyring })),
    'ES_INVALID_RESUME_TOKEN',
  );
});
