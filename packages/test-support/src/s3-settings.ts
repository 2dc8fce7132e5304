/**
 * Where the tests and benchmarks find their S3 server: `S3_ENDPOINT` with
 * `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`, `S3_REGION` (default `us-east-1`)
 * and `S3_FORCE_PATH_STYLE` (default `true`), e.g. from
 * `eval "$(bash scripts/s3-server.sh env)"`. Without `S3_ENDPOINT`, what
 * `scripts/s3-server.sh env` prints for the local Ceph RGW, so `npx jest`
 * works without the eval.
 *
 * This module imports nothing from the workspace: jest's globalSetup and the
 * benchmarks load it on its own (`@encrypted-stream/test-support/s3-settings`).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Connection settings of the S3 server under test. */
export interface S3Settings {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly forcePathStyle: boolean;
}

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What to do when no S3 server is configured. */
export const NO_SERVER_MESSAGE = [
  'No S3 server for the tests.',
  'Start the local one and point the tests at it:',
  '  bash scripts/s3-server.sh up && eval "$(bash scripts/s3-server.sh env)"',
  'or set S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION for another server',
  '(LocalStack: see localstack/README.md), or make a Docker engine available so LocalStack is started automatically.',
].join('\n');

const SERVER_SCRIPT = resolve(__dirname, '../../../scripts/s3-server.sh');

function parseBoolean(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name} must be true or false, got "${value}"`);
}

/** The server configured in `env`, or `undefined` when `S3_ENDPOINT` is not set; throws on a malformed setting. */
export function s3SettingsFromEnv(env: Env = process.env): S3Settings | undefined {
  const endpoint = env.S3_ENDPOINT;
  if (!endpoint) return undefined;
  try {
    new URL(endpoint);
  } catch {
    throw new Error(`S3_ENDPOINT is not a URL: "${endpoint}"`);
  }
  const missing = ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`S3_ENDPOINT is set but ${missing.join(' and ')} is not`);
  return {
    endpoint,
    region: env.S3_REGION || 'us-east-1',
    accessKeyId: env.S3_ACCESS_KEY_ID as string,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY as string,
    forcePathStyle: parseBoolean('S3_FORCE_PATH_STYLE', env.S3_FORCE_PATH_STYLE, true),
  };
}

/** The `S3_*` variables `scripts/s3-server.sh env` prints for the local server (empty when it prints none). */
export function localServerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  try {
    const out = execFileSync('bash', [SERVER_SCRIPT, 'env'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const m of out.matchAll(/^export (S3_[A-Z_]+)=(.*)$/gm)) env[m[1] as string] = (m[2] as string).trim();
  } catch {
    // no script output: the caller reports that there is no server
  }
  return env;
}

let cached: S3Settings | undefined;

/**
 * The server from the environment, else the local server's settings (without
 * asking whether it runs: see {@link assertReachable}); `undefined` when there
 * is neither, for a caller that can go on without S3 (a benchmark skipping its
 * S3 rows).
 */
export function findS3Settings(): S3Settings | undefined {
  const configured = s3SettingsFromEnv();
  if (configured) return configured;
  cached ??= s3SettingsFromEnv(localServerEnv());
  return cached;
}

/**
 * The server for a test file: {@link findS3Settings}; fails with how-to-start
 * instructions when there is none.
 */
export function s3Settings(): S3Settings {
  const settings = findS3Settings();
  if (!settings) throw new Error(NO_SERVER_MESSAGE);
  return settings;
}

/** Fails fast, with instructions, when the server of `settings` does not answer. */
export async function assertReachable(settings: S3Settings, timeoutMs = 5000): Promise<void> {
  try {
    await fetch(settings.endpoint, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(
      `The S3 server at ${settings.endpoint} does not answer (${(error as Error).message}).\n${NO_SERVER_MESSAGE}`,
    );
  }
}

/** The `S3_*` variables describing `settings`. */
export function s3SettingsEnv(settings: S3Settings): Record<string, string> {
  return {
    S3_ENDPOINT: settings.endpoint,
    S3_ACCESS_KEY_ID: settings.accessKeyId,
    S3_SECRET_ACCESS_KEY: settings.secretAccessKey,
    S3_REGION: settings.region,
    S3_FORCE_PATH_STYLE: String(settings.forcePathStyle),
  };
}
