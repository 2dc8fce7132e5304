/** An entity tag list (`If-None-Match`) contains `etag`, weakly compared (RFC 9110 §13.1.2). */
export function etagListMatches(header: string, etag: string | undefined): boolean {
  if (header.trim() === '*') return etag !== undefined;
  if (!etag) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}

/**
 * Whether `If-Range` still holds for the representation (RFC 9110 §13.1.5):
 * a strong ETag must match exactly; a date must equal Last-Modified.
 */
export function ifRangeHolds(header: string, etag: string | undefined, lastModified: Date | undefined): boolean {
  const value = header.trim();
  if (value.startsWith('"')) return etag !== undefined && !etag.startsWith('W/') && value === etag;
  if (value.startsWith('W/')) return false;
  const date = Date.parse(value);
  return (
    Number.isFinite(date) && lastModified !== undefined && Math.floor(lastModified.getTime() / 1000) * 1000 === date
  );
}
