/**
 * The Service Worker's request handler under Node 20 (Request, Response,
 * ReadableStream and fetch as in a worker) against real S3 through a
 * recording proxy: plaintext ranges at chunk boundaries, suffix, open and
 * clamped ranges, 416, HEAD; exactly one ranged ciphertext GET per range once
 * the object is open, of exactly the chunks the range needs; expired and
 * refused URLs resolved anew; a tampered chunk errors the body after the
 * chunks before it, and releases nothing of it.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Keyring } from '@encrypted-stream/codec';
import { CHUNK_OVERHEAD, ciphertextSize } from '@encrypted-stream/codec/low-level';
import { type PresignedEncryptedGet, presignEncryptedGet } from '@encrypted-stream/s3';
import {
  consumeUntilError,
  editStoredObject,
  encryptedClient,
  type FaultProxy,
  newKeyring,
  plainClient,
  startFaultProxy,
  useBucket,
} from '@encrypted-stream/test-support';
import { createMediaHandler, type MediaLogEntry, serveEncryptedMedia } from '../src';

const CHUNK = 4096;
const STRIDE = CHUNK + CHUNK_OVERHEAD;
const SIZE = 10 * CHUNK + 123; // a short final chunk
const EXACT = 8 * CHUNK; // an empty final chunk
const plaintext = randomBytes(SIZE);
const exact = randomBytes(EXACT);

const bucket = useBucket('web-media');
const { keyring: master } = newKeyring();
let unwraps = 0;
/** The keyring the handler gets: counts unwraps (one per object opened). */
const keyring: Keyring = {
  wrap: (key, aad) => master.wrap(key, aad),
  unwrap: (wrapped, aad) => {
    unwraps++;
    return master.unwrap(wrapped, aad);
  },
};
let proxy: FaultProxy;
let writer: ReturnType<typeof encryptedClient>;
let presigner: ReturnType<typeof plainClient>;
let resolves: string[] = [];
let log: MediaLogEntry[] = [];
let clock = Date.now();
/** What resolve returns instead of the real answer, when set. */
let override: ((get: PresignedEncryptedGet) => PresignedEncryptedGet) | undefined;

const resolve = async (id: string) => {
  resolves.push(id);
  const get = await presignEncryptedGet(presigner, getSignedUrl, { Bucket: bucket.name, Key: `media/${id}` });
  return override ? override(get) : get;
};

let handler: ReturnType<typeof createMediaHandler>;

beforeAll(async () => {
  proxy = await startFaultProxy();
  writer = encryptedClient({ keyring: master, context: 'location', chunkSize: CHUNK });
  presigner = plainClient({ endpoint: proxy.endpoint });
  const put = (key: string, body: Uint8Array | string, ContentType = 'video/webm') =>
    writer.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: body, ContentType }));
  await put('media/a.webm', plaintext);
  await put('media/exact.webm', exact);
  await put('media/empty.webm', new Uint8Array(0));
  await put('media/page.html', '<script>alert(1)</script>', 'text/html');
  handler = createMediaHandler({
    resolve,
    keyring,
    context: 'location',
    locate: (id) => ({ bucket: bucket.name, key: `media/${id}` }),
    log: (entry) => log.push(entry),
    now: () => clock,
  });
});

afterAll(async () => {
  writer?.client.destroy();
  presigner?.destroy();
  await proxy?.close();
});

beforeEach(() => {
  proxy.reset();
  resolves = [];
  log = [];
  unwraps = 0;
  override = undefined;
});

interface Served {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The S3 requests (method and Range) this request cost, as the proxy saw them. */
  s3: string[];
}

async function serve(id: string, range?: string, method = 'GET'): Promise<Served> {
  const before = proxy.log.length;
  const request = new Request(`http://app.test/media/${id}`, { method, headers: range ? { range } : {} });
  const response = await handler.handle(request, id);
  const body = Buffer.from(await response.arrayBuffer());
  const s3 = proxy.log.slice(before).map((e) => `${e.method} ${e.range ?? ''}`.trim());
  return { status: response.status, headers: response.headers, body, s3 };
}

/** The ciphertext Range that holds plaintext [start, end) of a stream of `size` bytes, computed here independently. */
function cipherRangeOf(start: number, end: number, size: number): string {
  const total = ciphertextSize(size, CHUNK);
  const first = Math.floor(start / CHUNK);
  const last = end === size ? Math.floor(size / CHUNK) : Math.floor((end - 1) / CHUNK);
  return `bytes=${first * STRIDE}-${Math.min((last + 1) * STRIDE, total) - 1}`;
}

describe('ranges, one ciphertext GET each', () => {
  beforeAll(async () => {
    await serve('a.webm', 'bytes=0-0'); // opens the object
    await serve('exact.webm', 'bytes=0-0');
  });

  test.each([
    ['the first chunk exactly', 'bytes=0-4095', 0, CHUNK],
    ['the second chunk exactly', 'bytes=4096-8191', CHUNK, 2 * CHUNK],
    ['two bytes across a chunk boundary', 'bytes=4095-4096', CHUNK - 1, CHUNK + 1],
    ['a suffix inside the final chunk', 'bytes=-100', SIZE - 100, SIZE],
    ['a suffix across chunks', 'bytes=-5000', SIZE - 5000, SIZE],
    ['a suffix longer than the object', 'bytes=-999999', 0, SIZE],
    ['an open range', 'bytes=40000-', 40000, SIZE],
    ['from zero, open (what a media element sends first)', 'bytes=0-', 0, SIZE],
    ['the last byte', `bytes=${SIZE - 1}-${SIZE - 1}`, SIZE - 1, SIZE],
    ['an end past the object, clamped', 'bytes=100-99999999', 100, SIZE],
    ['the last full chunk, ending at the final one', `bytes=${9 * CHUNK}-${10 * CHUNK - 1}`, 9 * CHUNK, 10 * CHUNK],
  ])('%s (%s): 206 with plaintext Content-Range, one GET of exactly its chunks', async (_what, range, start, end) => {
    const served = await serve('a.webm', range);
    expect(served.status).toBe(206);
    expect(served.headers.get('content-range')).toBe(`bytes ${start}-${end - 1}/${SIZE}`);
    expect(served.headers.get('content-length')).toBe(String(end - start));
    expect(served.headers.get('accept-ranges')).toBe('bytes');
    expect(served.headers.get('content-type')).toBe('video/webm');
    expect(served.body.equals(plaintext.subarray(start, end))).toBe(true);
    expect(served.s3).toEqual([`GET ${cipherRangeOf(start, end, SIZE)}`]);
    expect(resolves).toEqual([]);
  });

  test('no Range: 200 with the whole plaintext, one GET of the whole ciphertext', async () => {
    const served = await serve('a.webm');
    expect(served.status).toBe(200);
    expect(served.headers.get('content-range')).toBeNull();
    expect(served.headers.get('content-length')).toBe(String(SIZE));
    expect(served.body.equals(plaintext)).toBe(true);
    expect(served.s3).toEqual([`GET bytes=0-${ciphertextSize(SIZE, CHUNK) - 1}`]);
  });

  test('several ranges or a malformed one are ignored: 200, whole', async () => {
    for (const range of ['bytes=0-1,5-6', 'bytes=9-3', 'items=0-5', 'bytes=abc']) {
      const served = await serve('a.webm', range);
      expect([range, served.status, served.body.length]).toEqual([range, 200, SIZE]);
    }
  });

  test('a size that is a multiple of the chunk size: a range reaching the end reads the empty final chunk', async () => {
    const tail = await serve('exact.webm', 'bytes=-10');
    expect(tail.status).toBe(206);
    expect(tail.body.equals(exact.subarray(EXACT - 10))).toBe(true);
    // The last full chunk and the 40-byte final one.
    expect(tail.s3).toEqual([`GET bytes=${7 * STRIDE}-${8 * STRIDE + CHUNK_OVERHEAD - 1}`]);
    const head = await serve('exact.webm', 'bytes=0-10');
    expect(head.s3).toEqual([`GET bytes=0-${STRIDE - 1}`]);
    expect(head.body.equals(exact.subarray(0, 11))).toBe(true);
  });

  test('unsatisfiable ranges are 416 with bytes */size, and cost no S3 request', async () => {
    for (const range of [`bytes=${SIZE}-`, `bytes=${SIZE + 10}-${SIZE + 20}`, 'bytes=-0']) {
      const served = await serve('a.webm', range);
      expect([range, served.status, served.headers.get('content-range')]).toEqual([range, 416, `bytes */${SIZE}`]);
      expect(served.s3).toEqual([]);
    }
  });

  test('an empty object: any range is 416; without one, 200 and its final chunk is still authenticated', async () => {
    const ranged = await serve('empty.webm', 'bytes=0-');
    expect([ranged.status, ranged.headers.get('content-range')]).toEqual([416, 'bytes */0']);
    const whole = await serve('empty.webm');
    expect([whole.status, whole.body.length]).toEqual([200, 0]);
    expect(whole.s3).toEqual(['GET bytes=0-39']);
  });

  test('HEAD answers the plaintext length and range, with no S3 request', async () => {
    const served = await serve('a.webm', 'bytes=10-19', 'HEAD');
    expect([served.status, served.headers.get('content-length'), served.body.length]).toEqual([206, '10', 0]);
    expect(served.s3).toEqual([]);
    expect((await serve('a.webm', undefined, 'POST')).status).toBe(405);
  });
});

describe('opening, caching and resolving anew', () => {
  test('the first request resolves (one HEAD by the app server) and unwraps; later ones cost one GET each', async () => {
    handler.forget('a.webm');
    const first = await serve('a.webm', 'bytes=0-99');
    expect(first.s3).toEqual([`HEAD`, `GET ${cipherRangeOf(0, 100, SIZE)}`]);
    expect([resolves.length, unwraps]).toEqual([1, 1]);
    for (const range of ['bytes=5000-6000', 'bytes=-1', 'bytes=20000-']) {
      expect((await serve('a.webm', range)).s3).toHaveLength(1);
    }
    expect([resolves.length, unwraps]).toEqual([1, 1]);
    expect(log.map((e) => [e.event, e.status, e.s3.length, e.resolves])).toEqual([
      ['served', 206, 1, 1],
      ['served', 206, 1, 0],
      ['served', 206, 1, 0],
      ['served', 206, 1, 0],
    ]);
  });

  test('concurrent first requests share one resolve', async () => {
    handler.forget('a.webm');
    const served = await Promise.all(['bytes=0-9', 'bytes=100-199', 'bytes=-5'].map((r) => serve('a.webm', r)));
    expect(served.map((s) => s.status)).toEqual([206, 206, 206]);
    expect([resolves.length, unwraps]).toEqual([1, 1]);
  });

  test('a URL about to expire is resolved anew before use; the same object is not unwrapped again', async () => {
    await serve('a.webm', 'bytes=0-9');
    resolves = [];
    unwraps = 0;
    clock += 16 * 60 * 1000; // past the presigner's 15 minutes
    try {
      const served = await serve('a.webm', 'bytes=0-9');
      expect(served.status).toBe(206);
      expect(served.s3).toEqual(['HEAD', `GET ${cipherRangeOf(0, 10, SIZE)}`]);
      expect([resolves.length, unwraps]).toEqual([1, 0]);
    } finally {
      clock -= 16 * 60 * 1000;
      handler.forget('a.webm');
    }
  });

  test('S3 refusing the URL (403) makes one resolve and one retry; a second refusal is a 502', async () => {
    await serve('a.webm', 'bytes=0-9');
    resolves = [];
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'error', status: 403, code: 'AccessDenied' } });
    const served = await serve('a.webm', 'bytes=0-9');
    expect(served.status).toBe(206);
    expect(served.body.equals(plaintext.subarray(0, 10))).toBe(true);
    expect(served.s3).toEqual([`GET ${cipherRangeOf(0, 10, SIZE)}`, 'HEAD', `GET ${cipherRangeOf(0, 10, SIZE)}`]);
    expect(resolves).toHaveLength(1);
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'error', status: 403, code: 'AccessDenied' }, times: 2 });
    const refused = await serve('a.webm', 'bytes=0-9');
    expect(refused.status).toBe(502);
    expect(log.at(-1)).toMatchObject({ event: 'failed', code: 'ES_S3_FAILED' });
  });

  test('an object replaced at its key (412 on If-Match) is resolved and opened anew: the new bytes', async () => {
    const key = 'media/replaced.webm';
    const before = randomBytes(3 * CHUNK);
    const after = randomBytes(2 * CHUNK + 7);
    await writer.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: before }));
    expect((await serve('replaced.webm', 'bytes=0-')).body.equals(before)).toBe(true);
    await writer.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: after }));
    unwraps = 0;
    const served = await serve('replaced.webm', 'bytes=0-');
    expect(served.body.equals(after)).toBe(true);
    expect(served.headers.get('content-range')).toBe(`bytes 0-${after.length - 1}/${after.length}`);
    expect(served.s3[0]).toMatch(/^GET /);
    expect(served.s3.slice(1)).toEqual(['HEAD', `GET ${cipherRangeOf(0, after.length, after.length)}`]);
    expect(unwraps).toBe(1);
  });
});

describe('hostile storage and app server', () => {
  /** Flips one byte of the stored ciphertext of `key` with a plain client (metadata and type kept). */
  const flipByte = (key: string, at: number) =>
    editStoredObject(bucket.client, bucket.name, key, (bytes) => {
      bytes[at] = (bytes[at] as number) ^ 0x01;
    });

  test('a tampered chunk errors the body after the chunks before it; none of its bytes is released', async () => {
    const key = 'media/tampered.webm';
    await writer.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: plaintext }));
    await flipByte(key, 3 * STRIDE + 100); // inside chunk 3's ciphertext
    const start = CHUNK + 10;
    const response = await handler.handle(
      new Request('http://app.test/media/tampered.webm', { headers: { range: `bytes=${start}-` } }),
      'tampered.webm',
    );
    expect(response.status).toBe(206); // the head goes out before the body is read
    const { delivered: got, error: failure } = await consumeUntilError(response.body);
    expect((failure as { code?: string })?.code).toBe('ES_AUTH_FAILED');
    // Chunks 1 and 2 (from `start`) authenticated and were released; nothing of chunk 3.
    expect(got.equals(plaintext.subarray(start, 3 * CHUNK))).toBe(true);
    expect(log.find((e) => e.event === 'body-failed')?.code).toBe('ES_AUTH_FAILED');
    // Ranges that need only the untouched chunks still play.
    expect((await serve('tampered.webm', 'bytes=0-100')).body.equals(plaintext.subarray(0, 101))).toBe(true);
  });

  test('a cut S3 body errors the stream (ES_TRUNCATED), never a short 206 passed off as whole', async () => {
    await serve('a.webm', 'bytes=0-0');
    proxy.addRule({ match: { method: 'GET' }, action: { kind: 'truncate-reframed', bytes: STRIDE + 50 } });
    const response = await handler.handle(
      new Request('http://app.test/media/a.webm', { headers: { range: 'bytes=0-20000' } }),
      'a.webm',
    );
    await expect(response.arrayBuffer()).rejects.toMatchObject({ code: 'ES_TRUNCATED' });
  });

  test('an edited header (wrapped key) is a 502 before any S3 GET', async () => {
    override = (get) => ({ ...get, encryption: { ...get.encryption, 'es-w': flipLast(get.encryption['es-w'] ?? '') } });
    handler.forget('a.webm');
    const served = await serve('a.webm', 'bytes=0-9');
    expect(served.status).toBe(502);
    expect(served.s3).toEqual(['HEAD']);
    expect(log.at(-1)?.code).toMatch(/^ES_(KEY_UNWRAP_FAILED|MALFORMED)$/);
    expect(served.body.toString()).not.toContain(plaintext.subarray(0, 8).toString('hex'));
  });

  test('a presigned GET of another object is refused (locate), even one the keyring opens', async () => {
    override = (get) => ({ ...get, key: 'media/exact.webm' });
    handler.forget('a.webm');
    const served = await serve('a.webm', 'bytes=0-9');
    expect([served.status, log.at(-1)?.code]).toEqual([502, 'ES_RESOLVE_FAILED']);
  });

  test('a stored text/html type is served as application/octet-stream; a caller type wins', async () => {
    const served = await serve('page.html', 'bytes=0-');
    expect(served.headers.get('content-type')).toBe('application/octet-stream');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-security-policy')).toContain("default-src 'none'");
    const typed = createMediaHandler({ resolve, keyring, context: 'location', contentType: 'audio/ogg' });
    const response = await typed.handle(new Request('http://app.test/media/a.webm'), 'a.webm');
    expect(response.headers.get('content-type')).toBe('audio/ogg');
    await response.arrayBuffer();
  });
});

test('serveEncryptedMedia answers same-origin requests that match, and leaves every other to the network', async () => {
  const listeners: ((event: { request: Request; respondWith(r: Promise<Response> | Response): void }) => void)[] = [];
  const scope = {
    addEventListener: (_type: 'fetch', l: (typeof listeners)[number]) => listeners.push(l),
    location: { origin: 'http://app.test' },
  };
  serveEncryptedMedia({
    scope,
    resolve,
    keyring,
    context: 'location',
    match: (url) => (url.pathname.startsWith('/media/') ? url.pathname.slice('/media/'.length) : undefined),
  });
  expect(listeners).toHaveLength(1);
  const dispatch = (url: string, headers: Record<string, string> = {}) => {
    let answered: Promise<Response> | Response | undefined;
    listeners[0]?.({ request: new Request(url, { headers }), respondWith: (r) => (answered = r) });
    return answered;
  };
  expect(dispatch('http://app.test/index.html')).toBeUndefined();
  expect(dispatch('http://elsewhere.test/media/a.webm')).toBeUndefined();
  const response = await dispatch('http://app.test/media/a.webm', { range: 'bytes=10-19' });
  expect(response?.status).toBe(206);
  expect(Buffer.from(await (response as Response).arrayBuffer()).equals(plaintext.subarray(10, 20))).toBe(true);
});

function flipLast(text: string): string {
  const last = text.at(-1) === 'A' ? 'B' : 'A';
  return text.slice(0, -1) + last;
}
