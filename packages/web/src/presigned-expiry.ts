/**
 * When a SigV4 presigned URL stops working: `X-Amz-Date` plus
 * `X-Amz-Expires` seconds, in milliseconds since the epoch; `undefined` when
 * the URL does not say (then only S3's 403 tells).
 * @public
 */
export function presignedUrlExpiry(url: string): number | undefined {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    return undefined;
  }
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get('X-Amz-Date') ?? '');
  const seconds = Number(params.get('X-Amz-Expires') ?? Number.NaN);
  if (!date || !Number.isSafeInteger(seconds) || seconds <= 0) return undefined;
  const [, y, mo, d, h, mi, s] = date.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s) + seconds * 1000;
}
