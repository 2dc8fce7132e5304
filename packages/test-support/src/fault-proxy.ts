import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { s3Settings } from './s3-settings';

/**
 * A small HTTP reverse proxy on loopback in front of the S3 server, whose
 * behaviour is scripted per request: point an SDK client at `proxy.endpoint`
 * and add rules; each request that matches a rule (and that the rule still
 * fires for) gets the rule's fault, every other request is relayed untouched.
 *
 * The Host header is relayed as the client sent it, so SigV4 signatures stay
 * valid. `Expect: 100-continue` is answered by the proxy itself (Node's
 * server does it) and not relayed (the SDK never signs it).
 */

/** What a rule matches on; every given field must match. */
export interface FaultMatch {
  /** HTTP method, e.g. 'GET', 'PUT', 'POST'. */
  readonly method?: string;
  /** The path (`/bucket/key`, URL-decoded): exact string or pattern. */
  readonly path?: string | RegExp;
  /**
   * Query parameters: `true` = present, `false` = absent, a string = that
   * value. `{ uploadId: true, partNumber: '2' }` is UploadPart 2;
   * `{ uploadId: true }` with POST is CompleteMultipartUpload.
   */
  readonly query?: Readonly<Record<string, boolean | string>>;
  /** The Range header: `true` = present, `false` = absent, or a pattern it must match. */
  readonly range?: boolean | RegExp;
  /** Any other predicate. */
  readonly when?: (request: ProxiedRequest) => boolean;
}

/** A scripted fault. Byte counts are of the body (request or response) only. */
export type FaultAction =
  /** Reset the connection (TCP RST) after relaying `afterBytes` of the response body. */
  | { readonly kind: 'reset-response'; readonly afterBytes: number }
  /** Reset the connection after receiving `afterBytes` of the request body (the server gets an incomplete request). */
  | { readonly kind: 'reset-request'; readonly afterBytes: number }
  /** Stop relaying the response body for `ms` after `afterBytes` of it, then carry on. */
  | { readonly kind: 'stall-response'; readonly afterBytes: number; readonly ms: number }
  /** Stop relaying the request body for `ms` after `afterBytes` of it, then carry on. */
  | { readonly kind: 'stall-request'; readonly afterBytes: number; readonly ms: number }
  /** Answer with an S3 XML error (e.g. 500 InternalError, 503 SlowDown); the request never reaches S3. */
  | { readonly kind: 'error'; readonly status: number; readonly code: string; readonly message?: string }
  /** Relay the response's headers (its real Content-Length) but only `bytes` of its body, then close (FIN). */
  | { readonly kind: 'short-response'; readonly bytes: number }
  /**
   * Relay only `bytes` of the response body with Content-Length rewritten to match (other headers,
   * e.g. Content-Range, untouched): a cut the HTTP layer cannot see, only the decoder can.
   */
  | { readonly kind: 'truncate-reframed'; readonly bytes: number };

/** A rule: which requests, what fault, how often. */
export interface FaultRule {
  /** For the log and figures. */
  readonly name?: string;
  readonly match: FaultMatch;
  readonly action: FaultAction;
  /** How many matching requests get the fault (default 1; `Infinity` for all). */
  readonly times?: number;
  /** Let this many matching requests through untouched first (default 0). */
  readonly skip?: number;
}

/** A request as the proxy saw it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
}

/** One line of the proxy's log. */
export interface ProxyLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly range: string | undefined;
  /** The upstream status, or the injected one; undefined when reset before a response. */
  status: number | undefined;
  /** Name of the rule applied (or its action kind), if any. */
  readonly fault: string | undefined;
}

interface ActiveRule {
  readonly rule: FaultRule;
  seen: number;
  fired: number;
}

function matches(match: FaultMatch, request: ProxiedRequest): boolean {
  if (match.method && match.method.toUpperCase() !== request.method) return false;
  if (match.path !== undefined) {
    if (typeof match.path === 'string' ? match.path !== request.path : !match.path.test(request.path)) return false;
  }
  for (const [name, want] of Object.entries(match.query ?? {})) {
    const has = request.query.has(name);
    if (want === true && !has) return false;
    if (want === false && has) return false;
    if (typeof want === 'string' && request.query.get(name) !== want) return false;
  }
  if (match.range !== undefined) {
    const range = request.headers.range;
    if (match.range === true && range === undefined) return false;
    if (match.range === false && range !== undefined) return false;
    if (match.range instanceof RegExp && (range === undefined || !match.range.test(range))) return false;
  }
  return !match.when || match.when(request);
}

function s3ErrorXml(code: string, message: string, resource: string): string {
  const id = randomBytes(8).toString('hex').toUpperCase();
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource>` +
    `<RequestId>${id}</RequestId><HostId>fault-proxy</HostId></Error>`
  );
}

const DEFAULT_MESSAGES: Record<string, string> = {
  InternalError: 'We encountered an internal error. Please try again.',
  SlowDown: 'Please reduce your request rate.',
  ServiceUnavailable: 'Service is unable to handle request.',
};

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'expect', 'te', 'trailer']);

/**
 * Relays `source` into `sink`; once `limit` bytes went through (flushed to the
 * sink), calls `onThreshold`, which decides when (and whether) to go on. A
 * body shorter than `limit` fires at its end. Backpressure and the hold never
 * reorder bytes: the source resumes only when neither is in force.
 */
function relayWithFault(
  source: http.IncomingMessage,
  sink: {
    write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean;
    end(): void;
    once(event: 'drain', listener: () => void): unknown;
  },
  limit: number | undefined,
  onThreshold: () => Promise<boolean>,
): void {
  let count = 0;
  let fired = limit === undefined;
  let stopped = false;
  let holding = false;
  let draining = false;
  const maybeResume = () => {
    if (!stopped && !holding && !draining) source.resume();
  };
  const write = (chunk: Buffer, callback?: () => void) => {
    if (!sink.write(chunk, callback)) {
      draining = true;
      source.pause();
      sink.once('drain', () => {
        draining = false;
        maybeResume();
      });
    }
  };
  const fire = async (head: Buffer): Promise<boolean> => {
    holding = true;
    source.pause();
    // Let the bytes before the fault reach the socket first.
    await new Promise<void>((resolve) => (head.length > 0 ? write(head, resolve) : resolve()));
    const goOn = await onThreshold();
    holding = false;
    if (!goOn) stopped = true;
    return goOn;
  };
  source.on('data', (chunk: Buffer) => {
    if (stopped) return;
    if (!fired && limit !== undefined && count + chunk.length >= limit) {
      fired = true;
      const head = chunk.subarray(0, limit - count);
      const tail = chunk.subarray(limit - count);
      count += chunk.length;
      void fire(head).then((goOn) => {
        if (!goOn) return;
        if (tail.length > 0) write(tail);
        maybeResume();
      });
      return;
    }
    count += chunk.length;
    write(chunk);
  });
  source.on('end', () => {
    if (stopped) return;
    if (fired) {
      // 'end' comes only after every 'data', so any hold is over.
      sink.end();
      return;
    }
    fired = true;
    void fire(Buffer.alloc(0)).then((goOn) => {
      if (goOn) sink.end();
    });
  });
}

/** Resets a socket: TCP RST where Node supports it, plain destroy otherwise. */
function resetSocket(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  const withReset = socket as Socket & { resetAndDestroy?: () => Socket };
  if (typeof withReset.resetAndDestroy === 'function') withReset.resetAndDestroy();
  else socket.destroy();
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The proxy. Create with {@link startFaultProxy}. */
export class FaultProxy {
  readonly #server: http.Server;
  readonly #upstream: URL;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  readonly #rules: ActiveRule[] = [];
  readonly #sockets = new Set<Socket>();
  /** Every request relayed or faulted, in arrival order. */
  readonly log: ProxyLogEntry[] = [];

  /** A proxy (not yet listening) in front of the server at `upstream`. */
  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** `http://127.0.0.1:<port>` once listening. */
  get endpoint(): string {
    const address = this.#server.address() as AddressInfo | null;
    if (!address) throw new Error('fault proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** How many faults were injected so far (all rules). */
  get faultsInjected(): number {
    return this.#rules.reduce((n, r) => n + r.fired, 0);
  }

  /** Starts listening on a free loopback port. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return this;
  }

  /** Adds a rule; returns a handle telling how often it fired. */
  addRule(rule: FaultRule): { readonly fired: number; readonly seen: number } {
    const active: ActiveRule = { rule, seen: 0, fired: 0 };
    this.#rules.push(active);
    return {
      get fired() {
        return active.fired;
      },
      get seen() {
        return active.seen;
      },
    };
  }

  /** Removes every rule and clears the log. */
  reset(): void {
    this.#rules.length = 0;
    this.log.length = 0;
  }

  /** Requests in the log that match. */
  requests(match: FaultMatch): ProxyLogEntry[] {
    return this.log.filter((e) =>
      matches(match, {
        method: e.method,
        path: e.path,
        query: new URLSearchParams(e.query),
        headers: e.range === undefined ? {} : { range: e.range },
      }),
    );
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#agent.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pick(request: ProxiedRequest): FaultRule | undefined {
    for (const active of this.#rules) {
      if (!matches(active.rule.match, request)) continue;
      active.seen++;
      if (active.seen <= (active.rule.skip ?? 0)) continue;
      if (active.fired >= (active.rule.times ?? 1)) continue;
      active.fired++;
      return active.rule;
    }
    return undefined;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const request: ProxiedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: req.headers,
    };
    const rule = this.#pick(request);
    const action = rule?.action;
    const entry: ProxyLogEntry = {
      method: request.method,
      path: request.path,
      query: url.search,
      range: req.headers.range,
      status: undefined,
      fault: rule ? (rule.name ?? rule.action.kind) : undefined,
    };
    this.log.push(entry);
    const clientSocket = req.socket;

    if (action?.kind === 'error') {
      // Read (and drop) the request body first, as a server would, then answer.
      req.resume();
      req.on('end', () => {
        const body = s3ErrorXml(
          action.code,
          action.message ?? DEFAULT_MESSAGES[action.code] ?? action.code,
          url.pathname,
        );
        entry.status = action.status;
        res.writeHead(action.status, {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(body),
          'x-amz-request-id': 'fault-proxy',
          ...(action.code === 'SlowDown' ? { 'retry-after': '0' } : {}),
        });
        res.end(body);
      });
      return;
    }

    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    const upstreamReq = http.request({
      protocol: this.#upstream.protocol,
      hostname: this.#upstream.hostname,
      port: this.#upstream.port,
      method: request.method,
      path: req.url,
      headers,
      agent: this.#agent,
    });
    const abortBoth = () => {
      upstreamReq.destroy();
      resetSocket(clientSocket);
    };
    upstreamReq.on('error', () => resetSocket(clientSocket));
    req.on('error', () => upstreamReq.destroy());
    res.on('close', () => {
      // The client went away before the whole response was relayed: drop the upstream request too.
      if (!res.writableFinished) upstreamReq.destroy();
    });

    // Request body: relayed, with a request-side fault if scripted.
    let requestLimit: number | undefined;
    let onRequestThreshold: () => Promise<boolean> = async () => true;
    if (action?.kind === 'reset-request') {
      requestLimit = action.afterBytes;
      onRequestThreshold = async () => {
        abortBoth();
        return false;
      };
    } else if (action?.kind === 'stall-request') {
      requestLimit = action.afterBytes;
      onRequestThreshold = async () => {
        await sleep(action.ms);
        return !clientSocket.destroyed;
      };
    }
    relayWithFault(req, upstreamReq, requestLimit, onRequestThreshold);

    upstreamReq.on('response', (upstreamRes) => {
      entry.status = upstreamRes.statusCode;
      const responseHeaders: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(upstreamRes.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
      }
      if (action?.kind === 'truncate-reframed' && responseHeaders['content-length'] !== undefined) {
        responseHeaders['content-length'] = String(Math.min(action.bytes, Number(responseHeaders['content-length'])));
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders);
      let responseLimit: number | undefined;
      let onResponseThreshold: () => Promise<boolean> = async () => true;
      if (action?.kind === 'reset-response') {
        responseLimit = action.afterBytes;
        onResponseThreshold = async () => {
          upstreamRes.destroy();
          resetSocket(clientSocket);
          return false;
        };
      } else if (action?.kind === 'stall-response') {
        responseLimit = action.afterBytes;
        onResponseThreshold = async () => {
          await sleep(action.ms);
          return !clientSocket.destroyed;
        };
      } else if (action?.kind === 'short-response') {
        responseLimit = action.bytes;
        onResponseThreshold = async () => {
          upstreamRes.destroy();
          clientSocket.end(); // a clean close (FIN): the body is just shorter than its Content-Length
          return false;
        };
      } else if (action?.kind === 'truncate-reframed') {
        responseLimit = action.bytes;
        onResponseThreshold = async () => {
          upstreamRes.destroy();
          res.end(); // a complete message, as far as HTTP can tell
          return false;
        };
      }
      relayWithFault(upstreamRes, res, responseLimit, onResponseThreshold);
    });
  }
}

/** Starts a fault proxy in front of `upstream` (default: the server under test) on a free loopback port. */
export async function startFaultProxy(upstream: string = s3Settings().endpoint): Promise<FaultProxy> {
  return new FaultProxy(upstream).listen();
}
