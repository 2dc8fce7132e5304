import type { PresignedEncryptedGet } from '@encrypted-stream/s3/presign';
import { EncryptedMediaError, WebErrorCode } from './errors';

const resolveFailed = (message: string) => new EncryptedMediaError(WebErrorCode.RESOLVE_FAILED, message);

/**
 * Checks that `value` (what the app server answered, JSON-parsed) has the
 * shape of a presigned encrypted GET: an http(s) URL, string headers, a
 * string map of encryption metadata and a size. It stays untrusted: the
 * header in it is authenticated when the object is opened, and the bytes the
 * URL returns chunk by chunk. `expected`, when given, is the object the
 * caller asked for: an answer naming another one, or whose URL is not a GET
 * of the object it names (path-style or virtual-hosted), is refused. That
 * stops a mistaken app server; one that turns hostile holds bucket write
 * access and can copy another object to this key — only `context:
 * 'location'` (the header bound to the key) stops that.
 * @public
 */
export function checkPresignedGet(
  value: unknown,
  expected?: { readonly bucket?: string; readonly key: string },
): PresignedEncryptedGet {
  if (typeof value !== 'object' || value === null) throw resolveFailed('resolve() returned no object');
  const get = value as Record<string, unknown>;
  let url: URL;
  try {
    url = new URL(String(get.url));
  } catch {
    throw resolveFailed('the presigned GET has no valid url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw resolveFailed('the presigned url is not http(s)');
  if (get.method !== 'GET') throw resolveFailed('the presigned request is not a GET');
  for (const field of ['headers', 'encryption'] as const) {
    const map = get[field];
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw resolveFailed(`${field} is not a map`);
    if (!Object.values(map).every((v) => typeof v === 'string')) throw resolveFailed(`${field} holds a non-string`);
  }
  if (typeof get.bucket !== 'string' || typeof get.key !== 'string') throw resolveFailed('bucket or key missing');
  if (!Number.isSafeInteger(get.ciphertextSize) || (get.ciphertextSize as number) < 0) {
    throw resolveFailed('ciphertextSize is not a size');
  }
  if (expected && (get.key !== expected.key || (expected.bucket !== undefined && get.bucket !== expected.bucket))) {
    throw resolveFailed('the presigned GET is for another object than the one asked for');
  }
  // The URL must fetch the object the answer names: with `context: 'none'` nothing in the header ties the
  // ciphertext to a key, so an answer naming this object with another object's URL would play that one.
  if (expected && !urlNamesObject(url, get.bucket, get.key)) {
    throw resolveFailed('the presigned url is not a GET of the object the answer names');
  }
  return get as unknown as PresignedEncryptedGet;
}

/**
 * Whether `url` is an S3 URL of `bucket`/`key`: path-style (`/bucket/key`)
 * or virtual-hosted (`bucket.host/key`).
 */
function urlNamesObject(url: URL, bucket: string, key: string): boolean {
  let path: string;
  try {
    path = url.pathname.split('/').map(decodeURIComponent).join('/');
  } catch {
    return false;
  }
  return path === `/${bucket}/${key}` || (path === `/${key}` && url.hostname.startsWith(`${bucket}.`));
}
