/**
 * S3 benchmark, one run against the same server: plain lib-storage Upload vs
 * EncryptedUpload, plain vs decrypting full GET, and ranged reads of 1 byte
 * and 1 MiB at random offsets (requests, bytes fetched / asked, time to first
 * byte vs a plain ranged GET), with peak RSS. Figures are printed, never asserted.
 *
 *   eval "$(bash scripts/s3-server.sh env)"; BENCH_MB=1024 pnpm --filter @encrypted-stream/s3 bench
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LocalKeyring } from '@encrypted-stream/codec';
import { s3ConfigFromEnv } from '../examples/s3-config';
import { getEncryptionPlugin } from '../src';
import { EncryptedUpload } from '../src/upload';

const MB = 1e6;
const MiB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_MB ?? 1024) * MiB;
const REPS = Number(process.env.BENCH_REPS ?? 2);
const RANGED_READS = Number(process.env.BENCH_RANGED ?? 30);
const PART = 8 * MiB;
const QUEUE = 4;

/** A generated source: a random 1 MiB block repeated, never held whole in memory. */
function source(size: number): Readable {
  const block = randomBytes(MiB);
  return Readable.from(
    (function* () {
      for (let left = size; left > 0; left -= MiB) yield left >= MiB ? block : block.subarray(0, left);
    })(),
    { objectMode: false },
  );
}

/** Peak RSS growth over a phase, sampled every 10 ms. */
async function withRss<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakRssMiB: number }> {
  global.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const t0 = performance.now();
  try {
    const result = await work();
    return { result, seconds: (performance.now() - t0) / 1000, peakRssMiB: (peak - base) / MiB };
  } finally {
    clearInterval(timer);
  }
}

/** Counts requests and the response bytes S3 sent. */
function instrument(client: S3Client) {
  const stats = { requests: 0, bytes: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      stats.requests++;
      const out = await next(args);
      const length = Number((out.response as { headers?: Record<string, string> }).headers?.['content-length'] ?? 0);
      stats.bytes += length;
      return out;
    },
    { step: 'deserialize', name: 'benchCounter', priority: 'low' },
  );
  return stats;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const rate = (bytes: number, seconds: number) => bytes / MB / seconds;

/** Reads a body to the end; `ttfb` is measured from `t0` (before the request was sent). */
async function drain(body: unknown, t0 = performance.now()): Promise<{ ttfb: number; bytes: number }> {
  let ttfb = 0;
  let bytes = 0;
  const hash = createHash('sha1');
  for await (const piece of body as AsyncIterable<Uint8Array>) {
    if (bytes === 0) ttfb = performance.now() - t0;
    bytes += piece.length;
    hash.update(piece);
  }
  return { ttfb, bytes };
}

async function main() {
  const config = s3ConfigFromEnv();
  const plain = new S3Client(config);
  const client = new S3Client(config);
  const keyring = LocalKeyring.single('bench', randomBytes(32));
  client.middlewareStack.use(getEncryptionPlugin(client, { keyring }));
  const plainStats = instrument(plain);
  const encStats = instrument(client);
  const Bucket = `es-bench-${Date.now()}`;
  await plain.send(new CreateBucketCommand({ Bucket }));
  console.log(
    `S3 benchmark against ${config.endpoint}: ${SIZE / MiB} MiB objects, ${REPS} reps, parts ${PART / MiB} MiB x ${QUEUE}\n`,
  );

  const up: Record<'plain' | 'encrypted', { mbs: number[]; rss: number[] }> = {
    plain: { mbs: [], rss: [] },
    encrypted: { mbs: [], rss: [] },
  };
  const down: typeof up = { plain: { mbs: [], rss: [] }, encrypted: { mbs: [], rss: [] } };
  for (let rep = 0; rep < REPS; rep++) {
    // Alternate order so neither side always runs on a warmer server.
    const order: ('plain' | 'encrypted')[] = rep % 2 ? ['encrypted', 'plain'] : ['plain', 'encrypted'];
    for (const kind of order) {
      const Key = `${kind}.bin`;
      const params = { Bucket, Key, Body: source(SIZE) };
      const u = await withRss(() =>
        kind === 'plain'
          ? new Upload({ client: plain, params, partSize: PART, queueSize: QUEUE }).done()
          : new EncryptedUpload({ client, params, encryption: { keyring }, partSize: PART, queueSize: QUEUE }).done(),
      );
      up[kind].mbs.push(rate(SIZE, u.seconds));
      up[kind].rss.push(u.peakRssMiB);
      const d = await withRss(async () => {
        const out = await (kind === 'plain' ? plain : client).send(new GetObjectCommand({ Bucket, Key }));
        return drain(out.Body);
      });
      if (d.result.bytes !== SIZE) throw new Error(`${kind} GET returned ${d.result.bytes} bytes`);
      down[kind].mbs.push(rate(SIZE, d.seconds));
      down[kind].rss.push(d.peakRssMiB);
    }
  }
  const row = (label: string, p: number, e: number, unit: string) =>
    console.log(
      `${label.padEnd(34)} ${p.toFixed(1).padStart(9)} ${e.toFixed(1).padStart(11)} ${unit.padEnd(6)} ${(e / p).toFixed(2).padStart(6)}`,
    );
  console.log(
    `${''.padEnd(34)} ${'plain'.padStart(9)} ${'encrypted'.padStart(11)} ${''.padEnd(6)} ${'ratio'.padStart(6)}`,
  );
  row('multipart upload throughput', median(up.plain.mbs), median(up.encrypted.mbs), 'MB/s');
  row('full GET throughput', median(down.plain.mbs), median(down.encrypted.mbs), 'MB/s');
  row('peak RSS growth, upload', Math.max(...up.plain.rss), Math.max(...up.encrypted.rss), 'MiB');
  row('peak RSS growth, download', Math.max(...down.plain.rss), Math.max(...down.encrypted.rss), 'MiB');

  console.log(`\nranged reads at ${RANGED_READS} random offsets (medians):`);
  console.log(
    `${'size'.padEnd(8)} ${'requests'.padStart(9)} ${'fetched/asked'.padStart(14)} ${'TTFB plain'.padStart(11)} ${'TTFB enc'.padStart(9)} ${'ratio'.padStart(6)}`,
  );
  for (const length of [1, MiB]) {
    const ttfbPlain: number[] = [];
    const ttfbEnc: number[] = [];
    const fetchedOverAsked: number[] = [];
    const requests: number[] = [];
    for (let i = 0; i < RANGED_READS; i++) {
      const start = Math.floor(Math.random() * (SIZE - length));
      const Range = `bytes=${start}-${start + length - 1}`;
      const tp = performance.now();
      const p = await plain.send(new GetObjectCommand({ Bucket, Key: 'plain.bin', Range }));
      ttfbPlain.push((await drain(p.Body, tp)).ttfb);
      const before = { ...encStats };
      const te = performance.now();
      const e = await client.send(new GetObjectCommand({ Bucket, Key: 'encrypted.bin', Range }));
      const d = await drain(e.Body, te);
      ttfbEnc.push(d.ttfb);
      if (d.bytes !== length) throw new Error(`ranged read returned ${d.bytes} bytes, asked ${length}`);
      requests.push(encStats.requests - before.requests);
      fetchedOverAsked.push((encStats.bytes - before.bytes) / length);
    }
    const label = length === 1 ? '1 B' : '1 MiB';
    console.log(
      `${label.padEnd(8)} ${String(Math.max(...requests)).padStart(9)} ${median(fetchedOverAsked).toFixed(2).padStart(14)} ${median(ttfbPlain).toFixed(1).padStart(9)}ms ${median(ttfbEnc).toFixed(1).padStart(7)}ms ${(median(ttfbEnc) / median(ttfbPlain)).toFixed(2).padStart(6)}`,
    );
  }
  console.log(`\nrequests made: plain ${plainStats.requests}, encrypted ${encStats.requests}`);
  for (const Key of ['plain.bin', 'encrypted.bin']) await plain.send(new DeleteObjectCommand({ Bucket, Key }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
