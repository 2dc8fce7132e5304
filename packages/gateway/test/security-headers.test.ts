/**
 * Content-Type is unauthenticated S3 metadata: whoever can write the bucket
 * can relabel an object text/html. Every response the gateway answers
 * carries nosniff and a CSP under which nothing runs (a sandbox without
 * scripts, no fetches but the document's own media and images); only plain
 * media and text/plain are shown inline, the rest downloads. The browser
 * side of this (scripts inert, media documents still play) is in browser.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { createGatewayHandler, isInline, safeContentType, signPath } from '../src';
import { type Response, type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const s3 = useS3('headers');
const SIGNING_KEY = randomBytes(32);
const CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin";
let gateway: RunningGateway;
let pdfInline: RunningGateway;
let allDownloads: RunningGateway;
let signed: RunningGateway;

const OBJECTS: [key: string, contentType: string | undefined][] = [
  ['page.html', 'text/html; charset=utf-8'],
  ['video.webm', 'video/webm'],
  ['song.ogg', 'audio/ogg'],
  ['pic.png', 'image/png'],
  ['notes.txt', 'text/plain; charset=utf-8'],
  ['draw.svg', 'image/svg+xml'],
  ['DRAW.SVG', 'Image/SVG+XML; charset=utf-8'],
  ['doc.pdf', 'application/pdf'],
  ['page.xhtml', 'application/xhtml+xml'],
  ['data.json', 'application/json'],
  ['untyped', undefined],
  ['two-types', 'video/mp4, text/html'],
];

beforeAll(async () => {
  for (const [key, type] of OBJECTS) {
    await s3.putEncrypted(`pub/${key}`, '<script>fetch("/secret")</script>', type ? { ContentType: type } : {});
  }
  const scope = { bucket: s3.bucket, prefix: 'pub/' };
  gateway = await startGateway({ keyring: s3.keyring, scope });
  pdfInline = await startGateway({ keyring: s3.keyring, scope, inlineTypes: ['application/pdf', 'IMAGE/SVG+XML'] });
  allDownloads = await startGateway({ keyring: s3.keyring, scope, inlineTypes: [] });
  signed = await startGateway({ keyring: s3.keyring, scope, signingKey: SIGNING_KEY });
});
afterAll(async () => {
  for (const g of [gateway, pdfInline, allDownloads, signed]) await g?.close();
});

function expectProtected(res: Response): void {
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['content-security-policy']).toBe(CSP);
  expect(res.headers['referrer-policy']).toBe('no-referrer');
}

test('an object relabelled text/html: nosniff, CSP sandbox, attachment (GET and HEAD)', async () => {
  for (const method of ['GET', 'HEAD']) {
    const res = await request(gateway.origin, '/page.html', { method });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment');
    expectProtected(res);
  }
});

test.each([
  ['video.webm', 'video/webm', true],
  ['song.ogg', 'audio/ogg', true],
  ['pic.png', 'image/png', true],
  ['notes.txt', 'text/plain; charset=utf-8', true],
  ['draw.svg', 'image/svg+xml', false], // image/* does not cover SVG: it can carry script
  ['DRAW.SVG', 'Image/SVG+XML; charset=utf-8', false],
  ['doc.pdf', 'application/pdf', false],
  ['page.xhtml', 'application/xhtml+xml', false],
  ['data.json', 'application/json', false],
  ['two-types', 'application/octet-stream', false], // browsers would read the last type of a list
])('%s (%s): inline %s by default, protected either way', async (key, type, inline) => {
  const res = await request(gateway.origin, `/${key}`);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe(type);
  expect(res.headers['content-disposition']).toBe(inline ? undefined : 'attachment');
  expectProtected(res);
});

test('an object without a usable type is application/octet-stream or the store default, and a download', async () => {
  const res = await request(gateway.origin, '/untyped');
  expect(res.status).toBe(200);
  expect(res.headers['content-disposition']).toBe('attachment');
  expectProtected(res);
});

test('inlineTypes replaces the default: listed types inline (SVG only when named), the rest downloads', async () => {
  const disposition = async (g: RunningGateway, key: string) =>
    (await request(g.origin, `/${key}`)).headers['content-disposition'];
  expect(await disposition(pdfInline, 'doc.pdf')).toBeUndefined();
  expect(await disposition(pdfInline, 'draw.svg')).toBeUndefined();
  expect(await disposition(pdfInline, 'video.webm')).toBe('attachment');
  expect(await disposition(pdfInline, 'page.html')).toBe('attachment');
  for (const key of ['video.webm', 'notes.txt', 'pic.png'])
    expect(await disposition(allDownloads, key)).toBe('attachment');
});

test.each([
  ['200 GET', 'gateway', '/video.webm', {}, 'GET', 200],
  ['206 range', 'gateway', '/video.webm', { range: 'bytes=0-3' }, 'GET', 206],
  ['404 missing object', 'gateway', '/missing', {}, 'GET', 404],
  ['404 not an object path', 'gateway', '/a//b', {}, 'GET', 404],
  ['405 method', 'gateway', '/video.webm', {}, 'DELETE', 405],
  ['416 range', 'gateway', '/video.webm', { range: 'bytes=100000-' }, 'GET', 416],
  ['421 host', 'gateway', '/video.webm', { host: 'attacker.example' }, 'GET', 421],
  ['403 unsigned', 'signed', '/video.webm', {}, 'GET', 403],
] as const)('%s: nosniff and CSP on the response', async (_label, which, path, headers, method, status) => {
  const res = await request({ gateway, signed }[which].origin, path, { method, headers: { ...headers } });
  expect(res.status).toBe(status);
  expectProtected(res);
});

test('304 (If-None-Match, If-Modified-Since) carries nosniff and CSP', async () => {
  const first = await request(gateway.origin, '/page.html');
  const byTag = await request(gateway.origin, '/page.html', {
    headers: { 'if-none-match': first.headers.etag as string },
  });
  expect(byTag.status).toBe(304);
  expectProtected(byTag);
  const since = new Date(Date.now() + 3600_000).toUTCString();
  const byDate = await request(gateway.origin, '/page.html', { headers: { 'if-modified-since': since } });
  expect(byDate.status).toBe(304);
  expectProtected(byDate);
});

test('a signed link still gets the headers', async () => {
  const res = await request(signed.origin, signPath('/page.html', SIGNING_KEY, new Date(Date.now() + 60_000)));
  expect(res.status).toBe(200);
  expect(res.headers['content-disposition']).toBe('attachment');
  expectProtected(res);
});

test('safeContentType keeps exactly one well-formed media type', () => {
  expect(safeContentType('video/mp4')).toBe('video/mp4');
  expect(safeContentType('text/plain; charset="utf-8"')).toBe('text/plain; charset="utf-8"');
  for (const bad of [undefined, '', 'text', 'video/mp4, text/html', 'text/html;x="a,b"', 'a/b c', 'a/b\u0000']) {
    expect([bad, safeContentType(bad)]).toEqual([bad, 'application/octet-stream']);
  }
});

test('isInline: wildcards never cover image/svg+xml; parameters and case do not matter', () => {
  const defaults = ['video/*', 'audio/*', 'image/*', 'text/plain'];
  expect(isInline('VIDEO/MP4', defaults)).toBe(true);
  expect(isInline('text/plain;charset=utf-8', defaults)).toBe(true);
  expect(isInline('image/svg+xml', defaults)).toBe(false);
  expect(isInline('image/svg+xml', ['image/svg+xml'])).toBe(true);
  expect(isInline('text/plainx', defaults)).toBe(false);
  expect(isInline('text/html', defaults)).toBe(false);
});

test('invalid inlineTypes entries are refused with a TypeError', () => {
  for (const entry of ['video', '*/*', 'text/html, video/*', '']) {
    expect(() => createGatewayHandler({ client: s3.plain, scope: { bucket: 'b' }, inlineTypes: [entry] })).toThrow(
      TypeError,
    );
  }
});
