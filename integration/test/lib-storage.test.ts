/**
 * Plain lib-storage `Upload` (not EncryptedUpload) through a client with the
 * encryption plugin, as existing SDK code uses it: every body kind and size
 * lib-storage handles, its default part size and others, parts in parallel
 * and completing out of order, the single PutObject of small bodies; where it
 * cannot work, a RangeError that says what to set, before any part is sent,
 * and nothing left in the bucket. Everything is read back through the plugin.
 *
 * How lib-storage cuts a body (dist-cjs, 3.1175): parts of `partSize` bytes
 * (default max(5 MiB, ceil(size / 10,000)), any value ≥ 5 MiB accepted), the
 * last part whatever remains, which may be a full part; one PutObject when
 * the whole body fits one part; part 1 sent first, then up to `queueSize`
 * parts at once. It never says which part is the last.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CHUNK_OVERHEAD, ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { METADATA_KEYS } from '@encrypted-stream/s3';
import {
  type EncryptedClient,
  encryptedClient,
  listOpenUploads,
  newKeyring,
  type RecordedRequest,
  seededBytes,
  seededPieces,
  trackInFlight,
  useEncryptedBucket,
} from '@encrypted-stream/test-support';
import { getBytes, getRaw, rejection } from './helpers/objects';

const { keyring } = newKeyring();
const MiB = 1024 * 1024;
const C = DEFAULT_CHUNK_SIZE;
/** lib-storage's default (and smallest) part size. */
const LIB_PART = 5 * MiB;
const { bucket, enc, plain } = useEncryptedBucket('lib-storage', { keyring });

/** Ciphertext bytes of a full part of `partSize` plaintext bytes (whole chunks, no final chunk). */
const fullPart = (partSize: number) => (partSize / C) * (C + CHUNK_OVERHEAD);

/** The UploadPart requests among `requests`: part number → ciphertext bytes sent. */
function partsSent(requests: readonly RecordedRequest[]): Map<number, number> {
  const parts = new Map<number, number>();
  for (const r of requests) {
    if (r.method === 'PUT' && r.query.partNumber !== undefined) {
      parts.set(Number(r.query.partNumber), r.contentLength as number);
    }
  }
  return parts;
}

const putObjects = (requests: readonly RecordedRequest[]) =>
  requests.filter((r) => r.method === 'PUT' && r.query.partNumber === undefined && r.query['x-id'] === 'PutObject');

/** What the server must have received for a `size`-byte body cut into `partSize` parts by lib-storage. */
function expectedParts(size: number, partSize: number): Map<number, number> {
  const parts = new Map<number, number>();
  const full = Math.floor(size / partSize);
  for (let n = 1; n <= full; n++) parts.set(n, fullPart(partSize));
  // The rest ends the stream; a body that is whole parts gets its (empty) final chunk as one more part.
  parts.set(full + 1, ciphertextSize(size - full * partSize, C));
  return parts;
}

async function expectReadsBack(Key: string, expected: Buffer, client: S3Client = enc.client) {
  const got = await getBytes(client, { Bucket: bucket.name, Key });
  expect(got.length).toBe(expected.length);
  expect(got.equals(expected)).toBe(true);
  const head = await client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
  expect(head.ContentLength).toBe(expected.length);
  // Stored as ciphertext, one stream.
  const raw = await getRaw(plain, bucket.name, Key);
  expect(raw.body.length).toBe(ciphertextSize(expected.length, C));
  expect(raw.metadata[METADATA_KEYS.h]).toBeDefined();
  if (expected.length >= 64) expect(raw.body.includes(expected.subarray(0, 64))).toBe(false);
}

/** Nothing of `Key` in the bucket: no object, no open multipart upload. */
async function expectNothingLeft(Key: string) {
  await expect(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).rejects.toMatchObject({
    $metadata: { httpStatusCode: 404 },
  });
  expect(await listOpenUploads(plain, bucket.name, Key)).toEqual([]);
}

/** UTF-8 text of exactly `size` bytes, mostly three-byte characters. */
function textOf(size: number): string {
  return '€'.repeat(Math.floor(size / 3)) + 'a'.repeat(size % 3);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'es-lib-storage-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The body kinds lib-storage takes, each with its plaintext bytes. */
const BODIES: [string, (seed: string, size: number) => { Body: unknown; ContentLength?: number; bytes: Buffer }][] = [
  ['a Buffer', (seed, size) => ({ Body: seededBytes(seed, size), bytes: seededBytes(seed, size) })],
  ['a string', (_, size) => ({ Body: textOf(size), bytes: Buffer.from(textOf(size)) })],
  [
    'a Readable of unknown length',
    (seed, size) => ({ Body: Readable.from(seededPieces(seed, size, 0, 1_000_000)), bytes: seededBytes(seed, size) }),
  ],
  [
    'a Readable with ContentLength',
    (seed, size) => ({
      Body: Readable.from(seededPieces(seed, size, 0, 777_777)),
      ContentLength: size,
      bytes: seededBytes(seed, size),
    }),
  ],
  [
    'a file stream (length from stat)',
    (seed, size) => {
      const path = join(dir, `${seed}-${size}`);
      writeFileSync(path, seededBytes(seed, size));
      return { Body: createReadStream(path), bytes: seededBytes(seed, size) };
    },
  ],
  [
    'a web ReadableStream',
    (seed, size) => ({ Body: Readable.toWeb(Readable.from(seededPieces(seed, size))), bytes: seededBytes(seed, size) }),
  ],
  [
    'a Blob',
    (seed, size) => ({ Body: new Blob([new Uint8Array(seededBytes(seed, size))]), bytes: seededBytes(seed, size) }),
  ],
];

/** Sizes around lib-storage's cuts at its default 5 MiB part size. */
const SIZES: [string, number][] = [
  ['empty', 0],
  ['small: one PutObject', 300_001],
  ['exactly one part: one PutObject', LIB_PART],
  ['one byte over a part', LIB_PART + 1],
  ['whole parts: the final chunk goes in one more part', 3 * LIB_PART],
  ['parts and a short last part', 2 * LIB_PART + 12_345],
];

describe.each(BODIES)("lib-storage's defaults: %s", (kind, make) => {
  test.each(SIZES)('%s (%d bytes)', async (_, size) => {
    const Key = `defaults/${kind.replace(/\W+/g, '-')}/${size}`;
    const { Body, ContentLength, bytes } = make(Key.replace(/\W+/g, ''), size);
    enc.requests.reset();
    const progress: { loaded?: number; total?: number }[] = [];
    const upload = new Upload({
      client: enc.client,
      params: {
        Bucket: bucket.name,
        Key,
        Body: Body as never,
        ...(ContentLength === undefined ? {} : { ContentLength }),
      },
    });
    upload.on('httpUploadProgress', (p) => progress.push(p));
    await upload.done();

    const { requests } = enc.requests;
    if (size <= LIB_PART) {
      expect(putObjects(requests)).toHaveLength(1);
      expect(partsSent(requests).size).toBe(0);
      expect(requests.filter((r) => r.method === 'POST')).toHaveLength(0); // no multipart upload at all
    } else {
      expect(putObjects(requests)).toHaveLength(0);
      expect([...partsSent(requests)].sort((a, b) => a[0] - b[0])).toEqual([...expectedParts(size, LIB_PART)]);
    }
    // lib-storage's own progress counts the plaintext it cut: it ends at the body's size.
    expect(progress.at(-1)?.loaded).toBe(size);
    await expectReadsBack(Key, bytes);
  });
});

describe('part sizes other than the default', () => {
  test.each<[string, number, number, number]>([
    ['5 MiB + 64 KiB, whole parts, queueSize 1', LIB_PART + C, 3 * (LIB_PART + C), 1],
    ['8 MiB, a short last part, queueSize 2', 8 * MiB, 2 * 8 * MiB + 1, 2],
    ['6 MiB, whole parts, queueSize 8', 6 * MiB, 4 * 6 * MiB, 8],
    ['7 MiB, a body of one part and a byte', 7 * MiB, 7 * MiB + 1, 4],
  ])('%s', async (_, partSize, size, queueSize) => {
    const Key = `sizes/${partSize}/${size}`;
    const data = seededBytes(Key, size);
    for (const Body of [data, Readable.from(seededPieces(Key, size))]) {
      enc.requests.reset();
      await new Upload({ client: enc.client, params: { Bucket: bucket.name, Key, Body }, partSize, queueSize }).done();
      expect([...partsSent(enc.requests.requests)].sort((a, b) => a[0] - b[0])).toEqual([
        ...expectedParts(size, partSize),
      ]);
      await expectReadsBack(Key, data);
    }
  });
});

describe('parts in parallel, completing out of order', () => {
  test('queueSize 6, 10 parts; parts 1 and 2 held back until parts 3…10 are stored', async () => {
    const Key = 'parallel/out-of-order';
    const size = 9 * LIB_PART + 4321;
    const data = seededBytes(Key, size);
    const client = encryptedClient({ keyring });
    const completed: number[] = [];
    let releaseFirst = () => {};
    const othersStored = new Promise<void>((resolve) => {
      releaseFirst = resolve;
      setTimeout(resolve, 30_000).unref(); // never hang the suite
    });
    try {
      // After the plugin encrypted them: hold parts 1 and 2 back, record the order the server answers in.
      client.client.middlewareStack.add(
        (next) => async (args) => {
          const part = Number((args.request as { query?: Record<string, string> }).query?.partNumber);
          if (part === 1 || part === 2) await othersStored;
          const result = await next(args);
          if (part) completed.push(part);
          if (completed.filter((n) => n > 2).length === 8) releaseFirst();
          return result;
        },
        { step: 'finalizeRequest', name: 'holdBackFirstParts' },
      );
      const inFlight = trackInFlight(client.client);
      await new Upload({
        client: client.client,
        params: { Bucket: bucket.name, Key, Body: data },
        queueSize: 6,
      }).done();
      expect(inFlight.max).toBeGreaterThan(2);
      expect(completed.slice(0, 8).sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(completed.slice(8).sort()).toEqual([1, 2]);
      await expectReadsBack(Key, data);
    } finally {
      client.client.destroy();
    }
  });

  test('a stream of unknown length, queueSize 4, 15 parts of which the last is whole', async () => {
    const Key = 'parallel/stream';
    const size = 15 * LIB_PART;
    const client = encryptedClient({ keyring });
    try {
      const inFlight = trackInFlight(client.client);
      await new Upload({
        client: client.client,
        params: { Bucket: bucket.name, Key, Body: Readable.from(seededPieces(Key, size, 0, 300_000)) },
        queueSize: 4,
      }).done();
      expect(inFlight.max).toBeGreaterThan(1);
      expect([...partsSent(client.requests.requests)].sort((a, b) => a[0] - b[0])).toEqual([
        ...expectedParts(size, LIB_PART),
      ]);
      await expectReadsBack(Key, seededBytes(Key, size));
    } finally {
      client.client.destroy();
    }
  });
});

describe('where it cannot work: a RangeError that says what to set, before any part is sent', () => {
  async function refused(client: EncryptedClient, Key: string, upload: Upload) {
    client.requests.reset();
    const error = await rejection(upload.done());
    expect(error).toBeInstanceOf(RangeError);
    // Create, then lib-storage's Abort: no UploadPart, no PutObject went out.
    expect(client.requests.requests.map((r) => r.method).sort()).toEqual(['DELETE', 'POST']);
    await expectNothingLeft(Key);
    return error.message;
  }

  test('a partSize lib-storage accepts that is not a multiple of the chunk size (5 MiB + 1)', async () => {
    const Key = 'refused/odd-part-size';
    const upload = new Upload({
      client: enc.client,
      params: { Bucket: bucket.name, Key, Body: seededBytes(Key, 3 * LIB_PART) },
      partSize: LIB_PART + 1,
    });
    const message = await refused(enc, Key, upload);
    expect(message).toContain(`partSize that is a multiple of ${C}`);
    expect(message).toContain(`such as ${LIB_PART + C}`);
  });

  test("lib-storage's default for a body over 48.8 GiB, ceil(size / 10,000), is not a multiple of the chunk size", async () => {
    const Key = 'refused/huge-default';
    const ContentLength = 60 * 1024 * MiB; // what lib-storage sizes its parts by; the stream itself is short
    const partSize = Math.ceil(ContentLength / 10_000);
    const upload = new Upload({
      client: enc.client,
      params: { Bucket: bucket.name, Key, Body: Readable.from(seededPieces(Key, partSize + 10)), ContentLength },
    });
    const message = await refused(enc, Key, upload);
    expect(message).toContain(`part 1 holds ${partSize} bytes`);
  });

  test("the plugin's chunk size does not divide lib-storage's 5 MiB (16 MiB chunks)", async () => {
    const Key = 'refused/big-chunks';
    const big = encryptedClient({ keyring, chunkSize: 16 * MiB });
    try {
      const upload = new Upload({
        client: big.client,
        params: { Bucket: bucket.name, Key, Body: seededBytes(Key, 2 * LIB_PART) },
      });
      expect(await refused(big, Key, upload)).toContain(`multiple of ${16 * MiB}`);
    } finally {
      big.client.destroy();
    }
  });

  test("the plugin's partSize option (8 MiB) differs from lib-storage's; matching it works, whole parts included", async () => {
    const Key = 'refused/plugin-part-size';
    const fixed = encryptedClient({ keyring, partSize: 8 * MiB });
    try {
      const data = seededBytes(Key, 2 * 8 * MiB);
      const upload = new Upload({ client: fixed.client, params: { Bucket: bucket.name, Key, Body: data } });
      expect(await refused(fixed, Key, upload)).toContain('give lib-storage partSize 8388608');
      fixed.requests.reset();
      await new Upload({
        client: fixed.client,
        params: { Bucket: bucket.name, Key, Body: data },
        partSize: 8 * MiB,
      }).done();
      expect([...partsSent(fixed.requests.requests)].sort((a, b) => a[0] - b[0])).toEqual([
        ...expectedParts(data.length, 8 * MiB),
      ]);
      await expectReadsBack(Key, data, fixed.client);
    } finally {
      fixed.client.destroy();
    }
  });
});

describe('failures leave nothing in the bucket', () => {
  test('the source stream fails after two parts: its error, the upload aborted, no object', async () => {
    const Key = 'failing/source';
    const source = new Readable({ read() {} });
    source.push(seededBytes(Key, 12 * MiB));
    setTimeout(() => source.destroy(Object.assign(new Error('source failed'), { code: 'ESOURCE' })), 100);
    const error = await rejection(
      new Upload({ client: enc.client, params: { Bucket: bucket.name, Key, Body: source } }).done(),
    );
    expect(error.code).toBe('ESOURCE');
    await expectNothingLeft(Key);
  });

  test('a plaintext checksum in params: TypeError before any request (multipart and single PutObject)', async () => {
    for (const [Key, size] of [
      ['failing/md5-multipart', 2 * LIB_PART],
      ['failing/md5-small', 10],
    ] as const) {
      enc.requests.reset();
      const upload = new Upload({
        client: enc.client,
        params: { Bucket: bucket.name, Key, Body: seededBytes(Key, size), ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==' },
      });
      expect(await rejection(upload.done())).toBeInstanceOf(TypeError);
      expect(enc.requests.count).toBe(0);
      await expectNothingLeft(Key);
    }
  });
});

describe("the conventions lib-storage relies on, through the plugin's commands (no part size set)", () => {
  test('parts sent before part 1 wait for it; an unmarked whole last part is ended at Complete', async () => {
    const Key = 'commands/before-part-1';
    const size = 3 * LIB_PART;
    const data = seededBytes(Key, size);
    const { UploadId } = await enc.client.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key }));
    const send = (PartNumber: number) =>
      enc.client
        .send(
          new UploadPartCommand({
            Bucket: bucket.name,
            Key,
            UploadId,
            PartNumber,
            Body: data.subarray((PartNumber - 1) * LIB_PART, PartNumber * LIB_PART),
          }),
        )
        .then((out) => ({ PartNumber, ETag: out.ETag }));
    enc.requests.reset();
    const parts = await Promise.all([send(3), send(2), send(1)]); // parts 3 and 2 reach the plugin first
    await enc.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket.name,
        Key,
        UploadId,
        MultipartUpload: { Parts: parts.sort((a, b) => a.PartNumber - b.PartNumber) },
      }),
    );
    expect([...partsSent(enc.requests.requests)].sort((a, b) => a[0] - b[0])).toEqual([
      ...expectedParts(size, LIB_PART),
    ]);
    await expectReadsBack(Key, data);
  });
});

describe('checksums of the ciphertext: the added final part carries the algorithm the upload was created with', () => {
  test.each<[string, 'WHEN_SUPPORTED' | 'WHEN_REQUIRED', 'SHA256' | undefined, string]>([
    ["the SDK's default (WHEN_SUPPORTED): lib-storage asks for CRC32", 'WHEN_SUPPORTED', undefined, 'crc32'],
    ['ChecksumAlgorithm SHA256 in params', 'WHEN_REQUIRED', 'SHA256', 'sha256'],
  ])('%s', async (_, requestChecksumCalculation, ChecksumAlgorithm, algorithm) => {
    const Key = `checksums/${algorithm}`;
    const data = seededBytes(Key, 2 * LIB_PART);
    const client = encryptedClient({ keyring }, { requestChecksumCalculation });
    const checksums = new Map<number, string | undefined>();
    client.client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { query?: Record<string, string>; headers?: Record<string, string> };
        const part = Number(request.query?.partNumber);
        if (part) checksums.set(part, request.headers?.[`x-amz-checksum-${algorithm}`]);
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordPartChecksums' },
    );
    try {
      const params = { Bucket: bucket.name, Key, Body: data, ...(ChecksumAlgorithm ? { ChecksumAlgorithm } : {}) };
      await new Upload({ client: client.client, params }).done();
      expect([...checksums.keys()].sort()).toEqual([1, 2, 3]);
      for (const checksum of checksums.values()) expect(checksum).toMatch(/^[A-Za-z0-9+/]+=*$/);
      await expectReadsBack(Key, data);
    } finally {
      client.client.destroy();
    }
  });
});
