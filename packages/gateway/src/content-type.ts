/**
 * Media types shown inline by default; every other type is served with
 * `Content-Disposition: attachment`. A `type/*` pattern never covers
 * `image/svg+xml` (an SVG document can carry script): list it explicitly.
 * @public
 */
export const DEFAULT_INLINE_TYPES: readonly string[] = ['video/*', 'audio/*', 'image/*', 'text/plain'];

/** Types a wildcard never covers: documents that can run script. */
const ACTIVE_TYPES = new Set(['image/svg+xml']);

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
// One media type with parameters (RFC 9110 §8.3.1), printable ASCII without commas: browsers take the last of a
// comma-separated list, so a list could show a browser another type than the one checked here.
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"[\\x20\\x21\\x23-\\x2b\\x2d-\\x5b\\x5d-\\x7e]*"))*$`,
);
// `type/subtype` or `type/*`; never `*/*`, which would show every document inline.
const PATTERN = new RegExp(`^(?!\\*/)${TOKEN}/(?:${TOKEN}|\\*)$`);

/**
 * The Content-Type to send for an object's stored (unauthenticated) type:
 * the stored value when it is exactly one well-formed media type, otherwise
 * `application/octet-stream`, so a browser never reads a different type
 * than the one the disposition was decided for.
 * @public
 */
export function safeContentType(stored: string | undefined): string {
  const value = stored?.trim();
  return value && MEDIA_TYPE.test(value) ? value : 'application/octet-stream';
}

/**
 * Checks and lower-cases a list of inline patterns (`type/subtype` or `type/*`).
 * @throws TypeError for an entry that is not such a pattern.
 * @public
 */
export function inlinePatterns(patterns: readonly string[]): readonly string[] {
  return patterns.map((pattern) => {
    if (typeof pattern !== 'string' || !PATTERN.test(pattern.trim())) {
      throw new TypeError(`inline type ${JSON.stringify(pattern)} is not a media type like video/mp4 or video/*`);
    }
    return pattern.trim().toLowerCase();
  });
}

/**
 * Whether a response of `contentType` (as returned by {@link safeContentType})
 * is shown inline: its essence matches one of the `patterns` (checked with
 * {@link inlinePatterns}); a wildcard does not match script-capable types.
 * @public
 */
export function isInline(contentType: string, patterns: readonly string[]): boolean {
  const essence = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const type = essence.slice(0, essence.indexOf('/') + 1);
  return patterns.some(
    (pattern) => pattern === essence || (pattern === `${type}*` && type !== '' && !ACTIVE_TYPES.has(essence)),
  );
}
