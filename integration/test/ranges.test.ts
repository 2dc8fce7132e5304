/**
 * Ranged GetObject: every range form at chunk boundaries, part boundaries and
 * the ends; one request per read, fetching no more than the chunks needed;
 * objects of another chunk size; the SDK body helpers.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CHUNK_OVERHEAD, chunkOffset, DEFAULT_CHUNK_SIZE, planRange } from '@encrypted-stream/codec/low-level';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import {
  type EncryptedClient,
  encryptedClient,
  newKeyring,
  seededBytes,
  seededPieces,
  useEncryptedBucket,
} from '@encrypted-stream/test-support';
import { getBytes, rejection } from './helpers/objects';
import { maxFetchedBytes, s3Slice } from './helpers/ranges';

const { keyring } = newKeyring();
const C = DEFAULT_CHUNK_SIZE;
const STRIDE = C + CHUNK_OVERHEAD;
const { bucket, enc, plain } = useEncryptedBucket('ranges', { keyring });

/** Reads `Range` of `Key` through the plugin and checks bytes, headers, and what went over the wire. */
async function expectRange(Key: string, data: Buffer, Range: string, chunkSize = C) {
  const want = s3Slice(data.length, Range);
  if (!want) throw new Error(`test bug: ${Range} is unsatisfiable`);
  enc.requests.reset();
  const got = await getBytes(enc.client, { Bucket: bucket.name, Key, Range });
  expect(got.equals(data.subarray(want.start, want.end))).toBe(true);
  expect(got.contentLength).toBe(want.end - want.start);
  expect(got.contentRange).toBe(`bytes ${want.start}-${want.end - 1}/${data.length}`);
  // Exactly one HTTP request, and it fetched only the chunks holding the range.
  expect(enc.requests.count).toBe(1);
  const [request] = enc.requests.requests;
  expect(request?.method).toBe('GET');
  expect(request?.range).toMatch(/^bytes=/);
  expect(request?.responseLength).toBeLessThanOrEqual(maxFetchedBytes(want.end - want.start, chunkSize));
  const served = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(request?.contentRange ?? '');
  expect(served).not.toBeNull();
  const plan = planRange(want.start, want.end, chunkSize, data.length);
  expect(Number(served?.[1])).toBeLessThanOrEqual(plan.cipherStart);
  expect(Number(served?.[2]) + 1).toBeGreaterThanOrEqual(Math.min(plan.cipherEnd, Number(served?.[3])));
  return request;
}

/**
 * Expects S3's 416 in plaintext terms. When S3 itself refuses the ciphertext
 * range (our guess lies past the stored object), the plugin asks HeadObject for
 * the object's real geometry before answering: two requests, else one.
 */
async function expect416(Key: string, Range: string, size: number) {
  enc.requests.reset();
  const error = await rejection(getBytes(enc.client, { Bucket: bucket.name, Key, Range }));
  expect(error.name).toBe('InvalidRange');
  expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(416);
  expect(error.ActualObjectSize).toBe(String(size));
  const [first] = enc.requests.requests;
  expect(first?.method).toBe('GET');
  expect(enc.requests.requests.map((r) => r.method)).toEqual(first?.status === 416 ? ['GET', 'HEAD'] : ['GET']);
}

describe('single-part object (5 full chunks + 1000 bytes)', () => {
  const Key = 'ranges/single';
  const S = 5 * C + 1000;
  const data = seededBytes('ranges-single', S);

  beforeAll(async () => {
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
  });

  test.each([
    // bounded, at and around chunk boundaries
    'bytes=0-0',
    'bytes=0-65534',
    'bytes=0-65535',
    'bytes=0-65536',
    'bytes=65535-65535',
    'bytes=65536-65536',
    'bytes=65537-65537',
    'bytes=65535-65537',
    'bytes=65535-65536',
    'bytes=65536-131071',
    'bytes=65536-131072',
    'bytes=131071-196608',
    'bytes=1000-300000',
    `bytes=${5 * C - 1}-${5 * C}`,
    `bytes=${5 * C}-${5 * C + 999}`,
    // the ends
    `bytes=0-${S - 1}`,
    `bytes=${S - 1}-${S - 1}`,
    // past the end: clamped
    `bytes=${S - 10}-${S + 100}`,
    `bytes=100-${10 * S}`,
    // open-ended
    'bytes=0-',
    'bytes=65535-',
    'bytes=65536-',
    'bytes=65537-',
    `bytes=${S - 1}-`,
    // suffix
    'bytes=-1',
    'bytes=-1000',
    'bytes=-1001',
    'bytes=-65536',
    'bytes=-65537',
    `bytes=-${S}`,
    `bytes=-${S + 5}`,
  ])('%s', async (Range) => {
    await expectRange(Key, data, Range);
  });

  test.each([
    `bytes=${S}-${S + 10}`,
    `bytes=${S}-`,
    `bytes=${S + 1}-`,
    `bytes=${10 * S}-`,
    `bytes=${10 * S}-${20 * S}`,
    'bytes=-0',
  ])('unsatisfiable %s → 416 InvalidRange', async (Range) => {
    await expect416(Key, Range, S);
  });

  test.each(['bytes=5-1', 'bytes=0-1,5-6', 'items=0-5', 'bytes=abc'])(
    'malformed Range %s is refused (RangeError) before any request',
    async (Range) => {
      enc.requests.reset();
      const error = await rejection(enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key, Range })));
      expect(error).toBeInstanceOf(RangeError);
      expect(enc.requests.count).toBe(0);
    },
  );

  test('a 1-byte range fetches exactly the one chunk holding it', async () => {
    const request = await expectRange(Key, data, 'bytes=70000-70000');
    expect(request?.range).toBe(`bytes=${STRIDE}-${2 * STRIDE - 1}`);
    expect(request?.responseLength).toBe(STRIDE);
  });

  test('Body helpers: transformToByteArray, transformToString, transformToWebStream', async () => {
    const range = { Bucket: bucket.name, Key, Range: 'bytes=65530-65545' };
    const a = await enc.client.send(new GetObjectCommand(range));
    expect(Buffer.from(await a.Body!.transformToByteArray()).equals(data.subarray(65530, 65546))).toBe(true);

    const b = await enc.client.send(new GetObjectCommand(range));
    expect(await b.Body!.transformToString('base64')).toBe(data.subarray(65530, 65546).toString('base64'));

    const c = await enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
    const reader = c.Body!.transformToWebStream().getReader();
    const pieces: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      pieces.push(value as Uint8Array);
    }
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
  });

  test('transformToString decodes UTF-8 text', async () => {
    const text = 'zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich 🚀'.repeat(3000);
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'ranges/text', Body: text }));
    const out = await enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'ranges/text' }));
    expect(await out.Body!.transformToString()).toBe(text);
  });
});

describe('object of exactly 4 chunks (empty final chunk)', () => {
  const Key = 'ranges/exact';
  const S = 4 * C;
  const data = seededBytes('ranges-exact', S);

  beforeAll(async () => {
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
  });

  test.each([
    `bytes=${S - 1}-${S - 1}`,
    `bytes=${S - C}-`,
    `bytes=${S - 1}-`,
    'bytes=-1',
    `bytes=-${C}`,
    `bytes=-${C + 1}`,
    `bytes=0-${S + 5}`,
  ])('%s', async (Range) => {
    await expectRange(Key, data, Range);
  });

  test.each([`bytes=${S}-`, `bytes=${S}-${S}`])('%s → 416', async (Range) => {
    await expect416(Key, Range, S);
  });
});

describe('multipart object (5 MiB parts)', () => {
  const Key = 'ranges/multipart';
  const P = 5 * 1024 * 1024;
  const S = 2 * P + 100_000;
  const data = seededBytes('ranges-multipart', S);

  beforeAll(async () => {
    const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring, partSize: P });
    await Promise.all([
      upload.uploadPart(1, data.subarray(0, P)),
      upload.uploadPart(2, data.subarray(P, 2 * P)),
      upload.uploadPart(3, data.subarray(2 * P), { isLastPart: true }),
    ]);
    await upload.complete();
  });

  test.each([
    `bytes=${P - 1}-${P}`,
    `bytes=${P - 1}-${P - 1}`,
    `bytes=${P}-${P}`,
    `bytes=${P - C}-${P + C - 1}`,
    `bytes=${P - C - 1}-${P + C}`,
    `bytes=${2 * P - 1}-${2 * P + 10}`,
    `bytes=${P}-`,
    `bytes=${2 * P}-`,
    'bytes=-100000',
    'bytes=-100001',
    `bytes=-${S - P + 1}`,
    `bytes=0-${S - 1}`,
    `bytes=${S - 1}-`,
  ])('%s', async (Range) => {
    await expectRange(Key, data, Range);
  });

  test('whole object', async () => {
    enc.requests.reset();
    const got = await getBytes(enc.client, { Bucket: bucket.name, Key });
    expect(got.equals(data)).toBe(true);
    expect(enc.requests.count).toBe(1);
  });
});

describe('objects written with another chunk size', () => {
  const C16 = 16 * 1024;
  const S16 = 10 * C16 + 123;
  const data16 = seededBytes('ranges-16k', S16);
  const Key16 = 'ranges/chunk-16k';
  let writer16: EncryptedClient;

  beforeAll(async () => {
    writer16 = encryptedClient({ keyring, chunkSize: C16 });
    await writer16.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: Key16, Body: data16 }));
  });
  afterAll(() => writer16.client.destroy());

  /** How many requests a default-options reader needs: a second one only when its first guess misses chunks. */
  function requestsNeeded(range: string): number {
    const want = s3Slice(S16, range)!;
    const plan = planRange(want.start, want.end, C16, S16);
    const total = chunkOffset(Math.floor(S16 / C16), C16) + (S16 % C16) + CHUNK_OVERHEAD;
    const guess = /^bytes=(\d*)-(\d*)$/.exec(range)!;
    let first: { start: number; end: number };
    if (guess[1] === '') {
      const n = (Math.ceil(Number(guess[2]) / C) + 1) * STRIDE;
      first = { start: Math.max(0, total - n), end: total };
    } else {
      // The plugin's guess in the default geometry: the chunks of a-b, plus the 40 bytes of an
      // empty final chunk when b ends a chunk.
      const a = Number(guess[1]);
      const b = Number(guess[2]);
      const end = chunkOffset(Math.floor(b / C) + 1, C) + ((b + 1) % C === 0 ? CHUNK_OVERHEAD : 0);
      first = { start: chunkOffset(Math.floor(a / C), C), end: guess[2] === '' ? total : Math.min(end, total) };
    }
    return plan.cipherStart >= first.start && Math.min(plan.cipherEnd, total) <= first.end ? 1 : 2;
  }

  test('whole object, default-options reader: one request', async () => {
    enc.requests.reset();
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key: Key16 })).equals(data16)).toBe(true);
    expect(enc.requests.count).toBe(1);
  });

  test.each([
    ['bytes=65000-65535', 2],
    ['bytes=0-65535', 2],
    ['bytes=100000-131071', 2],
    ['bytes=100-200', 1],
    [`bytes=${S16 - 5000}-${S16 - 1}`, 1],
    ['bytes=-10', 1],
    [`bytes=${C16}-`, 1],
  ])('%s, default-options reader: correct bytes in exactly %i request(s)', async (Range, requests) => {
    expect(requestsNeeded(Range)).toBe(requests); // the test's own geometry agrees
    const want = s3Slice(S16, Range)!;
    enc.requests.reset();
    const got = await getBytes(enc.client, { Bucket: bucket.name, Key: Key16, Range });
    expect(got.equals(data16.subarray(want.start, want.end))).toBe(true);
    expect(got.contentRange).toBe(`bytes ${want.start}-${want.end - 1}/${S16}`);
    expect(enc.requests.count).toBe(requests);
    // The second request asks for exactly the chunks holding the range.
    if (requests === 2) {
      const plan = planRange(want.start, want.end, C16, S16);
      expect(enc.requests.requests[1]?.range).toBe(
        `bytes=${plan.cipherStart}-${Math.min(plan.cipherEnd, chunkOffset(10, C16) + 123 + CHUNK_OVERHEAD) - 1}`,
      );
    }
  });

  test('a 16 KiB-chunk reader reads a default-chunk object', async () => {
    const reader = encryptedClient({ keyring, chunkSize: C16 });
    try {
      const S = 5 * C + 1000;
      const data = seededBytes('ranges-single', S);
      await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'ranges/for-16k-reader', Body: data }));
      for (const Range of ['bytes=0-0', 'bytes=65530-65540', 'bytes=200000-', 'bytes=-70000', `bytes=${S - 1}-`]) {
        const want = s3Slice(S, Range)!;
        const got = await getBytes(reader.client, { Bucket: bucket.name, Key: 'ranges/for-16k-reader', Range });
        expect(got.equals(data.subarray(want.start, want.end))).toBe(true);
      }
    } finally {
      reader.client.destroy();
    }
  });

  /*
   * The reader's first request is planned in ITS chunk geometry. A reader whose
   * chunkSize is smaller than the object's (here 16 KiB reading a default
   * 64 KiB object) computes a ciphertext offset that grows faster than the
   * object's real one (40 bytes per 16 KiB instead of per 64 KiB); past about
   * 36 MiB the guessed offset of a byte near the end lies beyond the object's
   * ciphertext size, S3 answers 416 and the plugin passes that on, for a
   * perfectly satisfiable range. The same happens to any default reader of an
   * object written with a larger chunkSize (e.g. 1 MiB) past ~110 MiB.
   */
  describe('the tail of a 40 MiB default-chunk object, read by a 16 KiB-chunk reader', () => {
    const S = 40 * 1024 * 1024;
    const Key = 'ranges/40mib';
    let reader: EncryptedClient;

    beforeAll(async () => {
      await enc.client.send(
        new PutObjectCommand({
          Bucket: bucket.name,
          Key,
          Body: Readable.from(seededPieces('ranges-40m', S)),
          ContentLength: S,
        }),
      );
      reader = encryptedClient({ keyring, chunkSize: C16 });
    });
    afterAll(() => reader.client.destroy());

    /*
     * The reader plans its first request in ITS geometry (40 bytes per 16 KiB);
     * near the end of an object over ~36 MiB that offset lies past the stored
     * ciphertext, S3 answers 416, and the plugin must find the real geometry
     * (HeadObject) and fetch the right span instead of failing.
     */
    test.each([
      [`bytes=${S - 10}-${S - 1}`, ['GET', 'HEAD', 'GET']],
      [`bytes=${S - 10}-`, ['GET', 'HEAD', 'GET']],
      ['bytes=-10', ['GET', 'GET']],
    ])('%s → requests %j', async (Range, methods) => {
      reader.requests.reset();
      const got = await getBytes(reader.client, { Bucket: bucket.name, Key, Range });
      expect(got.equals(seededBytes('ranges-40m', 10, S - 10))).toBe(true);
      expect(got.contentRange).toBe(`bytes ${S - 10}-${S - 1}/${S}`);
      expect(reader.requests.requests.map((r) => r.method)).toEqual(methods);
      // The last request fetched exactly the chunk holding the 10 bytes and, since S is a
      // multiple of the chunk size, the empty final chunk (40 bytes) that proves the end.
      expect(reader.requests.requests.at(-1)?.responseLength).toBe(STRIDE + CHUNK_OVERHEAD);
    });

    test('an unsatisfiable range on it is still 416 with the plaintext size', async () => {
      const error = await rejection(getBytes(reader.client, { Bucket: bucket.name, Key, Range: `bytes=${S}-` }));
      expect(error.name).toBe('InvalidRange');
      expect(error.ActualObjectSize).toBe(String(S));
    });
  });
});
