/**
 * maxConcurrentRequests bounds the S3 requests in flight: a burst beyond it
 * waits in a bounded queue (in arrival order), a request beyond the queue or
 * past queueTimeoutMs gets 503 with Retry-After and costs no S3 request, and
 * a client that leaves the queue gives up its place. The S3 requests are
 * counted from the moment the client sends them until their body closes,
 * and held at a gate so that the burst is in flight at the same time.
 */
import http from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { type InFlight, trackInFlight } from '@encrypted-stream/test-support';
import { ConcurrencyLimit, type SlotResult } from '../src';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { encryptedClient, useS3 } from './helpers/s3';

const s3 = useS3('concurrency');
const BODY = 'x'.repeat(200_000); // several chunks: a body that takes a moment to stream

interface Tracked {
  gateway: RunningGateway;
  flight: InFlight;
  client: S3Client;
}
const started: Tracked[] = [];

/** A gateway whose client's S3 requests are counted and can be held at a gate. */
async function tracked(options: {
  maxConcurrentRequests?: number;
  maxQueuedRequests?: number;
  queueTimeoutMs?: number;
}): Promise<Tracked> {
  const client = encryptedClient(s3.keyring);
  const flight = trackInFlight(client);
  const gateway = await startGateway({ client, scope: { bucket: s3.bucket, prefix: 'c/' }, ...options });
  const t = { gateway, flight, client };
  started.push(t);
  return t;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await s3.putEncrypted('c/big.txt', BODY, { ContentType: 'text/plain' });
});
afterAll(async () => {
  for (const t of started) {
    t.flight.open();
    await t.gateway.close();
    t.client.destroy();
  }
});

test('a burst of 6 with maxConcurrentRequests 2: never more than 2 S3 requests in flight, all 6 served', async () => {
  const { gateway, flight } = await tracked({ maxConcurrentRequests: 2 });
  flight.close();
  const burst = Array.from({ length: 6 }, () => request(gateway.origin, '/big.txt'));
  await flight.reach(2);
  await sleep(300); // time for a third to start, were it allowed to
  expect(flight.current).toBe(2);
  expect(flight.started).toBe(2);
  flight.open();
  const responses = await Promise.all(burst);
  for (const res of responses) {
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(BODY);
  }
  expect(flight.max).toBe(2);
  expect(flight.started).toBe(6);
  expect(gateway.logs.filter((e) => e.level !== 'info')).toEqual([]);
});

test('the same burst without a tight cap has all 6 in flight at once (what the cap prevents)', async () => {
  const { gateway, flight } = await tracked({ maxConcurrentRequests: 100 });
  flight.close();
  const burst = Array.from({ length: 6 }, () => request(gateway.origin, '/big.txt'));
  await flight.reach(6);
  flight.open();
  for (const res of await Promise.all(burst)) expect(res.status).toBe(200);
  expect(flight.max).toBe(6);
});

test('the default cap is 32', async () => {
  const { gateway, flight } = await tracked({});
  flight.close();
  const burst = Array.from({ length: 40 }, () => request(gateway.origin, '/big.txt', { method: 'HEAD' }));
  await flight.reach(32);
  await sleep(300);
  expect(flight.started).toBe(32);
  flight.open();
  for (const res of await Promise.all(burst)) expect(res.status).toBe(200);
  expect(flight.max).toBe(32);
});

test('beyond the queue: 503 with Retry-After at once, protected, no S3 request; the others are served', async () => {
  const { gateway, flight } = await tracked({ maxConcurrentRequests: 1, maxQueuedRequests: 1 });
  flight.close();
  const first = request(gateway.origin, '/big.txt');
  await flight.reach(1);
  const second = request(gateway.origin, '/big.txt'); // waits in the queue
  await sleep(100);
  const third = await request(gateway.origin, '/big.txt');
  expect(third.status).toBe(503);
  expect(third.headers['retry-after']).toBe('1');
  expect(third.headers['x-content-type-options']).toBe('nosniff');
  expect(third.headers['content-security-policy']).toBe(
    "default-src 'none'; img-src 'self'; media-src 'self'; sandbox allow-same-origin",
  );
  expect(flight.started).toBe(1);
  expect(gateway.logs).toContainEqual(
    expect.objectContaining({ event: 'overloaded', status: 503, detail: 'queue-full' }),
  );
  flight.open();
  expect((await first).status).toBe(200);
  expect((await second).status).toBe(200);
  expect(flight.max).toBe(1);
  expect(flight.started).toBe(2);
});

test('a request that waits longer than queueTimeoutMs gets 503 with Retry-After and no S3 request', async () => {
  const { gateway, flight } = await tracked({ maxConcurrentRequests: 1, queueTimeoutMs: 200 });
  flight.close();
  const first = request(gateway.origin, '/big.txt');
  await flight.reach(1);
  const t0 = performance.now();
  const late = await request(gateway.origin, '/big.txt');
  expect(late.status).toBe(503);
  expect(late.headers['retry-after']).toBe('1');
  expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
  expect(gateway.logs).toContainEqual(expect.objectContaining({ event: 'overloaded', detail: 'timeout' }));
  expect(flight.started).toBe(1);
  flight.open();
  expect((await first).status).toBe(200);
});

test('a queued client that disconnects leaves the queue: it never costs an S3 request', async () => {
  const { gateway, flight } = await tracked({ maxConcurrentRequests: 1 });
  flight.close();
  const first = request(gateway.origin, '/big.txt');
  await flight.reach(1);
  const leaving = http.request({ host: '127.0.0.1', port: gateway.port, path: '/big.txt', agent: false });
  leaving.on('error', () => {});
  leaving.end();
  await sleep(100);
  leaving.destroy();
  await gateway.waitForLog('client-gone');
  const after = request(gateway.origin, '/big.txt');
  await sleep(100);
  flight.open();
  expect((await first).status).toBe(200);
  expect((await after).status).toBe(200);
  expect(flight.started).toBe(2);
  expect(flight.max).toBe(1);
});

test('ConcurrencyLimit: slots pass to waiters in arrival order; release is idempotent; bad limits throw', async () => {
  const limit = new ConcurrencyLimit(1, 2, 10_000);
  const signal = new AbortController().signal;
  const a = await limit.acquire(signal);
  const order: string[] = [];
  const granted = (name: string) => (result: SlotResult) => {
    order.push(name);
    return result;
  };
  const b = limit.acquire(signal).then(granted('b'));
  const c = limit.acquire(signal).then(granted('c'));
  expect(await limit.acquire(signal)).toEqual({ granted: false, reason: 'queue-full' });
  expect([limit.active, limit.queued]).toEqual([1, 2]);
  if (!a.granted) throw new Error('a slot was expected');
  a.release();
  a.release(); // a second call must not free another slot
  const rb = await b;
  expect([limit.active, limit.queued, order]).toEqual([1, 1, ['b']]);
  if (rb.granted) rb.release();
  const rc = await c;
  if (rc.granted) rc.release();
  expect([limit.active, limit.queued, order]).toEqual([0, 0, ['b', 'c']]);
  expect(() => new ConcurrencyLimit(0, 1, 1)).toThrow(RangeError);
  expect(() => new ConcurrencyLimit(1, -1, 1)).toThrow(RangeError);
  expect(() => new ConcurrencyLimit(1.5, 1, 1)).toThrow(RangeError);
});
