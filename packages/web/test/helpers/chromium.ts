/**
 * Headless Chromium for the browser tests: Debian's `chromium` driven by
 * playwright-core (no browser download). A missing tool fails the test with
 * the command that installs it; it never skips.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** The Chromium binary: `CHROMIUM_PATH` or Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

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
