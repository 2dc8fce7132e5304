/**
 * A tiny HTTP server for browser tests: serves fixed files (the page, its
 * bundles, a Service Worker) and records every request it answers, so a test
 * can assert what crossed the network.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One file the server answers with. */
export interface StaticFile {
  readonly body: string | Uint8Array;
  readonly type: string;
  /** Extra response headers (e.g. `Service-Worker-Allowed`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A running static server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT` (a secure context for Service Workers). */
  readonly origin: string;
  /** Every request answered so far, in order. */
  readonly requests: RecordedRequest[];
  /** Adds or replaces a file. */
  set(path: string, file: StaticFile): void;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 answering `files` by path (404 otherwise).
 * `fallback`, when given, answers what `files` has not (an app server's API).
 */
export async function startStaticServer(
  files: Record<string, StaticFile>,
  fallback?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void | Promise<void>,
): Promise<StaticServer> {
  const table = new Map(Object.entries(files));
  const requests: RecordedRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const file = table.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store', ...file.headers });
      res.end(file.body);
    } else if (fallback) {
      try {
        await fallback(req, res, body);
      } catch (error) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((error as Error).message));
      }
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    set: (path, file) => table.set(path, file),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
