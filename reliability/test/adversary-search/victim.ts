/**
 * The owner's side of the search: the keyring, every write path (plugin,
 * upload classes, CLI, copy, rotation), and every read path (plugin GetObject
 * and HeadObject, the HTTP gateway, the CLI binary), each reduced to an
 * observation the oracle judges. Everything talks to the real S3 server.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { createGatewayHandler } from '@encrypted-stream/gateway';
import {
  EncryptedMultipartUpload,
  lastPart,
  METADATA_KEYS,
  type MultipartUploadOptions,
  rotateObjectKey,
} from '@encrypted-stream/s3';
import { EncryptedUpload } from '@encrypted-stream/s3/upload';
import { consume, encryptedClient, readAll, s3Settings as s3Env, seededBytes } from '../helpers';
import type { DetachedStrings } from './mutations';
import { contentRangeStart, errorCode, errorMessage, type HttpObservation, type ReadObservation } from './oracle';

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** The small chunk size the in-process write paths use (FORMAT.md's minimum, 2^12). */
export const SMALL = 4 * KiB;
/** The default chunk size (what the CLI's put writes). */
export const DEFAULT = 64 * KiB;
/** Every part but the last of a multipart upload holds at least this much (S3 and Ceph RGW). */
export const MIN_PART = 5 * MiB;

/** The victim's master keys: `k-new` wraps new objects, `k-old` is an older key the keyring still holds. */
const MASTER = { 'k-old': new Uint8Array(32).fill(0x5a), 'k-new': new Uint8Array(32).fill(0xa5) };
export const victimKeyring = () => new LocalKeyring({ ...MASTER }, 'k-new');
/** The same keys, wrapping new objects under `k-old` (objects that are then rotated). */
export const oldKeyring = () => new LocalKeyring({ ...MASTER }, 'k-old');

/** The plaintext of a stream, by a label and its size (the suites' seeded generator). */
export function plaintextOf(label: string, size: number): Buffer {
  return seededBytes(`adversary-search/${label}/${size}`, size);
}

/** An object exactly as stored. */
export interface Stored {
  body: Buffer;
  metadata: Record<string, string>;
}

export async function getStored(plain: S3Client, Bucket: string, Key: string): Promise<Stored> {
  const out = await plain.send(new GetObjectCommand({ Bucket, Key }));
  return { body: await readAll(out.Body), metadata: { ...out.Metadata } };
}

/** The adversary's write: bytes and metadata as given, through a plain client. */
export async function putStored(plain: S3Client, Bucket: string, Key: string, stored: Stored): Promise<void> {
  await plain.send(new PutObjectCommand({ Bucket, Key, Body: stored.body, Metadata: stored.metadata }));
}

export const detachedOf = (metadata: Record<string, string>): DetachedStrings => ({
  h: metadata[METADATA_KEYS.h],
  k: metadata[METADATA_KEYS.k],
  w: metadata[METADATA_KEYS.w],
});

/** `metadata` with the three encryption strings replaced by `strings` (an absent one is removed). */
export function withDetached(metadata: Record<string, string>, strings: DetachedStrings): Record<string, string> {
  const out = { ...metadata };
  for (const field of ['h', 'k', 'w'] as const) {
    const value = strings[field];
    if (value === undefined) delete out[METADATA_KEYS[field]];
    else out[METADATA_KEYS[field]] = value;
  }
  return out;
}

/** Whether a stored header records the plaintext size (flag bit 0 of byte 7, FORMAT.md §2). */
export function recordsSize(metadata: Record<string, string>): boolean {
  const h = metadata[METADATA_KEYS.h];
  return h !== undefined && ((Buffer.from(h, 'base64url')[7] ?? 0) & 1) === 1;
}

/** Runs `work` over `items`, at most `limit` at once (the shared test kit's helper). */
export { parallel as mapLimit } from '../helpers';

// ---------------------------------------------------------------------------------------------
// The CLI binary

export const CLI_BIN = resolve(__dirname, '../../../packages/cli/bin/encrypted-stream.js');
const CLI_DIST = resolve(__dirname, '../../../packages/cli/dist/main.js');

export interface CliRun {
  readonly exit: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** The CLI's environment: the server's credentials the AWS way, nothing inherited from a developer's shell. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AWS_|ENCRYPTED_STREAM_)/.test(name)) env[name] = value;
  }
  const s3 = s3Env();
  return {
    ...env,
    NODE_NO_WARNINGS: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
  };
}

/** At most two CLI processes at once (two cores; each start costs ~0.4 s of CPU). */
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((resolveSlot) => waiting.push(resolveSlot));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Runs the built binary `node packages/cli/bin/encrypted-stream.js ARGS…` as a user would. */
export function runCli(args: readonly string[], input?: Buffer): Promise<CliRun> {
  if (!existsSync(CLI_DIST)) throw new Error(`${CLI_DIST} is missing: build first (cd /work/main && pnpm run build)`);
  return slot(
    () =>
      new Promise<CliRun>((resolveRun, reject) => {
        const child = spawn(process.execPath, [CLI_BIN, ...args], { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.stdin.on('error', () => {});
        child.stdin.end(input ?? '');
        child.on('error', reject);
        child.on('close', (exit) =>
          resolveRun({ exit, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }),
        );
      }),
  );
}

/** A keyring file the CLI reads (mode 0600), holding the victim's keys. */
export function writeKeyringFile(dir: string): string {
  const path = join(dir, 'keyring.json');
  writeFileSync(path, JSON.stringify(victimKeyring().toJSON()), { mode: 0o600 });
  return path;
}

/** The flags every S3 command of the CLI gets. */
export function cliS3Flags(keyringFile: string): string[] {
  return ['-k', keyringFile, '--endpoint', s3Env().endpoint, '--path-style', '-q'];
}

/** `get s3://… FILE [--range …]`: exit code and the output file, if one appeared (then removed). */
export async function cliGet(
  keyringFile: string,
  bucket: string,
  key: string,
  output: string,
  range?: string,
): Promise<{ exit: number | null; output: Buffer | undefined; stderr: string }> {
  rmSync(output, { force: true });
  const run = await runCli([
    'get',
    `s3://${bucket}/${key}`,
    output,
    ...(range ? [`--range=${range.replace(/^bytes=/, '')}`] : []),
    ...cliS3Flags(keyringFile),
  ]);
  const data = existsSync(output) ? readFileSync(output) : undefined;
  rmSync(output, { force: true });
  return { exit: run.exit, output: data, stderr: run.stderr };
}

/** `verify --json s3://… …`: per object, whether it authenticated, and the exit code. */
export async function cliVerify(
  keyringFile: string,
  bucket: string,
  keys: readonly string[],
): Promise<{
  exit: number | null;
  results: Map<string, { ok: boolean; bytes?: number; error?: string }>;
  stderr: string;
}> {
  const run = await runCli(['verify', ...keys.map((k) => `s3://${bucket}/${k}`), '--json', ...cliS3Flags(keyringFile)]);
  const results = new Map<string, { ok: boolean; bytes?: number; error?: string }>();
  try {
    const parsed = JSON.parse(run.stdout.toString('utf8')) as {
      results: { key: string; ok: boolean; bytes?: number; error?: string }[];
    };
    for (const r of parsed.results) results.set(r.key, r);
  } catch {
    // no JSON: every key is reported missing below
  }
  return { exit: run.exit, results, stderr: run.stderr };
}

// ---------------------------------------------------------------------------------------------
// Write paths

/** Where and with what the owner writes. */
export interface WriteContext {
  readonly bucket: string;
  /** A plain client (the upload classes and rotation take any client). */
  readonly plain: S3Client;
  /** Clients with the plugin, by chunk size, wrapping under k-new. */
  readonly plugin: (chunkSize: number) => S3Client;
  /** A client with the plugin wrapping under k-old (objects that are then rotated). */
  readonly oldPlugin: (chunkSize: number) => S3Client;
  readonly keyringFile: string;
  readonly tmp: string;
}

/** One way the owner writes an object. */
export interface WritePath {
  readonly name: string;
  readonly chunkSize: number;
  /** Whether the header should record the plaintext size (after issue 10's fixes). */
  readonly shouldRecordSize: boolean;
  write(ctx: WriteContext, key: string, data: Buffer): Promise<void>;
}

async function multipartThroughPlugin(client: S3Client, Bucket: string, Key: string, data: Buffer) {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const part = await client.send(new UploadPartCommand(lastPart({ Bucket, Key, UploadId, PartNumber: 1, Body: data })));
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
}

async function lowLevelMultipart(ctx: WriteContext, Key: string, data: Buffer, chunkSize: number, sized: boolean) {
  // `plaintextSize` is the option issue 10's fix adds; passed as data so this compiles before and after it.
  const options = {
    keyring: victimKeyring(),
    chunkSize,
    partSize: MIN_PART,
    ...(sized ? { plaintextSize: data.length } : {}),
  };
  const upload = await EncryptedMultipartUpload.create(
    ctx.plain,
    { Bucket: ctx.bucket, Key },
    options as MultipartUploadOptions,
  );
  await upload.uploadPart(1, data, { isLastPart: true });
  await upload.complete();
}

export const WRITE_PATHS: readonly WritePath[] = [
  {
    name: 'PutObject (plugin)',
    chunkSize: SMALL,
    shouldRecordSize: true,
    write: (ctx, Key, data) =>
      ctx
        .plugin(SMALL)
        .send(new PutObjectCommand({ Bucket: ctx.bucket, Key, Body: data }))
        .then(() => {}),
  },
  {
    name: 'multipart commands (plugin, lastPart)',
    chunkSize: SMALL,
    shouldRecordSize: false,
    write: (ctx, Key, data) => multipartThroughPlugin(ctx.plugin(SMALL), ctx.bucket, Key, data),
  },
  {
    name: 'EncryptedMultipartUpload',
    chunkSize: SMALL,
    shouldRecordSize: false,
    write: (ctx, Key, data) => lowLevelMultipart(ctx, Key, data, SMALL, false),
  },
  {
    name: 'EncryptedMultipartUpload with plaintextSize',
    chunkSize: SMALL,
    shouldRecordSize: true,
    write: (ctx, Key, data) => lowLevelMultipart(ctx, Key, data, SMALL, true),
  },
  {
    name: 'EncryptedUpload of a stream',
    chunkSize: SMALL,
    shouldRecordSize: false,
    write: async (ctx, Key, data) => {
      await new EncryptedUpload({
        client: ctx.plain,
        params: { Bucket: ctx.bucket, Key, Body: Readable.from(data.length ? [data] : []) },
        encryption: { keyring: victimKeyring(), chunkSize: SMALL },
      }).done();
    },
  },
  {
    name: 'EncryptedUpload of a Buffer',
    chunkSize: SMALL,
    shouldRecordSize: true,
    write: async (ctx, Key, data) => {
      await new EncryptedUpload({
        client: ctx.plain,
        params: { Bucket: ctx.bucket, Key, Body: data },
        encryption: { keyring: victimKeyring(), chunkSize: SMALL },
      }).done();
    },
  },
  {
    name: 'CLI put (64 KiB chunks)',
    chunkSize: DEFAULT,
    shouldRecordSize: true,
    write: async (ctx, Key, data) => {
      const file = join(ctx.tmp, `put-${data.length}-${Key.replace(/\W/g, '_')}`);
      writeFileSync(file, data);
      const run = await runCli([
        'put',
        file,
        `s3://${ctx.bucket}/${Key}`,
        '--state-dir',
        join(ctx.tmp, 'state'),
        ...cliS3Flags(ctx.keyringFile),
      ]);
      rmSync(file, { force: true });
      if (run.exit !== 0) throw new Error(`encrypted-stream put exited ${run.exit}: ${run.stderr}`);
    },
  },
  {
    name: 'CopyObject (plugin) of an EncryptedMultipartUpload',
    chunkSize: SMALL,
    shouldRecordSize: false,
    write: async (ctx, Key, data) => {
      await lowLevelMultipart(ctx, `${Key}.source`, data, SMALL, false);
      await ctx.plugin(SMALL).send(
        new CopyObjectCommand({
          Bucket: ctx.bucket,
          Key,
          CopySource: `${ctx.bucket}/${Key}.source`,
          MetadataDirective: 'REPLACE',
          Metadata: { copied: 'yes' },
        }),
      );
    },
  },
  {
    name: 'rotateObjectKey of a plugin multipart upload',
    chunkSize: SMALL,
    shouldRecordSize: false,
    write: async (ctx, Key, data) => {
      await multipartThroughPlugin(ctx.oldPlugin(SMALL), ctx.bucket, Key, data);
      const rotated = await rotateObjectKey(ctx.plain, { Bucket: ctx.bucket, Key }, { from: victimKeyring() });
      if (!rotated.rotated || rotated.toKeyId !== 'k-new') throw new Error(`not rotated: ${JSON.stringify(rotated)}`);
    },
  },
];

// ---------------------------------------------------------------------------------------------
// In-process read paths

/** The victim's GetObject through the plugin, body consumed piece by piece. */
export async function pluginGet(
  client: S3Client,
  Bucket: string,
  Key: string,
  Range?: string,
): Promise<ReadObservation> {
  const pieces: Buffer[] = [];
  let offset: number | undefined;
  try {
    const out = await client.send(new GetObjectCommand({ Bucket, Key, Range }));
    offset = Range === undefined ? 0 : contentRangeStart(out.ContentRange);
    await consume(out.Body, (p) => pieces.push(Buffer.from(p)));
    return { kind: 'data', data: Buffer.concat(pieces) };
  } catch (error) {
    const claimed = (error as { ActualObjectSize?: string }).ActualObjectSize;
    return {
      kind: 'error',
      code: errorCode(error),
      message: errorMessage(error),
      delivered: Buffer.concat(pieces),
      offset,
      claimedSize: claimed === undefined ? undefined : Number(claimed),
    };
  }
}

export async function pluginHead(
  client: S3Client,
  Bucket: string,
  Key: string,
): Promise<{ kind: 'size'; size: number } | { kind: 'error'; code: string }> {
  try {
    const out = await client.send(new HeadObjectCommand({ Bucket, Key }));
    return { kind: 'size', size: Number(out.ContentLength) };
  } catch (error) {
    return { kind: 'error', code: errorCode(error) };
  }
}

// ---------------------------------------------------------------------------------------------
// The gateway

export interface Gateway {
  readonly origin: string;
  get(path: string, range?: string): Promise<HttpObservation>;
  close(): Promise<void>;
}

/** createGatewayHandler on 127.0.0.1, an ephemeral port, with its own plugin client. */
export async function startGateway(bucket: string, chunkSize: number): Promise<Gateway> {
  const { client } = encryptedClient({ keyring: victimKeyring(), chunkSize });
  const server = http.createServer(createGatewayHandler({ client, scope: { bucket } }));
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get: (path, range) =>
      new Promise<HttpObservation>((resolveGet) => {
        const req = http.request({
          hostname: '127.0.0.1',
          port,
          path,
          agent: false,
          headers: range ? { range } : {},
        });
        let res: http.IncomingMessage | undefined;
        const pieces: Buffer[] = [];
        let settled = false;
        const settle = (ended: boolean) => {
          if (settled) return;
          settled = true;
          resolveGet({
            status: res?.statusCode,
            body: Buffer.concat(pieces),
            ended,
            contentRange: res?.headers['content-range'],
          });
        };
        req.on('error', () => settle(false));
        req.on('response', (response) => {
          res = response;
          response.on('data', (piece: Buffer) => pieces.push(piece));
          response.on('end', () => settle(response.complete));
          response.on('error', () => settle(false));
          response.on('aborted', () => settle(false));
          response.on('close', () => settle(response.complete && response.readableEnded));
        });
        req.end();
      }),
    async close() {
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      client.destroy();
    },
  };
}
