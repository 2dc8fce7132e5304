/**
 * A hostile "S3" on loopback: relays to the real S3 server, and lets a test
 * rewrite the next GETs — the Range sent upstream, the status, headers and
 * body that come back — to play a store (or anything the app server's URL
 * points at) that answers something other than what was asked. The Host
 * header is relayed as sent, so presigned URLs made with
 * `endpoint: proxy.endpoint` keep their signatures. Bodies are buffered
 * (the objects in these tests are small) and Content-Length recomputed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How to alter one GET. */
export interface Tamper {
  /** The Range header sent upstream instead of the one asked for (`undefined`: none). */
  readonly range?: (asked: string | undefined) => string | undefined;
  /** The status answered instead of S3's. */
  readonly status?: number;
  /** Response headers (lower-case names) as answered, from S3's. */
  readonly headers?: (headers: Record<string, string>) => Record<string, string>;
  /** The body answered, from S3's. */
  readonly body?: (body: Buffer) => Buffer;
  /** Sends the body chunked, with no Content-Length (as when CORS does not expose it). */
  readonly chunked?: boolean;
}

export interface TamperProxy {
  readonly endpoint: string;
  /** Every request: method and the Range the client sent. */
  readonly log: { method: string; range: string | undefined; headers: http.IncomingHttpHeaders }[];
  /** Alters the next `times` GETs (default 1). */
  tamper(tamper: Tamper, times?: number): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startTamperProxy(upstream: string): Promise<TamperProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const log: TamperProxy['log'] = [];
  let pending: { tamper: Tamper; left: number } | undefined;
  const server = http.createServer(async (req, res) => {
    const pieces: Buffer[] = [];
    for await (const piece of req) pieces.push(piece as Buffer);
    const asked = req.headers.range;
    log.push({ method: req.method ?? '', range: asked, headers: req.headers });
    let tamper: Tamper | undefined;
    if (req.method === 'GET' && pending && pending.left > 0) {
      tamper = pending.tamper;
      if (--pending.left === 0) pending = undefined;
    }
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    delete headers.connection;
    if (tamper?.range) {
      const range = tamper.range(asked);
      if (range === undefined) delete headers.range;
      else headers.range = range;
    }
    const upstreamReq = http.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      async (upstreamRes) => {
        const out: Buffer[] = [];
        for await (const piece of upstreamRes) out.push(piece as Buffer);
        let body: Buffer = Buffer.concat(out);
        let responseHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(upstreamRes.headers)) {
          if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding') {
            responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
          }
        }
        if (tamper?.body) body = tamper.body(body);
        if (tamper?.headers) responseHeaders = tamper.headers(responseHeaders);
        if (tamper?.chunked) delete responseHeaders['content-length'];
        else if (req.method !== 'HEAD') responseHeaders['content-length'] = String(body.length);
        res.writeHead(tamper?.status ?? upstreamRes.statusCode ?? 502, responseHeaders);
        res.end(req.method === 'HEAD' ? undefined : body);
      },
    );
    upstreamReq.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    upstreamReq.end(Buffer.concat(pieces));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    tamper: (tamper, times = 1) => {
      pending = { tamper, left: times };
    },
    reset: () => {
      pending = undefined;
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
