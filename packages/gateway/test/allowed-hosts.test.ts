/**
 * DNS rebinding: a page on attacker.example whose name was re-pointed at the
 * gateway's address sends `Host: attacker.example`. The gateway answers only
 * loopback names, the address the connection arrived on and allowedHosts,
 * with any port; everything else gets 421 and costs no S3 request.
 */

import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayHandler, HostAllowList } from '../src';
import { closeServer, type RunningGateway, rawRequest, request, startGateway } from './helpers/gateway';
import { encryptedClient, useS3 } from './helpers/s3';

const s3 = useS3('hosts');
let gateway: RunningGateway;
let named: RunningGateway;
let app: RunningGateway;

beforeAll(async () => {
  await s3.putEncrypted('pub/x.txt', 'the object', { ContentType: 'text/plain' });
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'pub/' } });
  named = await startGateway({
    keyring: s3.keyring,
    scope: { bucket: s3.bucket, prefix: 'pub/' },
    allowedHosts: ['media.example', 'FE80::1', '10.9.8.7'],
  });
  // As middleware: paths outside the scope belong to the app, whatever their Host.
  app = await startGateway({
    keyring: s3.keyring,
    scope: { bucket: s3.bucket, prefix: 'pub/' },
    otherwise: (_req, res) => res.writeHead(200).end('the app'),
  });
});
afterAll(async () => {
  await gateway?.close();
  await named?.close();
  await app?.close();
});
beforeEach(() => {
  for (const g of [gateway, named, app]) {
    g.s3.length = 0;
    g.logs.length = 0;
  }
});

test('Host: attacker.example:8080 (a DNS-rebinding page) → 421, no S3 request, logged', async () => {
  const res = await request(gateway.origin, '/x.txt', { headers: { host: 'attacker.example:8080' } });
  expect(res.status).toBe(421);
  expect(res.body.length).toBe(0);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(gateway.s3).toEqual([]);
  expect(gateway.logs).toEqual([
    expect.objectContaining({ level: 'warn', event: 'host-refused', detail: 'Host: attacker.example:8080' }),
  ]);
});

test.each([
  ['attacker.example'],
  ['127.0.0.1.nip.io'],
  ['localhost.attacker.example'],
  ['localhost.'], // a trailing dot is another name to a browser, and goes to DNS
  ['LOCALHOST.EVIL'],
  ['127.0.0.2'], // another loopback address than the one the connection arrived on
  ['10.9.8.7'], // allowed on the other gateway, not this one
  ['[::2]'],
  ['::1'], // an unbracketed IPv6 literal is not a valid Host
  ['user@127.0.0.1'],
  ['127.0.0.1 x'],
  ['127.0.0.1:80:80'],
])('Host: %j → 421 and no S3 request, for GET and HEAD', async (host) => {
  for (const method of ['GET', 'HEAD']) {
    const res = await request(gateway.origin, '/x.txt', { method, headers: { host } });
    expect([host, method, res.status]).toEqual([host, method, 421]);
  }
  expect(gateway.s3).toEqual([]);
});

test('a request without a Host header (HTTP/1.0), or with an empty one → 421, no S3 request', async () => {
  const res = await rawRequest(gateway.port, 'GET /x.txt HTTP/1.0\r\n\r\n');
  expect(res.status).toBe(421);
  expect(res.headers['content-security-policy']).toBe(
    "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin",
  );
  const empty = await rawRequest(gateway.port, 'GET /x.txt HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n');
  expect(empty.status).toBe(421);
  expect(gateway.s3).toEqual([]);
});

test('an absolute-form target naming another host → 421, even with an allowed Host header', async () => {
  const text = `GET http://attacker.example/x.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
  expect((await rawRequest(gateway.port, text)).status).toBe(421);
  const allowed = `GET http://localhost:1/x.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
  expect((await rawRequest(gateway.port, allowed)).status).toBe(200);
  expect(gateway.s3.map((r) => r.method)).toEqual(['GET']);
});

test.each([
  ['127.0.0.1'],
  ['localhost'],
  ['LocalHost:65000'], // any port: a forwarded port still reaches the gateway under its name
  ['[::1]:8080'],
  ['127.0.0.1:1'],
])('Host: %s → 200 (loopback names, any port)', async (host) => {
  const res = await request(gateway.origin, '/x.txt', { headers: { host } });
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('the object');
});

test('allowedHosts: those names (any case, any port, IPv6 bracketed or not) are answered too, others are not', async () => {
  for (const host of [
    'media.example',
    'MEDIA.example:9000',
    '[fe80::1]:80',
    '[FE80:0::1]',
    '10.9.8.7:8080',
    'localhost',
  ]) {
    const res = await request(named.origin, '/x.txt', { headers: { host } });
    expect([host, res.status]).toEqual([host, 200]);
  }
  for (const host of ['other.example', 'media.example.attacker.example', 'xmedia.example']) {
    const res = await request(named.origin, '/x.txt', { headers: { host } });
    expect([host, res.status]).toEqual([host, 421]);
  }
});

test('the address the connection arrived on is allowed as Host (the bound address), another one is not', async () => {
  // 127.0.0.2 is not a loopback name the gateway knows: only the local address of the connection admits it.
  const client = encryptedClient(s3.keyring);
  const server = http.createServer(createGatewayHandler({ client, scope: { bucket: s3.bucket, prefix: 'pub/' } }));
  server.listen(0, '127.0.0.2');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const get = (host: string) =>
      rawRequest(port, `GET /x.txt HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, '127.0.0.2');
    expect((await get(`127.0.0.2:${port}`)).status).toBe(200);
    expect((await get('127.0.0.2')).status).toBe(200);
    expect((await get('127.0.0.3')).status).toBe(421);
    expect((await get('attacker.example')).status).toBe(421);
  } finally {
    await closeServer(server);
    client.destroy();
  }
});

test('as middleware, a foreign Host on a path outside the scope is the app’s business (next()), inside it 421', async () => {
  const outside = await request(app.origin, '/', { headers: { host: 'attacker.example' } });
  expect(outside.status).toBe(200);
  expect(outside.body.toString()).toBe('the app');
  expect(outside.headers['content-security-policy']).toBeUndefined(); // the gateway leaves the app's responses alone
  const inside = await request(app.origin, '/x.txt', { headers: { host: 'attacker.example' } });
  expect(inside.status).toBe(421);
  expect(app.s3).toEqual([]);
});

test.each([
  ['media.example:8080'],
  ['http://media.example'],
  ['media.example/'],
  [''],
  ['a b'],
  ['[::1'],
  ['[nothex]'],
])('allowedHosts entry %j (not a bare name) is refused with a TypeError', (entry) => {
  expect(() => new HostAllowList([entry])).toThrow(TypeError);
  expect(() => createGatewayHandler({ client: s3.plain, scope: { bucket: 'b' }, allowedHosts: [entry] })).toThrow(
    TypeError,
  );
});
