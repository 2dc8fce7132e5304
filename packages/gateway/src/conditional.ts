import type { IncomingHttpHeaders } from 'node:http';

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

/** A request's cache validators, and the same as S3 conditions (so S3 answers 304 without a body). */
export interface RequestConditions {
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly s3: { IfNoneMatch?: string; IfModifiedSince?: Date };
}

/** Reads If-None-Match and If-Modified-Since; the latter only counts without the former (RFC 9110 §13.1.3). */
export function requestConditions(headers: IncomingHttpHeaders): RequestConditions {
  const ifNoneMatch = headers['if-none-match'];
  const ifModifiedSince = headers['if-modified-since'];
  const s3: RequestConditions['s3'] = {};
  if (ifNoneMatch) s3.IfNoneMatch = ifNoneMatch;
  else if (ifModifiedSince && Number.isFinite(Date.parse(ifModifiedSince))) {
    s3.IfModifiedSince = new Date(ifModifiedSince);
  }
  return { ifNoneMatch, ifModifiedSince, s3 };
}

/**
 * RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since.
 * Checked again on S3's answer: servers that ignore the conditions (or lists
 * of ETags) still get a correct 304.
 */
export function notModified(
  conditions: RequestConditions,
  etag: string | undefined,
  lastModified: Date | undefined,
): boolean {
  const { ifNoneMatch, ifModifiedSince } = conditions;
  if (ifNoneMatch) return etagListMatches(ifNoneMatch, etag);
  const since = ifModifiedSince ? Date.parse(ifModifiedSince) : Number.NaN;
  return Number.isFinite(since) && lastModified !== undefined && lastModified.getTime() <= since;
}
