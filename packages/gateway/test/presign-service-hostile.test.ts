/**
 * The presign service against a hostile page, real S3: prefix escapes that
 * are not dot segments to the service (percent-encoded, fullwidth dots,
 * encoded slashes) stay literal keys under the prefix; malformed Unicode,
 * odd part numbers and deeply nested JSON are 400s; an upload id of another
 * key gets nothing from S3; `authorize` sees the upload id and part number,
 * so an app can refuse someone else's upload before any S3 request.
 */
import http from 'node:http';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createStreamCipher, toDetachedHeader } from '@encrypted-stream/codec/low-level';
import { countRequests, listOpenUploads } from '@encrypted-stream/test-support';
import { createPresignService, type PresignAction, type PresignServiceOptions } from '../src';
import { closeServer, listen } from './helpers/gateway';
import { useS3 } from './helpers/s3';

type PresignRequestDetails = Parameters<NonNullable<PresignServiceOptions['authorize']>>[3];

const s3 = useS3('presign-hostile');
let server: http.Server;
let origin = '';
const seen: { key: string; action: PresignAction; details: PresignRequestDetails }[] = [];
/** Upload ids `authorize` refuses (another user's, say). */
const foreignUploads = new Set<string>();
let s3Requests: { method: string; path: string }[] = [];

beforeAll(async () => {
  s3Requests = countRequests(s3.plain).requests;
  const handler = createPresignService({
    client: s3.plain,
    presign: getSignedUrl,
    bucket: s3.bucket,
    prefix: 'media',
    authorize: (_req, key, action, details) => {
      seen.push({ key, action, details });
      return !(details.uploadId !== undefined && foreignUploads.has(details.uploadId));
    },
  });
  server = http.createServer((req, res) => handler(req, res));
  origin = `http://127.0.0.1:${await listen(server)}`;
  await s3.encrypted.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'private/secret.bin', Body: 'secret' }));
});

afterAll(async () => {
  if (server) await closeServer(server);
});

async function call(route: string, body: unknown) {
  const response = await fetch(`${origin}/presign/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as Record<string, unknown> & { error?: { code: string } } };
}

const header = async () =>
  toDetachedHeader((await createStreamCipher({ keyring: s3.keyring, plaintextSize: 10 })).header);

test.each([
  ['percent-encoded dots', 'media/%2e%2e/private/secret.bin'],
  ['percent-encoded dots and slashes', 'media/..%2fprivate%2fsecret.bin'],
  ['fullwidth dots', 'media/\uff0e\uff0e/private/secret.bin'],
  ['one-dot leaders', 'media/\u2024\u2024/private/secret.bin'],
])('%s are a literal key under the prefix: 404, never the object outside it', async (_what, key) => {
  const answer = await call('get', { key });
  expect([answer.status, answer.json.error?.code]).toEqual([404, 'ES_NOT_FOUND']);
});

test('a key that is not well-formed Unicode (a lone surrogate) is 400, before authorize or S3', async () => {
  const before = [s3Requests.length, seen.length];
  for (const key of ['media/\ud800.bin', 'media/x\udc00']) {
    const answer = await call('get', `{"key": ${JSON.stringify(key)}}`);
    expect([answer.status, answer.json.error?.code]).toEqual([400, 'ES_BAD_REQUEST']);
  }
  expect([s3Requests.length, seen.length]).toEqual(before);
});

test.each([
  ['a fraction', 1.5],
  ['a string', '1'],
  ['negative', -1],
  ['null', null],
  ['huge', 2 ** 53],
])('a part number that is %s is 400', async (_what, partNumber) => {
  const answer = await call('uploads/part', { key: 'media/x.bin', uploadId: 'u', partNumber, contentLength: 10 });
  expect([answer.status, answer.json.error?.code]).toEqual([400, 'ES_BAD_REQUEST']);
});

test('deeply nested JSON is 400, the server keeps serving', async () => {
  const answer = await call('get', `{"key": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
  expect(answer.status).toBe(400);
  expect((await call('get', { key: 'media/none.bin' })).status).toBe(404);
});

describe("someone else's upload", () => {
  test('an upload id of another key: its part URL and its complete get nothing from S3', async () => {
    const created = await call('uploads/create', { key: 'media/theirs.bin', header: await header() });
    const uploadId = created.json.uploadId as string;
    try {
      const part = await call('uploads/part', { key: 'media/mine.bin', uploadId, partNumber: 1, contentLength: 3 });
      expect(part.status).toBe(200);
      const put = await fetch(part.json.url as string, { method: 'PUT', body: 'abc' });
      expect(put.status).toBe(404); // NoSuchUpload: the id names an upload of another key
      const done = await call('uploads/complete', {
        key: 'media/mine.bin',
        uploadId,
        parts: [{ partNumber: 1, etag: '"0"' }],
      });
      // AWS answers NoSuchUpload (404); RGW an InternalError "completion already in progress" (502 here).
      expect([
        [404, 'ES_NOT_FOUND'],
        [502, 'ES_UPSTREAM'],
      ]).toContainEqual([done.status, done.json.error?.code]);
      expect(await listOpenUploads(s3.plain, s3.bucket, 'media/theirs.bin')).toHaveLength(1);
      const head = await s3.plain
        .send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'media/mine.bin' }))
        .catch((e) => e);
      expect(head.$metadata?.httpStatusCode).toBe(404);
    } finally {
      await call('uploads/abort', { key: 'media/theirs.bin', uploadId });
    }
  });

  test('authorize sees the upload id and part number: an app refuses an upload that is not the caller’s', async () => {
    const key = 'media/shared.bin';
    const created = await call('uploads/create', { key, header: await header() });
    const uploadId = created.json.uploadId as string;
    foreignUploads.add(uploadId);
    try {
      const before = s3Requests.length;
      for (const [route, body] of [
        ['uploads/part', { key, uploadId, partNumber: 7, contentLength: 3 }],
        ['uploads/complete', { key, uploadId, parts: [{ partNumber: 1, etag: '"0"' }] }],
        ['uploads/abort', { key, uploadId }],
      ] as const) {
        const answer = await call(route, body);
        expect([route, answer.status, answer.json.error?.code]).toEqual([route, 403, 'ES_FORBIDDEN']);
      }
      expect(s3Requests.length).toBe(before);
      expect(seen.filter((s) => s.details.uploadId === uploadId).map((s) => [s.action, s.details])).toEqual([
        ['part', { uploadId, partNumber: 7 }],
        ['complete', { uploadId }],
        ['abort', { uploadId }],
      ]);
      expect(seen.find((s) => s.key === key && s.action === 'create')?.details).toEqual({});
    } finally {
      foreignUploads.delete(uploadId);
      await call('uploads/abort', { key, uploadId });
    }
  });
});
