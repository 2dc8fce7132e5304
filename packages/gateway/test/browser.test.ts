/**
 * A real browser against the gateway: headless Chromium plays an encrypted
 * WebM video served through it, seeks (range requests, one S3 request each)
 * and resumes playback at each point; the video opened directly plays under
 * the gateway's CSP; an object relabelled text/html is a download, and even
 * shown inline runs no script. Needs Debian's `chromium` and `ffmpeg`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  makeTestVideo,
  playsPast as playsPastOn,
  requireTools,
  seekAndPlay,
  videoState,
} from '@encrypted-stream/test-support/browser';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type RunningGateway, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const SCREENSHOT = path.resolve(__dirname, '../../../artifacts/gateway-video.png');
const SECONDS = 30;

const PAGE = `<!doctype html>
<html><head><title>gateway video</title></head>
<body style="margin:0;background:#000;overflow:hidden">
<video id="v" src="/video.webm" muted autoplay playsinline preload="auto" width="640" height="480"
  style="display:block"></video>
</body></html>`;

/** What an attacker with write access to the bucket would upload: a page that reads another object. */
const EVIL_PAGE = `<!doctype html><title>inert</title>
<script>document.title = 'script ran'; fetch('/video.webm');</script>
<img src="/nothing.png" onerror="document.title = 'handler ran'">`;

const s3 = useS3('browser');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'es-gw-browser-'));
let gateway: RunningGateway;
/** A gateway that shows text/html inline (never the default), to see that the CSP alone keeps a page inert. */
let htmlInline: RunningGateway;
let context: BrowserContext | undefined;
let page: Page;
let size = 0;

beforeAll(async () => {
  requireTools({ ffmpeg: true });
  const videoFile = path.join(tmp, 'test.webm');
  makeTestVideo(videoFile, SECONDS);
  const video = readFileSync(videoFile);
  size = video.length;
  await s3.putEncrypted('media/video.webm', video, { ContentType: 'video/webm' });
  await s3.putEncrypted('media/evil.html', EVIL_PAGE, { ContentType: 'text/html; charset=utf-8' });
  htmlInline = await startGateway({
    keyring: s3.keyring,
    scope: { bucket: s3.bucket, prefix: 'media/' },
    inlineTypes: ['text/html'],
  });
  gateway = await startGateway({
    keyring: s3.keyring,
    scope: { bucket: s3.bucket, prefix: 'media/' },
    // '/' is not an object path: the gateway passes it on, and the page is served from the same origin.
    otherwise: (req, res) => {
      if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      else res.writeHead(404).end();
    },
  });
  context = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: false, // --headless=new is in the arguments
    args: CHROMIUM_ARGS,
    viewport: { width: 640, height: 480 },
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 90_000);

afterAll(async () => {
  await context?.close();
  await gateway?.close();
  await htmlInline?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const state = () => videoState(page);
const playsPast = (time: number, timeout = 20_000) => playsPastOn(page, time, timeout);

test('Chromium plays the decrypted video, seeks three times with range requests, one S3 request each', async () => {
  await page.goto(`${gateway.origin}/`);
  await playsPast(1);
  const start = await state();
  expect(start.error).toBeNull();
  expect(start.duration).toBeGreaterThan(SECONDS - 1);
  expect(start.duration).toBeLessThan(SECONDS + 1);

  const duration = start.duration;
  for (const [i, target] of [duration * 0.2, duration * 0.6, duration - 2].entries()) {
    // Playback resumes there: time advances past the seek point, without jumping elsewhere.
    const after = await seekAndPlay(page, target, 20_000);
    expect(after.error).toBeNull();
    expect(after.currentTime).toBeLessThan(target + 5);
    if (i === 1) {
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.locator('#v').screenshot({ path: SCREENSHOT });
    }
  }
  const end = await state();
  expect(end.frames).toBeGreaterThan(25);

  // What the gateway served: range requests answered 206, each costing exactly one ranged S3 GET.
  const media = gateway.requests.filter((r) => r.url === '/video.webm');
  const ranged = media.filter((r) => r.range !== undefined);
  const summary = media.map(
    (r) =>
      `${r.range ?? '-'} ${JSON.stringify(r.conditions)} → ${r.status ?? 'no head'}${r.finished ? '' : ' (cancelled)'}` +
      ` S3: ${r.s3.map((q) => `${q.method} ${q.range} ${q.status}`).join(', ')}`,
  );
  console.log(`video ${size} bytes; gateway requests:\n${summary.join('\n')}`);
  expect(ranged.length).toBeGreaterThanOrEqual(2);
  expect(ranged.filter((r) => r.status === 206).length).toBeGreaterThanOrEqual(2);
  for (const r of ranged) {
    expect([r.range, r.s3.length]).toEqual([r.range, 1]);
    expect(r.s3[0]?.method).toBe('GET');
    expect(r.s3[0]?.range).toMatch(/^bytes=/);
    // 304 only where Chromium's cache revalidated a range it holds (If-None-Match / If-Range).
    const expected = Object.keys(r.conditions).length > 0 ? [206, 304] : [206];
    if (r.status !== undefined) expect(expected).toContain(r.status);
  }
  // Later range requests start inside the file: the seeks were served by ranges, not by one download.
  expect(ranged.some((r) => !/^bytes=0-/.test(r.range as string))).toBe(true);
  expect(gateway.logs.filter((e) => e.level === 'error')).toEqual([]);
  expect(existsSync(SCREENSHOT)).toBe(true);
});

test('opened directly (a media document), the video plays: the CSP on the response does not block it', async () => {
  const response = await page.goto(`${gateway.origin}/video.webm`);
  expect(response?.headers()['content-security-policy']).toBe(
    "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin",
  );
  expect(response?.headers()['content-disposition']).toBeUndefined();
  await page.waitForFunction(
    () => {
      const v = document.querySelector('video');
      if (v?.error) throw new Error(`media error ${v.error.code}: ${v.error.message}`);
      return v !== null && v.readyState >= 2 && v.duration > 0;
    },
    undefined,
    { timeout: 20_000, polling: 50 },
  );
  const duration = await page.evaluate(() => (document.querySelector('video') as HTMLVideoElement).duration);
  expect(duration).toBeGreaterThan(SECONDS - 1);
});

test('an object relabelled text/html, opened directly, is a download, not a page', async () => {
  const download = page.waitForEvent('download', { timeout: 20_000 });
  await page.goto(`${gateway.origin}/evil.html`).catch(() => {}); // the navigation turns into a download
  expect((await download).suggestedFilename()).toBe('evil.html');
});

test('even shown inline (inlineTypes: text/html), the page runs no script and fetches no other object', async () => {
  htmlInline.requests.length = 0;
  await page.goto(`${htmlInline.origin}/evil.html`);
  await page.waitForTimeout(1000); // time for a script or a handler to run, were it allowed to
  expect(await page.title()).toBe('inert');
  // The script's fetch never came (the <img> may load: img-src 'self', and its error handler did not run).
  expect(htmlInline.requests.map((r) => r.url)).not.toContain('/video.webm');
  expect(htmlInline.requests.map((r) => r.url)).toContain('/evil.html');
});
