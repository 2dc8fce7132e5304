/**
 * A single HTTP byte range (RFC 9110 §14.1.2) in the forms S3 accepts.
 * @public
 */
export type ByteRange =
  | { readonly kind: 'bounded'; readonly start: number; readonly end: number } // end inclusive
  | { readonly kind: 'from'; readonly start: number }
  | { readonly kind: 'suffix'; readonly length: number };

const RANGE = /^bytes=(?:(\d{1,16})-(\d{0,16})|-(\d{1,16}))$/;

/** Parses `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else (including several ranges) is a RangeError. @public */
export function parseRange(header: string): ByteRange {
  if (typeof header !== 'string') throw new TypeError('Range must be a string');
  const m = RANGE.exec(header.trim());
  if (!m) throw new RangeError(`unsupported Range "${header.slice(0, 64)}": use bytes=a-b, bytes=a- or bytes=-n`);
  const [, a, b, n] = m;
  if (n !== undefined) return { kind: 'suffix', length: safe(n) };
  const start = safe(a as string);
  if (!b) return { kind: 'from', start };
  const end = safe(b);
  if (end < start) throw new RangeError(`Range end ${end} is before its start ${start}`);
  return { kind: 'bounded', start, end };
}

function safe(digits: string): number {
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) throw new RangeError('Range bound exceeds 2^53 - 1');
  return value;
}

/** Formats a byte range for a Range header. */
export function formatRange(range: ByteRange): string {
  switch (range.kind) {
    case 'bounded':
      return `bytes=${range.start}-${range.end}`;
    case 'from':
      return `bytes=${range.start}-`;
    case 'suffix':
      return `bytes=-${range.length}`;
  }
}

/** The parts of a `Content-Range: bytes a-b/total` response header. */
export interface ContentRange {
  readonly start: number;
  readonly end: number; // inclusive
  readonly total: number;
}

/** Parses `bytes a-b/total`; undefined for anything else. */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  if (!m) return undefined;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![start, end, total].every(Number.isSafeInteger) || end < start || end >= total) return undefined;
  return { start, end, total };
}

/**
 * The plaintext bytes `[start, end)` a range selects in a `size`-byte object,
 * or `undefined` when it is unsatisfiable (S3's 416).
 */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } | undefined {
  switch (range.kind) {
    case 'suffix':
      return range.length === 0 || size === 0 ? undefined : { start: Math.max(0, size - range.length), end: size };
    case 'from':
      return range.start >= size ? undefined : { start: range.start, end: size };
    case 'bounded':
      return range.start >= size ? undefined : { start: range.start, end: Math.min(range.end + 1, size) };
  }
}
