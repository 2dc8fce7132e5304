/**
 * Connect/Express-style use: the handler calls next() for paths outside its
 * scope, so other routes after it still answer; inside the scope it answers.
 */
import http from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { createGatewayHandler, type GatewayHandler } from '../src';
import { closeServer, listen, request } from './helpers/gateway';
import { encryptedClient, useS3 } from './helpers/s3';

type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void) => void;

/** A minimal Connect: runs middleware in order; next(error) answers 500, the end of the chain 404 "fallthrough". */
function connect(...stack: Middleware[]): http.RequestListener {
  return (req, res) => {
    let i = 0;
    const next = (error?: unknown) => {
      if (error) {
        res.writeHead(500).end(String(error));
        return;
      }
      const layer = stack[i++];
      if (layer) layer(req, res, next);
      else res.writeHead(404, { 'x-fallthrough': 'yes' }).end('fallthrough');
    };
    next();
  };
}

/** Mounts `handler` under `mount` as Express's app.use(mount, handler) does: strips the mount path from req.url. */
function mounted(mount: string, handler: GatewayHandler): Middleware {
  return (req, res, next) => {
    const url = req.url ?? '/';
    if (!url.startsWith(`${mount}/`)) return next();
    req.url = url.slice(mount.length);
    handler(req, res, (error) => {
      req.url = url;
      next(error);
    });
  };
}

const s3 = useS3('middleware');
const servers: http.Server[] = [];
const nextCalls: string[] = [];
let client: S3Client;
let origin: string;
let mountedOrigin: string;

beforeAll(async () => {
  await s3.putEncrypted('files/report.txt', 'the report');
  client = encryptedClient(s3.keyring);
  const gateway = createGatewayHandler({ client, scope: { bucket: s3.bucket, prefix: 'files/' } });
  const spy: GatewayHandler = (req, res, next) =>
    gateway(req, res, (error) => {
      nextCalls.push(req.url ?? '');
      next?.(error);
    });
  const server = http.createServer(
    connect(
      (req, res, next) => (req.url === '/health' ? res.writeHead(200).end('ok') : next()),
      spy,
      (req, res, next) => (req.url?.startsWith('/api/') ? res.writeHead(200).end(`api ${req.url}`) : next()),
    ),
  );
  const mountedServer = http.createServer(
    connect(mounted('/media', gateway), (_req, res) => res.writeHead(200).end('after')),
  );
  servers.push(server, mountedServer);
  origin = `http://127.0.0.1:${await listen(server)}`;
  mountedOrigin = `http://127.0.0.1:${await listen(mountedServer)}`;
});
afterAll(async () => {
  for (const s of servers) await closeServer(s);
  client?.destroy();
});

test('an object path is answered by the gateway, next() is not called', async () => {
  nextCalls.length = 0;
  const res = await request(origin, '/report.txt');
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('the report');
  expect(nextCalls).toEqual([]);
});

test('a missing object inside the scope is the gateway’s 404, not next()', async () => {
  nextCalls.length = 0;
  const res = await request(origin, '/missing.txt');
  expect(res.status).toBe(404);
  expect(res.headers['x-fallthrough']).toBeUndefined();
  expect(nextCalls).toEqual([]);
});

test.each([['/'], ['/a//b'], ['/../x'], ['/a%2Fb'], ['/x/']])(
  'a path outside the scope (%s) goes to next() without an S3 request',
  async (path) => {
    nextCalls.length = 0;
    const res = await request(origin, path);
    expect(res.status).toBe(404);
    expect(res.headers['x-fallthrough']).toBe('yes');
    expect(nextCalls).toEqual([path]);
  },
);

test('routes after the gateway still answer for paths it does not own', async () => {
  // '/api/v1' is a valid object path for the gateway only if it has no empty segment: use one it refuses.
  const res = await request(origin, '/api/v1/');
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('api /api/v1/');
});

test('routes before the gateway answer first', async () => {
  const res = await request(origin, '/health');
  expect(res.body.toString()).toBe('ok');
});

test('mounted under a path (Express app.use("/media", handler)): serves /media/<key>, passes the rest on', async () => {
  const res = await request(mountedOrigin, '/media/report.txt', { headers: { range: 'bytes=4-9' } });
  expect(res.status).toBe(206);
  expect(res.body.toString()).toBe('report');
  expect((await request(mountedOrigin, '/elsewhere')).body.toString()).toBe('after');
  expect((await request(mountedOrigin, '/media/a//b')).body.toString()).toBe('after');
});
