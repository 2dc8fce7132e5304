import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type GetObjectCommandInput, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EncryptedStreamError } from '@encrypted-stream/codec';
import { parseRange } from '@encrypted-stream/s3';
import { HostAllowList } from './allowed-hosts';
import { ConcurrencyLimit } from './concurrency-limit';
import { etagListMatches, ifRangeHolds } from './conditional';
import { DEFAULT_INLINE_TYPES, inlinePatterns, isInline, safeContentType } from './content-type';
import { type GatewayScope, resolveObjectPath } from './object-path';
import { SECURITY_HEADERS } from './security-headers';
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
  /** Receives events (failures, aborts, refusals). Default: none. */
  readonly log?: (entry: GatewayLogEntry) => void;
  /**
   * Host names (or IP addresses) the gateway also answers to, any port, in
   * addition to `localhost`, `127.0.0.1`, `[::1]` and the address the
   * connection arrived on. Any other `Host` (or none) gets 421 with no S3
   * request: a DNS-rebinding page, whose name now points at the gateway, is
   * refused. List the names users (or a reverse proxy) put in URLs.
   */
  readonly allowedHosts?: readonly string[];
  /**
   * Media types (`type/subtype` or `type/*`) shown inline; every other
   * response carries `Content-Disposition: attachment`. Replaces the default,
   * {@link DEFAULT_INLINE_TYPES}; `[]` makes every object a download.
   */
  readonly inlineTypes?: readonly string[];
  /**
   * Requests served at once (each holds one S3 request at a time, from its
   * first S3 request until its response ends). Default 32.
   */
  readonly maxConcurrentRequests?: number;
  /** Requests that may wait for a slot; beyond, 503 with Retry-After. Default 4 × maxConcurrentRequests. */
  readonly maxQueuedRequests?: number;
  /** How long a request waits for a slot before a 503 with Retry-After, in ms. Default 30 000. */
  readonly queueTimeoutMs?: number;
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

function representationHeaders(
  out: { ContentType?: string; ContentLength?: number; ETag?: string; LastModified?: Date },
  inline: readonly string[],
): Record<string, string> {
  const type = safeContentType(out.ContentType);
  const headers: Record<string, string> = {
    'accept-ranges': 'bytes',
    'content-type': type,
    'cache-control': 'private, no-transform',
  };
  // The type is unauthenticated metadata: anything that is not plain media is a download, never a document.
  if (!isInline(type, inline)) headers['content-disposition'] = 'attachment';
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
 * Nothing is ever written to disk. Every response it answers carries
 * {@link SECURITY_HEADERS}; requests for other hosts get 421 (see
 * `allowedHosts`); at most `maxConcurrentRequests` are served at once, the
 * next ones wait in a bounded queue or get 503 with Retry-After.
 * @throws TypeError / RangeError for invalid options.
 * @public
 */
export function createGatewayHandler(options: GatewayOptions): GatewayHandler {
  const { client, scope, signingKey } = options;
  const log = options.log ?? (() => {});
  const hosts = new HostAllowList(options.allowedHosts);
  const inline = inlinePatterns(options.inlineTypes ?? DEFAULT_INLINE_TYPES);
  const max = options.maxConcurrentRequests ?? 32;
  const limit = new ConcurrencyLimit(max, options.maxQueuedRequests ?? 4 * max, options.queueTimeoutMs ?? 30_000);

  async function serve(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) {
    const url = splitTarget(req.url ?? '/');
    const method = req.method ?? 'GET';
    const target = resolveObjectPath(url.pathname, scope);
    if (!target && next) return next(); // not ours: the app's other routes (and their headers) answer
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const host = req.headers.host ?? (req.headers[':authority'] as string | undefined);
    const local = req.socket?.localAddress;
    if (!hosts.allows(host, local) || (url.authority !== undefined && !hosts.allows(url.authority, local))) {
      log({
        level: 'warn',
        event: 'host-refused',
        status: 421,
        detail: `Host: ${asciiOnly(String(host).slice(0, 200))}`,
      });
      return end(res, 421);
    }
    if (!target) return end(res, 404);
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return end(res, 405);
    }
    if (signingKey && !verifySignedPath(url.pathname, url.searchParams, signingKey)) return end(res, 403);
    const { bucket, key } = target;
    const abort = new AbortController();
    let cut = false; // the gateway cut the response itself (a body that failed): the client is not gone
    res.on('close', () => {
      if (!res.writableFinished && !cut) {
        abort.abort();
        log({ level: 'info', event: 'client-gone', bucket, key });
      }
    });
    const slot = await limit.acquire(abort.signal);
    if (!slot.granted) {
      if (slot.reason === 'aborted') return;
      log({ level: 'warn', event: 'overloaded', bucket, key, status: 503, detail: slot.reason });
      return end(res, 503, { 'retry-after': '1' });
    }
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
          return end(res, 304, validatorHeaders(out));
        }
        res.writeHead(200, representationHeaders(out, inline));
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
        return end(res, 304, validatorHeaders(out));
      }
      const headers = representationHeaders(out, inline);
      if (range && out.ContentRange) headers['content-range'] = out.ContentRange;
      res.writeHead(range ? 206 : 200, headers);
      const body = out.Body as NodeJS.ReadableStream;
      // Set before pipeline destroys `res`, whichever of its rejection and res' 'close' comes first.
      body.once('error', () => {
        if (!abort.signal.aborted) cut = true;
      });
      try {
        await pipeline(body, res);
      } catch (error) {
        if (abort.signal.aborted) return;
        cut = true;
        // Headers are gone: the only honest signal left is an abrupt end of the connection.
        log({ level: 'error', event: 'body-failed', bucket, key, detail: describe(error) });
        res.destroy(error as Error);
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      await failure(res, error as S3Failure, bucket, key, ifNoneMatch);
    } finally {
      slot.release(); // after failure(): its HeadObject is one of this request's S3 requests
    }
  }

  async function failure(res: ServerResponse, error: S3Failure, bucket: string, key: string, ifNoneMatch?: string) {
    const status = error.$metadata?.httpStatusCode;
    if (status === 304 || error.name === 'NotModified') {
      return end(res, 304, validatorHeaders(await currentValidators(bucket, key, ifNoneMatch)));
    }
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

  /**
   * S3's own 304 is an error without headers, but a 304 must carry the ETag
   * (RFC 9110 §15.4.5). After a single-tag If-None-Match it is that tag (S3's
   * ETags are strong); otherwise (If-Modified-Since) one HeadObject finds it.
   */
  async function currentValidators(
    bucket: string,
    key: string,
    ifNoneMatch: string | undefined,
  ): Promise<{ ETag?: string; LastModified?: Date }> {
    const single = ifNoneMatch === undefined ? null : /^\s*(?:W\/)?("[^",]*")\s*$/.exec(ifNoneMatch);
    if (single) return { ETag: single[1] };
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch {
      return {};
    }
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

/** What a 304 carries (RFC 9110 §15.4.5): the validators and Cache-Control, no Content-Length. */
function validatorHeaders(out: { ETag?: string; LastModified?: Date }): Record<string, string> {
  const headers: Record<string, string> = { 'cache-control': 'private, no-transform' };
  if (out.ETag) headers.etag = out.ETag;
  if (out.LastModified) headers['last-modified'] = out.LastModified.toUTCString();
  return headers;
}

/**
 * The path and query of a request target exactly as sent, and the authority
 * of an absolute-form target. Not WHATWG URL parsing: it would resolve
 * `.`/`..` (also percent-encoded) and turn `\` into `/` before
 * resolveObjectPath could refuse them, making aliases of keys.
 */
function splitTarget(target: string): { pathname: string; searchParams: URLSearchParams; authority?: string } {
  const origin = /^[a-z][a-z\d+.-]*:\/\/([^/?#]*)/i.exec(target); // absolute-form (RFC 9112 §3.2.2)
  const rest = origin ? target.slice(origin[0].length) || '/' : target;
  const q = rest.indexOf('?');
  return {
    pathname: q < 0 ? rest : rest.slice(0, q),
    searchParams: new URLSearchParams(q < 0 ? '' : rest.slice(q + 1)),
    ...(origin ? { authority: origin[1] } : {}),
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

/** An attacker's header for a log line: anything but printable ASCII escaped (no terminal controls, no bidi). */
function asciiOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
  // A 304 has no content, and a Content-Length in it would describe the 200's (RFC 9110 §8.6).
  res.writeHead(status, status === 304 ? headers : { 'content-length': '0', ...headers });
  res.end();
}
