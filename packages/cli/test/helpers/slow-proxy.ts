import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A pass-through proxy in front of the S3 server that holds every UploadPart request for a while. */
export interface SlowProxy {
  /** The endpoint to give the CLI (`--endpoint`). */
  readonly endpoint: string;
  /** How long each UploadPart waits before it is forwarded; change it at any time. */
  partDelayMs: number;
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 that forwards every request unchanged to
 * `target` (the real S3 server; headers, Host included, pass through, so
 * SigV4 signatures stay valid), holding each `UploadPart` (PUT with
 * `partNumber`) for `partDelayMs` first. Uploads then take long enough to be
 * interrupted mid-way deterministically, whatever the machine's speed.
 */
export async function startSlowProxy(target: string, partDelayMs: number): Promise<SlowProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const isPart = req.method === 'PUT' && /[?&]partNumber=/.test(req.url ?? '');
    let forwarded: ReturnType<typeof request> | undefined;
    let gone = false;
    res.on('close', () => {
      gone = true; // the client disconnected (killed, or aborted the request) or the response ended
      clearTimeout(hold);
      forwarded?.destroy();
    });
    const hold = setTimeout(
      () => {
        if (gone) return;
        forwarded = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('error', () => res.destroy());
          },
        );
        forwarded.on('error', () => {
          if (!res.headersSent && !gone) res.writeHead(502).end();
          else res.destroy();
        });
        req.pipe(forwarded);
      },
      isPart ? proxy.partDelayMs : 0,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const proxy: SlowProxy = {
    endpoint: `http://127.0.0.1:${port}`,
    partDelayMs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
