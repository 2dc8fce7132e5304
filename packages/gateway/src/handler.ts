import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type GetObjectCommandInput, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EncryptedStreamError } from '@encrypted-stream/codec';
import { parseRange } from '@encrypted-stream/s3';
import { etagListMatches, ifRangeHolds } from './conditional';
import { type GatewayScope, resolveObjectPath } from './object-path';
import { verifySignedPath } from './signed-links';

/**
 * One gateway event, for logs.
 * @public
 */
export interface GatewayLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly event: string;
  readonly bucket?: string;
  readonly key?: string;
  readonly status?: number;
  readonly detail?: string;
}

/**
 * Options of {@link createGatewayHandler}.
 * @public
 */
export interface GatewayOptions {
  /** An S3Client with the encryption plugin applied. */
  readonly client: S3Client;
  /** The objects the gateway may serve; everything else is 404. */
  readonly scope: GatewayScope;
  /** When set, every request needs a valid signed link (see `signPath`). */
  readonly signingKey?: Uint8Array;
  /** Receives events (failures, aborts). Default: none. */
  readonly log?: (entry: GatewayLogEntry) => void;
}

/** A node:http request listener that is also Connect/Express-style middleware. @public */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

interface S3Failure {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  ActualObjectSize?: string;
}

/** The one byte range a request asks for; multiple or malformed ranges are ignored (RFC 9110 §14.2). */
function singleRange(header: string | undefined): string | undefined {
  if (!header || header.includes(',')) return undefined;
  try {
    parseRange(header);
    return header.trim();
  } catch {
    return undefined;
  }
}

function representationHeaders(out: {
  ContentType?: string;
  ContentLength?: number;
  ETag?: string;
  LastModified?: Date;
}): Record<string, string> {
  const headers: Record<string, string> = {
    'accept-ranges': 'bytes',
    'content-type': out.ContentType ?? 'application/octet-stream',
    'x-content-type-options': 'nosniff',
    'cache-control': 'private, no-transform',
  };
  if (out.ContentLength !== undefined) headers['content-length'] = String(out.ContentLength);
  if (out.ETag) headers.etag = out.ETag;
  if (out.LastModified) headers['last-modified'] = out.LastModified.toUTCString();
  return headers;
}

/**
 * An HTTP handler streaming decrypted objects (GET and HEAD): single byte
 * ranges answered with 206 and a plaintext Content-Range, one ranged S3
 * request each; 416 with `bytes *\/size`; ETag / Last-Modified with
 * If-None-Match and If-Modified-Since (304) and If-Range. When the client
 * goes away the S3 request is aborted; when a chunk fails authentication
 * mid-response the connection is cut (never a clean end after wrong bytes).
 * Nothing is ever written to disk.
 * @public
 */
export function createGatewayHandler(options: GatewayOptions): GatewayHandler {
  const { client, scope, signingKey } = options;
  const log = options.log ?? (() => {});

  async function serve(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const method = req.method ?? 'GET';
    const target = resolveObjectPath(url.pathname, scope);
    if (!target) {
      if (next) return next();
      return end(res, 404);
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return end(res, 405);
    }
    if (signingKey && !verifySignedPath(url.pathname, url.searchParams, signingKey)) return end(res, 403);
    const { bucket, key } = target;
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) {
        abort.abort();
        log({ level: 'info', event: 'client-gone', bucket, key });
      }
    });
    const conditions: Partial<GetObjectCommandInput> = {};
    const ifNoneMatch = req.headers['if-none-match'];
    const ifModifiedSince = req.headers['if-modified-since'];
    if (ifNoneMatch) conditions.IfNoneMatch = ifNoneMatch;
    else if (ifModifiedSince && Number.isFinite(Date.parse(ifModifiedSince))) {
      conditions.IfModifiedSince = new Date(ifModifiedSince);
    }
    try {
      if (method === 'HEAD') {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...conditions }), {
          abortSignal: abort.signal,
        });
        if (notModified(ifNoneMatch, ifModifiedSince, out.ETag, out.LastModified)) {
          return end(res, 304, out.ETag ? { etag: out.ETag } : {});
        }
        res.writeHead(200, representationHeaders(out));
        return res.end();
      }
      let range = singleRange(req.headers.range);
      const ifRange = req.headers['if-range'] as string | undefined;
      let out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, ...conditions }), {
        abortSignal: abort.signal,
      });
      if (range && ifRange && !ifRangeHolds(ifRange, out.ETag, out.LastModified)) {
        // The representation changed: the whole of it is due (RFC 9110 §13.1.5), at the cost of a second request.
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        range = undefined;
        out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...conditions }), {
          abortSignal: abort.signal,
        });
      }
      // Servers that ignore the conditions (or lists of ETags) still get a correct 304.
      if (notModified(ifNoneMatch, ifModifiedSince, out.ETag, out.LastModified)) {
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        return end(res, 304, out.ETag ? { etag: out.ETag } : {});
      }
      const headers = representationHeaders(out);
      if (range && out.ContentRange) headers['content-range'] = out.ContentRange;
      res.writeHead(range ? 206 : 200, headers);
      try {
        await pipeline(out.Body as NodeJS.ReadableStream, res);
      } catch (error) {
        if (abort.signal.aborted) return;
        // Headers are gone: the only honest signal left is an abrupt end of the connection.
        log({ level: 'error', event: 'body-failed', bucket, key, detail: describe(error) });
        res.destroy(error as Error);
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      await failure(res, error as S3Failure, bucket, key);
    }
  }

  async function failure(res: ServerResponse, error: S3Failure, bucket: string, key: string) {
    const status = error.$metadata?.httpStatusCode;
    if (status === 304 || error.name === 'NotModified') return end(res, 304);
    if (status === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound') return end(res, 404);
    if (status === 412) return end(res, 412);
    if (status === 416 || error.name === 'InvalidRange') {
      const size = await plaintextSize(bucket, key, error);
      return end(res, 416, size === undefined ? {} : { 'content-range': `bytes */${size}` });
    }
    const detail = describe(error);
    log({
      level: 'error',
      event: error instanceof EncryptedStreamError ? 'decrypt-failed' : 's3-failed',
      bucket,
      key,
      detail,
    });
    return end(res, 502);
  }

  async function plaintextSize(bucket: string, key: string, error: S3Failure): Promise<number | undefined> {
    // The plugin reports S3's 416 with the plaintext size.
    if (error.ActualObjectSize !== undefined) return Number(error.ActualObjectSize);
    try {
      return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength;
    } catch {
      return undefined;
    }
  }

  return (req, res, next) => {
    serve(req, res, next).catch((error) => {
      log({ level: 'error', event: 'internal', detail: describe(error) });
      if (!res.headersSent) end(res, 500);
      else res.destroy();
    });
  };
}

/** RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since. */
function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  etag: string | undefined,
  lastModified: Date | undefined,
): boolean {
  if (ifNoneMatch) return etagListMatches(ifNoneMatch, etag);
  const since = ifModifiedSince ? Date.parse(ifModifiedSince) : Number.NaN;
  return Number.isFinite(since) && lastModified !== undefined && lastModified.getTime() <= since;
}

function describe(error: unknown): string {
  const e = error as { code?: string; name?: string; message?: string };
  return [e?.code ?? e?.name, e?.message].filter(Boolean).join(': ');
}

function end(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-length': '0', ...headers });
  res.end();
}
