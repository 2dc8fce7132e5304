import type { S3Client } from '@aws-sdk/client-s3';

/** One HTTP request a client sent, as it went on the wire (after signing, per retry attempt). */
export interface RecordedRequest {
  readonly method: string;
  /** Path, e.g. `/bucket/key` with path-style addressing. */
  readonly path: string;
  /** Query parameters, e.g. `{ uploadId: '…', partNumber: '2' }`. */
  readonly query: Readonly<Record<string, unknown>>;
  /** The Range request header, if any. */
  readonly range: string | undefined;
  /** The Content-Length request header (bytes of body sent), if any. */
  readonly contentLength: number | undefined;
  /** Response status (undefined when the request failed without a response). */
  status?: number;
  /** Response Content-Length header: bytes the server sent in the body. */
  responseLength?: number;
  /** Response Content-Range header. */
  contentRange?: string;
  /** The response body stream (a node IncomingMessage), to see whether it was read to the end or destroyed. */
  body?: NodeJS.ReadableStream & { destroyed?: boolean; readableEnded?: boolean; socket?: { bytesRead: number } };
}

/** The requests one client sent; `reset()` between measurements. */
export class RequestCounter {
  readonly requests: RecordedRequest[] = [];

  /** How many requests were sent. */
  get count(): number {
    return this.requests.length;
  }

  /** Forgets the requests recorded so far. */
  reset(): void {
    this.requests.length = 0;
  }

  /** The requests with a given method. */
  withMethod(method: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method);
  }
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const found = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return found === undefined ? undefined : headers[found];
}

function optionalNumber(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

let counters = 0;

/**
 * Records every HTTP request `client` sends (and calls `onRecord` with each as
 * it is sent). The middleware sits at the end of the finalizeRequest step,
 * after the retry middleware, so it runs once per attempt: retries count as
 * the separate requests they are.
 */
export function countRequests(client: S3Client, onRecord?: (record: RecordedRequest) => void): RequestCounter {
  const counter = new RequestCounter();
  counters++;
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as {
        method?: string;
        path?: string;
        query?: Record<string, unknown>;
        headers?: Record<string, string>;
      };
      const record: RecordedRequest = {
        method: String(request.method),
        path: String(request.path),
        query: { ...request.query },
        range: header(request.headers, 'range'),
        contentLength: optionalNumber(header(request.headers, 'content-length')),
      };
      counter.requests.push(record);
      onRecord?.(record);
      try {
        const result = await next(args);
        const response = result.response as
          | { statusCode?: number; headers?: Record<string, string>; body?: RecordedRequest['body'] }
          | undefined;
        record.status = response?.statusCode;
        record.body = response?.body;
        record.responseLength = optionalNumber(header(response?.headers, 'content-length'));
        record.contentRange = header(response?.headers, 'content-range');
        return result;
      } catch (error) {
        record.status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: `testSupportRequestCounter${counters}` },
  );
  return counter;
}
