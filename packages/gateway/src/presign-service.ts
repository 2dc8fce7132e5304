/**
 * An app server's half of "the page decrypts, no server holds a key": it
 * holds S3 credentials and no encryption key, and hands a page presigned
 * requests for objects under one prefix — encrypted GETs (with the object's
 * detached header, for the page's Service Worker to authenticate) and the
 * parts of multipart uploads of ciphertext the page encrypted itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { EncryptedStreamError } from '@encrypted-stream/codec';
import { type PresignFunction, presignEncryptedGet, S3ErrorCode, withEncryption } from '@encrypted-stream/s3';
import { describeError, type GatewayLog } from './logging';
import { PresignServiceError, PresignServiceErrorCode } from './presign-service-errors';
import {
  completedParts,
  contentType,
  encryptionMetadata,
  objectKey,
  onlyFields,
  partLength,
  partNumber,
  readJsonObject,
  uploadId,
} from './presign-service-input';

/**
 * What a page asks the service for; `authorize` sees it with the key.
 * @public
 */
export type PresignAction = 'get' | 'create' | 'part' | 'complete' | 'abort';

/**
 * What `authorize` is told besides the key and action: the upload id of a
 * `part`, `complete` or `abort`, and a `part`'s number (empty for `get` and `create`).
 * @public
 */
export interface PresignRequestDetails {
  readonly uploadId?: string;
  readonly partNumber?: number;
}

/**
 * Options of {@link createPresignService}.
 * @public
 */
export interface PresignServiceOptions {
  /** A client with credentials for `bucket`. No encryption plugin or keyring is needed (or used). */
  readonly client: S3Client;
  /** `getSignedUrl` from `@aws-sdk/s3-request-presigner`. */
  readonly presign: PresignFunction;
  /** The one bucket served. */
  readonly bucket: string;
  /** The folder served: keys under it only (`media` means `media/…`; `''` the whole bucket). */
  readonly prefix: string;
  /**
   * The app's own access control, called after the key is checked against
   * the prefix and before any S3 request: `false` is a 403. Default: allow.
   * `details` names the upload a `part`, `complete` or `abort` is for (and
   * the part number): S3 ties an upload id to its key only, so anyone
   * allowed to write a key can send parts to, complete or abort any upload
   * of that key unless the app checks the id is the caller's (e.g. recorded
   * at `create`, from the answer).
   */
  readonly authorize?: (
    req: IncomingMessage,
    key: string,
    action: PresignAction,
    details: PresignRequestDetails,
  ) => boolean | Promise<boolean>;
  /** Seconds presigned URLs live (default 900). */
  readonly expiresIn?: number;
  /** The path the routes hang under (default `/presign/`): `get`, `uploads/create|part|complete|abort`. */
  readonly basePath?: string;
  /** Receives failures (S3 errors in full, which callers only see as a code). Default: none. */
  readonly log?: GatewayLog;
}

/**
 * A node:http request listener that is also Connect/Express-style
 * middleware: requests outside `basePath` go to `next` (404 without it).
 * @public
 */
export type PresignServiceHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/**
 * The presigned UploadPart the service hands out: send the part's ciphertext
 * as the body of `PUT url` with `headers`; its length is signed.
 * @public
 */
export interface PresignedPartUpload {
  readonly method: 'PUT';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly partNumber: number;
  readonly contentLength: number;
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, JSON_HEADERS).end(JSON.stringify(body));
}

/**
 * Creates the presign service's handler. Routes (all `POST`, JSON bodies):
 *
 * - `get` `{ key }` → `PresignedEncryptedGet` (`presignEncryptedGet`: one HeadObject, the URL bound to the ETag)
 * - `uploads/create` `{ key, header: { h, k, w }, contentType? }` → `{ key, uploadId }`; the header is the
 *   page's `toDetachedHeader(cipher.header)`, stored as the object's encryption metadata
 * - `uploads/part` `{ key, uploadId, partNumber, contentLength }` → {@link PresignedPartUpload}
 * - `uploads/complete` `{ key, uploadId, parts: [{ partNumber, etag }] }` → `{ key, etag }`
 * - `uploads/abort` `{ key, uploadId }` → `{ key, aborted: true }`
 *
 * A body a framework already read is taken from `req.body` (bytes, text, or
 * parsed JSON as `express.json()` leaves it).
 *
 * Refusals are `{ error: { code, message } }` with a 4xx status (see
 * {@link PresignServiceErrorCode}); S3 failures a 502 whose detail goes to `log`.
 * @public
 */
export function createPresignService(options: PresignServiceOptions): PresignServiceHandler {
  const { client, presign, bucket, prefix, authorize, log } = options;
  if (!client || typeof client.send !== 'function') throw new TypeError('options.client must be an S3Client');
  if (typeof presign !== 'function') throw new TypeError('options.presign must be a function such as getSignedUrl');
  if (typeof bucket !== 'string' || bucket === '') throw new TypeError('options.bucket must be a bucket name');
  if (typeof prefix !== 'string') throw new TypeError("options.prefix must be a string ('' for the whole bucket)");
  const expiresIn = options.expiresIn ?? 900;
  if (!Number.isSafeInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
    throw new RangeError('options.expiresIn must be 1 … 604800 seconds');
  }
  const base = options.basePath ?? '/presign/';
  if (!base.startsWith('/') || !base.endsWith('/')) throw new TypeError('options.basePath must start and end with /');

  const allowed = async (req: IncomingMessage, key: string, action: PresignAction, details = {}) => {
    if (authorize && !(await authorize(req, key, action, details))) {
      throw new PresignServiceError(PresignServiceErrorCode.FORBIDDEN, `not allowed to ${action} this key`);
    }
  };

  const routes: Record<string, (req: IncomingMessage, body: Record<string, unknown>) => Promise<unknown>> = {
    async get(req, body) {
      onlyFields(body, ['key']);
      const key = objectKey(body.key, prefix);
      await allowed(req, key, 'get');
      return presignEncryptedGet(client, presign, { Bucket: bucket, Key: key }, { expiresIn });
    },
    async 'uploads/create'(req, body) {
      onlyFields(body, ['key', 'header', 'contentType']);
      const key = objectKey(body.key, prefix);
      const Metadata = encryptionMetadata(body.header);
      const ContentType = contentType(body.contentType);
      await allowed(req, key, 'create');
      const input = { Bucket: bucket, Key: key, Metadata, ...(ContentType ? { ContentType } : {}) };
      const created = await client.send(new CreateMultipartUploadCommand(withEncryption(input, { raw: true })));
      if (!created.UploadId) throw new PresignServiceError(PresignServiceErrorCode.UPSTREAM, 'S3 gave no upload id');
      return { key, uploadId: created.UploadId };
    },
    async 'uploads/part'(req, body) {
      onlyFields(body, ['key', 'uploadId', 'partNumber', 'contentLength']);
      const key = objectKey(body.key, prefix);
      const input = {
        Bucket: bucket,
        Key: key,
        UploadId: uploadId(body.uploadId),
        PartNumber: partNumber(body.partNumber),
        ContentLength: partLength(body.contentLength),
      };
      await allowed(req, key, 'part', { uploadId: input.UploadId, partNumber: input.PartNumber });
      return presignPart(client, presign, input, expiresIn);
    },
    async 'uploads/complete'(req, body) {
      onlyFields(body, ['key', 'uploadId', 'parts']);
      const key = objectKey(body.key, prefix);
      const UploadId = uploadId(body.uploadId);
      const Parts = completedParts(body.parts);
      await allowed(req, key, 'complete', { uploadId: UploadId });
      const input = { Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts } };
      const done = await client.send(new CompleteMultipartUploadCommand(withEncryption(input, { raw: true })));
      return { key, etag: done.ETag };
    },
    async 'uploads/abort'(req, body) {
      onlyFields(body, ['key', 'uploadId']);
      const key = objectKey(body.key, prefix);
      const UploadId = uploadId(body.uploadId);
      await allowed(req, key, 'abort', { uploadId: UploadId });
      await client.send(
        new AbortMultipartUploadCommand(withEncryption({ Bucket: bucket, Key: key, UploadId }, { raw: true })),
      );
      return { key, aborted: true };
    },
  };

  return async (req, res, next) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!path.startsWith(base)) {
      if (next) return next();
      return sendJson(res, 404, { error: { code: PresignServiceErrorCode.NOT_FOUND, message: 'no such route' } });
    }
    const route = Object.hasOwn(routes, path.slice(base.length)) ? routes[path.slice(base.length)] : undefined;
    try {
      if (!route) throw new PresignServiceError(PresignServiceErrorCode.NOT_FOUND, 'no such route');
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        throw new PresignServiceError(PresignServiceErrorCode.METHOD_NOT_ALLOWED, 'use POST');
      }
      const answer = await route(req, await readJsonObject(req));
      sendJson(res, 200, answer);
    } catch (error) {
      const refusal = asRefusal(error);
      if (refusal.status >= 500) {
        log?.({
          level: 'error',
          event: 'presign-failed',
          bucket,
          status: refusal.status,
          detail: describeError(error),
        });
      }
      if (!res.headersSent) sendJson(res, refusal.status, { error: { code: refusal.code, message: refusal.message } });
      else res.destroy();
      // The rest of an unread body is dropped with the connection, not read.
      if (!req.complete) res.once('finish', () => req.destroy());
    }
  };
}

/** An S3 error's name and status, where S3 gave them. */
interface S3Failure {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/** S3 errors that are the caller's doing, passed on by name (never S3's message, which may quote input). */
const CALLER_FAULTS = new Set(['EntityTooSmall', 'InvalidPart', 'InvalidPartOrder', 'MalformedXML']);

/** The refusal an error becomes: the service's own, a 404/422 for S3's, 502 otherwise. */
function asRefusal(error: unknown): PresignServiceError {
  if (error instanceof PresignServiceError) return error;
  if (error instanceof EncryptedStreamError && error.code === S3ErrorCode.NOT_ENCRYPTED) {
    return new PresignServiceError(PresignServiceErrorCode.NOT_ENCRYPTED, 'the object is not encrypted');
  }
  const failure = error as S3Failure;
  const status = failure?.$metadata?.httpStatusCode;
  const name = failure?.name ?? '';
  if (status === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchUpload') {
    return new PresignServiceError(PresignServiceErrorCode.NOT_FOUND, 'no such object or upload');
  }
  if (CALLER_FAULTS.has(name)) {
    return new PresignServiceError(PresignServiceErrorCode.BAD_REQUEST, `S3 refused the parts (${name})`);
  }
  return new PresignServiceError(PresignServiceErrorCode.UPSTREAM, 'the storage request failed');
}

/** Header names the SDK adds for a body checksum: an empty body's when presigning, wrong for the real one. */
const isBodyChecksum = (name: string) => {
  const lower = name.toLowerCase();
  return lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm' || lower === 'content-md5';
};

let presignMiddlewares = 0;

/**
 * Presigns an UploadPart whose `content-length` is signed, without the body
 * checksum headers the SDK computes of the (absent) body.
 */
async function presignPart(
  client: S3Client,
  presign: PresignFunction,
  input: { Bucket: string; Key: string; UploadId: string; PartNumber: number; ContentLength: number },
  expiresIn: number,
): Promise<PresignedPartUpload> {
  const command = new UploadPartCommand(withEncryption(input, { raw: true }));
  command.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      for (const name of Object.keys(request.headers ?? {})) if (isBodyChecksum(name)) delete request.headers?.[name];
      return next(args);
    },
    { step: 'build', priority: 'low', name: `presignServiceNoChecksum${++presignMiddlewares}` },
  );
  const url = await presign(client, command, { expiresIn });
  const signed = (new URL(url).searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
  // A browser sets Host and Content-Length itself (it may not set them); any other signed header would 403.
  const unexpected = signed.filter((name) => name !== 'host' && name !== 'content-length');
  if (unexpected.length > 0 || !signed.includes('content-length')) {
    throw new PresignServiceError(PresignServiceErrorCode.UPSTREAM, 'the presigned part URL signs unexpected headers');
  }
  return { method: 'PUT', url, headers: {}, partNumber: input.PartNumber, contentLength: input.ContentLength };
}
