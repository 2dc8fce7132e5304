/**
 * The Content-Type a decrypted response may carry when it comes from S3:
 * object metadata anyone with write access to the bucket can set, and the
 * response is same-origin with the page that holds the key. Only audio and
 * video types pass; anything else (text/html, image/svg+xml, …) becomes
 * `application/octet-stream`, never a document that could run script.
 * @public
 */
export function safeMediaType(stored: string | null | undefined): string {
  if (!stored) return 'application/octet-stream';
  const type = stored.trim();
  if (
    type.length <= 200 &&
    /^(video|audio)\/[a-z0-9.+-]+(\s*;\s*[a-z0-9-]+=("[^"\\\r\n]*"|[a-z0-9.+-]+))*$/i.test(type)
  ) {
    return type;
  }
  return 'application/octet-stream';
}
