/**
 * The page decrypts, no server holds a key — in real Chromium against real
 * S3. A page encrypts an ffmpeg-made WebM (VP9 + Opus) with the codec
 * bundled for the browser and uploads the ciphertext through the app
 * server's presigned multipart URLs (with progress); its Service Worker plays
 * `/media/<id>` in a <video>, seeking to several points, each media Range
 * costing exactly one S3 GET. Every request that reaches a server — the
 * static/app server, and a recording proxy in front of S3 that the presigned
 * URLs point at — is recorded: none holds the key (hex, base64, base64url)
 * or a plaintext sample of the video, and the bytes S3 stores are not the
 * plaintext. A byte flipped in S3 stops playback with a media error. Needs
 * Debian's `chromium` and `ffmpeg`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LocalKeyring } from '@encrypted-stream/codec';
import { createPresignService } from '@encrypted-stream/gateway';
import {
  editStoredObject,
  encryptedClient,
  plainClient,
  readAll,
  s3Settings,
  useBucket,
} from '@encrypted-stream/test-support';
import {
  launchChromium,
  makeTestVideo,
  playsPast as playsPastOn,
  requireTools,
  seekAndPlay,
  videoState,
} from '@encrypted-stream/test-support/browser';
import type { Browser, Page } from 'playwright-core';
import type { MediaLogEntry, UploadProgress } from '../src';
import { bundleForBrowser } from './helpers/bundle';
import { type RecordingProxy, startRecordingProxy } from './helpers/recording-proxy';
import { type StaticServer, startStaticServer } from './helpers/static-server';

const SCREENSHOT = path.resolve(__dirname, '../../../artifacts/web-video.png');
const SECONDS = 30;
const ID = 'clip.webm';
const KEY = `media/${ID}`;

const PAGE = `<!doctype html>
<html><head><title>encrypted media</title></head>
<body style="margin:0;background:#000;color:#fff;overflow:hidden">
<input type="file" id="file" accept="video/webm"><span id="status"></span>
<script type="module" src="/page.js"></script>
</body></html>`;

const bucket = useBucket('web-media-browser');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'es-web-media-'));
const masterKey = randomBytes(32);
let videoPath = '';
let video: Buffer;
let proxy: RecordingProxy;
let app: StaticServer;
let browser: Browser;
let page: Page;
const appClient = { current: undefined as ReturnType<typeof plainClient> | undefined };

beforeAll(async () => {
  requireTools({ ffmpeg: true });
  videoPath = path.join(tmp, ID);
  makeTestVideo(videoPath, SECONDS);
  video = readFileSync(videoPath);
  proxy = await startRecordingProxy(s3Settings().endpoint);
  // The app server: S3 credentials, no key; its presigned URLs point at the recording proxy.
  appClient.current = plainClient({ endpoint: proxy.endpoint });
  const presign = createPresignService({
    client: appClient.current,
    presign: getSignedUrl,
    bucket: bucket.name,
    prefix: 'media',
  });
  const [pageJs, swJs] = await Promise.all([
    bundleForBrowser(path.join(__dirname, 'fixtures/media-page/page.ts'), { format: 'esm' }),
    bundleForBrowser(path.join(__dirname, 'fixtures/media-page/sw.ts'), { format: 'iife' }),
  ]);
  app = await startStaticServer(
    {
      '/': { body: PAGE, type: 'text/html; charset=utf-8' },
      '/page.js': { body: pageJs, type: 'text/javascript' },
      '/sw.js': { body: swJs, type: 'text/javascript' },
    },
    (req, res, body) => {
      // The static server read the body already: the service takes it from req.body.
      (req as typeof req & { body?: Buffer }).body = body;
      return presign(req, res);
    },
  );
  await bucket.client.send(
    new PutBucketCorsCommand({
      Bucket: bucket.name,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [app.origin],
            AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'],
            AllowedHeaders: ['range', 'if-match', 'content-type'],
            ExposeHeaders: ['ETag', 'Content-Range', 'Content-Length'],
            MaxAgeSeconds: 3000,
          },
        ],
      },
    }),
  );
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 640, height: 520 } });
  page = await context.newPage();
  page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await proxy?.close();
  appClient.current?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

const state = () => videoState(page);
const playsPast = (time: number, timeout = 30_000) => playsPastOn(page, time, timeout);

const workerLog = () =>
  page.evaluate(() =>
    (globalThis as unknown as { esPage: { workerLog(): Promise<unknown> } }).esPage.workerLog(),
  ) as Promise<MediaLogEntry[]>;

/** Every spelling of `bytes` a leak could take in text. */
const spellings = (bytes: Buffer) => [
  bytes.toString('hex'),
  bytes.toString('hex').toUpperCase(),
  bytes.toString('base64'),
  bytes.toString('base64url'),
];

test('upload from the page, play and seek through the Service Worker: one S3 GET per range, nothing leaks', async () => {
  await page.goto(`${app.origin}/`);
  await page.evaluate(
    (hex) => (globalThis as unknown as { esPage: { saveKey(h: string): Promise<void> } }).esPage.saveKey(hex),
    masterKey.toString('hex'),
  );

  // Upload: the file goes into the page through the file picker, never over the network in the clear.
  await page.setInputFiles('#file', videoPath);
  const progress = (await page.evaluate(
    (id) => (globalThis as unknown as { esPage: { upload(id: string): Promise<unknown> } }).esPage.upload(id),
    ID,
  )) as UploadProgress[];
  expect(progress.length).toBe(Math.ceil(video.length / (5 * 1024 * 1024)));
  expect(progress.length).toBeGreaterThanOrEqual(2);
  expect(progress.at(-1)).toMatchObject({ uploadedBytes: video.length, totalBytes: video.length });
  const partPuts = proxy.exchanges.filter((e) => e.method === 'PUT' && e.url.includes('partNumber='));
  expect(partPuts.filter((e) => e.status === 200)).toHaveLength(progress.length);

  // What S3 holds is ciphertext, and it decrypts (in Node, with the key) to the very file.
  const stored = await readAll(
    (await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: KEY }))).Body,
  );
  expect(stored.equals(video)).toBe(false);
  const reader = encryptedClient({ keyring: LocalKeyring.single('page-key', masterKey) });
  try {
    const decrypted = await reader.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: KEY }));
    expect((await readAll(decrypted.Body)).equals(video)).toBe(true);
    expect(decrypted.ContentType).toBe('video/webm');
  } finally {
    reader.client.destroy();
  }

  // Play and seek through the Service Worker.
  await page.evaluate(() =>
    (globalThis as unknown as { esPage: { registerWorker(): Promise<void> } }).esPage.registerWorker(),
  );
  const getsBefore = proxy.exchanges.length;
  await page.evaluate((id) => (globalThis as unknown as { esPage: { play(id: string): void } }).esPage.play(id), ID);
  await playsPast(1);
  const start = await state();
  expect(start.duration).toBeGreaterThan(SECONDS - 1);
  expect(start.duration).toBeLessThan(SECONDS + 1);
  for (const [i, target] of [start.duration * 0.2, start.duration * 0.6, start.duration - 2].entries()) {
    const after = await seekAndPlay(page, target);
    expect(after.error).toBeNull();
    expect(after.currentTime).toBeLessThan(target + 5);
    if (i === 1) {
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.locator('#v').screenshot({ path: SCREENSHOT });
    }
  }
  expect((await state()).frames).toBeGreaterThan(25);
  expect(existsSync(SCREENSHOT)).toBe(true);

  // Each media range the worker served cost exactly one S3 GET, and the proxy saw exactly those.
  const served = (await workerLog()).filter((e) => e.event === 'served' && e.method === 'GET');
  const ranged = served.filter((e) => e.range !== undefined);
  const s3Gets = proxy.exchanges.slice(getsBefore).filter((e) => e.method === 'GET');
  console.log(
    `video ${video.length} bytes; worker: ${served.map((e) => `${e.range} → ${e.status} S3 ${e.s3.map((q) => `${q.range} ${q.status}`).join(', ')}`).join('; ')}`,
  );
  expect(ranged.length).toBeGreaterThanOrEqual(3);
  expect(ranged.some((e) => !/^bytes=0-/.test(e.range as string))).toBe(true); // seeks were ranges inside the file
  for (const entry of ranged) expect([entry.range, entry.status, entry.s3.length]).toEqual([entry.range, 206, 1]);
  expect(served.reduce((n, e) => n + e.resolves, 0)).toBe(1); // the app server was asked once
  expect(s3Gets.map((e) => e.headers.range).sort()).toEqual(served.flatMap((e) => e.s3.map((q) => q.range)).sort());
  expect(proxy.exchanges.slice(getsBefore).filter((e) => e.method === 'HEAD')).toHaveLength(1);

  // Nothing that reached a server holds the key or the plaintext.
  const samples = [0.25, 0.5, 0.75].map((at) =>
    video.subarray(Math.floor(video.length * at), Math.floor(video.length * at) + 48),
  );
  const secrets = [...spellings(masterKey), ...samples.flatMap(spellings)];
  const texts = [
    ...app.requests.map((r) => `${r.method} ${r.url} ${JSON.stringify(r.headers)} ${r.body.toString('latin1')}`),
    ...proxy.exchanges.map(
      (e) =>
        `${e.method} ${e.url} ${JSON.stringify(e.headers)} ${e.body.toString('latin1')} ${JSON.stringify(e.responseHeaders)}`,
    ),
  ];
  for (const secret of secrets) expect(texts.filter((t) => t.includes(secret))).toEqual([]);
  const rawBodies = [
    ...app.requests.map((r) => r.body),
    ...proxy.exchanges.flatMap((e) => [e.body, e.responseBody ?? Buffer.alloc(0)]),
  ];
  for (const secret of [masterKey, ...samples]) expect(rawBodies.filter((b) => b.includes(secret))).toEqual([]);
});

test('a byte flipped in S3 (a plain client) stops playback with a media error, no frames', async () => {
  await editStoredObject(bucket.client, bucket.name, KEY, (bytes) => {
    bytes[200] = (bytes[200] as number) ^ 0x01; // inside chunk 0: the first range needs it
  });
  // A new document, so that Chromium's media cache holds none of the bytes played before.
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.evaluate((id) => (globalThis as unknown as { esPage: { play(id: string): void } }).esPage.play(id), ID);
  try {
    await page.waitForFunction(() => (document.getElementById('v') as HTMLVideoElement).error !== null, undefined, {
      timeout: 30_000,
      polling: 50,
    });
  } catch (error) {
    const log = (await workerLog()).slice(-12);
    throw new Error(`${(error as Error).message}; ${JSON.stringify(await state())}; worker: ${JSON.stringify(log)}`);
  }
  const after = await state();
  expect(after.error).not.toBeNull();
  expect(after.frames).toBe(0);
  expect(after.readyState).toBe(0);
  const failures = (await workerLog()).filter((e) => e.event === 'body-failed');
  expect(failures.length).toBeGreaterThanOrEqual(1);
  expect(failures.every((e) => e.code === 'ES_AUTH_FAILED')).toBe(true);
});
