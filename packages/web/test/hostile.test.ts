/**
 * Adversarial tests of the media handler's promises (README "Encrypted media
 * in the browser", SECURITY.md): a hostile or compromised app server (the
 * presigned GET it answers: another object, another object's header, a
 * wrong size, a Range smuggled in its headers) and a hostile store (200 for a
 * range, another range, a missing Content-Range with other chunks, trailing
 * bytes, random bytes) must never make the handler release plaintext that is
 * not the authenticated plaintext of the object asked for; a range reaching
 * the end authenticates the final chunk; nothing the handler logs or
 * answers holds the key or plaintext. Real S3 behind a tampering proxy.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { CHUNK_OVERHEAD, ciphertextSize } from '@encrypted-stream/codec/low-level';
import { type PresignedEncryptedGet, presignEncryptedGet } from '@encrypted-stream/s3';
import {
  consumeUntilError,
  editStoredObject,
  encryptedClient,
  newKeyring,
  plainClient,
  s3Settings,
  useBucket,
} from '@encrypted-stream/test-support';
import { createMediaHandler, type MediaHandlerOptions, type MediaLogEntry } from '../src';
import { startTamperProxy, type TamperProxy } from './helpers/tamper-proxy';

const CHUNK = 4096;
const STRIDE = CHUNK + CHUNK_OVERHEAD;
const SIZE = 10 * CHUNK + 123;
const EXACT = 8 * CHUNK;

const bucket = useBucket('web-hostile');
const { keyring, masterKey } = newKeyring('hostile-key');
const objects: Record<string, Buffer> = {
  'located/a.webm': randomBytes(SIZE),
  'located/b.webm': randomBytes(SIZE),
  'plain/a.webm': randomBytes(SIZE),
  'plain/b.webm': randomBytes(SIZE),
  'plain/exact.webm': randomBytes(EXACT),
  'plain/one.webm': randomBytes(1),
};
let proxy: TamperProxy;
let presigner: ReturnType<typeof plainClient>;
let log: MediaLogEntry[] = [];
/** Every log entry, response header and error body of the file, for the leak check at the end. */
const everything: string[] = [];
const bodies = everything;
/** Rewrites what the app server answers, when set. */
let override: ((get: PresignedEncryptedGet) => Promise<PresignedEncryptedGet> | PresignedEncryptedGet) | undefined;

const presignOf = (key: string) => presignEncryptedGet(presigner, getSignedUrl, { Bucket: bucket.name, Key: key });

beforeAll(async () => {
  proxy = await startTamperProxy(s3Settings().endpoint);
  presigner = plainClient({ endpoint: proxy.endpoint });
  const located = encryptedClient({ keyring, context: 'location', chunkSize: CHUNK });
  const plain = encryptedClient({ keyring, chunkSize: CHUNK });
  try {
    for (const [key, body] of Object.entries(objects)) {
      const writer = key.startsWith('located/') ? located : plain;
      await writer.client.send(
        new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: body, ContentType: 'video/webm' }),
      );
    }
  } finally {
    located.client.destroy();
    plain.client.destroy();
  }
});

afterAll(async () => {
  presigner?.destroy();
  await proxy?.close();
});

beforeEach(() => {
  proxy.reset();
  override = undefined;
  everything.push(JSON.stringify(log));
  log = [];
});

/** A handler for objects under `folder` (`context: 'location'` for `located`), locating ids there. */
function handlerFor(folder: 'located' | 'plain', extra: Partial<MediaHandlerOptions> = {}) {
  return createMediaHandler({
    resolve: async (id) => {
      const get = await presignOf(`${folder}/${id}`);
      return override ? override(get) : get;
    },
    keyring,
    context: folder === 'located' ? 'location' : 'none',
    locate: (id) => ({ bucket: bucket.name, key: `${folder}/${id}` }),
    log: (entry) => log.push(entry),
    ...extra,
  });
}

interface Outcome {
  status: number;
  headers: Headers;
  /** Every byte the body released before it ended or failed. */
  released: Buffer;
  /** The body's failure code, if it failed. */
  failure: string | undefined;
  /** GETs that reached the (proxied) store. */
  gets: (string | undefined)[];
}

async function serve(
  handler: ReturnType<typeof createMediaHandler>,
  id: string,
  range?: string,
  method = 'GET',
): Promise<Outcome> {
  const before = proxy.log.length;
  const response = await handler.handle(
    new Request(`http://app.test/media/${id}`, { method, headers: range ? { range } : {} }),
    id,
  );
  let answered: Buffer = Buffer.alloc(0);
  let failure: string | undefined;
  if (response.body) {
    const read = await consumeUntilError(response.body);
    answered = read.delivered;
    if (read.error) failure = String((read.error as { code?: string }).code ?? (read.error as Error).name);
  }
  // A 4xx/5xx body is the handler's own text, not plaintext: kept for the leak check.
  if (response.status >= 400) bodies.push(answered.toString('latin1'));
  const released = response.status >= 400 ? Buffer.alloc(0) : answered;
  response.headers.forEach((value, name) => {
    bodies.push(`${name}: ${value}`);
  });
  const gets = proxy.log
    .slice(before)
    .filter((e) => e.method === 'GET')
    .map((e) => e.range);
  return { status: response.status, headers: response.headers, released, failure, gets };
}

/** Replaces the stored bytes of `key` with `edit(bytes)`, metadata and type kept (a plain client: bucket write access). */
const editStored = (key: string, edit: (bytes: Buffer) => void) =>
  editStoredObject(bucket.client, bucket.name, key, edit);

describe('a hostile app server (the presigned GET it answers)', () => {
  test.each([
    ['context none', 'plain'],
    ['context location', 'located'],
  ] as const)(
    'a URL of another object, the key field naming the one asked for, is refused (%s)',
    async (_w, folder) => {
      const handler = handlerFor(folder);
      override = async (get) => ({ ...(await presignOf(`${folder}/b.webm`)), key: get.key, bucket: get.bucket });
      const served = await serve(handler, 'a.webm', 'bytes=0-99');
      expect(served.status).toBe(502);
      expect(served.released.includes(objects[`${folder}/b.webm`]!.subarray(0, 32))).toBe(false);
      expect(log.at(-1)?.code).toMatch(/^ES_(RESOLVE_FAILED|CONTEXT_MISMATCH|KEY_UNWRAP_FAILED|AUTH_FAILED)$/);
    },
  );

  test("another object's header with this object's URL (context none): nothing of either is released", async () => {
    const handler = handlerFor('plain');
    override = async (get) => ({ ...get, encryption: (await presignOf('plain/b.webm')).encryption });
    for (const range of ['bytes=0-99', 'bytes=-10', undefined]) {
      const served = await serve(handler, 'a.webm', range);
      expect(served.released.length).toBe(0);
      if (served.status !== 502) expect(served.failure).toBe('ES_AUTH_FAILED');
    }
  });

  test("another object's header (context location): 502 before any GET", async () => {
    const handler = handlerFor('located');
    override = async (get) => ({ ...get, encryption: (await presignOf('located/b.webm')).encryption });
    const served = await serve(handler, 'a.webm', 'bytes=0-99');
    expect([served.status, served.gets]).toEqual([502, []]);
  });

  test.each([
    ['one byte more', 1],
    ['one byte less', -1],
    ['one chunk more', STRIDE],
    ['one chunk less', -STRIDE],
  ])('a ciphertextSize %s than the object is a 502 before any GET', async (_w, delta) => {
    const handler = handlerFor('plain');
    override = (get) => ({ ...get, ciphertextSize: get.ciphertextSize + delta });
    const served = await serve(handler, 'a.webm', 'bytes=-10');
    expect([served.status, served.gets, served.released.length]).toEqual([502, [], 0]);
  });

  test('a Range smuggled in the headers does not replace the one the handler asks for', async () => {
    const handler = handlerFor('plain');
    override = (get) => ({ ...get, headers: { ...get.headers, Range: 'bytes=0-' } });
    const served = await serve(handler, 'a.webm', 'bytes=5000-5009');
    expect(served.gets).toEqual([`bytes=${STRIDE}-${2 * STRIDE - 1}`]);
    expect([served.status, served.failure]).toEqual([206, undefined]);
    expect(served.released.equals(objects['plain/a.webm']!.subarray(5000, 5010))).toBe(true);
  });
});

describe('a hostile store (what the URL answers)', () => {
  let handler: ReturnType<typeof createMediaHandler>;
  const a = () => objects['plain/a.webm'] as Buffer;
  beforeAll(async () => {
    handler = handlerFor('plain');
  });
  beforeEach(async () => {
    await serve(handler, 'a.webm', 'bytes=0-0'); // opened
    proxy.reset();
  });

  test('200 with the whole body for a range is a 502, nothing released', async () => {
    proxy.tamper({ range: () => undefined, status: 200, headers: ({ 'content-range': _, ...h }) => h });
    const served = await serve(handler, 'a.webm', 'bytes=5000-5009');
    expect([served.status, served.released.length]).toEqual([502, 0]);
    expect(log.at(-1)?.code).toBe('ES_S3_FAILED');
  });

  test('a 206 whose Content-Range is not the range asked for is a 502', async () => {
    proxy.tamper({ range: () => `bytes=${2 * STRIDE}-${3 * STRIDE - 1}` });
    const served = await serve(handler, 'a.webm', 'bytes=5000-5009');
    expect([served.status, served.released.length]).toEqual([502, 0]);
  });

  test('other chunks with no Content-Range (not exposed): the body fails, nothing released', async () => {
    proxy.tamper({
      range: () => `bytes=${2 * STRIDE}-${3 * STRIDE - 1}`,
      headers: ({ 'content-range': _, ...h }) => h,
    });
    const served = await serve(handler, 'a.webm', 'bytes=5000-5009');
    expect([served.status, served.released.length, served.failure]).toEqual([206, 0, 'ES_AUTH_FAILED']);
  });

  test.each([
    ['a range in the middle', 'bytes=5000-5009'],
    ['a range reaching the end', 'bytes=-10'],
    ['no range', undefined],
  ])('trailing bytes after the range (%s), no Content-Length: the body errors', async (_w, range) => {
    proxy.tamper({
      body: (b) => Buffer.concat([b, randomBytes(100)]),
      headers: ({ 'content-range': _, ...h }) => h,
      chunked: true,
    });
    const served = await serve(handler, 'a.webm', range);
    expect([served.status, served.failure]).toEqual([range ? 206 : 200, 'ES_S3_FAILED']);
    expect(log.find((e) => e.event === 'body-failed')?.code).toBe('ES_S3_FAILED');
  });

  test('trailing bytes in the same piece as the final chunk: the body errors, nothing of that piece released', async () => {
    proxy.tamper({ body: (b) => Buffer.concat([b, randomBytes(100)]), headers: ({ 'content-range': _, ...h }) => h });
    const served = await serve(handler, 'a.webm', 'bytes=-10'); // the whole answer is one small piece
    expect([served.status, served.released.length, served.failure]).toEqual([206, 0, 'ES_S3_FAILED']);
  });

  test('random bytes of the right length: the body fails, nothing released', async () => {
    proxy.tamper({ body: (b) => randomBytes(b.length) });
    const served = await serve(handler, 'a.webm', 'bytes=100-');
    expect([served.status, served.released.length, served.failure]).toEqual([206, 0, 'ES_AUTH_FAILED']);
  });

  test.each([
    ['Content-Length stated', false],
    ['chunked', true],
  ])('a body cut inside the final chunk (%s): chunks before it, nothing of the final chunk', async (_w, chunked) => {
    proxy.tamper({ body: (b) => b.subarray(0, b.length - 10), headers: ({ 'content-range': _, ...h }) => h, chunked });
    const served = await serve(handler, 'a.webm', `bytes=${9 * CHUNK}-`);
    expect(served.failure).toBe('ES_TRUNCATED');
    // Chunk 9 authenticated and was released; nothing of the final chunk (123 bytes) was.
    expect(served.released.equals(a().subarray(9 * CHUNK, 10 * CHUNK))).toBe(true);
  });
});

describe('the final chunk and the smallest objects', () => {
  test('a range reaching the end of an exact-multiple object fails when its empty final chunk is tampered', async () => {
    const key = 'plain/exact-tampered.webm';
    const body = randomBytes(EXACT);
    const writer = encryptedClient({ keyring, chunkSize: CHUNK });
    try {
      await writer.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: body }));
    } finally {
      writer.client.destroy();
    }
    await editStored(key, (bytes) => {
      expect(bytes.length).toBe(ciphertextSize(EXACT, CHUNK));
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1; // the empty final chunk's tag
    });
    const handler = handlerFor('plain');
    for (const range of ['bytes=-10', `bytes=${7 * CHUNK}-${8 * CHUNK - 1}`, `bytes=${7 * CHUNK}-`, undefined]) {
      const served = await serve(handler, 'exact-tampered.webm', range);
      // A consumer that counts Content-Length would take a released last byte as a whole range: none may come.
      expect([range, served.failure]).toEqual([range, 'ES_AUTH_FAILED']);
      expect(served.released.equals(body.subarray(0, served.released.length)) || range !== undefined).toBe(true);
      expect(served.released.length).toBeLessThan(range === undefined ? EXACT : 10);
    }
    // Ranges that end before the last chunk do not need the final one and play.
    const early = await serve(handler, 'exact-tampered.webm', `bytes=0-${7 * CHUNK - 1}`);
    expect([early.status, early.failure, early.released.equals(body.subarray(0, 7 * CHUNK))]).toEqual([
      206,
      undefined,
      true,
    ]);
  });

  test('a one-byte object: bytes=0-0, -1, 0-, none; 1- is 416', async () => {
    const handler = handlerFor('plain');
    const one = objects['plain/one.webm'] as Buffer;
    for (const range of ['bytes=0-0', 'bytes=-1', 'bytes=0-', 'bytes=-5']) {
      const served = await serve(handler, 'one.webm', range);
      expect([range, served.status, served.headers.get('content-range'), served.released.equals(one)]).toEqual([
        range,
        206,
        'bytes 0-0/1',
        true,
      ]);
      expect(served.gets).toEqual([`bytes=0-${ciphertextSize(1, CHUNK) - 1}`]);
    }
    const whole = await serve(handler, 'one.webm');
    expect([whole.status, whole.released.equals(one)]).toEqual([200, true]);
    const past = await serve(handler, 'one.webm', 'bytes=1-');
    expect([past.status, past.headers.get('content-range'), past.gets]).toEqual([416, 'bytes */1', []]);
  });
});

describe('resolving anew', () => {
  test('concurrent requests refused together (403) share one resolve', async () => {
    let resolves = 0;
    const handler = handlerFor('plain', {
      resolve: async (id) => {
        resolves++;
        return presignOf(`plain/${id}`);
      },
    });
    await serve(handler, 'b.webm', 'bytes=0-0');
    proxy.tamper({ status: 403, body: () => Buffer.from('<Error><Code>AccessDenied</Code></Error>') }, 3);
    const served = await Promise.all(
      ['bytes=0-9', 'bytes=100-199', 'bytes=-5'].map((r) => serve(handler, 'b.webm', r)),
    );
    expect(served.map((s) => [s.status, s.failure])).toEqual([
      [206, undefined],
      [206, undefined],
      [206, undefined],
    ]);
    expect(resolves).toBe(2); // the first open, and one more for all three refusals
  });
});

test('no log entry, response header or error body holds the key or plaintext', async () => {
  // Everything the tests above logged and answered, plus one of each failure kind here.
  const handler = handlerFor('plain');
  override = (get) => ({
    ...get,
    encryption: { ...get.encryption, 'es-w': `${get.encryption['es-w']?.slice(0, -2)}AA` },
  });
  await serve(handler, 'a.webm', 'bytes=0-9');
  override = undefined;
  const text = [...everything, JSON.stringify(log)].join('\n');
  expect(text.match(/"event":/g)?.length).toBeGreaterThan(50);
  const key = Buffer.from(masterKey);
  for (const form of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
    expect(text).not.toContain(form);
  }
  for (const body of Object.values(objects).filter((b) => b.length >= 8)) {
    expect(text).not.toContain(body.subarray(0, 8).toString('hex'));
    expect(text.includes(body.subarray(0, 8).toString('latin1'))).toBe(false);
  }
});
