import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EncryptedMultipartUpload, type EncryptionOptions, getEncryptionPlugin } from '@encrypted-stream/s3';
import { EncryptedUpload } from '@encrypted-stream/s3/upload';
import {
  consume,
  newKeyring,
  plainClient,
  prng,
  recordFigure,
  seededBytes,
  seededStream,
  settledRssMiB,
  useBucket,
} from '../helpers';

/** An encrypting client without the suites' request counter (it keeps a record of every request). */
function uncountedClient(options: EncryptionOptions): S3Client {
  const c = plainClient();
  c.middlewareStack.use(getEncryptionPlugin(c, options));
  return c;
}

/**
 * Soak, bounded in time (SOAK_SECONDS, default 60): 16 concurrent ranged readers
 * at random offsets (1 B … 2 MiB, bounded, suffix and open ranges) over
 * pre-uploaded encrypted objects (single-part and multipart, default and other
 * chunk sizes), every byte checked against the seeded plaintext; and 4
 * concurrent uploaders (EncryptedUpload of 8–40 MiB streams, a verifying read,
 * a delete); and one key overwritten all along (two versions of other sizes and
 * chunk sizes) whose reads must return exactly one version, or fail — never a mix.
 * Errors and mismatches must be 0; RSS must stay flat (< 64 MiB growth after a
 * full-load warm-up).
 */

const MiB = 2 ** 20;
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const READERS = Number(process.env.SOAK_READERS ?? 16);
const UPLOADERS = Number(process.env.SOAK_UPLOADERS ?? 4);
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
const MAX_RANGE = 2 * MiB;
const RSS_BUDGET_MIB = 64;
const WARM_UP_SECONDS = Number(process.env.SOAK_WARM_UP_SECONDS ?? 10);

interface SoakObject {
  readonly key: string;
  readonly size: number;
  readonly how: string;
}

const OBJECTS: SoakObject[] = [
  { key: 'soak/put-64k', size: 24 * MiB + 13, how: 'PutObject, 64 KiB chunks' },
  { key: 'soak/upload-64k', size: 40 * MiB + 99, how: 'EncryptedUpload (multipart, size not in header)' },
  { key: 'soak/put-16k', size: 17 * MiB + 5, how: 'PutObject, 16 KiB chunks' },
  { key: 'soak/mpu-1m', size: 30 * MiB, how: 'EncryptedMultipartUpload, 1 MiB chunks, size a multiple of the chunk' },
  { key: 'soak/small', size: 70_001, how: 'PutObject, two chunks' },
];

/** One key overwritten all along, alternately with two versions of other sizes and chunk sizes. */
const HOT_KEY = 'soak/hot';
const HOT_VERSIONS = [
  { seed: 'soak/hot-a', size: 3 * MiB + 1, chunkSize: 64 * 1024 },
  { seed: 'soak/hot-b', size: 3 * MiB + 2, chunkSize: 16 * 1024 },
] as const;
const HOT_MIN = Math.min(...HOT_VERSIONS.map((v) => v.size));

interface Stats {
  requests: number;
  hotReads: number;
  hotOverwrites: number;
  /** Reads of the hot key that failed because it changed under them (allowed: never wrong bytes). */
  hotRaces: Record<string, number>;
  httpRequests: number;
  bytes: number;
  errors: number;
  mismatches: number;
  uploads: number;
  uploadedBytes: number;
  readsByKind: Record<string, number>;
  errorSamples: string[];
}

describe('soak: concurrent ranged readers and uploaders', () => {
  const bucket = useBucket('soak');
  const { keyring } = newKeyring('soak-key');
  let client: S3Client;
  const hotClients: S3Client[] = [];
  const stats: Stats = {
    requests: 0,
    hotReads: 0,
    hotOverwrites: 0,
    hotRaces: {},
    httpRequests: 0,
    bytes: 0,
    errors: 0,
    mismatches: 0,
    uploads: 0,
    uploadedBytes: 0,
    readsByKind: {},
    errorSamples: [],
  };

  beforeAll(async () => {
    // No request counter: it keeps a record (and the response body) of every
    // request, which over thousands of requests is exactly the growth this test measures.
    client = uncountedClient({ keyring });
    client.middlewareStack.add(
      (next) => async (args) => {
        stats.httpRequests++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'soakCountAttempts', priority: 'low' },
    );
    const [put64k, upload64k, put16k, mpu1m, small] = OBJECTS as [
      SoakObject,
      SoakObject,
      SoakObject,
      SoakObject,
      SoakObject,
    ];
    const Bucket = bucket.name;
    await client.send(new PutObjectCommand({ Bucket, Key: put64k.key, Body: seededBytes(put64k.key, put64k.size) }));
    await new EncryptedUpload({
      client,
      params: { Bucket, Key: upload64k.key, Body: seededStream(upload64k.key, upload64k.size) },
      encryption: { keyring },
      partSize: 8 * MiB,
    }).done();
    const c16k = uncountedClient({ keyring, chunkSize: 16 * 1024 });
    await c16k.send(new PutObjectCommand({ Bucket, Key: put16k.key, Body: seededBytes(put16k.key, put16k.size) }));
    c16k.destroy();
    const mpu = await EncryptedMultipartUpload.create(
      client,
      { Bucket, Key: mpu1m.key },
      { keyring, chunkSize: MiB, partSize: 8 * MiB },
    );
    const parts = Math.ceil(mpu1m.size / (8 * MiB));
    await Promise.all(
      Array.from({ length: parts }, (_, i) => {
        const start = i * 8 * MiB;
        const length = Math.min(8 * MiB, mpu1m.size - start);
        return mpu.uploadPart(i + 1, seededBytes(mpu1m.key, length, start), { isLastPart: i === parts - 1 });
      }),
    );
    await mpu.complete();
    await client.send(new PutObjectCommand({ Bucket, Key: small.key, Body: seededBytes(small.key, small.size) }));
    for (const v of HOT_VERSIONS) hotClients.push(uncountedClient({ keyring, chunkSize: v.chunkSize }));
    await putHot(0);
  }, 120_000);
  afterAll(() => {
    client?.destroy();
    for (const c of hotClients) c.destroy();
  });

  async function putHot(version: number) {
    const v = HOT_VERSIONS[version] as (typeof HOT_VERSIONS)[number];
    await (hotClients[version] as S3Client).send(
      new PutObjectCommand({ Bucket: bucket.name, Key: HOT_KEY, Body: seededBytes(v.seed, v.size) }),
    );
  }

  async function overwriter(deadline: number) {
    for (let i = 1; Date.now() < deadline; i++) {
      try {
        await putHot(i % 2);
        stats.hotOverwrites++;
      } catch (error) {
        noteError('overwrite hot', error);
      }
    }
  }

  /**
   * A read of the key being overwritten: a bounded range valid in both versions (or the whole
   * object); the answer must be exactly one version's bytes, or an error — never a mix.
   */
  async function hotRead(rng: ReturnType<typeof prng>) {
    const whole = rng.int(0, 7) === 0;
    const start = whole ? 0 : rng.int(0, HOT_MIN - 1);
    const length = Math.max(1, Math.floor(Math.exp(rng.next() * Math.log(MAX_RANGE))));
    const end = whole ? undefined : Math.min(HOT_MIN, start + length);
    const range = end === undefined ? undefined : `bytes=${start}-${end - 1}`;
    stats.requests++;
    stats.hotReads++;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket.name, Key: HOT_KEY, Range: range }));
      const size = range ? Number(out.ContentRange?.split('/')[1]) : out.ContentLength;
      const version = HOT_VERSIONS.find((v) => v.size === size);
      const got = version ? await verify(out.Body, version.seed, start) : { length: 0, equal: false };
      stats.bytes += got.length;
      const want = (end ?? size ?? 0) - start;
      if (!version || !got.equal || got.length !== want || out.ContentLength !== want) {
        stats.mismatches++;
        if (stats.errorSamples.length < 5) {
          stats.errorSamples.push(`mismatch ${HOT_KEY} ${range}: size ${size}, ${got.length} bytes equal=${got.equal}`);
        }
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name ?? 'unknown';
      stats.hotRaces[code] = (stats.hotRaces[code] ?? 0) + 1;
    }
  }

  /** Reads a body, comparing each piece with the seeded plaintext; returns bytes read and whether all matched. */
  async function verify(body: unknown, seed: string, start: number): Promise<{ length: number; equal: boolean }> {
    let at = start;
    let equal = true;
    await consume(body, (piece) => {
      if (equal) {
        const want = seededBytes(seed, piece.length, at);
        equal = want.equals(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      }
      at += piece.length;
    });
    return { length: at - start, equal };
  }

  function noteError(where: string, error: unknown) {
    stats.errors++;
    if (stats.errorSamples.length < 5) stats.errorSamples.push(`${where}: ${(error as Error)?.stack ?? error}`);
  }

  async function reader(id: number, deadline: number) {
    const rng = prng(SEED * 31 + id);
    while (Date.now() < deadline) {
      if (rng.int(0, 7) === 0) {
        await hotRead(rng);
        continue;
      }
      const object = OBJECTS[rng.int(0, OBJECTS.length - 1)] as SoakObject;
      const length = Math.max(1, Math.floor(Math.exp(rng.next() * Math.log(MAX_RANGE))));
      const kind = (['bounded', 'bounded', 'suffix', 'open'] as const)[rng.int(0, 3)] as 'bounded' | 'suffix' | 'open';
      let range: string;
      let start: number;
      let end: number;
      if (kind === 'bounded') {
        start = rng.int(0, object.size - 1);
        end = Math.min(object.size, start + length);
        range = `bytes=${start}-${start + length - 1}`;
      } else if (kind === 'suffix') {
        start = Math.max(0, object.size - length);
        end = object.size;
        range = `bytes=-${length}`;
      } else {
        start = Math.max(0, object.size - length);
        end = object.size;
        range = `bytes=${start}-`;
      }
      stats.requests++;
      stats.readsByKind[kind] = (stats.readsByKind[kind] ?? 0) + 1;
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket.name, Key: object.key, Range: range }));
        const got = await verify(out.Body, object.key, start);
        stats.bytes += got.length;
        const headersRight =
          out.ContentLength === end - start && out.ContentRange === `bytes ${start}-${end - 1}/${object.size}`;
        if (!got.equal || got.length !== end - start || !headersRight) {
          stats.mismatches++;
          if (stats.errorSamples.length < 5) {
            stats.errorSamples.push(
              `mismatch ${object.key} ${range}: got ${got.length} bytes equal=${got.equal}, ` +
                `ContentLength ${out.ContentLength} ContentRange ${out.ContentRange}`,
            );
          }
        }
      } catch (error) {
        noteError(`read ${object.key} ${range}`, error);
      }
    }
  }

  async function uploader(id: number, deadline: number) {
    const rng = prng(SEED * 77 + id);
    for (let round = 0; Date.now() < deadline; round++) {
      const size = rng.int(8 * MiB, 40 * MiB);
      const key = `soak/up-${id}-${round}`;
      stats.requests++;
      try {
        await new EncryptedUpload({
          client,
          params: { Bucket: bucket.name, Key: key, Body: seededStream(key, size) },
          encryption: { keyring },
          partSize: 5 * MiB,
          queueSize: 2,
        }).done();
        stats.uploads++;
        stats.uploadedBytes += size;
        stats.requests++;
        const out = await client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
        const got = await verify(out.Body, key, 0);
        stats.bytes += got.length;
        if (!got.equal || got.length !== size || out.ContentLength !== size) {
          stats.mismatches++;
          if (stats.errorSamples.length < 5) stats.errorSamples.push(`mismatch ${key}: ${got.length}/${size}`);
        }
        stats.requests++;
        await client.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: key }));
      } catch (error) {
        noteError(`upload ${key} (${size} bytes)`, error);
      }
    }
  }

  it(
    `runs ${SECONDS} s without errors, mismatches or memory growth`,
    async () => {
      // Warm-up at full load (modules, JIT, connection pool, the allocator's working set), then
      // the RSS baseline: the soak must not grow from there.
      const warmUpEnd = Date.now() + WARM_UP_SECONDS * 1000;
      await Promise.all([
        ...Array.from({ length: READERS }, (_, i) => reader(1000 + i, warmUpEnd)),
        ...Array.from({ length: UPLOADERS }, (_, i) => uploader(1000 + i, warmUpEnd)),
      ]);
      const warmUp = { requests: stats.requests, errors: stats.errors, mismatches: stats.mismatches };
      Object.assign(stats, {
        requests: 0,
        httpRequests: 0,
        bytes: 0,
        uploads: 0,
        uploadedBytes: 0,
        readsByKind: {},
        hotReads: 0,
        hotOverwrites: 0,
        hotRaces: {},
      });
      const rssStart = await settledRssMiB();
      const started = Date.now();
      const deadline = started + SECONDS * 1000;
      let rssPeak = rssStart;
      const samples: string[] = [];
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        rssPeak = Math.max(rssPeak, m.rss / MiB);
        const mib = (n: number) => Math.round(n / MiB);
        samples.push(
          `${Math.round((Date.now() - started) / 1000)}s rss ${mib(m.rss)} heap ${mib(m.heapUsed)} ext ${mib(m.external)} ab ${mib(m.arrayBuffers)}`,
        );
      }, 5000);
      await Promise.all([
        ...Array.from({ length: READERS }, (_, i) => reader(i, deadline)),
        ...Array.from({ length: UPLOADERS }, (_, i) => uploader(i, deadline)),
        overwriter(deadline),
      ]);
      clearInterval(sampler);
      const seconds = (Date.now() - started) / 1000;
      // Every 5 s under load: what to read when the RSS assertion below fails.
      process.stdout.write(`soak memory: ${samples.join(' | ')}\n`);
      const rssEnd = await settledRssMiB();
      const peakNote = process.memoryUsage();

      process.stdout.write(
        `soak: ${JSON.stringify({ seed: SEED, seconds, ...stats, warmUp, rssStart, rssEnd, rssPeak, heapUsedMiB: peakNote.heapUsed / MiB })}\n`,
      );
      recordFigure('soak', 'seconds', Math.round(seconds));
      recordFigure('soak', 'requests', stats.requests);
      recordFigure('soak', 'http requests', stats.httpRequests);
      recordFigure('soak', 'bytes', stats.bytes);
      recordFigure('soak', 'uploads', stats.uploads);
      recordFigure('soak', 'overwritten-key reads', stats.hotReads);
      recordFigure('soak', 'overwrites', stats.hotOverwrites);
      recordFigure(
        'soak',
        'overwritten-key reads failed by the race',
        Object.values(stats.hotRaces).reduce((a, b) => a + b, 0),
      );
      recordFigure('soak', 'errors', stats.errors);
      recordFigure('soak', 'mismatches', stats.mismatches);
      recordFigure('soak', 'rss start MiB', Math.round(rssStart));
      recordFigure('soak', 'rss end MiB', Math.round(rssEnd));
      recordFigure('soak', 'rss peak MiB', Math.round(rssPeak));
      recordFigure('soak', 'seed', SEED);

      expect(stats.errorSamples).toEqual([]);
      expect(warmUp).toMatchObject({ errors: 0, mismatches: 0 });
      expect(stats.errors).toBe(0);
      expect(stats.mismatches).toBe(0);
      expect(stats.requests).toBeGreaterThan(READERS);
      expect(rssEnd - rssStart).toBeLessThan(RSS_BUDGET_MIB);
    },
    (SECONDS + 240) * 1000,
  );
});
