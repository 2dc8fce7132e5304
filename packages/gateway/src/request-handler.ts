import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { HostAllowList } from './allowed-hosts';
import { ConcurrencyLimit } from './concurrency-limit';
import { ifRangeHolds, notModified, requestConditions } from './conditional';
import { DEFAULT_INLINE_TYPES, inlinePatterns } from './content-type';
import { asciiOnly, describeError, type GatewayLog } from './logging';
import type { GatewayScope } from './object-path';
import { end, representationHeaders, singleRange, validatorHeaders } from './responses';
import { routeRequest } from './routing';
import { answerS3Failure, type S3Failure } from './s3-errors';
import { SECURITY_HEADERS } from './security-headers';

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
  readonly log?: GatewayLog;
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
    const route = routeRequest(req, { scope, hosts, signingKey, hasNext: next !== undefined });
    if (route.kind === 'next') return next?.(); // not ours: the app's other routes (and their headers) answer
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (route.kind === 'refused') {
      if (route.status === 421) {
        log({
          level: 'warn',
          event: 'host-refused',
          status: 421,
          detail: `Host: ${asciiOnly(String(route.host).slice(0, 200))}`,
        });
      }
      if (route.status === 405) res.setHeader('allow', 'GET, HEAD');
      return end(res, route.status);
    }
    const { method, bucket, key } = route;
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
    const conditions = requestConditions(req.headers);
    try {
      if (method === 'HEAD') {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...conditions.s3 }), {
          abortSignal: abort.signal,
        });
        if (notModified(conditions, out.ETag, out.LastModified)) return end(res, 304, validatorHeaders(out));
        res.writeHead(200, representationHeaders(out, inline));
        return res.end();
      }
      let range = singleRange(req.headers.range);
      const ifRange = req.headers['if-range'] as string | undefined;
      let out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range, ...conditions.s3 }), {
        abortSignal: abort.signal,
      });
      if (range && ifRange && !ifRangeHolds(ifRange, out.ETag, out.LastModified)) {
        // The representation changed: the whole of it is due (RFC 9110 §13.1.5), at the cost of a second request.
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        range = undefined;
        out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...conditions.s3 }), {
          abortSignal: abort.signal,
        });
      }
      if (notModified(conditions, out.ETag, out.LastModified)) {
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
        log({ level: 'error', event: 'body-failed', bucket, key, detail: describeError(error) });
        res.destroy(error as Error);
      }
    } catch (error) {
      if (abort.signal.aborted) return;
      await answerS3Failure(res, error as S3Failure, {
        client,
        log,
        bucket,
        key,
        ifNoneMatch: conditions.ifNoneMatch,
      });
    } finally {
      slot.release(); // after answerS3Failure(): its HeadObject is one of this request's S3 requests
    }
  }

  return (req, res, next) => {
    serve(req, res, next).catch((error) => {
      log({ level: 'error', event: 'internal', detail: describeError(error) });
      if (!res.headersSent) end(res, 500);
      else res.destroy();
    });
  };
}
