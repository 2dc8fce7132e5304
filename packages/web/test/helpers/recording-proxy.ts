/**
 * An HTTP reverse proxy on loopback in front of S3 that records every
 * request in full — method, URL, headers, body — and the response's status,
 * headers and body, so a browser test can assert what crossed the network to
 * the store. Presigned URLs made with `endpoint: proxy.endpoint` point at it;
 * the Host header is relayed as sent, so signatures stay valid.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One exchange as the proxy relayed it. */
export interface ProxiedExchange {
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  status?: number;
  responseHeaders?: http.IncomingHttpHeaders;
  responseBody?: Buffer;
}

/** A running recording proxy. */
export interface RecordingProxy {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Every exchange, in arrival order (a response's fields fill in as it ends). */
  readonly exchanges: ProxiedExchange[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/** Starts a recording proxy in front of `upstream` (an `http://host:port` S3 endpoint). */
export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const exchanges: ProxiedExchange[] = [];
  const server = http.createServer(async (req, res) => {
    const pieces: Buffer[] = [];
    for await (const piece of req) pieces.push(piece as Buffer);
    const exchange: ProxiedExchange = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(pieces),
    };
    exchanges.push(exchange);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    const upstreamReq = http.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      (upstreamRes) => {
        exchange.status = upstreamRes.statusCode;
        exchange.responseHeaders = upstreamRes.headers;
        const out: Buffer[] = [];
        const responseHeaders = Object.fromEntries(
          Object.entries(upstreamRes.headers).filter(([name]) => !HOP_BY_HOP.has(name)),
        );
        res.writeHead(upstreamRes.statusCode ?? 502, responseHeaders);
        upstreamRes.on('data', (piece: Buffer) => {
          out.push(piece);
          res.write(piece);
        });
        upstreamRes.on('end', () => {
          exchange.responseBody = Buffer.concat(out);
          res.end();
        });
        upstreamRes.on('error', () => res.destroy());
      },
    );
    upstreamReq.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    // A client that goes away (a cancelled media range) stops the relay.
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    upstreamReq.end(exchange.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
