import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  SelectObjectContentCommand,
  type SelectObjectContentCommandInput,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { ErrorCode, encryptStream, LocalKeyring, openStreamCipher } from '@encrypted-stream/codec';
import {
  ciphertextSize,
  collectBytes,
  createStreamCipher,
  decodeHeader,
  decryptBody,
  encryptBody,
} from '@encrypted-stream/codec/low-level';
import { createEncryptedS3Client } from '../../src/client';
import { EncryptedS3Error, S3ErrorCode } from '../../src/errors';
import { withEncryption } from '../../src/markers';
import { encryptionMetadata, readEncryptionHeader } from '../../src/metadata';
import type { EncryptionOptions } from '../../src/options';
import { encryptionMiddlewareOptions, getEncryptionPlugin } from '../../src/plugin';
import { bytesOf, C, failureCode, filler, KEY_ID, MASTER_KEY, rejection, STRIDE, testKeyring } from '../helpers/common';
import { MemoryS3, memoryClient } from '../helpers/memory-s3';

const keyring = testKeyring();
const BUCKET = 'bucket';
const KEY = 'dir/some file é+?.bin';

function setup(options: Partial<EncryptionOptions> = {}): { store: MemoryS3; client: S3Client } {
  const store = new MemoryS3();
  const client = memoryClient(store);
  client.middlewareStack.use(getEncryptionPlugin(client, { keyring, chunkSize: C, ...options }));
  return { store, client };
}

const bodyOf = async (out: GetObjectCommandOutput) => Buffer.from(await out.Body!.transformToByteArray());

/** Stores an encrypted object directly in the fake, as another writer with chunk size `chunkSize` would. */
async function storeEncrypted(store: MemoryS3, key: string, plaintext: Uint8Array, chunkSize = C) {
  const cipher = await createStreamCipher({ keyring, chunkSize, plaintextSize: plaintext.length });
  store.put(BUCKET, key, await bytesOf(encryptBody(cipher, plaintext)), encryptionMetadata(cipher.header));
}

afterEach(() => jest.restoreAllMocks());

describe('PutObject', () => {
  test('stores ciphertext with es-h/es-k/es-w beside the user metadata', async () => {
    const { store, client } = setup();
    const plaintext = filler(3 * C + 500);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: plaintext, Metadata: { owner: 'me' } }));

    expect(store.requests).toHaveLength(1);
    expect(store.requests[0]!.headers['content-length']).toBe(String(3 * STRIDE + 540));
    const stored = store.get(BUCKET, KEY)!;
    expect(Object.keys(stored.metadata).sort()).toEqual(['es-h', 'es-k', 'es-w', 'owner']);
    expect(stored.metadata['es-k']).toBe(KEY_ID);
    expect(stored.body.length).toBe(ciphertextSize(plaintext.length, C));
    expect(Buffer.from(stored.body).includes(Buffer.from(plaintext.subarray(0, 64)))).toBe(false);

    const header = readEncryptionHeader(stored.metadata)!;
    expect(header.stream.chunkSize).toBe(C);
    expect(header.stream.plaintextSize).toBe(plaintext.length);
    const cipher = await openStreamCipher(header, { keyring });
    expect(Buffer.from(await bytesOf(decryptBody(cipher, stored.body)))).toEqual(Buffer.from(plaintext));
  });

  test.each<[string, () => unknown, number | undefined, Uint8Array]>([
    ['a multi-byte string', () => '€😀é'.repeat(2000), undefined, new Uint8Array(Buffer.from('€😀é'.repeat(2000)))],
    ['a Blob', () => new Blob([filler(5000, 2)]), undefined, filler(5000, 2)],
    ['a Readable with ContentLength', () => Readable.from([filler(9000, 3)]), 9000, filler(9000, 3)],
    ['no body', () => undefined, undefined, new Uint8Array(0)],
    ['an empty body', () => new Uint8Array(0), undefined, new Uint8Array(0)],
  ])('body: %s', async (_, make, ContentLength, expected) => {
    const { store, client } = setup();
    const Body = make() as string;
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body, ContentLength }));
    const stored = store.get(BUCKET, 'k')!;
    expect(stored.body.length).toBe(ciphertextSize(expected.length, C));
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' }));
    expect(await bodyOf(out)).toEqual(Buffer.from(expected));
  });

  test.each<[string, Record<string, unknown>, ErrorConstructor]>([
    ['reserved metadata', { Body: 'x', Metadata: { 'ES-H': 'x' } }, TypeError],
    ['a plaintext checksum', { Body: 'x', ChecksumCRC32: 'AAAAAA==' }, TypeError],
    ['a plaintext MD5', { Body: 'x', ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==' }, TypeError],
    ['a stream of unknown length', { Body: Readable.from([Buffer.from('x')]) }, TypeError],
  ])('refuses %s without sending anything', async (_, input, type) => {
    const { store, client } = setup();
    const error = await rejection(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', ...input })));
    expect(error).toBeInstanceOf(type);
    expect(store.requests).toHaveLength(0);
  });

  test("the SDK's request checksum covers the stored ciphertext", async () => {
    const store = new MemoryS3();
    const client = memoryClient(store, { requestChecksumCalculation: 'WHEN_SUPPORTED' });
    client.middlewareStack.use(getEncryptionPlugin(client, { keyring, chunkSize: C }));
    await client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: filler(5000), ChecksumAlgorithm: 'CRC32' }),
    );
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(store.get(BUCKET, 'k')!.body));
    expect(store.requests[0]!.headers['x-amz-checksum-crc32']).toBe(crc.toString('base64'));
  });

  test('a stream shorter than its ContentLength stores nothing', async () => {
    jest.spyOn(console, 'warn').mockImplementation(() => {}); // the SDK reports the failed streaming request
    const { store, client } = setup();
    const Body = Readable.from([filler(50)]);
    await rejection(client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body, ContentLength: 100 })));
    expect(store.objects.size).toBe(0);
  });
});

describe('GetObject of a stream whose size is not recorded (multipart, streamed uploads)', () => {
  // 3C bytes: chunks 0-2 full, chunk 3 the empty final chunk. `cut` is its
  // first two chunks and 40 arbitrary bytes: a well-formed 2C-byte body whose
  // "final chunk" never authenticates.
  const SIZE = 3 * C;
  const plaintext = filler(SIZE, 9);
  let store: MemoryS3;
  let client: S3Client;

  beforeEach(async () => {
    ({ store, client } = setup());
    const bytes = await collectBytes(encryptStream(plaintext, { keyring, chunkSize: C }));
    const { header, length } = decodeHeader(bytes)!;
    const body = bytes.subarray(length);
    store.put(BUCKET, 'whole', body, encryptionMetadata(header));
    store.put(BUCKET, 'cut', Buffer.concat([body.subarray(0, 2 * S), filler(40, 1)]), encryptionMetadata(header));
    store.requests.length = 0;
  });
  const S = STRIDE;

  test.each([
    undefined,
    'bytes=0-',
    `bytes=${C}-`,
    `bytes=0-${2 * C - 1}`,
    `bytes=${2 * C - 1}-${2 * C - 1}`,
    'bytes=-1',
    'bytes=-5000',
  ])('the cut object, Range %s: ES_AUTH_FAILED, never a clean short read', async (Range) => {
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cut', Range }));
    expect(await failureCode(bodyOf(out))).toBe(ErrorCode.AUTH_FAILED);
    expect(store.requests).toHaveLength(1);
  });

  test.each<[string, number, number]>([
    [`bytes=${2 * C}-${3 * C - 1}`, 2 * C, SIZE],
    [`bytes=${C + 7}-${3 * C - 1}`, C + 7, SIZE],
    ['bytes=-1', SIZE - 1, SIZE],
    [`bytes=${C}-`, C, SIZE],
  ])(
    'the genuine object, Range %s ending at the last byte: one request, the final chunk authenticated',
    async (Range, start, end) => {
      const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'whole', Range }));
      expect(await bodyOf(out)).toEqual(Buffer.from(plaintext.subarray(start, end)));
      expect(out.ContentRange).toBe(`bytes ${start}-${end - 1}/${SIZE}`);
      expect(store.requests).toHaveLength(1);
    },
  );

  // Reviewer finding: on the second-request path (an object written with a
  // smaller chunk size than the reader's), a store that answers the two
  // requests with different objects must not turn the hold-back off.
  test('a second response for another body size is refused before any byte (ES_SIZE_MISMATCH)', async () => {
    const reader = setup({ chunkSize: 2 * C }); // guesses in 8 KiB chunks; the object has 4 KiB chunks
    const bytes = await collectBytes(encryptStream(filler(6 * C, 4), { keyring, chunkSize: C }));
    const { header, length } = decodeHeader(bytes)!;
    const genuine = bytes.subarray(length);
    const cut = Buffer.concat([genuine.subarray(0, 4 * S), filler(40, 2)]); // reads as 4C bytes
    reader.store.put(BUCKET, 'swapped', cut, encryptionMetadata(header));
    const handle = reader.store.handle.bind(reader.store);
    let gets = 0;
    jest.spyOn(reader.store, 'handle').mockImplementation(async (request) => {
      if (request.method === 'GET' && ++gets === 2)
        reader.store.put(BUCKET, 'swapped', genuine, encryptionMetadata(header));
      return handle(request);
    });
    const Range = `bytes=0-${4 * C - 1}`;
    const code = await failureCode(
      reader.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'swapped', Range })).then(bodyOf),
    );
    expect([code, gets]).toEqual([ErrorCode.SIZE_MISMATCH, 2]);

    // The same object served consistently: the final chunk fails and the last piece is never released.
    reader.store.put(BUCKET, 'cut', cut, encryptionMetadata(header));
    const out = await reader.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cut', Range }));
    const got: Buffer[] = [];
    const error = await (async () => {
      try {
        for await (const piece of out.Body as AsyncIterable<Buffer>) got.push(piece);
      } catch (e) {
        return e;
      }
    })();
    expect((error as { code?: string }).code).toBe(ErrorCode.AUTH_FAILED);
    expect(Buffer.concat(got).length).toBeLessThan(4 * C);
  });

  test('a range that stops before the end of the cut object still reads', async () => {
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'cut', Range: `bytes=0-${C - 1}` }));
    expect(await bodyOf(out)).toEqual(Buffer.from(plaintext.subarray(0, C)));
  });
});

describe('GetObject', () => {
  const SIZE = 3 * C + 500; // four chunks, the last one short
  const CIPHER_SIZE = 3 * STRIDE + 540;
  const plaintext = filler(SIZE, 5);
  let store: MemoryS3;
  let client: S3Client;

  beforeEach(async () => {
    ({ store, client } = setup());
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: plaintext, Metadata: { owner: 'me' } }));
    store.requests.length = 0;
  });

  test('returns the plaintext with its plaintext length and the user metadata only', async () => {
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(await bodyOf(out)).toEqual(Buffer.from(plaintext));
    expect(out.ContentLength).toBe(SIZE);
    expect(out.ContentRange).toBeUndefined();
    expect(out.Metadata).toEqual({ owner: 'me' });
    expect(store.requests).toHaveLength(1);
    expect(store.requests[0]!.headers.range).toBeUndefined();
  });

  test('an empty object', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'empty', Body: new Uint8Array(0) }));
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'empty' }));
    expect(out.ContentLength).toBe(0);
    expect(await bodyOf(out)).toHaveLength(0);
  });

  const S = STRIDE;
  test.each<[string, string, number, number]>([
    // [plaintext Range, expected ciphertext Range, plaintext start, end (exclusive)]
    ['bytes=0-0', `bytes=0-${S - 1}`, 0, 1],
    ['bytes=0-4095', `bytes=0-${S + 39}`, 0, C], // ends on a boundary: 40 bytes more, in case the object ends there
    ['bytes=4095-4096', `bytes=0-${2 * S - 1}`, C - 1, C + 1],
    ['bytes=5000-5010', `bytes=${S}-${2 * S - 1}`, 5000, 5011],
    ['bytes=8192-12787', `bytes=${2 * S}-${4 * S - 1}`, 2 * C, SIZE],
    ['bytes=100-99999', `bytes=0-${25 * S - 1}`, 100, SIZE],
    ['bytes=0-', 'bytes=0-', 0, SIZE],
    ['bytes=8192-', `bytes=${2 * S}-`, 2 * C, SIZE],
    ['bytes=12787-', `bytes=${3 * S}-`, SIZE - 1, SIZE],
    ['bytes=-1', `bytes=-${2 * S}`, SIZE - 1, SIZE],
    ['bytes=-500', `bytes=-${2 * S}`, SIZE - 500, SIZE],
    ['bytes=-5000', `bytes=-${3 * S}`, SIZE - 5000, SIZE],
    ['bytes=-12788', `bytes=-${5 * S}`, 0, SIZE],
    ['bytes=-100000', `bytes=-${26 * S}`, 0, SIZE],
  ])('Range %s: one request for %s', async (range, cipherRange, start, end) => {
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: range }));
    expect(await bodyOf(out)).toEqual(Buffer.from(plaintext.subarray(start, end)));
    expect(out.ContentLength).toBe(end - start);
    expect(out.ContentRange).toBe(`bytes ${start}-${end - 1}/${SIZE}`);
    expect(out.Metadata).toEqual({ owner: 'me' });
    expect(store.requests.map((r) => r.headers.range)).toEqual([cipherRange]);
  });

  test.each(['bytes=12788-', 'bytes=12788-20000', 'bytes=20000-', 'bytes=50000-60000', 'bytes=-0'])(
    'Range %s is S3 InvalidRange (416)',
    async (range) => {
      const error = (await rejection(
        client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: range })),
      )) as {
        name: string;
        $metadata: { httpStatusCode?: number };
      };
      expect(error.name).toBe('InvalidRange');
      expect(error.$metadata.httpStatusCode).toBe(416);
    },
  );

  test('any range of an empty object is InvalidRange (416)', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'empty', Body: '' }));
    for (const Range of ['bytes=0-', 'bytes=0-0', 'bytes=-1']) {
      const error = (await rejection(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'empty', Range })))) as {
        $metadata: { httpStatusCode?: number };
      };
      expect(error.$metadata.httpStatusCode).toBe(416);
    }
  });

  test.each(['bytes=0-1,5-6', 'bytes=5-1', 'bytes=x-'])(
    'a malformed Range %s is a RangeError; nothing sent',
    async (r) => {
      expect(await rejection(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: r })))).toBeInstanceOf(
        RangeError,
      );
      expect(store.requests).toHaveLength(0);
    },
  );

  test('an object written with another chunk size: a second, exact request', async () => {
    const other = filler(20000, 6);
    await storeEncrypted(store, 'big-chunks', other, 2 * C);
    const out = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'big-chunks', Range: 'bytes=10000-10010' }),
    );
    expect(await bodyOf(out)).toEqual(Buffer.from(other.subarray(10000, 10011)));
    const stride = 2 * C + 40;
    expect(store.requests.map((r) => r.headers.range)).toEqual([
      `bytes=${2 * S}-${3 * S - 1}`,
      `bytes=${stride}-${2 * stride - 1}`,
    ]);
    // and a whole read needs just one
    const whole = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big-chunks' }));
    expect(await bodyOf(whole)).toEqual(Buffer.from(other));
  });

  test.each<[string, string, number]>([
    ['bytes=1572000-', 'from', 1572000],
    ['bytes=1572000-1572863', 'bounded', 1572000],
    ['bytes=1572863-', 'from', 1572863],
  ])('an object written with a larger chunk size: Range %s near its end is served', async (Range, _, start) => {
    // BUG: the first request assumes the reader's 4 KiB geometry: chunk 383 starts at ciphertext
    // byte 383·4136 = 1584088, past the end of this 1572944-byte body (1 MiB chunks), so S3 answers
    // 416 and the plugin throws InvalidRange for a satisfiable range (FORMAT.md: reads adapt to any chunk size).
    const big = filler(1.5 * 1024 * 1024, 7); // 1572864 bytes, two 1 MiB chunks
    await storeEncrypted(store, 'one-mib-chunks', big, 1024 * 1024);
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'one-mib-chunks', Range }));
    expect(await bodyOf(out)).toEqual(Buffer.from(big.subarray(start)));
  });

  test.each<[string, () => Promise<unknown>]>([
    ['a whole read', () => client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY })).then(bodyOf)],
    [
      'a ranged read',
      () => client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: 'bytes=-9' })).then(bodyOf),
    ],
    [
      'an unsatisfiable range',
      () => client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: 'bytes=12788-' })),
    ],
    [
      'a keyring without the key',
      () => {
        const other = memoryClient(store);
        other.middlewareStack.use(getEncryptionPlugin(other, { keyring: LocalKeyring.single('other', MASTER_KEY) }));
        return other.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
      },
    ],
    [
      'another chunk size',
      async () => {
        await storeEncrypted(store, 'big-chunks', filler(20000), 2 * C);
        return bodyOf(
          await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big-chunks', Range: 'bytes=10000-' })),
        );
      },
    ],
  ])('no response body is left open after %s', async (_, work) => {
    await work().catch(() => undefined);
    expect(store.openBodies()).toBe(0);
  });

  test('tampered ciphertext fails authentication', async () => {
    const stored = store.get(BUCKET, KEY)!;
    stored.body[S + 100] = (stored.body[S + 100] as number) ^ 1;
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(await failureCode(bodyOf(out))).toBe(ErrorCode.AUTH_FAILED);
    const ranged = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, Range: 'bytes=5000-5001' }));
    expect(await failureCode(bodyOf(ranged))).toBe(ErrorCode.AUTH_FAILED);
  });

  test('a cut object is refused', async () => {
    const stored = store.get(BUCKET, KEY)!;
    stored.body = stored.body.subarray(0, CIPHER_SIZE - 10);
    expect(await failureCode(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY })))).toBe(
      ErrorCode.SIZE_MISMATCH,
    );
    stored.body = stored.body.subarray(0, 2 * S);
    expect(await failureCode(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY })))).toBe(
      ErrorCode.TRUNCATED,
    );
  });

  test('a keyring without the key: ES_UNKNOWN_KEY', async () => {
    const other = memoryClient(store);
    other.middlewareStack.use(getEncryptionPlugin(other, { keyring: LocalKeyring.single('other', MASTER_KEY) }));
    expect(await failureCode(other.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY })))).toBe(
      ErrorCode.UNKNOWN_KEY,
    );
  });

  test("context 'location': an object moved to another key does not decrypt", async () => {
    ({ store, client } = setup({ context: 'location' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a', Body: plaintext }));
    const stored = store.get(BUCKET, 'a')!;
    store.put(BUCKET, 'b', stored.body, stored.metadata);
    expect(await bodyOf(await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a' })))).toEqual(
      Buffer.from(plaintext),
    );
    expect(await failureCode(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'b' })))).toBe(
      ErrorCode.CONTEXT_MISMATCH,
    );
  });
});

describe('HeadObject', () => {
  test('reports the plaintext size and the user metadata only', async () => {
    const { store, client } = setup();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: filler(10000), Metadata: { a: 'b' } }));
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(head.ContentLength).toBe(10000);
    expect(head.Metadata).toEqual({ a: 'b' });
    expect(store.requests.at(-1)!.method).toBe('HEAD');
  });

  test('an edited recorded size in the metadata is refused, not reported (the key wrap binds the header)', async () => {
    const { store, client } = setup();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: filler(10000) }));
    const stored = store.get(BUCKET, KEY)!;
    const h = Buffer.from(stored.metadata['es-h']!, 'base64url');
    h.writeBigUInt64BE(20000n, 8); // claims 20000 bytes
    stored.metadata['es-h'] = h.toString('base64url');
    expect(await failureCode(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY })))).toBe(
      ErrorCode.KEY_UNWRAP_FAILED,
    );
  });

  test('a stored size that disagrees with the recorded one is ES_SIZE_MISMATCH', async () => {
    const { store, client } = setup();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: filler(10000) }));
    const stored = store.get(BUCKET, KEY)!;
    stored.body = stored.body.subarray(0, 2 * STRIDE + 40); // a well-formed 2C-byte body
    expect(await failureCode(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY })))).toBe(
      ErrorCode.SIZE_MISMATCH,
    );
  });
});

describe('unsupported operations', () => {
  const select: SelectObjectContentCommandInput = {
    Bucket: BUCKET,
    Key: KEY,
    Expression: 'SELECT * FROM S3Object',
    ExpressionType: 'SQL',
    InputSerialization: { CSV: {} },
    OutputSerialization: { CSV: {} },
  };
  test.each<[string, (client: S3Client) => Promise<unknown>]>([
    ['GetObject with PartNumber', (c) => c.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY, PartNumber: 1 }))],
    ['HeadObject with PartNumber', (c) => c.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY, PartNumber: 1 }))],
    [
      'UploadPartCopy',
      (c) =>
        c.send(
          new UploadPartCopyCommand({
            Bucket: BUCKET,
            Key: KEY,
            UploadId: 'u',
            PartNumber: 1,
            CopySource: 'bucket/src',
          }),
        ),
    ],
    ['SelectObjectContent', (c) => c.send(new SelectObjectContentCommand(select))],
  ])('%s: ES_UNSUPPORTED_OPERATION, nothing sent', async (_, send) => {
    const { store, client } = setup();
    const error = await rejection(send(client));
    expect(error).toBeInstanceOf(EncryptedS3Error);
    expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.UNSUPPORTED_OPERATION);
    expect(store.requests).toHaveLength(0);
  });
});

describe('objects without encryption metadata', () => {
  const plaintext = filler(3 * C + 10, 8); // 12298 bytes
  function withPlainObject(options: Partial<EncryptionOptions> = {}) {
    const s = setup(options);
    s.store.put(BUCKET, 'plain', plaintext, { owner: 'someone' });
    return s;
  }

  test('GetObject and HeadObject fail with ES_NOT_ENCRYPTED', async () => {
    const { client } = withPlainObject();
    expect(await failureCode(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain' })))).toBe(
      S3ErrorCode.NOT_ENCRYPTED,
    );
    expect(
      await failureCode(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain', Range: 'bytes=0-9' }))),
    ).toBe(S3ErrorCode.NOT_ENCRYPTED);
    expect(await failureCode(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'plain' })))).toBe(
      S3ErrorCode.NOT_ENCRYPTED,
    );
  });

  test('no response body is left open by ES_NOT_ENCRYPTED', async () => {
    // BUG: handleGetObject throws ES_NOT_ENCRYPTED without discarding the response body (a leaked connection).
    const { store, client } = withPlainObject();
    await rejection(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain' })));
    await rejection(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain', Range: 'bytes=0-9' })));
    expect(store.openBodies()).toBe(0);
  });

  test('partial encryption metadata is ES_MALFORMED, even with passthrough', async () => {
    const { store, client } = setup({ passthrough: true });
    store.put(BUCKET, 'partial', plaintext, { 'es-h': 'x' });
    expect(await failureCode(client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'partial' })))).toBe(
      ErrorCode.MALFORMED,
    );
  });

  test('passthrough: returned as they are', async () => {
    const { client } = withPlainObject({ passthrough: true });
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain' }));
    expect(await bodyOf(out)).toEqual(Buffer.from(plaintext));
    expect(out.ContentLength).toBe(plaintext.length);
    expect(out.Metadata).toEqual({ owner: 'someone' });
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'plain' }));
    expect(head.ContentLength).toBe(plaintext.length);
  });

  test.each<[string, number, number]>([
    ['bytes=10-19', 10, 20],
    ['bytes=5000-', 5000, 12298],
    ['bytes=-100', 12198, 12298],
  ])('passthrough: Range %s is the plaintext range', async (Range, start, end) => {
    const { store, client } = withPlainObject({ passthrough: true });
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain', Range }));
    expect(await bodyOf(out)).toEqual(Buffer.from(plaintext.subarray(start, end)));
    expect(out.ContentRange).toBe(`bytes ${start}-${end - 1}/${plaintext.length}`);
    expect(store.requests.at(-1)!.headers.range).toBe(Range);
  });

  test('passthrough: a ranged read leaves no response body open', async () => {
    // BUG: the first (ciphertext-range) response is dropped without being discarded before the second request.
    const { store, client } = withPlainObject({ passthrough: true });
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain', Range: 'bytes=10-19' }));
    await bodyOf(out);
    expect(store.requests).toHaveLength(2);
    expect(store.openBodies()).toBe(0);
  });

  test.each([
    ['bytes=12288-12297', 12288, 12298],
    ['bytes=12290-', 12290, 12298],
  ])('passthrough: Range %s near the end of a plaintext object is still served', async (Range, start, end) => {
    // BUG: the first request asks for the ciphertext range (chunk 3 starts at byte 12408 of an encrypted
    // body), which is past the end of this 12298-byte plaintext object: S3 answers 416 and the plugin
    // throws InvalidRange instead of retrying with the caller's Range.
    const { client } = withPlainObject({ passthrough: true });
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'plain', Range }));
    expect(await bodyOf(out)).toEqual(Buffer.from(plaintext.subarray(start, end)));
  });
});

describe('withEncryption(input, { raw: true })', () => {
  test('PutObject stores the body untouched', async () => {
    const { store, client } = setup();
    const body = filler(1000);
    await client.send(new PutObjectCommand(withEncryption({ Bucket: BUCKET, Key: 'raw', Body: body }, { raw: true })));
    expect(Buffer.from(store.get(BUCKET, 'raw')!.body)).toEqual(Buffer.from(body));
    expect(store.get(BUCKET, 'raw')!.metadata).toEqual({});
  });

  test('GetObject returns the stored ciphertext and metadata', async () => {
    const { store, client } = setup();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: filler(5000) }));
    const out = await client.send(new GetObjectCommand(withEncryption({ Bucket: BUCKET, Key: KEY }, { raw: true })));
    expect(await bodyOf(out)).toEqual(Buffer.from(store.get(BUCKET, KEY)!.body));
    expect(out.ContentLength).toBe(ciphertextSize(5000, C));
    expect(Object.keys(out.Metadata ?? {}).sort()).toEqual(['es-h', 'es-k', 'es-w']);
    const ranged = await client.send(
      new GetObjectCommand(withEncryption({ Bucket: BUCKET, Key: KEY, Range: 'bytes=0-9' }, { raw: true })),
    );
    expect(store.requests.at(-1)!.headers.range).toBe('bytes=0-9');
    expect(await bodyOf(ranged)).toEqual(Buffer.from(store.get(BUCKET, KEY)!.body.subarray(0, 10)));
  });

  test('also lets otherwise refused commands through to the server', async () => {
    const { store, client } = setup();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: 'x' }));
    const head = new HeadObjectCommand(withEncryption({ Bucket: BUCKET, Key: KEY, PartNumber: 1 }, { raw: true }));
    await client.send(head).catch(() => undefined); // the fake does not serve parts; it only has to be asked
    expect(store.requests.at(-1)).toMatchObject({ method: 'HEAD', query: { partNumber: '1' } });
  });
});

describe('installation', () => {
  test('encryptionMiddlewareOptions: the initialize step', () => {
    expect(encryptionMiddlewareOptions).toMatchObject({ step: 'initialize', name: 'encryptedStreamMiddleware' });
  });

  test('the plugin adds one middleware in the initialize step, once however often it is applied', async () => {
    const store = new MemoryS3();
    const client = memoryClient(store);
    const ours = () => client.middlewareStack.identify().filter((m) => m.startsWith('encryptedStreamMiddleware'));
    expect(ours()).toEqual([]);
    client.middlewareStack.use(getEncryptionPlugin(client, { keyring, chunkSize: C }));
    client.middlewareStack.use(getEncryptionPlugin(client, { keyring, chunkSize: C }));
    expect(ours()).toEqual(['encryptedStreamMiddleware - initialize']);
    // encrypted once, not twice
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: filler(100) }));
    expect(store.get(BUCKET, 'k')!.body.length).toBe(140);
  });

  test('getEncryptionPlugin needs a client and valid options', () => {
    expect(() => getEncryptionPlugin(undefined as unknown as S3Client, { keyring })).toThrow(TypeError);
    const client = memoryClient(new MemoryS3());
    expect(() => getEncryptionPlugin(client, { keyring: {} as never })).toThrow(TypeError);
    expect(() => getEncryptionPlugin(client, { keyring, chunkSize: 1000 })).toThrow(RangeError);
  });

  test('createEncryptedS3Client: a client with the plugin applied', async () => {
    const store = new MemoryS3();
    const client = createEncryptedS3Client(
      {
        region: 'us-east-1',
        endpoint: 'http://s3.memory.test',
        forcePathStyle: true,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        requestHandler: store,
      },
      { keyring },
    );
    expect(typeof client.encryption.resumeToken).toBe('function');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'k', Body: 'hello' }));
    expect(store.get(BUCKET, 'k')!.metadata['es-k']).toBe(KEY_ID);
    const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'k' }));
    expect(await out.Body!.transformToString()).toBe('hello');
  });

  test('resumeToken of an upload the plugin does not hold: ES_UNKNOWN_UPLOAD', () => {
    const client = memoryClient(new MemoryS3());
    const plugin = getEncryptionPlugin(client, { keyring });
    let code: string | undefined;
    try {
      plugin.resumeToken('nope', BUCKET, KEY);
    } catch (error) {
      code = (error as EncryptedS3Error).code;
    }
    expect(code).toBe(S3ErrorCode.UNKNOWN_UPLOAD);
  });
});
