/**
 * rclone's two remotes over the bench's S3 server, configured only through
 * `RCLONE_CONFIG_<NAME>_<OPTION>` variables and an empty config file of our
 * own, so the user's `~/.config/rclone/rclone.conf` is never read or written:
 *
 * - `esplain:` an S3 remote (provider Ceph) with the same part size and
 *   upload concurrency as our `put`, so both sides send the same requests;
 * - `escrypt:` a crypt remote over `esplain:BUCKET/crypt`, file names not
 *   encrypted (only the contents are compared).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { S3Settings } from '@encrypted-stream/test-support';

/** Where each rclone side keeps its objects. */
export interface RcloneRemotes {
  /** Environment for every rclone process. */
  readonly env: NodeJS.ProcessEnv;
  /** rclone path of `key` through the plain S3 remote. */
  plain(key: string): string;
  /** rclone path of `key` through the crypt remote. */
  crypt(key: string): string;
}

/** Builds both remotes for `bucket`; `configFile` is created empty (rclone insists on a config path). */
export function rcloneRemotes(
  settings: S3Settings,
  bucket: string,
  configFile: string,
  partBytes: number,
  concurrency: number,
): RcloneRemotes {
  writeFileSync(configFile, '');
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // AWS_CA_BUNDLE makes rclone's S3 client refuse a plain-HTTP endpoint; inherited RCLONE_* could add remotes or flags.
    if (name !== 'AWS_CA_BUNDLE' && !name.startsWith('RCLONE_')) base[name] = value;
  }
  const password = execFileSync('rclone', ['obscure', randomBytes(18).toString('base64url')], {
    encoding: 'utf8',
    env: base,
  }).trim();
  const env: NodeJS.ProcessEnv = {
    ...base,
    RCLONE_CONFIG: configFile,
    RCLONE_CONFIG_ESPLAIN_TYPE: 's3',
    RCLONE_CONFIG_ESPLAIN_PROVIDER: 'Ceph',
    RCLONE_CONFIG_ESPLAIN_ENV_AUTH: 'false',
    RCLONE_CONFIG_ESPLAIN_ACCESS_KEY_ID: settings.accessKeyId,
    RCLONE_CONFIG_ESPLAIN_SECRET_ACCESS_KEY: settings.secretAccessKey,
    RCLONE_CONFIG_ESPLAIN_REGION: settings.region,
    RCLONE_CONFIG_ESPLAIN_ENDPOINT: settings.endpoint,
    RCLONE_CONFIG_ESPLAIN_FORCE_PATH_STYLE: String(settings.forcePathStyle),
    // The bench created the bucket: no bucket check before each upload, as with our CLI and the SDK.
    RCLONE_CONFIG_ESPLAIN_NO_CHECK_BUCKET: 'true',
    RCLONE_CONFIG_ESPLAIN_CHUNK_SIZE: `${Math.round(partBytes / 1024)}Ki`,
    RCLONE_CONFIG_ESPLAIN_UPLOAD_CONCURRENCY: String(concurrency),
    RCLONE_CONFIG_ESCRYPT_TYPE: 'crypt',
    RCLONE_CONFIG_ESCRYPT_REMOTE: `esplain:${bucket}/crypt`,
    RCLONE_CONFIG_ESCRYPT_PASSWORD: password,
    RCLONE_CONFIG_ESCRYPT_FILENAME_ENCRYPTION: 'off',
    RCLONE_CONFIG_ESCRYPT_DIRECTORY_NAME_ENCRYPTION: 'false',
  };
  return {
    env,
    plain: (key) => `esplain:${bucket}/plain/${key}`,
    crypt: (key) => `escrypt:${key}`,
  };
}
