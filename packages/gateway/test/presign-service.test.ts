/**
 * The presign service against real S3: it hands out presigned encrypted GETs
 * (ETag-bound, with the detached header a key holder authenticates) and the
 * pieces of a multipart upload of ciphertext the caller encrypted itself;
 * keys outside its prefix, odd paths, hostile headers and bad JSON are 4xx
 * JSON errors that quote nothing of the request; `authorize` runs before S3.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { decryptRange } from '@encrypted-stream/codec';
import { collectBytes, createStreamCipher, encryptBody, toDetachedHeader } from '@encrypted-stream/codec/low-level';
import { openPresignedGet, type PresignedEncryptedGet } from '@encrypted-stream/s3';
import { countRequests, listOpenUploads, readAll } from '@encrypted-stream/test-support';
import { createPresignService, type PresignAction } from '../src';
import { closeServer, listen } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const s3 = useS3('presign-service');
let server: http.Server;
let origin = '';
/** Every call of `authorize`, and the keys it refuses. */
const authorized: { key: string; action: PresignAction }[] = [];
const refused = new Set<string>();
let s3Requests: { method: string; path: string }[] = [];

beforeAll(async () => {
  s3Requests = countRequests(s3.plain).requests;
  const handler = createPresignService({
    client: s3.plain,
    presign: getSignedUrl,
    bucket: s3.bucket,
    prefix: 'media',
    authorize: (_req, key, action) => {
      authorized.push({ key, action });
      return !refused.has(key);
    },
  });
  server = http.createServer((req, res) => handler(req, res));
  origin = `http://127.0.0.1:${await listen(server)}`;
});

afterAll(async () => {
  if (server) await closeServer(server);
});

/** POSTs `body` (an object as JSON, or a raw string) to a route. */
async function call(route: string, body: unknown, init: RequestInit = {}) {
  const response = await fetch(`${origin}/presign/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: JSON.parse(text) as Record<string, unknown> & { error?: { code: string } },
  };
}

const errorCode = (answer: { json: { error?: { code: string } } }) => answer.json.error?.code;

describe('get', () => {
  const plaintext = randomBytes(300_000);

  beforeAll(async () => {
    await s3.putEncrypted('media/clip.bin', plaintext);
    await s3.putPlain('media/plain.txt', 'not encrypted');
    await s3.putEncrypted('private/secret.bin', plaintext);
  });

  test('a presigned encrypted GET that a key holder reads by ranges; the service never sees a key', async () => {
    const answer = await call('get', { key: 'media/clip.bin' });
    expect(answer.status).toBe(200);
    const get = answer.json as unknown as PresignedEncryptedGet;
    expect(get).toMatchObject({ method: 'GET', bucket: s3.bucket, key: 'media/clip.bin' });
    expect(Object.keys(get.encryption).sort()).toEqual(['es-h', 'es-k', 'es-w']);
    expect(get.headers['if-match']).toMatch(/^".+"$/);
    const { cipher, plaintextSize } = await openPresignedGet(get, { keyring: s3.keyring });
    expect(plaintextSize).toBe(plaintext.length);
    const read = async (start: number, end: number) => {
      const response = await fetch(get.url, { headers: { ...get.headers, range: `bytes=${start}-${end - 1}` } });
      expect(response.status).toBe(206);
      return new Uint8Array(await response.arrayBuffer());
    };
    const piece = await collectBytes(decryptRange(cipher, read, get.ciphertextSize, 70_000, 200_000));
    expect(Buffer.from(piece).equals(plaintext.subarray(70_000, 200_000))).toBe(true);
    expect(authorized).toContainEqual({ key: 'media/clip.bin', action: 'get' });
  });

  test.each([
    ['another folder', 'private/secret.bin'],
    ['a sibling that starts like the prefix', 'mediax/clip.bin'],
    ['a dot-dot segment', 'media/../private/secret.bin'],
    ['a dot segment', 'media/./clip.bin'],
    ['an empty segment', 'media//clip.bin'],
    ['the prefix alone', 'media/'],
    ['a backslash', 'media\\..\\private\\secret.bin'],
    ['a control character', 'media/clip.bin\u0000'],
  ])('%s is 403 ES_FORBIDDEN, with no S3 request and no authorize call', async (_what, key) => {
    const before = s3Requests.length;
    const calls = authorized.length;
    const answer = await call('get', { key });
    expect([answer.status, errorCode(answer)]).toEqual([403, 'ES_FORBIDDEN']);
    expect(s3Requests.length).toBe(before);
    expect(authorized.length).toBe(calls);
  });

  test.each([
    ['not JSON', '{"key": '],
    ['an array', '["media/clip.bin"]'],
    ['a key that is not a string', { key: 42 }],
    ['no key', {}],
    ['an unknown field', { key: 'media/clip.bin', bucket: 'other' }],
  ])('%s is 400 ES_BAD_REQUEST', async (_what, body) => {
    const answer = await call('get', body);
    expect([answer.status, errorCode(answer)]).toEqual([400, 'ES_BAD_REQUEST']);
  });

  test('wrong method, content type, route and an oversized body are 405, 415, 404 and 413', async () => {
    const viaGet = await fetch(`${origin}/presign/get`);
    expect([
      viaGet.status,
      viaGet.headers.get('allow'),
      ((await viaGet.json()) as { error: { code: string } }).error.code,
    ]).toEqual([405, 'POST', 'ES_METHOD_NOT_ALLOWED']);
    const form = await call('get', 'key=media/clip.bin', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([form.status, errorCode(form)]).toEqual([415, 'ES_UNSUPPORTED_MEDIA_TYPE']);
    const nowhere = await call('list', { key: 'media/clip.bin' });
    expect([nowhere.status, errorCode(nowhere)]).toEqual([404, 'ES_NOT_FOUND']);
    const proto = await call('constructor', { key: 'media/clip.bin' });
    expect(proto.status).toBe(404);
    const huge = await call('get', { key: 'media/clip.bin', pad: 'x'.repeat(2 * 1024 * 1024) });
    expect([huge.status, errorCode(huge)]).toEqual([413, 'ES_TOO_LARGE']);
  });

  test('a missing object is 404, an unencrypted one 422; neither answer quotes the request', async () => {
    const missing = await call('get', { key: 'media/nothing-here-Zq7' });
    expect([missing.status, errorCode(missing)]).toEqual([404, 'ES_NOT_FOUND']);
    expect(missing.text).not.toContain('Zq7');
    const plain = await call('get', { key: 'media/plain.txt' });
    expect([plain.status, errorCode(plain)]).toEqual([422, 'ES_NOT_ENCRYPTED']);
    const outside = await call('get', { key: 'private/token-Zq7' });
    expect(outside.text).not.toContain('Zq7');
  });

  test('a body a framework already read (req.body: bytes, or parsed JSON) is used, and still checked', async () => {
    const handler = createPresignService({
      client: s3.plain,
      presign: getSignedUrl,
      bucket: s3.bucket,
      prefix: 'media',
    });
    const bodies: unknown[] = [
      Buffer.from(JSON.stringify({ key: 'media/clip.bin' })),
      { key: 'media/clip.bin' },
      { key: 'private/secret.bin' },
    ];
    const other = http.createServer(async (req, res) => {
      for await (const _ of req); // the framework read the stream
      (req as http.IncomingMessage & { body?: unknown }).body = bodies.shift();
      await handler(req, res);
    });
    const port = await listen(other);
    try {
      const post = () =>
        fetch(`http://127.0.0.1:${port}/presign/get`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
      expect((await post()).status).toBe(200);
      expect((await post()).status).toBe(200);
      expect((await post()).status).toBe(403);
    } finally {
      await closeServer(other);
    }
  });

  test('authorize refuses before any S3 request', async () => {
    refused.add('media/clip.bin');
    try {
      const before = s3Requests.length;
      const answer = await call('get', { key: 'media/clip.bin' });
      expect([answer.status, errorCode(answer)]).toEqual([403, 'ES_FORBIDDEN']);
      expect(s3Requests.length).toBe(before);
    } finally {
      refused.delete('media/clip.bin');
    }
  });
});

describe('multipart upload of ciphertext the caller made', () => {
  const CHUNK = 64 * 1024;
  const PART = 5 * 1024 * 1024; // S3's smallest part but the last; a multiple of the chunk size
  const plaintext = randomBytes(PART + 700_001);

  /** The caller's side: a header of its own, the ciphertext of plaintext part `index`. */
  async function newUpload(key: string) {
    const cipher = await createStreamCipher({ keyring: s3.keyring, chunkSize: CHUNK, plaintextSize: plaintext.length });
    const create = await call('uploads/create', {
      key,
      header: toDetachedHeader(cipher.header),
      contentType: 'video/webm',
    });
    expect(create.status).toBe(200);
    const part = async (index: number) => {
      const start = index * PART;
      const end = Math.min(start + PART, plaintext.length);
      return collectBytes(
        encryptBody(cipher, plaintext.subarray(start, end), {
          firstChunk: start / CHUNK,
          final: end === plaintext.length,
          length: end - start,
        }),
      );
    };
    return { uploadId: create.json.uploadId as string, part };
  }

  async function putPart(key: string, uploadId: string, partNumber: number, body: Uint8Array, length = body.length) {
    const signed = await call('uploads/part', { key, uploadId, partNumber, contentLength: length });
    expect(signed.status).toBe(200);
    const { url, headers, method } = signed.json as { url: string; headers: Record<string, string>; method: string };
    return fetch(url, { method, headers, body: body as Uint8Array<ArrayBuffer> });
  }

  test('create, two presigned parts, complete: the object reads back decrypted, its metadata is the caller’s header', async () => {
    const key = 'media/upload.webm';
    const { uploadId, part } = await newUpload(key);
    const parts = [];
    for (const index of [0, 1]) {
      const response = await putPart(key, uploadId, index + 1, await part(index));
      expect(response.status).toBe(200);
      parts.push({ partNumber: index + 1, etag: response.headers.get('etag') as string });
    }
    const done = await call('uploads/complete', { key, uploadId, parts });
    expect(done.status).toBe(200);
    expect(done.json.key).toBe(key);
    const read = await s3.encrypted.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect((await readAll(read.Body)).equals(plaintext)).toBe(true);
    expect(read.ContentType).toBe('video/webm');
    expect(authorized.filter((a) => a.key === key).map((a) => a.action)).toEqual([
      'create',
      'part',
      'part',
      'complete',
    ]);
  });

  test('the part URL signs the length: a body of another length is refused by S3', async () => {
    const key = 'media/short.bin';
    const { uploadId, part } = await newUpload(key);
    const body = await part(0);
    const response = await putPart(key, uploadId, 1, body.subarray(1), body.length);
    expect(response.status).toBe(403);
    expect((await call('uploads/abort', { key, uploadId })).status).toBe(200);
  });

  test('abort ends the upload; a second abort and a complete of it are 404', async () => {
    const key = 'media/aborted.bin';
    const { uploadId } = await newUpload(key);
    const abort = await call('uploads/abort', { key, uploadId });
    expect([abort.status, abort.json]).toEqual([200, { key, aborted: true }]);
    expect((await listOpenUploads(s3.plain, s3.bucket, key)).length).toBe(0);
    const again = await call('uploads/abort', { key, uploadId });
    expect([again.status, errorCode(again)]).toEqual([404, 'ES_NOT_FOUND']);
  });

  test('a part smaller than S3 allows, before the last, is 400 at complete (S3 names it, nothing else)', async () => {
    const key = 'media/small-parts.bin';
    const { uploadId } = await newUpload(key);
    const parts = [];
    for (const partNumber of [1, 2]) {
      const response = await putPart(key, uploadId, partNumber, randomBytes(1000));
      parts.push({ partNumber, etag: response.headers.get('etag') as string });
    }
    const done = await call('uploads/complete', { key, uploadId, parts });
    expect([done.status, errorCode(done)]).toEqual([400, 'ES_BAD_REQUEST']);
    await call('uploads/abort', { key, uploadId });
  });

  const goodHeader = async () =>
    toDetachedHeader((await createStreamCipher({ keyring: s3.keyring, plaintextSize: 10 })).header);

  test.each([
    ['not an object', async () => 'h.k.w'],
    ['an extra field', async () => ({ ...(await goodHeader()), x: 'y' })],
    ['a missing field', async () => ({ h: (await goodHeader()).h, k: (await goodHeader()).k })],
    ['a stream header that is not one', async () => ({ ...(await goodHeader()), h: 'AAAA' })],
    ['a wrapped key over the limit', async () => ({ ...(await goodHeader()), w: 'A'.repeat(600) })],
    ['a key id with spaces', async () => ({ ...(await goodHeader()), k: 'a b' })],
    [
      'no recorded plaintext size',
      async () => toDetachedHeader((await createStreamCipher({ keyring: s3.keyring })).header),
    ],
  ])('a hostile header (%s) is 400, and no upload is created', async (_what, header) => {
    const key = 'media/hostile.bin';
    const answer = await call('uploads/create', { key, header: await header() });
    expect([answer.status, errorCode(answer)]).toEqual([400, 'ES_BAD_REQUEST']);
    expect((await listOpenUploads(s3.plain, s3.bucket, key)).length).toBe(0);
  });

  test.each([
    ['a content type with a newline', { contentType: 'video/webm\r\nx-amz-acl: public-read' }],
    ['a part number 0', { partNumber: 0 }],
    ['a part number 10001', { partNumber: 10_001 }],
    ['a zero length', { contentLength: 0 }],
    ['a length over 5 GiB', { contentLength: 5 * 1024 ** 3 + 1 }],
    ['an upload id with a space', { uploadId: 'a b' }],
  ])('%s is 400', async (_what, field) => {
    const key = 'media/x.bin';
    const route = 'contentType' in field ? 'uploads/create' : 'uploads/part';
    const base =
      route === 'uploads/create'
        ? { key, header: await goodHeader() }
        : { key, uploadId: 'u', partNumber: 1, contentLength: 10 };
    const answer = await call(route, { ...base, ...field });
    expect([answer.status, errorCode(answer)]).toEqual([400, 'ES_BAD_REQUEST']);
  });

  test.each([
    [
      'descending part numbers',
      [
        { partNumber: 2, etag: '"a"' },
        { partNumber: 1, etag: '"b"' },
      ],
    ],
    ['an etag with a quote inside', [{ partNumber: 1, etag: '"a"b"' }]],
    ['no parts', []],
  ])('a complete with %s is 400', async (_what, parts) => {
    const answer = await call('uploads/complete', { key: 'media/x.bin', uploadId: 'u', parts });
    expect([answer.status, errorCode(answer)]).toEqual([400, 'ES_BAD_REQUEST']);
  });

  test('uploads outside the prefix are 403', async () => {
    const answer = await call('uploads/create', { key: 'private/x.bin', header: await goodHeader() });
    expect([answer.status, errorCode(answer)]).toEqual([403, 'ES_FORBIDDEN']);
    const part = await call('uploads/part', { key: 'media/../x', uploadId: 'u', partNumber: 1, contentLength: 1 });
    expect(part.status).toBe(403);
  });
});

test('argument mistakes are TypeError / RangeError', () => {
  const good = { client: s3.plain, presign: getSignedUrl, bucket: 'b', prefix: '' };
  expect(() => createPresignService({ ...good, bucket: '' })).toThrow(TypeError);
  expect(() => createPresignService({ ...good, presign: undefined as never })).toThrow(TypeError);
  expect(() => createPresignService({ ...good, basePath: 'presign' })).toThrow(TypeError);
  expect(() => createPresignService({ ...good, expiresIn: 0 })).toThrow(RangeError);
});
