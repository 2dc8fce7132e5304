/**
 * The Content-Security-Policy of every response. Nothing may run: no
 * script, style, frame, plugin or form (`default-src 'none'` and a sandbox
 * without `allow-scripts`), so even an HTML object opened directly is inert
 * text. Only `img-src`/`media-src 'self'` are open, with `allow-same-origin`
 * keeping the origin: a video or audio URL opened directly is a media
 * document that loads its own URL as media, and Chromium refuses that load
 * from an opaque (sandboxed) origin or under `media-src 'none'`. Without
 * scripts, the same origin reads nothing. One policy for all responses, as a
 * 304 replaces the stored headers of the response it revalidates.
 * @public
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin";

/**
 * Headers on every response the gateway itself answers (objects, errors,
 * 304, 416, 421, 503…). Content-Type comes from unauthenticated S3 metadata,
 * so the browser must not sniff another type (`nosniff`) nor run anything a
 * response turns out to be ({@link CONTENT_SECURITY_POLICY});
 * `no-referrer` keeps signed links out of Referer headers.
 * @public
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'referrer-policy': 'no-referrer',
};
