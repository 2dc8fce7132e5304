import type { S3Client } from '@aws-sdk/client-s3';
import type { Keyring } from '@encrypted-stream/codec';
import type { CommandContext } from './command-context';
import type { UploadLayout } from './put-resume';

/** What `put` runs with once its arguments are checked (put-file.ts, put-stdin.ts). */
export interface PutSettings {
  readonly context: CommandContext;
  /** For the multipart upload, which encrypts its parts itself. */
  readonly plain: S3Client;
  /** The encrypting client (plugin), for a source that fits in one PutObject. */
  readonly encrypting: () => Promise<S3Client>;
  /** The one keyring that wraps (keyrings.ts, `Keyrings.writer`). */
  readonly keyring: Keyring;
  /** The key id it wraps under (a resume must be of an upload wrapped under the same). */
  readonly keyId: string;
  readonly bucket: string;
  readonly key: string;
  readonly layout: UploadLayout;
  readonly concurrency: number;
  readonly signal: AbortSignal;
}
