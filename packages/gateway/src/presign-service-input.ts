/**
 * The presign service's input checks. Everything a page sends is hostile:
 * the JSON body, the object key, the upload id, part numbers and lengths,
 * and the encryption header the page made (the service cannot authenticate
 * it, it holds no key; readers do, so here it is only checked for shape and
 * size, exactly as the codec decodes it).
 */
import type { IncomingMessage } from 'node:http';
import { type DetachedHeader, fromDetachedHeader } from '@encrypted-stream/codec/low-level';
import { METADATA_KEYS } from '@encrypted-stream/s3';
import { folderPrefix } from './object-path';
import { PresignServiceError, PresignServiceErrorCode } from './presign-service-errors';

/** Largest request body read (the biggest, a complete of 10,000 parts, fits). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** S3's limits on multipart uploads. */
export const MAX_PARTS = 10_000;
/** S3's largest part. */
export const MAX_PART_BYTES = 5 * 1024 ** 3;

const bad = (message: string) => new PresignServiceError(PresignServiceErrorCode.BAD_REQUEST, message);
const forbidden = (message: string) => new PresignServiceError(PresignServiceErrorCode.FORBIDDEN, message);

/**
 * Reads a JSON object body of at most `limit` bytes — from the request, or
 * from `req.body` when a framework already read it — anything else is a 4xx error.
 */
export async function readJsonObject(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    ?.trim()
    .toLowerCase();
  // Requiring JSON also makes a cross-site request preflighted: a plain HTML form cannot send one.
  if (type !== 'application/json') {
    throw new PresignServiceError(PresignServiceErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send application/json');
  }
  const tooLarge = () => new PresignServiceError(PresignServiceErrorCode.TOO_LARGE, `body over ${limit} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  // A body a framework already read: raw bytes or text, or parsed JSON (express.json()'s req.body).
  const given = (req as IncomingMessage & { body?: unknown }).body;
  let body: unknown;
  if (given !== undefined && !(given instanceof Uint8Array) && typeof given !== 'string') {
    body = given;
  } else {
    let bytes: Buffer;
    if (given !== undefined) {
      bytes = typeof given === 'string' ? Buffer.from(given, 'utf8') : Buffer.from(given);
      if (bytes.length > limit) throw tooLarge();
    } else {
      const pieces: Buffer[] = [];
      let size = 0;
      for await (const piece of req) {
        size += (piece as Buffer).length;
        if (size > limit) throw tooLarge();
        pieces.push(piece as Buffer);
      }
      bytes = Buffer.concat(pieces);
    }
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw bad('the body is not valid JSON');
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Throws unless `body` has exactly the fields in `allowed` (unknown fields are a mistake or a probe). */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const name of Object.keys(body)) {
    if (!allowed.includes(name)) throw bad(`unexpected field "${asciiName(name)}"`);
  }
}

const asciiName = (name: string) => name.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');

/**
 * An object key under `prefix` (a folder, see folderPrefix): a well-formed
 * string of at most 1024 UTF-8 bytes, no control characters or backslashes, no empty,
 * `.` or `..` segment, nothing but a name after the prefix.
 */
export function objectKey(value: unknown, prefix: string): string {
  if (typeof value !== 'string' || value.length === 0) throw bad('key must be a non-empty string');
  // A lone surrogate has no UTF-8 form: S3 would get U+FFFD (another key than authorize saw) or the SDK throw.
  if (!isWellFormed(value)) throw bad('key is not well-formed Unicode');
  if (Buffer.byteLength(value, 'utf8') > 1024) throw bad('key is longer than 1024 bytes');
  if (/[\u0000-\u001f\u007f\\]/.test(value)) throw forbidden('key holds control characters or a backslash');
  const folder = folderPrefix(prefix);
  if (!value.startsWith(folder)) throw forbidden('key is outside the prefix this service serves');
  const name = value.slice(folder.length);
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw forbidden('key has an empty, "." or ".." segment');
  }
  return value;
}

/** Whether `value` has no lone surrogate (String.prototype.isWellFormed, Node 20+). */
function isWellFormed(value: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);
}

/** An S3 upload id: 1 … 1024 printable ASCII characters. */
export function uploadId(value: unknown): string {
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(value)) throw bad('uploadId is malformed');
  return value;
}

/** A part number, 1 … 10,000. */
export function partNumber(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_PARTS) {
    throw bad(`partNumber must be an integer from 1 to ${MAX_PARTS}`);
  }
  return value as number;
}

/** A part's ciphertext length, 1 byte … 5 GiB (signed into the URL: a body of another length is refused by S3). */
export function partLength(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_PART_BYTES) {
    throw bad(`contentLength must be an integer from 1 to ${MAX_PART_BYTES}`);
  }
  return value as number;
}

/**
 * The page's detached encryption header, `{ h, k, w }` as the codec's
 * `toDetachedHeader` writes it, checked by decoding it exactly as readers
 * will (sizes, key id, chunk size) and as user metadata. It must record the
 * plaintext size, so a reader tells a whole object from a cut one by the
 * header alone. Whether it is authentic only a key holder can tell.
 */
export function encryptionMetadata(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad('header must be an object { h, k, w }');
  }
  const fields = value as Record<string, unknown>;
  onlyFields(fields, ['h', 'k', 'w']);
  const { h, k, w } = fields;
  for (const [name, field] of [
    ['h', h],
    ['k', k],
    ['w', w],
  ] as const) {
    if (typeof field !== 'string' || field.length === 0 || field.length > 512 || !/^[\x21-\x7e]+$/.test(field)) {
      throw bad(`header.${name} must be 1 … 512 printable ASCII characters`);
    }
  }
  let header: ReturnType<typeof fromDetachedHeader>;
  try {
    header = fromDetachedHeader({ h, k, w } as DetachedHeader);
  } catch {
    throw bad('header is not a valid encryption header');
  }
  if (header.stream.plaintextSize === undefined) throw bad('header must record the plaintext size');
  return { [METADATA_KEYS.h]: h as string, [METADATA_KEYS.k]: k as string, [METADATA_KEYS.w]: w as string };
}

/** An optional media type (`type/subtype` and parameters), stored as the object's Content-Type. */
export function contentType(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'string' ||
    value.length > 200 ||
    !/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(\s*;\s*[a-z0-9!#$&^_.+-]+=[a-z0-9!#$&^_.+"-]+)*$/i.test(value)
  ) {
    throw bad('contentType must be a media type such as video/webm');
  }
  return value;
}

/** The parts of a complete: `[{ partNumber, etag }]`, part numbers strictly ascending. */
export function completedParts(value: unknown): { PartNumber: number; ETag: string }[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PARTS) {
    throw bad(`parts must be a list of 1 to ${MAX_PARTS} parts`);
  }
  let previous = 0;
  return value.map((part: unknown) => {
    if (typeof part !== 'object' || part === null || Array.isArray(part))
      throw bad('each part is { partNumber, etag }');
    const fields = part as Record<string, unknown>;
    onlyFields(fields, ['partNumber', 'etag']);
    const number = partNumber(fields.partNumber);
    if (number <= previous) throw bad('part numbers must ascend');
    previous = number;
    const etag = fields.etag;
    if (typeof etag !== 'string' || !/^"?[\x21\x23-\x7e]{1,128}"?$/.test(etag)) throw bad('a part etag is malformed');
    return { PartNumber: number, ETag: etag };
  });
}
