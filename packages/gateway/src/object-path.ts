/**
 * Where the gateway may read: one bucket (optionally under a prefix), or
 * several `bucket` / `bucket/folder` entries addressed as `/bucket/key`.
 * A prefix or an entry's folder is a whole path segment: `{ prefix: 'pub' }`
 * (or `'pub/'`), like `media/pub`, allows keys under `pub/`, never
 * `public/…` or `pub-private/…`; an empty or absent one allows the bucket.
 * @public
 */
export type GatewayScope =
  | { readonly bucket: string; readonly prefix?: string }
  | { readonly allow: readonly string[] };

/**
 * A prefix as a folder: `''` stays `''` (the whole bucket), `backups` becomes
 * `backups/`, so the folder never matches keys that merely start like it.
 * @public
 */
export function folderPrefix(prefix: string | undefined): string {
  return !prefix || prefix.endsWith('/') ? (prefix ?? '') : `${prefix}/`;
}

/**
 * Maps a request path to an object, or `undefined` (404). Each segment is
 * percent-decoded once; a segment that decodes to something containing a
 * slash or backslash, a NUL, `.` or `..`, or an empty segment, is refused, so
 * no spelling of a path reaches an object outside the scope.
 */
export function resolveObjectPath(rawPath: string, scope: GatewayScope): { bucket: string; key: string } | undefined {
  if (!rawPath.startsWith('/') || rawPath.length > 2048) return undefined;
  const segments: string[] = [];
  for (const raw of rawPath.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return undefined;
    segments.push(segment);
  }
  if ('bucket' in scope) {
    const key = `${folderPrefix(scope.prefix)}${segments.join('/')}`;
    return segments.length > 0 ? { bucket: scope.bucket, key } : undefined;
  }
  const [bucket, ...rest] = segments;
  if (!bucket || rest.length === 0) return undefined;
  const key = rest.join('/');
  const allowed = scope.allow.some((entry) => {
    const slash = entry.indexOf('/');
    const allowedBucket = slash < 0 ? entry : entry.slice(0, slash);
    return allowedBucket === bucket && key.startsWith(folderPrefix(slash < 0 ? '' : entry.slice(slash + 1)));
  });
  return allowed ? { bucket, key } : undefined;
}
