import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { getEncryptionPlugin } from '@encrypted-stream/s3';

export const NO_SERVER_MESSAGE = [
  'The gateway tests need a real S3 server and S3_ENDPOINT is not set. Start the local one with',
  '  bash scripts/s3-server.sh up && eval "$(bash scripts/s3-server.sh env)"',
  'or set S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION for another server.',
].join('\n');

/** Client settings for the S3 server under test (Ceph RGW: path style, no aws-chunked uploads). */
export function clientConfig(): S3ClientConfig {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) throw new Error(NO_SERVER_MESSAGE);
  return {
    endpoint,
    region: process.env.S3_REGION || 'us-east-1',
    credentials: {
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
    },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** A client without the plugin: sees exactly what the server stores. */
export function plainClient(): S3Client {
  return new S3Client(clientConfig());
}

/** A fresh keyring with one random master key. */
export function newKeyring(): LocalKeyring {
  return LocalKeyring.single('k', randomBytes(32));
}

/** A client with the encryption plugin applied. */
export function encryptedClient(keyring: LocalKeyring): S3Client {
  const client = plainClient();
  client.middlewareStack.use(getEncryptionPlugin(client, { keyring }));
  return client;
}

/** One HTTP request an S3 client sent (per attempt), and what came back. */
export interface S3Request {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  status?: number;
  /** The response body stream (a node IncomingMessage), to see whether it was read to the end or destroyed. */
  body?: NodeJS.ReadableStream & { destroyed?: boolean; readableEnded?: boolean; socket?: { bytesRead: number } };
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  const found = headers && Object.keys(headers).find((k) => k.toLowerCase() === name);
  return found ? headers[found] : undefined;
}

/**
 * Records every HTTP request `client` sends: a middleware at the end of the
 * finalizeRequest step (after retries, so each attempt is one record).
 */
export function recordRequests(client: S3Client, onRecord?: (record: S3Request) => void): S3Request[] {
  const requests: S3Request[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; path?: string; headers?: Record<string, string> };
      const record: S3Request = {
        method: String(request.method),
        path: String(request.path),
        range: header(request.headers, 'range'),
      };
      requests.push(record);
      onRecord?.(record);
      try {
        const result = await next(args);
        const response = result.response as { statusCode?: number; body?: S3Request['body'] };
        record.status = response.statusCode;
        record.body = response.body;
        return result;
      } catch (error) {
        record.status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'gatewayTestRequestRecorder' },
  );
  return requests;
}

/** A count of the S3 requests a client has under way, and a gate that holds them before they are sent. */
export interface InFlight {
  /** Requests sent (or waiting at the gate) whose response body has not closed yet. */
  readonly current: number;
  /** The highest `current` seen. */
  readonly max: number;
  /** Requests seen in all. */
  readonly started: number;
  /** From now on, requests wait before they are sent until {@link InFlight.open}. */
  close(): void;
  /** Lets waiting and future requests through. */
  open(): void;
  /** Resolves once `current` reaches `count` (rejects after `timeoutMs`). */
  reach(count: number, timeoutMs?: number): Promise<void>;
  /** Resets `max` to `current`. */
  resetMax(): void;
}

/**
 * Counts `client`'s S3 requests in flight: from the moment the client sends
 * one (a middleware at the end of finalizeRequest) until its response body
 * is closed (read to the end or destroyed) or it failed. Optionally holds
 * them at a gate, so a test can see how many a burst gets under way at once.
 */
export function trackInFlight(client: S3Client): InFlight {
  let current = 0;
  let max = 0;
  let started = 0;
  let gate: { promise: Promise<void>; resolve: () => void } | undefined;
  const watchers: (() => void)[] = [];
  const changed = () => {
    max = Math.max(max, current);
    for (const watcher of [...watchers]) watcher();
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      started++;
      current++;
      changed();
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        current--;
        changed();
      };
      try {
        if (gate) await gate.promise;
        const result = await next(args);
        const body = (result.response as { body?: NodeJS.ReadableStream & { closed?: boolean } }).body;
        if (body && typeof body.once === 'function' && !body.closed) body.once('close', finish);
        else finish();
        return result;
      } catch (error) {
        finish();
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'gatewayTestInFlight' },
  );
  return {
    get current() {
      return current;
    },
    get max() {
      return max;
    },
    get started() {
      return started;
    },
    close() {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      gate = { promise, resolve };
    },
    open() {
      gate?.resolve();
      gate = undefined;
    },
    reach(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (current !== count) return;
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(check), 1);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.splice(watchers.indexOf(check), 1);
          reject(new Error(`S3 requests in flight stayed at ${current}, not ${count}, for ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.push(check);
        check();
      });
    },
    resetMax() {
      max = current;
    },
  };
}

/** A bucket name unique to this run. */
export function uniqueBucketName(label: string): string {
  return `es-gw-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`.slice(0, 63);
}

/** Empties and deletes a bucket. */
export async function destroyBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/**
 * A test file's S3 fixture: a fresh bucket (deleted with its objects in
 * afterAll), a keyring, an encrypting client to upload with and a plain one.
 */
export function useS3(label: string) {
  const state = {
    bucket: '',
    keyring: newKeyring(),
    plain: undefined as unknown as S3Client,
    encrypted: undefined as unknown as S3Client,
    /** Uploads `body` encrypted (through the plugin). */
    async putEncrypted(key: string, body: Uint8Array | string, extra: Partial<PutObjectCommandInput> = {}) {
      await state.encrypted.send(new PutObjectCommand({ Bucket: state.bucket, Key: key, Body: body, ...extra }));
    },
    /** Uploads `body` as it is (no encryption). */
    async putPlain(key: string, body: Uint8Array | string, extra: Partial<PutObjectCommandInput> = {}) {
      await state.plain.send(new PutObjectCommand({ Bucket: state.bucket, Key: key, Body: body, ...extra }));
    },
  };
  beforeAll(async () => {
    state.plain = plainClient();
    state.encrypted = encryptedClient(state.keyring);
    state.bucket = uniqueBucketName(label);
    await state.plain.send(new CreateBucketCommand({ Bucket: state.bucket }));
  });
  afterAll(async () => {
    if (state.bucket) await destroyBucket(state.plain, state.bucket);
    state.plain?.destroy();
    state.encrypted?.destroy();
  });
  return state;
}
