/**
 * A client that goes away mid-body: the gateway logs 'client-gone', aborts
 * its S3 request and stops reading the object (it does not drain the rest).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { RecordedRequest as S3Request } from '@encrypted-stream/test-support';
import { type RunningGateway, request, startGateway } from './helpers/gateway';
import { useS3 } from './helpers/s3';

const MiB = 1024 * 1024;
const SIZE = 48 * MiB;
const DATA = randomBytes(SIZE);
const s3 = useS3('disconnect');
let gateway: RunningGateway;

beforeAll(async () => {
  await s3.putEncrypted('d/big.bin', DATA, { ContentType: 'video/webm' });
  gateway = await startGateway({ keyring: s3.keyring, scope: { bucket: s3.bucket, prefix: 'd/' } });
});
afterAll(() => gateway?.close());
beforeEach(() => {
  gateway.logs.length = 0;
  gateway.s3.length = 0;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a GET and destroys the socket as soon as the first body bytes arrive; resolves with what came. */
function readFirstBytesThenHangUp(path: string, headers: Record<string, string> = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: gateway.port, path, headers, agent: false }, (res) => {
      res.once('data', (piece: Buffer) => {
        req.destroy();
        resolve(piece);
      });
    });
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
  });
}

/** Waits until the S3 response body has been destroyed (the gateway's S3 read was torn down). */
async function torndown(record: S3Request, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!record.body?.destroyed) {
    if (Date.now() > deadline) throw new Error('the S3 response body is still open');
    await sleep(20);
  }
}

test('mid-body: client-gone logged, the S3 request aborted, the object not read on', async () => {
  const first = await readFirstBytesThenHangUp('/big.bin');
  expect(first.equals(DATA.subarray(0, first.length))).toBe(true);
  const entry = await gateway.waitForLog('client-gone');
  expect(entry).toMatchObject({ level: 'info', bucket: s3.bucket, key: 'd/big.bin' });

  expect(gateway.s3).toHaveLength(1);
  const get = gateway.s3[0] as S3Request;
  expect(get.method).toBe('GET');
  await torndown(get);
  expect(get.body?.readableEnded).toBe(false);
  expect((get.body?.socket as { destroyed?: boolean } | undefined)?.destroyed).toBe(true);
  const readAtTeardown = get.body?.socket?.bytesRead ?? 0;
  await sleep(500);
  const readLater = get.body?.socket?.bytesRead ?? 0;
  // Stopped: nothing more came in after the teardown, and far less than the object was ever read.
  expect(readLater).toBe(readAtTeardown);
  expect(readLater).toBeLessThan(SIZE / 2);
  // An abort, not a failure.
  expect(gateway.logs.map((e) => e.event)).toEqual(['client-gone']);
});

test('mid-range: the same for a ranged request', async () => {
  const start = 3 * MiB + 17;
  const first = await readFirstBytesThenHangUp('/big.bin', { range: `bytes=${start}-` });
  expect(first.equals(DATA.subarray(start, start + first.length))).toBe(true);
  await gateway.waitForLog('client-gone');
  const get = gateway.s3[0] as S3Request;
  expect(get.range).toMatch(/^bytes=\d+-$/);
  await torndown(get);
  expect(get.body?.readableEnded).toBe(false);
  expect(get.body?.socket?.bytesRead ?? 0).toBeLessThan(SIZE / 2);
  expect(gateway.logs.map((e) => e.event)).toEqual(['client-gone']);
});

test('a client that hangs up while the gateway waits for S3: the S3 request is aborted, no failure logged', async () => {
  await new Promise<void>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: gateway.port, path: '/big.bin', agent: false });
    req.on('error', () => {});
    req.on('close', () => resolve());
    // The gateway's listener runs first (it has sent its S3 request); then the client hangs up.
    gateway.server.once('request', () => req.destroy());
  });
  await gateway.waitForLog('client-gone');
  await sleep(200);
  expect(gateway.s3).toHaveLength(1);
  const get = gateway.s3[0] as S3Request;
  // Either aborted before S3 answered, or its body torn down unread.
  if (get.body) {
    await torndown(get);
    expect(get.body.readableEnded).toBe(false);
  } else {
    expect(get.status).toBeUndefined();
  }
  expect(gateway.logs.map((e) => e.event)).toEqual(['client-gone']);
});

test('the gateway still serves after clients went away', async () => {
  const res = await request(gateway.origin, '/big.bin', { headers: { range: 'bytes=-1000' } });
  expect(res.status).toBe(206);
  expect(res.body.equals(DATA.subarray(SIZE - 1000))).toBe(true);
});
