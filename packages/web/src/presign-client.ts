import type { DetachedHeader } from '@encrypted-stream/codec/low-level';
import type { PresignedEncryptedGet } from '@encrypted-stream/s3/presign';
import { EncryptedMediaError, WebErrorCode } from './errors';
import { checkPresignedGet } from './presigned-get';

/**
 * A presigned UploadPart from the app server: `PUT url` with `headers` and a
 * body of exactly `contentLength` bytes (the length is signed).
 * @public
 */
export interface PresignedPart {
  readonly method: 'PUT';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly partNumber: number;
  readonly contentLength: number;
}

/**
 * The app server's presign service (packages/gateway `createPresignService`)
 * as the page and its worker call it: JSON POSTs under `endpoint`.
 * @public
 */
export interface PresignClient {
  get(key: string): Promise<PresignedEncryptedGet>;
  create(key: string, header: DetachedHeader, contentType?: string): Promise<{ uploadId: string }>;
  part(key: string, uploadId: string, partNumber: number, contentLength: number): Promise<PresignedPart>;
  complete(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<{ etag?: string }>;
  abort(key: string, uploadId: string): Promise<void>;
}

/**
 * A {@link PresignClient} for the service at `endpoint` (e.g. `/presign/`,
 * resolved against the page or worker location). Refusals are
 * `ES_PRESIGN_FAILED` errors carrying the service's code and status.
 * @public
 */
export function presignClient(endpoint: string, options: { fetch?: typeof fetch } = {}): PresignClient {
  if (typeof endpoint !== 'string' || endpoint === '') throw new TypeError('endpoint must be a URL or a path');
  const base = endpoint.endsWith('/') ? endpoint : `${endpoint}/`;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const origin = (globalThis as { location?: { href: string } }).location?.href;
  const post = async (route: string, body: unknown): Promise<Record<string, unknown>> => {
    const url = origin ? new URL(base + route, origin).href : base + route;
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
    const answer = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!response.ok || typeof answer !== 'object' || answer === null) {
      const code = (answer?.error as { code?: unknown } | undefined)?.code;
      throw Object.assign(
        new EncryptedMediaError(
          WebErrorCode.PRESIGN_FAILED,
          `the presign service answered ${response.status}${typeof code === 'string' ? ` (${code})` : ''}`,
        ),
        { status: response.status, serviceCode: typeof code === 'string' ? code : undefined },
      );
    }
    return answer;
  };
  return {
    get: async (key) => checkPresignedGet(await post('get', { key }), { key }),
    async create(key, header, contentType) {
      const answer = await post('uploads/create', { key, header, ...(contentType ? { contentType } : {}) });
      if (typeof answer.uploadId !== 'string')
        throw new EncryptedMediaError(WebErrorCode.PRESIGN_FAILED, 'no uploadId');
      return { uploadId: answer.uploadId };
    },
    async part(key, uploadId, partNumber, contentLength) {
      const answer = await post('uploads/part', { key, uploadId, partNumber, contentLength });
      if (typeof answer.url !== 'string' || answer.method !== 'PUT') {
        throw new EncryptedMediaError(WebErrorCode.PRESIGN_FAILED, 'not a presigned part');
      }
      return answer as unknown as PresignedPart;
    },
    async complete(key, uploadId, parts) {
      const answer = await post('uploads/complete', { key, uploadId, parts });
      return typeof answer.etag === 'string' ? { etag: answer.etag } : {};
    },
    async abort(key, uploadId) {
      await post('uploads/abort', { key, uploadId });
    },
  };
}

/**
 * A `resolve` for `serveEncryptedMedia`: the presigned encrypted GET of `key`
 * from the service at `endpoint`, checked to name `key`.
 * @public
 */
export function fetchPresignedGet(
  endpoint: string,
  key: string,
  options: { fetch?: typeof fetch } = {},
): Promise<PresignedEncryptedGet> {
  return presignClient(endpoint, options).get(key);
}
