import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A sharing link for `path` valid until `expiresAt`:
 * `path?expires=UNIX_SECONDS&signature=base64url(HMAC-SHA256(key, path + "\n" + expires))`.
 * @public
 */
export function signPath(path: string, key: Uint8Array, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `${path}?expires=${expires}&signature=${signature(path, expires, key)}`;
}

function signature(path: string, expires: number, key: Uint8Array): string {
  return createHmac('sha256', key).update(`${path}\n${expires}`).digest('base64url');
}

/** Whether a request carries a valid, unexpired signature for its exact raw path (constant-time compare). */
export function verifySignedPath(path: string, query: URLSearchParams, key: Uint8Array, now = Date.now()): boolean {
  const expires = Number(query.get('expires'));
  const given = Buffer.from(query.get('signature') ?? '', 'utf8');
  if (!Number.isSafeInteger(expires) || expires * 1000 < now) return false;
  const expected = Buffer.from(signature(path, expires, key), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
