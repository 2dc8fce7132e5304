/**
 * PutObject / GetObject / HeadObject through the plugin: every body type the
 * SDK accepts, metadata handling, sizes, zero-byte objects, refused inputs.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { CHUNK_OVERHEAD, ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { METADATA_KEYS } from '@encrypted-stream/s3';
import {
  encryptedClient,
  newKeyring,
  readAll,
  seededBytes,
  seededPieces,
  useEncryptedBucket,
  withEncryptedClient,
} from '@encrypted-stream/test-support';
import { getBytes, getRaw, rawSize, rejection } from './helpers/objects';

const { keyring } = newKeyring();
const { bucket, enc, plain } = useEncryptedBucket('put-get', { keyring });
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'es-it-put-get-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const C = DEFAULT_CHUNK_SIZE;
const SIZE = 3 * C + 12_345; // three full chunks and a short final one
const data = seededBytes('put-get', SIZE);

/** A web ReadableStream over pieces of `bytes`. */
function webStream(bytes: Uint8Array, pieceSize = 10_000): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(at, at + pieceSize));
      at += pieceSize;
    },
  });
}

const text = 'héllo wörld — encrypted ✓ 🔐\n'.repeat(7000); // multi-byte UTF-8, > 3 chunks
const textBytes = Buffer.from(text, 'utf8');

type BodyCase = {
  readonly name: string;
  readonly expected: Buffer;
  readonly input: () => { Body: unknown; ContentLength?: number };
};

const bodyCases: BodyCase[] = [
  { name: 'string (multi-byte UTF-8)', expected: textBytes, input: () => ({ Body: text }) },
  { name: 'Uint8Array', expected: data, input: () => ({ Body: new Uint8Array(data) }) },
  { name: 'Buffer', expected: data, input: () => ({ Body: Buffer.from(data) }) },
  {
    name: 'Node Readable with ContentLength',
    expected: data,
    input: () => ({ Body: Readable.from(seededPieces('put-get', SIZE, 0, 7777)), ContentLength: SIZE }),
  },
  {
    name: 'fs.createReadStream of a temp file, no ContentLength',
    expected: data,
    input: () => {
      const path = join(tmp, 'body.bin');
      writeFileSync(path, data);
      return { Body: createReadStream(path, { highWaterMark: 9999 }) };
    },
  },
  {
    name: 'web ReadableStream with ContentLength',
    expected: data,
    input: () => ({ Body: webStream(data), ContentLength: SIZE }),
  },
  { name: 'Blob', expected: data, input: () => ({ Body: new Blob([new Uint8Array(data)]) }) },
];

describe('PutObject with every body type', () => {
  test.each(bodyCases)(
    '$name: round trip, ciphertext stored, plaintext sizes reported',
    async ({ name, expected, input }) => {
      const Key = `body/${name.replace(/[^a-z]+/gi, '-')}`;
      enc.requests.reset();
      await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, ...input() } as never));
      expect(enc.requests.count).toBe(1);

      const stored = await rawSize(plain, bucket.name, Key);
      expect(stored).toBe(ciphertextSize(expected.length, C));

      enc.requests.reset();
      const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
      expect(head.ContentLength).toBe(expected.length);
      expect(enc.requests.count).toBe(1);

      enc.requests.reset();
      const got = await getBytes(enc.client, { Bucket: bucket.name, Key });
      expect(got.contentLength).toBe(expected.length);
      expect(got.equals(expected)).toBe(true);
      expect(enc.requests.count).toBe(1);
    },
  );

  test('a Node Readable without ContentLength is refused (TypeError) before any request', async () => {
    enc.requests.reset();
    const error = await rejection(
      enc.client.send(
        new PutObjectCommand({ Bucket: bucket.name, Key: 'body/unknown-length', Body: Readable.from([data]) }),
      ),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(enc.requests.count).toBe(0);
  });

  test('the PUT carries the ciphertext ContentLength, not the caller’s', async () => {
    enc.requests.reset();
    await enc.client.send(
      new PutObjectCommand({ Bucket: bucket.name, Key: 'body/content-length', Body: data, ContentLength: SIZE }),
    );
    const [put] = enc.requests.withMethod('PUT');
    expect(enc.requests.count).toBe(1);
    expect(put?.contentLength).toBe(ciphertextSize(SIZE, C));
    expect(await rawSize(plain, bucket.name, 'body/content-length')).toBe(ciphertextSize(SIZE, C));
    expect(ciphertextSize(SIZE, C)).toBe(SIZE + 4 * CHUNK_OVERHEAD);
  });
});

describe('metadata', () => {
  const Key = 'meta/object';
  const userMeta = { owner: 'alice', purpose: 'integration-test' };

  beforeAll(async () => {
    await enc.client.send(
      new PutObjectCommand({
        Bucket: bucket.name,
        Key,
        Body: data,
        Metadata: userMeta,
        ContentType: 'application/x-test',
      }),
    );
  });

  test('stored: the caller’s metadata and the three encryption values', async () => {
    const raw = await getRaw(plain, bucket.name, Key);
    expect(raw.metadata).toMatchObject(userMeta);
    expect(Object.keys(raw.metadata).sort()).toEqual(
      ['owner', 'purpose', METADATA_KEYS.h, METADATA_KEYS.k, METADATA_KEYS.w].sort(),
    );
    expect(raw.metadata[METADATA_KEYS.h]).toHaveLength(128);
    expect(raw.metadata[METADATA_KEYS.k]).toBe('it-key-1');
    expect(raw.contentType).toBe('application/x-test');
  });

  test('GetObject and HeadObject return only the caller’s metadata', async () => {
    const got = await enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
    await readAll(got.Body);
    expect(got.Metadata).toEqual(userMeta);
    expect(got.ContentType).toBe('application/x-test');
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    expect(head.Metadata).toEqual(userMeta);
    expect(head.ContentLength).toBe(SIZE);
  });

  test.each(['es-h', 'es-k', 'es-w', 'ES-H', 'Es-W'])(
    'reserved metadata name "%s" is refused (TypeError), no request',
    async (name) => {
      enc.requests.reset();
      const error = await rejection(
        enc.client.send(
          new PutObjectCommand({ Bucket: bucket.name, Key: 'meta/reserved', Body: 'x', Metadata: { [name]: 'v' } }),
        ),
      );
      expect(error).toBeInstanceOf(TypeError);
      expect(enc.requests.count).toBe(0);
    },
  );
});

describe('checksums that describe the plaintext are refused', () => {
  test.each([
    ['ContentMD5', { ContentMD5: '1B2M2Y8AsgTpgAmY7PhCfg==' }],
    ['ChecksumCRC32', { ChecksumCRC32: 'AAAAAA==' }],
    ['ChecksumSHA256', { ChecksumSHA256: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' }],
  ])('%s → TypeError before any request', async (_name, extra) => {
    enc.requests.reset();
    const error = await rejection(
      enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'checksum', Body: '', ...extra })),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(enc.requests.count).toBe(0);
  });
});

describe('zero-byte objects', () => {
  const Key = 'empty/object';

  beforeAll(async () => {
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: new Uint8Array(0) }));
  });

  test('stored as one empty final chunk (40 bytes)', async () => {
    expect(await rawSize(plain, bucket.name, Key)).toBe(CHUNK_OVERHEAD);
  });

  test('GetObject returns no bytes, HeadObject ContentLength 0', async () => {
    const got = await getBytes(enc.client, { Bucket: bucket.name, Key });
    expect(got.length).toBe(0);
    expect(got.contentLength).toBe(0);
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    expect(head.ContentLength).toBe(0);
  });

  test('a missing Body and an empty string are zero-byte objects too', async () => {
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'empty/no-body' }));
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'empty/string', Body: '' }));
    for (const k of ['empty/no-body', 'empty/string']) {
      expect((await getBytes(enc.client, { Bucket: bucket.name, Key: k })).length).toBe(0);
      expect(await rawSize(plain, bucket.name, k)).toBe(CHUNK_OVERHEAD);
    }
  });

  test.each(['bytes=0-0', 'bytes=0-', 'bytes=-1', 'bytes=5-10'])(
    'ranged GetObject %s → 416 InvalidRange',
    async (Range) => {
      const error = await rejection(getBytes(enc.client, { Bucket: bucket.name, Key, Range }));
      expect(error.name).toBe('InvalidRange');
      expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(416);
    },
  );
});

describe('failures and retries on the wire', () => {
  test('a transient failure is retried: two requests counted, the object reads back', async () => {
    const flaky = encryptedClient({ keyring });
    let failures = 0;
    flaky.client.middlewareStack.add(
      (next) => async (args) => {
        if (failures++ === 0) {
          throw Object.assign(new Error('injected 503'), {
            name: 'ServiceUnavailable',
            $fault: 'server',
            $metadata: { httpStatusCode: 503 },
          });
        }
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'failFirstAttempt' },
    );
    try {
      await flaky.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'retry/object', Body: data }));
      expect(flaky.requests.withMethod('PUT')).toHaveLength(2); // the counter sees every attempt
      expect((await getBytes(enc.client, { Bucket: bucket.name, Key: 'retry/object' })).equals(data)).toBe(true);
    } finally {
      flaky.client.destroy();
    }
  });

  /** PutObject through a fresh client whose requests give up after 3 s instead of hanging; returns its error. */
  async function putRejection(input: Omit<PutObjectCommandInput, 'Bucket'>) {
    return withEncryptedClient(
      { keyring },
      (impatient) => rejection(impatient.client.send(new PutObjectCommand({ Bucket: bucket.name, ...input }))),
      { requestHandler: { requestTimeout: 3000, throwOnRequestTimeout: true } as never },
    );
  }

  /** A Readable that yields `bytes`, then fails like a disk or network source would. */
  function failingSource(bytes: number): Readable {
    const source = new Readable({ read() {} });
    source.push(seededBytes('failing', bytes));
    setTimeout(() => source.destroy(Object.assign(new Error('source failed'), { code: 'ESOURCE' })), 20);
    source.on('error', () => {}); // the caller handles its own stream's errors
    return source;
  }

  /*
   * The plugin encrypts a stream body through an internal Readable that the SDK
   * pipes into the HTTP request. When encryption fails mid-body (the source
   * stream errors, or yields more or fewer bytes than ContentLength), that
   * Readable emits 'error' with no listener: in a plain Node process this is an
   * uncaught exception that kills the process (jest reports "Unhandled error"),
   * although the caller handled its own stream's errors; and the request is
   * never ended, so send() hangs until a timeout (none by default).
   */
  test('a stream body that fails mid-way: PutObject rejects with that error (no uncaught error, no hang)', async () => {
    const error = await putRejection({ Key: 'fail/source', Body: failingSource(100_000), ContentLength: 1_000_000 });
    expect(error.code).toBe('ESOURCE');
    await expect(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'fail/source' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  test.each([
    ['fewer', 100_000],
    ['more', 300_000],
  ])(
    'a stream body with %s bytes than its ContentLength: PutObject rejects with RangeError (no uncaught error, no hang)',
    async (_what, actual) => {
      const error = await putRejection({
        Key: 'fail/length',
        Body: Readable.from([seededBytes('length', actual)]),
        ContentLength: 200_000,
      });
      expect(error).toBeInstanceOf(RangeError);
    },
  );
});
