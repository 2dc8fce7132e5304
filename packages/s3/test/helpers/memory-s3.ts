import { Readable } from 'node:stream';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { type HttpHandler, type HttpRequest, HttpResponse } from '@smithy/protocol-http';

// Node 20 is supported by the project; keep the SDK's Node 22 notice out of the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** One object as the fake stores it: body bytes and x-amz-meta-* values (lower-cased names). */
export interface StoredObject {
  body: Uint8Array;
  metadata: Record<string, string>;
  etag: string;
}

/** What the fake received: enough to assert on the wire-level request. */
export interface RecordedRequest {
  readonly method: string;
  readonly bucket: string;
  readonly key: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, unknown>>;
}

const xmlError = (status: number, code: string, message: string) =>
  new HttpResponse({
    statusCode: status,
    headers: { 'content-type': 'application/xml' },
    body: Readable.from([
      Buffer.from(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`),
    ]),
  });

async function readBody(body: unknown): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return new Uint8Array(Buffer.from(body));
  if (body instanceof Uint8Array) return body.slice();
  const parts: Buffer[] = [];
  for await (const piece of body as AsyncIterable<Uint8Array | string>) parts.push(Buffer.from(piece));
  return new Uint8Array(Buffer.concat(parts));
}

/** S3's Range semantics (one range): the `[start, end)` served, or undefined for 416. */
function servedSpan(range: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range);
  if (!m || (m[1] === '' && m[2] === '')) throw new Error(`memory S3: unsupported Range ${range}`);
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? undefined : { start: Math.max(0, size - n), end: size };
  }
  const start = Number(m[1]);
  if (start >= size) return undefined;
  return { start, end: m[2] === '' ? size : Math.min(Number(m[2]) + 1, size) };
}

/**
 * A tiny in-memory S3 for unit tests: PUT, GET (with one Range) and HEAD of
 * objects with x-amz-meta-* metadata, path-style. Anything else is a 501.
 */
export class MemoryS3 implements HttpHandler {
  readonly objects = new Map<string, StoredObject>();
  readonly requests: RecordedRequest[] = [];
  /** Every GET response body served, to check that none is left open. */
  readonly bodies: Readable[] = [];
  #etags = 0;

  static #id(bucket: string, key: string) {
    return `${bucket}/${key}`;
  }

  /** Response bodies neither read to their end nor destroyed (each holds a connection in a real client). */
  openBodies(): number {
    return this.bodies.filter((b) => !b.readableEnded && !b.destroyed).length;
  }

  #serve(bytes: Uint8Array): Readable {
    const body = Readable.from([Buffer.from(bytes)]);
    this.bodies.push(body);
    return body;
  }

  get(bucket: string, key: string): StoredObject | undefined {
    return this.objects.get(MemoryS3.#id(bucket, key));
  }

  /** Stores an object directly (as if written by someone else). */
  put(bucket: string, key: string, body: Uint8Array, metadata: Record<string, string> = {}): void {
    this.objects.set(MemoryS3.#id(bucket, key), { body, metadata, etag: `"etag-${++this.#etags}"` });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const [, bucket = '', ...rest] = request.path.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    this.requests.push({
      method: request.method,
      bucket: decodeURIComponent(bucket),
      key,
      headers,
      query: request.query,
    });
    return { response: await this.#respond(request.method, decodeURIComponent(bucket), key, headers, request) };
  }

  async #respond(method: string, bucket: string, key: string, headers: Record<string, string>, request: HttpRequest) {
    if (Object.keys(request.query).some((q) => q !== 'x-id')) return xmlError(501, 'NotImplemented', 'not in the fake');
    if (method === 'PUT') {
      if (headers['x-amz-copy-source']) return xmlError(501, 'NotImplemented', 'copy is not in the fake');
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) {
        if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
      }
      const body = await readBody(request.body);
      const declared = headers['content-length'];
      if (declared !== undefined && Number(declared) !== body.length) {
        return xmlError(400, 'IncompleteBody', `content-length ${declared}, body ${body.length}`);
      }
      this.put(bucket, key, body, metadata);
      return new HttpResponse({ statusCode: 200, headers: { etag: this.get(bucket, key)?.etag ?? '' } });
    }
    if (method !== 'GET' && method !== 'HEAD') return xmlError(501, 'NotImplemented', `${method} is not in the fake`);
    const object = this.get(bucket, key);
    if (!object) {
      return method === 'HEAD'
        ? new HttpResponse({ statusCode: 404, headers: {} })
        : xmlError(404, 'NoSuchKey', 'The specified key does not exist.');
    }
    const size = object.body.length;
    const common: Record<string, string> = { etag: object.etag, 'accept-ranges': 'bytes' };
    for (const [name, value] of Object.entries(object.metadata)) common[`x-amz-meta-${name}`] = value;
    const range = headers.range;
    if (method === 'HEAD' || range === undefined) {
      return new HttpResponse({
        statusCode: 200,
        headers: { ...common, 'content-length': String(size) },
        body: method === 'HEAD' ? Readable.from([]) : this.#serve(object.body),
      });
    }
    const span = servedSpan(range, size);
    if (!span) return xmlError(416, 'InvalidRange', 'The requested range is not satisfiable');
    return new HttpResponse({
      statusCode: 206,
      headers: {
        ...common,
        'content-length': String(span.end - span.start),
        'content-range': `bytes ${span.start}-${span.end - 1}/${size}`,
      },
      body: this.#serve(object.body.subarray(span.start, span.end)),
    });
  }
}

/** A plain S3Client (no plugin) talking to `store`. */
export function memoryClient(store: MemoryS3, config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://s3.memory.test',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    requestHandler: store,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    ...config,
  });
}
