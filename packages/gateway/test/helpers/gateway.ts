import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocalKeyring } from '@encrypted-stream/codec';
import { countRequests, type RecordedRequest as S3Request } from '@encrypted-stream/test-support';
import { createGatewayHandler, type GatewayLogEntry, type GatewayOptions } from '../../src';
import { encryptedClient } from './s3';

/** One HTTP request the gateway handled, and the S3 requests made while handling it. */
export interface GatewayRequest {
  readonly method: string;
  readonly url: string;
  readonly range: string | undefined;
  /** The request's If-None-Match / If-Modified-Since / If-Range headers, if any. */
  readonly conditions: Record<string, string>;
  /** The status sent (undefined until the response closes, or when no head was sent). */
  status?: number;
  /** Whether the whole response was written (false: the client went away or the connection was cut). */
  finished?: boolean;
  readonly s3: S3Request[];
}

/** A running gateway on 127.0.0.1, its log and the S3 requests its client sent. */
export interface RunningGateway {
  readonly origin: string;
  readonly port: number;
  readonly server: http.Server;
  readonly client: S3Client;
  readonly logs: GatewayLogEntry[];
  /** Every S3 request (per attempt), in order. */
  readonly s3: S3Request[];
  /** Every HTTP request the handler saw, with the S3 requests each one cost. */
  readonly requests: GatewayRequest[];
  /** Resolves with the first log entry of `event` (past or future); rejects after `timeoutMs`. */
  waitForLog(event: string, timeoutMs?: number): Promise<GatewayLogEntry>;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, port 0. */
export async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Closes a server, dropping idle and active connections. */
export async function closeServer(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/**
 * Starts `http.createServer(createGatewayHandler(...))` with a client of its
 * own (the plugin with `keyring`, unless `client` is given) whose requests are
 * recorded.
 */
export async function startGateway(
  options: Omit<GatewayOptions, 'client' | 'log'> & {
    keyring?: LocalKeyring;
    client?: S3Client;
    /** Answers what the gateway passes on with next() (paths outside its scope); default: its own 404. */
    otherwise?: http.RequestListener;
  },
): Promise<RunningGateway> {
  const { keyring, client: given, otherwise, ...rest } = options;
  if (!given && !keyring) throw new TypeError('startGateway needs a keyring or a client');
  const client = given ?? encryptedClient(keyring as LocalKeyring);
  // S3 requests are attributed to the HTTP request whose handling (async context) sent them.
  const current = new AsyncLocalStorage<GatewayRequest>();
  const s3 = countRequests(client, (record) => current.getStore()?.s3.push(record)).requests;
  const requests: GatewayRequest[] = [];
  const logs: GatewayLogEntry[] = [];
  const waiters: { event: string; resolve: (entry: GatewayLogEntry) => void }[] = [];
  const log = (entry: GatewayLogEntry) => {
    logs.push(entry);
    for (const waiter of waiters.filter((w) => w.event === entry.event)) waiter.resolve(entry);
  };
  const handler = createGatewayHandler({ ...rest, client, log });
  const server = http.createServer((req, res) => {
    const conditions: Record<string, string> = {};
    for (const name of ['if-none-match', 'if-modified-since', 'if-range']) {
      const value = req.headers[name];
      if (typeof value === 'string') conditions[name] = value;
    }
    const entry: GatewayRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      range: req.headers.range,
      conditions,
      s3: [],
    };
    requests.push(entry);
    res.on('close', () => {
      entry.status = res.headersSent ? res.statusCode : undefined;
      entry.finished = res.writableFinished;
    });
    current.run(entry, () => handler(req, res, otherwise && (() => otherwise(req, res))));
  });
  const port = await listen(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    server,
    client,
    logs,
    s3,
    requests,
    waitForLog(event, timeoutMs = 10_000) {
      const seen = logs.find((e) => e.event === event);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no '${event}' log entry within ${timeoutMs} ms; log: ${JSON.stringify(logs)}`)),
          timeoutMs,
        );
        waiters.push({
          event,
          resolve: (entry) => {
            clearTimeout(timer);
            resolve(entry);
          },
        });
      });
    },
    async close() {
      await closeServer(server);
      if (!given) client.destroy();
    },
  };
}

/** A complete response. */
export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request on a fresh connection; the body is read to its clean end (a cut connection rejects). */
export function request(
  origin: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    // host/port/path given apart: a URL string would be normalised (dot segments, backslashes) before sending.
    const { hostname, port } = new URL(origin);
    const req = http.request({
      hostname,
      port,
      path,
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const pieces: Buffer[] = [];
      res.on('data', (piece: Buffer) => pieces.push(piece));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(pieces) }));
    });
    req.end(options.body);
  });
}

/** How a response went, for bodies that may be cut: what arrived, and whether it ended cleanly. */
export interface Outcome {
  /** The status, or undefined when the connection closed before a response head arrived. */
  readonly status: number | undefined;
  readonly headers: IncomingHttpHeaders | undefined;
  readonly body: Buffer;
  /** True only for a clean end of the body ('end' with every announced byte). */
  readonly ended: boolean;
  readonly error: Error | undefined;
}

/** One GET on a fresh connection, never rejecting: a cut connection is reported in the outcome. */
export function outcome(origin: string, path: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(origin);
    const req = http.request({ hostname, port, path, headers, agent: false });
    let res: http.IncomingMessage | undefined;
    const pieces: Buffer[] = [];
    let settled = false;
    const settle = (ended: boolean, error?: Error) => {
      if (settled) return;
      settled = true;
      resolve({ status: res?.statusCode, headers: res?.headers, body: Buffer.concat(pieces), ended, error });
    };
    req.on('error', (error) => settle(false, error));
    req.on('response', (response) => {
      res = response;
      response.on('data', (piece: Buffer) => pieces.push(piece));
      response.on('end', () => settle(true));
      response.on('error', (error) => settle(false, error));
      response.on('aborted', () => settle(false, new Error('aborted')));
      response.on('close', () => settle(response.complete && response.readableEnded));
    });
    req.end();
  });
}

/**
 * Sends `GET <rawTarget> HTTP/1.1` byte for byte (node's http client refuses
 * some targets, e.g. with a NUL) and returns the status code of the answer.
 */
export async function rawStatus(port: number, rawTarget: string): Promise<number> {
  const { status } = await rawRequest(
    port,
    `GET ${rawTarget} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
  );
  return status;
}

/**
 * Sends `text` (a whole request: request line, header lines, blank line) byte
 * for byte on a fresh connection to 127.0.0.1:`port` (or `address`), and
 * returns the status and the lower-cased response headers.
 */
export async function rawRequest(
  port: number,
  text: string,
  address = '127.0.0.1',
): Promise<{ status: number; headers: Record<string, string> }> {
  const socket = net.connect(port, address);
  await once(socket, 'connect');
  socket.write(Buffer.from(text, 'latin1'));
  const pieces: Buffer[] = [];
  socket.on('data', (piece: Buffer) => pieces.push(piece));
  await once(socket, 'close');
  const head = Buffer.concat(pieces).toString('latin1').split('\r\n\r\n')[0] ?? '';
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!m) throw new Error(`no HTTP status line in ${JSON.stringify(head.slice(0, 200))}`);
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(m[1]), headers };
}

/** The GET requests among `requests` (what a read cost). */
export function gets(requests: readonly S3Request[]): S3Request[] {
  return requests.filter((r) => r.method === 'GET');
}
