import type { ServerResponse } from 'node:http';
import { parseRange } from '@encrypted-stream/s3';
import { isInline, safeContentType } from './content-type';

/** The object metadata a response's headers come from. */
export interface Representation {
  ContentType?: string;
  ContentLength?: number;
  ETag?: string;
  LastModified?: Date;
}

/** The one byte range a request asks for; multiple or malformed ranges are ignored (RFC 9110 §14.2). */
export function singleRange(header: string | undefined): string | undefined {
  if (!header || header.includes(',')) return undefined;
  try {
    parseRange(header);
    return header.trim();
  } catch {
    return undefined;
  }
}

/** Headers of a 200/206 (or HEAD) answer: type, disposition, length and validators. */
export function representationHeaders(out: Representation, inline: readonly string[]): Record<string, string> {
  const type = safeContentType(out.ContentType);
  const headers: Record<string, string> = {
    'accept-ranges': 'bytes',
    'content-type': type,
    'cache-control': 'private, no-transform',
  };
  // The type is unauthenticated metadata: anything that is not plain media is a download, never a document.
  if (!isInline(type, inline)) headers['content-disposition'] = 'attachment';
  if (out.ContentLength !== undefined) headers['content-length'] = String(out.ContentLength);
  if (out.ETag) headers.etag = out.ETag;
  if (out.LastModified) headers['last-modified'] = out.LastModified.toUTCString();
  return headers;
}

/** What a 304 carries (RFC 9110 §15.4.5): the validators and Cache-Control, no Content-Length. */
export function validatorHeaders(out: { ETag?: string; LastModified?: Date }): Record<string, string> {
  const headers: Record<string, string> = { 'cache-control': 'private, no-transform' };
  if (out.ETag) headers.etag = out.ETag;
  if (out.LastModified) headers['last-modified'] = out.LastModified.toUTCString();
  return headers;
}

/** Ends a response without a body; once headers are sent, only cutting the connection is left. */
export function end(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A 304 has no content, and a Content-Length in it would describe the 200's (RFC 9110 §8.6).
  res.writeHead(status, status === 304 ? headers : { 'content-length': '0', ...headers });
  res.end();
}
