import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type MultipartUpload,
  S3Client,
} from '@aws-sdk/client-s3';

/** Connection settings of the S3 server the tests use. */
export interface S3Settings {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

const SERVER_SCRIPT = resolve(__dirname, '../../../../scripts/s3-server.sh');

const NO_SERVER = [
  'No S3 server for the CLI tests. Start the local one and point the tests at it:',
  '  bash scripts/s3-server.sh up && eval "$(bash scripts/s3-server.sh env)"',
  'or set S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION.',
].join('\n');

let cached: S3Settings | undefined;

/**
 * The server from `S3_ENDPOINT` & co; without it, what `scripts/s3-server.sh env`
 * prints for the local Ceph RGW (so `npx jest` works without the eval).
 */
export function s3Settings(): S3Settings {
  if (cached) return cached;
  let env: Record<string, string | undefined> = process.env;
  if (!env.S3_ENDPOINT) {
    env = {};
    try {
      const out = execFileSync('bash', [SERVER_SCRIPT, 'env'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      for (const m of out.matchAll(/^export (S3_[A-Z_]+)=(.*)$/gm)) env[m[1] as string] = (m[2] as string).trim();
    } catch {
      // no script output: reported below
    }
  }
  if (!env.S3_ENDPOINT || !env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY) throw new Error(NO_SERVER);
  cached = {
    endpoint: env.S3_ENDPOINT,
    accessKeyId: env.S3_ACCESS_KEY_ID,
    secretAccessKey: env.S3_SECRET_ACCESS_KEY,
    region: env.S3_REGION || 'us-east-1',
  };
  return cached;
}

/** A plain S3 client (no encryption): sees exactly what the server stores. */
export function plainClient(): S3Client {
  const s3 = s3Settings();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // Node 20 is what this project supports
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The CLI's flags for the server (or for `endpoint`, e.g. a proxy in front of it). */
export function s3Flags(endpoint = s3Settings().endpoint): string[] {
  return ['--endpoint', endpoint, '--path-style'];
}

/** Multipart uploads still open in `bucket`. */
export async function openUploads(client: S3Client, bucket: string): Promise<MultipartUpload[]> {
  const uploads: MultipartUpload[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker, UploadIdMarker }));
    uploads.push(...(page.Uploads ?? []));
    if (!page.IsTruncated) return uploads;
    KeyMarker = page.NextKeyMarker;
    UploadIdMarker = page.NextUploadIdMarker;
  }
}

/** Aborts every open multipart upload, deletes every object, then the bucket. */
export async function destroyBucket(client: S3Client, bucket: string): Promise<void> {
  for (const upload of await openUploads(client, bucket)) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
  }
  let ContinuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
    for (const o of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * A bucket for one test file, created in beforeAll and emptied and deleted
 * (open multipart uploads aborted) in afterAll. Read `.name` and `.client` inside tests.
 */
export function useBucket(label: string): { readonly name: string; readonly client: S3Client } {
  const state = { name: '', client: undefined as unknown as S3Client };
  beforeAll(async () => {
    state.client = plainClient();
    state.name = `es-cli-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    // The shared local server may be restarting (other suites inject faults): give it a minute to answer.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await state.client.send(new CreateBucketCommand({ Bucket: state.name }));
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code !== 'ECONNREFUSED' && code !== 'ECONNRESET') || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }, 90_000);
  afterAll(async () => {
    if (state.name) await destroyBucket(state.client, state.name);
    state.client?.destroy();
  });
  return state;
}
