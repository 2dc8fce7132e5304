/**
 * A real browser against the gateway: headless Chromium plays an encrypted
 * WebM video served through it, seeks (range requests, one S3 request each)
 * and resumes playback at each point. Needs Debian's `chromium` and `ffmpeg`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type RunningGateway, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
];
const SCREENSHOT = path.resolve(__dirname, '../../../artifacts/gateway-video.png');
const SECONDS = 30;

/** Fails (never skips) when a tool is missing: CI must install it. */
function requireTools(): void {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM)) missing.push(`chromium (no ${CHROMIUM})`);
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) missing.push('ffmpeg (not on PATH)');
  if (missing.length > 0) {
    throw new Error(
      `The browser test needs ${missing.join(' and ')}. Install them with:\n` +
        '  apt-get install -y chromium ffmpeg\n(or set CHROMIUM_PATH to a Chromium binary)',
    );
  }
}

/** A 30 s 320x240 VP9 + Opus WebM: a test pattern with a running clock, noisy enough to weigh several MB. */
function makeVideo(dir: string): Buffer {
  const out = path.join(dir, 'test.webm');
  const args = [
    ['-hide_banner', '-loglevel', 'error', '-y'],
    ['-f', 'lavfi', '-i', `testsrc=duration=${SECONDS}:size=320x240:rate=25`],
    ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${SECONDS}`],
    ['-vf', 'noise=alls=12:allf=t'],
    ['-c:v', 'libvpx-vp9', '-b:v', '2M', '-minrate', '2M', '-maxrate', '2M', '-g', '25'],
    ['-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1'],
    ['-c:a', 'libopus', '-b:a', '48k', '-shortest', '-f', 'webm', out],
  ].flat();
  const run = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ffmpeg failed (${run.status}): ${run.stderr}`);
  return readFileSync(out);
}

const PAGE = `<!doctype html>
<html><head><title>gateway video</title></head>
<body style="margin:0;background:#000;overflow:hidden">
<video id="v" src="/video.webm" muted autoplay playsinline preload="auto" width="640" height="480"
  style="display:block"></video>
</body></html>`;

const s3 = useS3('browser');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'es-gw-browser-'));
let gateway: RunningGateway;
let context: BrowserContext | undefined;
let page: Page;
let size = 0;

beforeAll(async () => {
  requireTools();
  const video = makeVideo(tmp);
  size = video.length;
  await s3.putEncrypted('media/video.webm', video, { ContentType: 'video/webm' });
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
  rmSync(tmp, { recursive: true, force: true });
});

interface VideoState {
  currentTime: number;
  duration: number;
  paused: boolean;
  seeking: boolean;
  ended: boolean;
  readyState: number;
  error: number | null;
  frames: number;
}

const state = (): Promise<VideoState> =>
  page.evaluate(() => {
    const v = document.getElementById('v') as HTMLVideoElement;
    return {
      currentTime: v.currentTime,
      duration: v.duration,
      paused: v.paused,
      seeking: v.seeking,
      ended: v.ended,
      readyState: v.readyState,
      error: v.error?.code ?? null,
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
    };
  });

/** Waits until the video plays past `time` (not paused, not seeking, no error). */
async function playsPast(time: number, timeout = 20_000): Promise<void> {
  try {
    await page.waitForFunction(
      (t) => {
        const v = document.getElementById('v') as HTMLVideoElement;
        if (v.error) throw new Error(`media error ${v.error.code}: ${v.error.message}`);
        return !v.seeking && v.currentTime > t && (!v.paused || v.ended);
      },
      time,
      { timeout, polling: 50 },
    );
  } catch (error) {
    throw new Error(
      `the video did not play past ${time}s: ${(error as Error).message}; ${JSON.stringify(await state())}`,
    );
  }
}

test('Chromium plays the decrypted video, seeks three times with range requests, one S3 request each', async () => {
  await page.goto(`${gateway.origin}/`);
  await playsPast(1);
  const start = await state();
  expect(start.error).toBeNull();
  expect(start.duration).toBeGreaterThan(SECONDS - 1);
  expect(start.duration).toBeLessThan(SECONDS + 1);

  const duration = start.duration;
  for (const [i, target] of [duration * 0.2, duration * 0.6, duration - 2].entries()) {
    await page.evaluate((t) => {
      (document.getElementById('v') as HTMLVideoElement).currentTime = t;
    }, target);
    await page.waitForFunction(
      (t) => {
        const v = document.getElementById('v') as HTMLVideoElement;
        return !v.seeking && Math.abs(v.currentTime - t) < 1;
      },
      target,
      { timeout: 20_000, polling: 20 },
    );
    // Playback resumes there: time advances past the seek point, without jumping elsewhere.
    await playsPast(target + 0.6);
    const after = await state();
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
