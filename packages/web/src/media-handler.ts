import type { Keyring } from '@encrypted-stream/codec';
import { planRange, RangeDecoder } from '@encrypted-stream/codec/low-level';
import type { EncryptionOptions } from '@encrypted-stream/s3';
import { openPresignedGet, type PresignedEncryptedGet } from '@encrypted-stream/s3/presign';
import { decryptingBody } from './decrypting-body';
import { EncryptedMediaError, WebErrorCode } from './errors';
import { parsePlaintextRange } from './http-range';
import { safeMediaType } from './media-type';
import { type OpenedObject, OpenedObjects } from './opened-objects';
import { presignedUrlExpiry } from './presigned-expiry';
import { checkPresignedGet } from './presigned-get';

/**
 * One S3 request a media request cost.
 * @public
 */
export interface MediaS3Request {
  /** The ciphertext Range sent. */
  readonly range: string;
  /** S3's status. */
  readonly status: number;
}

/**
 * What the handler did with one request (for logs, metrics and tests). Never
 * holds key material or plaintext.
 * @public
 */
export interface MediaLogEntry {
  /** `served`: a response was made; `failed`: a 502 instead; `body-failed`: the body errored mid-way. */
  readonly event: 'served' | 'failed' | 'body-failed';
  readonly id: string;
  readonly method: string;
  /** The request's Range header, if any. */
  readonly range: string | undefined;
  /** The status answered (not for `body-failed`). */
  readonly status?: number;
  /** The S3 requests this request cost, in order (a refused URL and its retry are two). */
  readonly s3: readonly MediaS3Request[];
  /** How many times `resolve` was called for this request (0 once the object is cached). */
  readonly resolves: number;
  /** The failure's code (`ES_AUTHENTICATION_FAILED`, `ES_S3_FAILED`, …), if any. */
  readonly code?: string;
}

/**
 * Options of {@link createMediaHandler}.
 * @public
 */
export interface MediaHandlerOptions {
  /** A presigned encrypted GET of object `id`, from the app server (see `fetchPresignedGet`). Untrusted. */
  readonly resolve: (id: string) => Promise<PresignedEncryptedGet> | PresignedEncryptedGet;
  /** Unwraps data keys: a keyring, or a function returning one (e.g. `loadKeyring` from IndexedDB). */
  readonly keyring: Keyring | (() => Keyring | Promise<Keyring>);
  /** The context objects were bound to when written (as the writer's `context`; default `'none'`). */
  readonly context?: EncryptionOptions['context'];
  /**
   * The object `id` must be: a presigned GET naming another bucket or key is
   * refused. Without it, the app server decides which object an id is.
   */
  readonly locate?: (id: string) => { readonly bucket?: string; readonly key: string };
  /**
   * The Content-Type of responses, when the caller knows it. Default: S3's,
   * if it is an audio or video type (see `safeMediaType`), else
   * `application/octet-stream`.
   */
  readonly contentType?: string | ((id: string) => string | undefined);
  /** Opened objects kept (default 64). */
  readonly cacheSize?: number;
  /** Seconds before a URL's expiry at which it is resolved anew (default 30). */
  readonly refreshMarginSeconds?: number;
  /** Receives one entry per request, and one more if a body fails. */
  readonly log?: (entry: MediaLogEntry) => void;
  /** The fetch used for S3 (default: the global one). */
  readonly fetch?: typeof fetch;
  /** The clock, in ms since the epoch (default `Date.now`). */
  readonly now?: () => number;
}

/**
 * Answers media requests for encrypted objects.
 * @public
 */
export interface MediaHandler {
  /**
   * The response to `request` (GET or HEAD) for object `id`: 206 for a
   * satisfiable Range, 200 without one (or with several), 416 with
   * `Content-Range: bytes *\/size`, all in plaintext terms; 502 when the
   * object cannot be opened or S3 fails. Costs exactly one ranged S3 GET of
   * the chunks the range needs once the object is open (two if S3 refused the
   * URL, 403/412, and it was resolved anew).
   */
  handle(request: Request, id: string): Promise<Response>;
  /** Forgets object `id` (e.g. after the app replaced it): the next request resolves it anew. */
  forget(id: string): void;
}

/** Headers of every decrypted answer: the media type is S3 metadata, so nothing here runs as a document. */
const FIXED_HEADERS = {
  'accept-ranges': 'bytes',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin",
};

const sameObject = (a: PresignedEncryptedGet, b: PresignedEncryptedGet) =>
  a.bucket === b.bucket &&
  a.key === b.key &&
  a.ciphertextSize === b.ciphertextSize &&
  a.headers['if-match'] !== undefined &&
  a.headers['if-match'] === b.headers['if-match'] &&
  ['es-h', 'es-k', 'es-w'].every((name) => a.encryption[name] === b.encryption[name]);

const codeOf = (error: unknown) =>
  (error as { code?: unknown })?.code && typeof (error as { code: unknown }).code === 'string'
    ? (error as { code: string }).code
    : ((error as Error)?.name ?? 'Error');

/**
 * Creates the request handler a Service Worker's `fetch` listener calls (see
 * `serveEncryptedMedia`); plain `Request` in, `Response` out, so it runs and
 * is tested anywhere fetch does.
 * @public
 */
export function createMediaHandler(options: MediaHandlerOptions): MediaHandler {
  if (typeof options?.resolve !== 'function') throw new TypeError('options.resolve must be a function');
  if (!options.keyring || (typeof options.keyring !== 'function' && typeof options.keyring !== 'object')) {
    throw new TypeError('options.keyring must be a Keyring or a function returning one');
  }
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;
  const capacity = options.cacheSize ?? 64;
  const margin = options.refreshMarginSeconds ?? 30;
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('cacheSize must be a positive integer');
  if (!Number.isFinite(margin) || margin < 0) throw new RangeError('refreshMarginSeconds must be >= 0');
  let resolves = 0;

  const open = async (id: string, previous: OpenedObject | undefined): Promise<OpenedObject> => {
    resolves++;
    let answer: unknown;
    try {
      answer = await options.resolve(id);
    } catch (error) {
      throw new EncryptedMediaError(WebErrorCode.RESOLVE_FAILED, 'resolve() failed', { cause: error });
    }
    const get = checkPresignedGet(answer, options.locate?.(id));
    const expiresAt = presignedUrlExpiry(get.url);
    // The same object re-signed (its URL expired): the opened header still holds, no second unwrap.
    if (previous && sameObject(previous.get, get)) return { ...previous, get, expiresAt };
    const keyring = typeof options.keyring === 'function' ? await options.keyring() : options.keyring;
    const opened = await openPresignedGet(get, { keyring, context: options.context });
    return { get, expiresAt, ...opened };
  };
  const objects = new OpenedObjects(open, { capacity, marginMs: margin * 1000, now });
  const typeFor = (id: string) =>
    typeof options.contentType === 'function' ? options.contentType(id) : options.contentType;

  async function handle(request: Request, id: string): Promise<Response> {
    const method = request.method.toUpperCase();
    const rangeHeader = request.headers.get('range') ?? undefined;
    const s3: MediaS3Request[] = [];
    const resolvesBefore = resolves;
    const log = (event: MediaLogEntry['event'], fields: { status?: number; code?: string }) =>
      options.log?.({
        event,
        id,
        method,
        range: rangeHeader,
        s3: [...s3],
        resolves: resolves - resolvesBefore,
        ...fields,
      });
    if (method !== 'GET' && method !== 'HEAD') {
      log('served', { status: 405 });
      return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
    }
    try {
      let entry = await objects.get(id);
      for (let attempt = 0; ; attempt++) {
        const range = parsePlaintextRange(rangeHeader, entry.plaintextSize);
        if (range.kind === 'unsatisfiable') {
          log('served', { status: 416 });
          return new Response(null, {
            status: 416,
            headers: { ...FIXED_HEADERS, 'content-range': `bytes */${entry.plaintextSize}` },
          });
        }
        const headers: Record<string, string> = {
          ...FIXED_HEADERS,
          'content-length': String(range.end - range.start),
        };
        const status = range.kind === 'partial' ? 206 : 200;
        if (status === 206) headers['content-range'] = `bytes ${range.start}-${range.end - 1}/${entry.plaintextSize}`;
        if (method === 'HEAD') {
          headers['content-type'] = typeFor(id) ?? 'application/octet-stream';
          log('served', { status });
          return new Response(null, { status, headers });
        }
        const { cipher, plaintextSize, ciphertextSize, get } = entry;
        const plan = planRange(range.start, range.end, cipher.chunkSize, plaintextSize);
        const cipherEnd = Math.min(plan.cipherEnd, ciphertextSize);
        const s3Range = `bytes=${plan.cipherStart}-${cipherEnd - 1}`;
        const response = await fetchImpl(get.url, {
          method: 'GET',
          headers: { ...requestHeaders(get.headers), range: s3Range },
          mode: 'cors',
          credentials: 'omit',
          cache: 'no-store',
          redirect: 'error',
          signal: request.signal,
        });
        s3.push({ range: s3Range, status: response.status });
        if ((response.status === 403 || response.status === 412) && attempt === 0) {
          // Expired (403) or the object changed (412, If-Match): resolve anew, once.
          await response.body?.cancel().catch(() => {});
          // Concurrent requests refused together share one new resolve.
          entry = await objects.reopen(id, entry, response.status !== 412);
          continue;
        }
        checkCiphertextResponse(response, plan.cipherStart, cipherEnd, ciphertextSize);
        const decoder = new RangeDecoder(cipher, {
          firstChunk: plan.firstChunk,
          plaintextSize,
          expectFinal: cipherEnd === ciphertextSize,
          cipherLength: cipherEnd - plan.cipherStart,
          skip: plan.skip,
          length: plan.length,
        });
        headers['content-type'] = typeFor(id) ?? safeMediaType(response.headers.get('content-type'));
        const body = decryptingBody(
          response.body as ReadableStream<Uint8Array>,
          decoder,
          (error) => log('body-failed', { code: codeOf(error) }),
          cipherEnd - plan.cipherStart,
        );
        log('served', { status });
        return new Response(body, { status, headers });
      }
    } catch (error) {
      log('failed', { status: 502, code: codeOf(error) });
      // The code only: no message, which might describe the object or the request.
      return new Response(`cannot serve this object (${codeOf(error)})`, {
        status: 502,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      });
    }
  }

  return {
    handle,
    forget: (id) => {
      objects.forget(id).catch(() => {});
    },
  };
}

/**
 * Throws ES_S3_FAILED unless S3 answered the ciphertext range asked for: a
 * 206 whose Content-Range (when CORS exposes it) is exactly that range of an
 * object of the size the header was opened with, or a 200 of the whole body.
 * The body's length is checked as it streams (decryptingBody, RangeDecoder).
 */
function checkCiphertextResponse(response: Response, start: number, end: number, size: number): void {
  const fail = (why: string) => {
    response.body?.cancel().catch(() => {});
    return new EncryptedMediaError(WebErrorCode.S3_FAILED, why);
  };
  if (!response.body) throw fail('S3 answered without a body');
  if (response.status === 200 && start === 0 && end === size) return;
  if (response.status !== 206) throw fail(`S3 answered ${response.status} to a ranged GET`);
  const contentRange = response.headers.get('content-range');
  if (contentRange !== null && contentRange !== `bytes ${start}-${end - 1}/${size}`) {
    throw fail('S3 answered another range than the one asked for');
  }
}

/** Headers S3 must not see from the app server's answer: the handler alone chooses which bytes come back. */
const HANDLER_HEADERS = new Set(['range', 'if-range']);

/** The presigned GET's headers (untrusted), without any that would change the range S3 answers. */
function requestHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HANDLER_HEADERS.has(name.toLowerCase())));
}
