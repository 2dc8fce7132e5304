/**
 * `@encrypted-stream/s3` in a browser, against the real S3 server: headless
 * Chromium loads a page that bundles the AWS SDK v3's browser build (fetch
 * handler, Web Stream bodies), the encryption plugin and the codec's
 * LocalKeyring (test/fixtures/sdk-page/page.ts, bundled here with esbuild for
 * the browser platform), and writes and reads encrypted objects with it:
 * PutObject of bytes, a Blob and a ReadableStream; GetObject whole and ranged,
 * decrypted chunk by chunk as a web ReadableStream; multipart uploads of a
 * multi-MiB File with parallel parts and progress (EncryptedMultipartUpload,
 * and lib-storage's Upload through `@encrypted-stream/s3/upload`). Node
 * checks what the page wrote byte for byte and writes what the page reads; a
 * ciphertext byte flipped in S3 makes the page's read fail with ES_AUTH_FAILED
 * before any of that chunk's plaintext is released. The bucket's CORS rules
 * are set here (PutBucketCors), as an application would set them once.
 */
import { GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ErrorCode } from '@encrypted-stream/codec';
import { CHUNK_OVERHEAD, ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import {
  type EncryptedClient,
  encryptedClient,
  newKeyring,
  s3Settings,
  seededBytes,
  sha256,
  useBucket,
} from '@encrypted-stream/test-support';
import { launchChromium, requireTools } from '@encrypted-stream/test-support/browser';
import type { Browser, Page } from 'playwright-core';
import type { PageConfig, SdkPage } from './fixtures/sdk-page/page';
import { bundleForBrowser } from './helpers/bundle';
import { type StaticServer, startStaticServer } from './helpers/static-server';

const MiB = 1024 * 1024;
const C = DEFAULT_CHUNK_SIZE;
const PAGE = `<!doctype html><html><head><title>sdk page</title>
<script type="module" src="/page.js"></script></head><body></body></html>`;

const bucket = useBucket('sdk-browser');
const { keyring, keyId, masterKey } = newKeyring('browser-key');
let node: EncryptedClient;
let server: StaticServer;
let browser: Browser;
let page: Page;
let pageConfig: PageConfig;

/** Calls `window.sdkPage[fn](...args)` in the page. */
function call<K extends keyof SdkPage>(
  fn: K,
  ...args: Parameters<SdkPage[K]>
): Promise<Awaited<ReturnType<SdkPage[K]>>> {
  return page.evaluate(
    ([name, rest]) => (window.sdkPage[name as K] as (...a: unknown[]) => unknown)(...(rest as unknown[])),
    [fn, args] as const,
  ) as Promise<Awaited<ReturnType<SdkPage[K]>>>;
}

/** What Node's plugged client reads of `key`: its SHA-256 and its bytes. */
async function nodeRead(key: string): Promise<{ sha: string; bytes: Uint8Array; metadata?: Record<string, string> }> {
  const out = await node.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  const bytes = await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  return { sha: sha256(bytes), bytes, ...(out.Metadata ? { metadata: out.Metadata } : {}) };
}

/** The ciphertext S3 stores for `key` (a plain client: no plugin). */
async function stored(key: string) {
  const out = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
  const bytes = await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  return { bytes, metadata: out.Metadata ?? {}, contentType: out.ContentType };
}

beforeAll(async () => {
  requireTools();
  const bundle = await bundleForBrowser(require.resolve('./fixtures/sdk-page/page.ts'));
  server = await startStaticServer({
    '/': { body: PAGE, type: 'text/html; charset=utf-8' },
    '/page.js': { body: bundle, type: 'text/javascript; charset=utf-8' },
  });
  // What the SDK needs across origins: its own request headers, and to read
  // ETag, ranges and the user metadata holding the encryption header.
  await bucket.client.send(
    new PutBucketCorsCommand({
      Bucket: bucket.name,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [server.origin],
            AllowedMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
            AllowedHeaders: ['*'],
            ExposeHeaders: [
              'ETag',
              'Content-Length',
              'Content-Range',
              'Content-Type',
              'Accept-Ranges',
              'Last-Modified',
              'x-amz-version-id',
              'x-amz-request-id',
              'x-amz-meta-es-h',
              'x-amz-meta-es-k',
              'x-amz-meta-es-w',
              'x-amz-meta-origin',
            ],
            MaxAgeSeconds: 600,
          },
        ],
      },
    }),
  );
  node = encryptedClient({ keyring });
  browser = await launchChromium();
  page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.origin}/`);
  await page
    .waitForFunction(() => window.sdkPage !== undefined, undefined, { timeout: 30_000 })
    .catch(() => {
      throw new Error(`the page did not load: ${errors.join('; ')}`);
    });
  const settings = s3Settings();
  pageConfig = {
    endpoint: settings.endpoint,
    region: settings.region,
    // The test's credentials, standing in for the temporary ones a real page is given.
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    bucket: bucket.name,
    keyId,
    masterKey: Array.from(masterKey),
  };
  await call('init', pageConfig);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  node?.client.destroy();
});

describe('PutObject from the page', () => {
  const SIZE = 3 * C + 1234; // several chunks, the last one partial

  test.each(['bytes', 'blob', 'stream'] as const)(
    'a %s body is stored encrypted and Node reads it back',
    async (kind) => {
      const key = `put/${kind}`;
      const sha = await call('makeData', kind, SIZE);
      await call('put', key, kind, kind);

      const raw = await stored(key);
      expect(raw.bytes.length).toBe(ciphertextSize(SIZE, C));
      expect(Object.keys(raw.metadata).sort()).toEqual(['es-h', 'es-k', 'es-w', 'origin']);
      const read = await nodeRead(key);
      expect(read.sha).toBe(sha);
      expect(read.metadata).toEqual({ origin: 'browser' });
    },
  );
});

describe('GetObject in the page', () => {
  const SIZE = 5 * C + 777;
  const KEY = 'get/node-written';
  let plaintext: Buffer;

  beforeAll(async () => {
    plaintext = seededBytes('sdk-browser get', SIZE);
    await node.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: KEY, Body: plaintext }));
  });

  test.each(['bytes', 'web'] as const)('an object Node wrote, whole, via %s: a web ReadableStream', async (via) => {
    const read = await call('get', KEY, { via });
    expect(read).toMatchObject({ sha256: sha256(plaintext), length: SIZE, contentLength: SIZE, isWebStream: true });
    expect(read.contentRange).toBeUndefined();
  });

  test.each([
    ['bytes=0-0', 0, 1],
    ['bytes=100-65635', 100, 65636], // within chunk 0 and into chunk 1
    [`bytes=${C - 1}-${C}`, C - 1, C + 1], // across a chunk boundary
    [`bytes=${2 * C}-${3 * C - 1}`, 2 * C, 3 * C], // exactly one chunk
    [`bytes=${4 * C + 5}-`, 4 * C + 5, SIZE], // to the end: the final chunk authenticated
    ['bytes=-1000', SIZE - 1000, SIZE], // a suffix
    [`bytes=10-${10 * SIZE}`, 10, SIZE], // past the end: clipped, as S3 does
  ])('Range %s of an object Node wrote', async (range, start, end) => {
    for (const via of ['bytes', 'web'] as const) {
      const read = await call('get', KEY, { range, via });
      expect(read).toMatchObject({
        sha256: sha256(plaintext.subarray(start, end)),
        length: end - start,
        contentLength: end - start,
        contentRange: `bytes ${start}-${end - 1}/${SIZE}`,
      });
    }
  });

  test('ranges of an object the page wrote match what it holds', async () => {
    await call('makeData', 'ranged', SIZE);
    await call('put', 'get/page-written', 'ranged', 'blob');
    for (const [range, start, end] of [
      ['bytes=0-99', 0, 100],
      [`bytes=${C - 10}-${3 * C + 10}`, C - 10, 3 * C + 11],
      ['bytes=-1', SIZE - 1, SIZE],
    ] as const) {
      const read = await call('get', 'get/page-written', { range, name: 'ranged', start, end, via: 'web' });
      expect([range, read.matches, read.length]).toEqual([range, true, end - start]);
    }
  });
});

describe('multipart uploads from the page', () => {
  const SIZE = 12 * MiB + 4321; // three 5 MiB parts, the last partial
  const PART = 5 * MiB;

  test('EncryptedMultipartUpload: parts of a File in parallel, progress per part; Node reads it', async () => {
    const sha = await call('makeData', 'multipart', SIZE);
    const result = await call('multipart', 'mp/file', 'multipart', { partSize: PART, concurrency: 3 });
    expect(result.parts).toBe(3);
    expect(result.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(result.progress.map((p) => p.loaded)).toEqual(
      [...result.progress.map((p) => p.loaded)].sort((a, b) => a - b),
    );
    expect(result.progress.at(-1)).toMatchObject({ loaded: SIZE, total: SIZE });
    expect(result.progress.map((p) => p.part).sort()).toEqual([1, 2, 3]);
    expect((await nodeRead('mp/file')).sha).toBe(sha);
    expect((await stored('mp/file')).bytes.length).toBe(ciphertextSize(SIZE, C));
    // Ranges across the part boundaries, read back in the page.
    for (const [start, end] of [
      [PART - 100, PART + 100],
      [2 * PART - 1, 2 * PART + C + 1],
      [SIZE - 5000, SIZE],
    ] as const) {
      const read = await call('get', 'mp/file', { range: `bytes=${start}-${end - 1}`, name: 'multipart', start, end });
      expect([start, read.matches]).toEqual([start, true]);
    }
  });

  test("lib-storage's Upload through @encrypted-stream/s3/upload: a Blob, queueSize 3, progress events", async () => {
    const sha = await call('makeData', 'lib-storage', SIZE);
    const result = await call('libStorage', 'mp/lib-storage', 'lib-storage', { partSize: PART, queueSize: 3 });
    const loaded = result.progress.map((p) => p.loaded);
    expect(loaded.length).toBeGreaterThanOrEqual(3);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(result.progress.at(-1)).toMatchObject({ loaded: SIZE, total: SIZE });
    expect((await nodeRead('mp/lib-storage')).sha).toBe(sha);
    const read = await call('get', 'mp/lib-storage', {
      range: `bytes=${PART - 3}-${PART + 2}`,
      name: 'lib-storage',
      start: PART - 3,
      end: PART + 3,
    });
    expect(read.matches).toBe(true);
  });
});

describe('a tampered object', () => {
  const SIZE = 4 * C + 99;

  /** Writes `key` through Node, then flips one ciphertext byte of chunk `chunk` with a plain client. */
  async function tampered(key: string, chunk: number): Promise<Buffer> {
    const plaintext = seededBytes(`tamper ${key}`, SIZE);
    await node.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: plaintext }));
    const raw = await stored(key);
    const bytes = Buffer.from(raw.bytes);
    const at = chunk * (C + CHUNK_OVERHEAD) + 24 + 1000; // past the chunk's nonce, inside its ciphertext
    bytes[at] = (bytes[at] as number) ^ 0x01;
    await bucket.client.send(
      new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: bytes, Metadata: raw.metadata }),
    );
    const head = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }));
    expect(head.ContentLength).toBe(ciphertextSize(SIZE, C));
    return plaintext;
  }

  test('a flipped byte in chunk 2: the read fails with ES_AUTH_FAILED after chunks 0 and 1 only', async () => {
    const plaintext = await tampered('tamper/chunk-2', 2);
    const failure = await call('getFailure', 'tamper/chunk-2');
    expect(failure).toMatchObject({ stage: 'read', code: ErrorCode.AUTH_FAILED, isEncryptedStreamError: true });
    expect(failure.released).toBe(2 * C); // nothing of the tampered chunk
    expect(failure.message).not.toContain(plaintext.subarray(0, 16).toString('hex'));
    // A range of chunks untouched still reads; one touching chunk 2 fails likewise.
    const read = await call('get', 'tamper/chunk-2', { range: `bytes=0-${2 * C - 1}` });
    expect(read.sha256).toBe(sha256(plaintext.subarray(0, 2 * C)));
    const ranged = await call('getFailure', 'tamper/chunk-2', `bytes=${2 * C + 10}-${2 * C + 20}`);
    expect(ranged).toMatchObject({ stage: 'read', code: ErrorCode.AUTH_FAILED, released: 0 });
  });

  test('a flipped byte in chunk 0: nothing is released', async () => {
    await tampered('tamper/chunk-0', 0);
    const failure = await call('getFailure', 'tamper/chunk-0');
    expect(failure).toMatchObject({ stage: 'read', code: ErrorCode.AUTH_FAILED, released: 0 });
  });

  test('the same read of an untampered object succeeds (the check can pass)', async () => {
    const plaintext = seededBytes('untampered', SIZE);
    await node.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'tamper/none', Body: plaintext }));
    expect(await call('getFailure', 'tamper/none')).toEqual({ stage: 'none', released: 0 });
  });
});

describe('the published build', () => {
  test('the page bundled from dist/ (as an application installs it) round-trips with Node', async () => {
    const bundle = await bundleForBrowser(require.resolve('./fixtures/sdk-page/page.ts'), { built: true });
    server.set('/built.html', { body: PAGE.replace('/page.js', '/built.js'), type: 'text/html; charset=utf-8' });
    server.set('/built.js', { body: bundle, type: 'text/javascript; charset=utf-8' });
    const built = await browser.newPage();
    try {
      await built.goto(`${server.origin}/built.html`);
      await built.waitForFunction(() => window.sdkPage !== undefined, undefined, { timeout: 30_000 });
      const result = await built.evaluate(
        async ([config, size]) => {
          const api = window.sdkPage;
          api.init(config);
          const sha = await api.makeData('built', size);
          await api.put('built/object', 'built', 'stream');
          const read = await api.get('built/object', { range: 'bytes=70000-', name: 'built', start: 70000 });
          return { sha, matches: read.matches };
        },
        [pageConfig, 3 * C + 5] as const,
      );
      expect(result.matches).toBe(true);
      expect((await nodeRead('built/object')).sha).toBe(result.sha);
    } finally {
      await built.close();
    }
  });
});
