/**
 * Headless Chromium and a test video for the browser suites (gateway, web):
 * Debian's `chromium` driven by playwright-core (no browser download), and an
 * ffmpeg-made WebM. A missing tool fails the test with the command that
 * installs it; it never skips. Its own entry
 * (`@encrypted-stream/test-support/browser`), so other suites never load
 * playwright.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** The Chromium binary: `CHROMIUM_PATH` or Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Headless, no sandbox (CI runs as root), no background traffic, media that plays without a gesture. */
export const CHROMIUM_ARGS = [
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

/** Throws with the install command when Chromium (or, with `ffmpeg: true`, ffmpeg) is missing. */
export function requireTools(options: { ffmpeg?: boolean } = {}): void {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM)) missing.push(`chromium (no ${CHROMIUM})`);
  if (options.ffmpeg && spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) {
    missing.push('ffmpeg (not on PATH)');
  }
  if (missing.length > 0) {
    throw new Error(
      `The browser test needs ${missing.join(' and ')}. Install with:\n` +
        '  apt-get install -y chromium ffmpeg\n(or set CHROMIUM_PATH to a Chromium binary)',
    );
  }
}

/** Launches headless Chromium; the caller closes it. */
export async function launchChromium(): Promise<Browser> {
  requireTools();
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Writes a `seconds`-long 320x240 VP9 + Opus WebM to `out`: a test pattern
 * with a running clock, noisy enough to weigh several MB (2 Mbit/s), one
 * keyframe a second so that seeks land anywhere.
 */
export function makeTestVideo(out: string, seconds: number): void {
  const args = [
    ['-hide_banner', '-loglevel', 'error', '-y'],
    ['-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=320x240:rate=25`],
    ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
    ['-vf', 'noise=alls=12:allf=t'],
    ['-c:v', 'libvpx-vp9', '-b:v', '2M', '-minrate', '2M', '-maxrate', '2M', '-g', '25'],
    ['-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1'],
    ['-c:a', 'libopus', '-b:a', '48k', '-shortest', '-f', 'webm', out],
  ].flat();
  const run = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ffmpeg failed (${run.status}): ${run.stderr}`);
}

/** What a `<video>` element is doing. */
export interface VideoState {
  currentTime: number;
  duration: number;
  paused: boolean;
  seeking: boolean;
  ended: boolean;
  readyState: number;
  /** `MediaError.code`, or null. */
  error: number | null;
  /** Frames decoded so far. */
  frames: number;
}

/** The state of the `<video id="v">` on `page`. */
export function videoState(page: Page): Promise<VideoState> {
  return page.evaluate(() => {
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
}

/** Waits until `<video id="v">` plays past `time` s (not paused, not seeking; a media error fails at once). */
export async function playsPast(page: Page, time: number, timeout = 30_000): Promise<void> {
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
      `the video did not play past ${time}s: ${(error as Error).message}; ${JSON.stringify(await videoState(page))}`,
    );
  }
}

/**
 * Seeks `<video id="v">` to `target` s, waits until the seek lands (within a
 * second) and playback runs past `target + 0.6`; returns the state then.
 */
export async function seekAndPlay(page: Page, target: number, timeout = 30_000): Promise<VideoState> {
  await page.evaluate((t) => {
    (document.getElementById('v') as HTMLVideoElement).currentTime = t;
  }, target);
  await page.waitForFunction(
    (t) => {
      const v = document.getElementById('v') as HTMLVideoElement;
      return !v.seeking && Math.abs(v.currentTime - t) < 1;
    },
    target,
    { timeout, polling: 20 },
  );
  await playsPast(page, target + 0.6, timeout);
  return videoState(page);
}
