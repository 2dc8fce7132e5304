/**
 * Browser media bench (issue 15). Two questions, each over the same bytes:
 *
 * 1. Decryption throughput: the same ciphertext body (BENCH_DECRYPT_MB, 64 KiB
 *    chunks) decrypted in Chromium by the codec's libsodium WebAssembly
 *    backend, and in Node by the native backend (node:crypto) and by
 *    libsodium — RangeDecoder over 1 MiB pieces, median of BENCH_RUNS runs.
 * 2. Seek to first decoded byte: `fetch` with `Range: bytes=<random>-` from
 *    the page until the first body bytes arrive, through the page's Service
 *    Worker (presigned ranged GET straight to S3, decrypted in the worker)
 *    and through the gateway (decrypted on the server), same object in the
 *    same S3 server, same page; BENCH_SEEKS seeks each, interleaved, after
 *    one warm-up each (the worker opens the object once).
 *
 *   eval "$(bash scripts/s3-server.sh env)"
 *   pnpm --filter @encrypted-stream/web run bench
 *
 * A script, not a test: it prints figures and ratios, and fails only if a
 * step fails.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PutBucketCorsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LocalKeyring } from '@encrypted-stream/codec';
import {
  createStreamCipher,
  encryptBody,
  fromDetachedHeader,
  getBackend,
  openStreamCipher,
  RangeDecoder,
  toDetachedHeader,
} from '@encrypted-stream/codec/low-level';
import { createGatewayHandler, createPresignService } from '@encrypted-stream/gateway';
import { getEncryptionPlugin } from '@encrypted-stream/s3';
import { createBucket, destroyBucket, plainClient } from '@encrypted-stream/test-support';
import { launchChromium } from '@encrypted-stream/test-support/browser';
import { bundleForBrowser } from '../test/helpers/bundle';
import { startStaticServer } from '../test/helpers/static-server';
import type { BenchPage } from './bench-page';

const MiB = 1024 * 1024;
const DECRYPT_MB = Number(process.env.BENCH_DECRYPT_MB ?? 64);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SEEKS = Number(process.env.BENCH_SEEKS ?? 40);
const OBJECT_MB = Number(process.env.BENCH_OBJECT_MB ?? 64);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] as number;

async function collect(pieces: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const piece of pieces) out.push(piece);
  return Buffer.concat(out);
}

/** Node: ms per run decrypting `body` with `backend`. */
async function nodeDecrypt(
  name: 'native' | 'libsodium',
  header: ReturnType<typeof toDetachedHeader>,
  body: Buffer,
  keyring: LocalKeyring,
  size: number,
) {
  const cipher = await openStreamCipher(fromDetachedHeader(header), { keyring, backend: await getBackend(name) });
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    const decoder = new RangeDecoder(cipher, { plaintextSize: size });
    let out = 0;
    for (let at = 0; at < body.length; at += MiB)
      for (const p of decoder.push(body.subarray(at, at + MiB))) out += p.length;
    for (const p of decoder.finish()) out += p.length;
    times.push(performance.now() - t0);
    if (out !== size) throw new Error('short decrypt');
  }
  return times;
}

async function main(): Promise<void> {
  const masterKey = randomBytes(32);
  const keyring = LocalKeyring.single('page-key', masterKey);
  const s3 = plainClient();
  const bucket = await createBucket(s3, 'web-bench');
  const writer = plainClient();
  writer.middlewareStack.use(getEncryptionPlugin(writer, { keyring }));
  const browser = await launchChromium();
  try {
    // The decrypt body: 64 KiB chunks, made once, decrypted everywhere.
    const size = DECRYPT_MB * MiB;
    const cipher = await createStreamCipher({ keyring, plaintextSize: size });
    const body = await collect(encryptBody(cipher, randomBytes(size)));
    const detached = toDetachedHeader(cipher.header);

    // The seek object, written through the plugin (what both paths read).
    const objectSize = OBJECT_MB * MiB;
    await writer.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'media/bench.bin',
        Body: randomBytes(objectSize),
        ContentType: 'video/webm',
      }),
    );

    const presign = createPresignService({ client: s3, presign: getSignedUrl, bucket, prefix: 'media' });
    const gateway = createGatewayHandler({ client: writer, scope: { bucket, prefix: 'media' } });
    const [pageJs, swJs] = await Promise.all([
      bundleForBrowser(path.join(__dirname, 'bench-page.ts'), { format: 'esm', minify: true }),
      bundleForBrowser(path.join(__dirname, '../test/fixtures/media-page/sw.ts'), { format: 'iife', minify: true }),
    ]);
    const app = await startStaticServer(
      {
        '/': {
          body: '<!doctype html><title>bench</title><script type="module" src="/page.js"></script>',
          type: 'text/html',
        },
        '/page.js': { body: pageJs, type: 'text/javascript' },
        '/sw.js': { body: swJs, type: 'text/javascript' },
        '/body.bin': { body, type: 'application/octet-stream' },
      },
      async (req, res, read) => {
        (req as typeof req & { body?: Buffer }).body = read; // the static server read it already
        if (req.url?.startsWith('/gw/')) {
          req.url = req.url.slice(3); // the gateway under /gw/ of the same origin
          return gateway(req, res);
        }
        return presign(req, res);
      },
    );
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [app.origin],
              AllowedMethods: ['GET', 'HEAD'],
              AllowedHeaders: ['range', 'if-match'],
              ExposeHeaders: ['ETag', 'Content-Range', 'Content-Length'],
              MaxAgeSeconds: 3000,
            },
          ],
        },
      }),
    );
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${app.origin}/`);
    // 1. Decryption throughput.
    const browserRun = await page.evaluate(
      ([k, d, s, r]) => (globalThis as unknown as { bench: BenchPage }).bench.decrypt(k, d, s, r),
      [masterKey.toString('hex'), detached, size, RUNS] as const,
    );
    const native = await nodeDecrypt('native', detached, body, keyring, size);
    const sodium = await nodeDecrypt('libsodium', detached, body, keyring, size);
    const mbps = (times: number[]) => size / 1e6 / (median(times) / 1000);
    console.log(`\nDecryption of ${DECRYPT_MB} MiB (64 KiB chunks, 1 MiB pieces, median of ${RUNS} runs):`);
    console.log(`  Chromium, ${browserRun.backend} (WebAssembly): ${mbps(browserRun.times).toFixed(0)} MB/s`);
    console.log(`  Node, native (node:crypto):          ${mbps(native).toFixed(0)} MB/s`);
    console.log(`  Node, libsodium (WebAssembly):       ${mbps(sodium).toFixed(0)} MB/s`);
    console.log(`  ratio Chromium wasm / Node native:   ${(mbps(browserRun.times) / mbps(native)).toFixed(2)}`);
    console.log(`  ratio Chromium wasm / Node libsodium: ${(mbps(browserRun.times) / mbps(sodium)).toFixed(2)}`);

    // 2. Seek to first decoded byte.
    await page.evaluate(
      (hex) => (globalThis as unknown as { bench: BenchPage }).bench.saveKey(hex),
      masterKey.toString('hex'),
    );
    await page.evaluate(() => (globalThis as unknown as { bench: BenchPage }).bench.registerWorker());
    const firstByte = (url: string, start: number) =>
      page.evaluate(([u, s]) => (globalThis as unknown as { bench: BenchPage }).bench.firstByte(u, s), [
        url,
        start,
      ] as const);
    const sw: number[] = [];
    const gw: number[] = [];
    const offsets = Array.from({ length: SEEKS }, () => Math.floor(Math.random() * (objectSize - MiB)));
    await firstByte('/media/bench.bin', 0); // opens the object in the worker
    await firstByte('/gw/bench.bin', 0);
    for (const start of offsets) {
      sw.push(await firstByte('/media/bench.bin', start));
      gw.push(await firstByte('/gw/bench.bin', start));
    }
    console.log(`\nSeek to first decoded byte (${SEEKS} random seeks into a ${OBJECT_MB} MiB object, interleaved):`);
    console.log(
      `  Service Worker (presigned GET to S3, decrypt in the worker): median ${median(sw).toFixed(1)} ms, p90 ${quantile(sw, 0.9).toFixed(1)} ms`,
    );
    console.log(
      `  Gateway (decrypt on the server):                             median ${median(gw).toFixed(1)} ms, p90 ${quantile(gw, 0.9).toFixed(1)} ms`,
    );
    console.log(`  ratio Service Worker / gateway (median): ${(median(sw) / median(gw)).toFixed(2)}`);
    await app.close();
  } finally {
    await browser.close();
    await destroyBucket(s3, bucket);
    s3.destroy();
    writer.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
