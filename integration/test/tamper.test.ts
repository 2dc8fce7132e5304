/**
 * Tampering through a plain client: the raw body and metadata are downloaded,
 * modified and stored again; reads through the plugin must fail with the
 * right code and never release bytes of a chunk that did not authenticate.
 */
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { LocalKeyring, openStreamCipher } from '@encrypted-stream/codec';
import {
  CHUNK_OVERHEAD,
  DEFAULT_CHUNK_SIZE,
  decryptBody,
  fromDetachedHeader,
  plaintextSize,
} from '@encrypted-stream/codec/low-level';
import { METADATA_KEYS, S3ErrorCode } from '@encrypted-stream/s3';
import { EncryptedUpload } from '@encrypted-stream/s3/upload';
import {
  consumeUntilError,
  encryptedClient,
  newMasterKey,
  seededBytes,
  seededStream,
  useEncryptedBucket,
} from '@encrypted-stream/test-support';
import { getBytes, getRaw, putRaw, type RawObject, rejection } from './helpers/objects';

const C = DEFAULT_CHUNK_SIZE;
const STRIDE = C + CHUNK_OVERHEAD;
const key1 = newMasterKey();
const key2 = newMasterKey();
/** Holds key-1 (primary, wraps new objects) and key-2. */
const keyring = new LocalKeyring({ 'key-2': key2, 'key-1': key1 }, 'key-1');
const { bucket, enc, plain } = useEncryptedBucket('tamper', { keyring });

const SIZE = 4 * C + 5000; // chunks 0…3 full, chunk 4 final (5000 bytes)
const data = seededBytes('tamper', SIZE);
const ORIGINAL = 'tamper/original';
let original: RawObject;

beforeAll(async () => {
  await enc.client.send(
    new PutObjectCommand({ Bucket: bucket.name, Key: ORIGINAL, Body: data, Metadata: { note: 'x' } }),
  );
  original = await getRaw(plain, bucket.name, ORIGINAL);
});

let counter = 0;
/** Stores a modified copy of a raw object under a new key; returns the key. */
async function tampered(
  from: RawObject,
  change: (o: { body: Buffer; metadata: Record<string, string> }) => void,
): Promise<string> {
  const copy = { body: Buffer.from(from.body), metadata: { ...from.metadata } };
  change(copy);
  const Key = `tamper/t${++counter}`;
  await putRaw(plain, bucket.name, Key, copy.body, copy.metadata);
  return Key;
}

/** Sets a metadata value (returns nothing, for one-line edits). */
function setValue(metadata: Record<string, string>, name: string, value: string): void {
  metadata[name] = value;
}

/** XORs one byte. */
function flip(bytes: Buffer, at: number, mask = 1) {
  bytes[at] = (bytes[at] as number) ^ mask;
}

/** Edits the decoded 96-byte stream header in `es-h`. */
function editHeader(metadata: Record<string, string>, edit: (header: Buffer) => void) {
  const header = Buffer.from(metadata[METADATA_KEYS.h] as string, 'base64url');
  edit(header);
  metadata[METADATA_KEYS.h] = header.toString('base64url');
}

/**
 * Reads `Key` (optionally a range) through `client` and expects it to fail
 * with `code`; returns the plaintext delivered before the failure, after
 * checking it is a prefix of `expected` that ends on a chunk boundary of the
 * object, i.e. no byte of the failing chunk came out.
 */
async function readFailing(
  Key: string,
  code: string,
  expected: Buffer,
  options: { Range?: string; client?: S3Client; chunkStart?: number } = {},
) {
  const client = options.client ?? enc.client;
  let out: GetObjectCommandOutput;
  try {
    out = await client.send(new GetObjectCommand({ Bucket: bucket.name, Key, Range: options.Range }));
  } catch (error) {
    expect((error as { code?: string }).code).toBe(code);
    return Buffer.alloc(0);
  }
  const { delivered, error } = await consumeUntilError(out.Body);
  expect((error as { code?: string } | undefined)?.code).toBe(code);
  expect(delivered.equals(expected.subarray(0, delivered.length))).toBe(true);
  // `chunkStart`: plaintext offset of the first byte delivered; chunks end at multiples of C.
  if (delivered.length > 0) expect(((options.chunkStart ?? 0) + delivered.length) % C).toBe(0);
  return delivered;
}

describe('body', () => {
  test('a flipped byte in chunk 2: full read fails after chunks 0–1; ranged reads of that chunk fail; other chunks read', async () => {
    const Key = await tampered(original, ({ body }) => {
      flip(body, 2 * STRIDE + 1000);
    });
    const delivered = await readFailing(Key, 'ES_AUTH_FAILED', data);
    expect(delivered.length).toBe(2 * C);

    for (const Range of [`bytes=${2 * C}-${2 * C}`, `bytes=${2 * C + 500}-${3 * C - 1}`, `bytes=${3 * C - 1}-`]) {
      const got = await readFailing(Key, 'ES_AUTH_FAILED', data.subarray(Number(/\d+/.exec(Range)![0])), {
        Range,
        chunkStart: Number(/\d+/.exec(Range)![0]),
      });
      expect(got.length).toBe(0);
    }
    // A range starting in chunk 1 and running into chunk 2 delivers only chunk 1's part.
    const spanning = await readFailing(Key, 'ES_AUTH_FAILED', data.subarray(C + 100), {
      Range: `bytes=${C + 100}-${2 * C + 100}`,
      chunkStart: C + 100,
    });
    expect(spanning.length).toBe(C - 100);

    for (const Range of ['bytes=0-99', `bytes=${C}-${2 * C - 1}`, `bytes=${3 * C}-`, 'bytes=-5000']) {
      const [a] = /\d+/.exec(Range) ?? [];
      const got = await getBytes(enc.client, { Bucket: bucket.name, Key, Range });
      const start = Range.startsWith('bytes=-') ? SIZE - 5000 : Number(a);
      expect(got.equals(data.subarray(start, start + got.length))).toBe(true);
      expect(got.length).toBeGreaterThan(0);
    }
  });

  test.each([
    ['nonce', 2 * STRIDE + 3],
    ['tag', 3 * STRIDE - 1],
    ['final chunk', 4 * STRIDE + 100],
  ])('a flipped %s byte → ES_AUTH_FAILED', async (_what, at) => {
    const Key = await tampered(original, ({ body }) => {
      flip(body, at, 0x80);
    });
    await readFailing(Key, 'ES_AUTH_FAILED', data);
  });

  test.each([
    {
      what: 'at a chunk boundary: full read and a read of the first bytes → ES_TRUNCATED',
      length: 3 * STRIDE,
      code: 'ES_TRUNCATED',
    },
    {
      what: 'inside a chunk: the header records the size → ES_SIZE_MISMATCH, even for the first bytes',
      length: 3 * STRIDE + 1000,
      code: 'ES_SIZE_MISMATCH',
    },
  ])('truncated $what', async ({ length, code }) => {
    const Key = await tampered(original, (o) => {
      o.body = o.body.subarray(0, length);
    });
    await readFailing(Key, code, data);
    await readFailing(Key, code, data, { Range: 'bytes=0-9' });
    await expect(enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).rejects.toMatchObject({ code });
  });

  test('truncated inside the final chunk’s overhead → ES_TRUNCATED', async () => {
    const Key = await tampered(original, (o) => {
      o.body = o.body.subarray(0, 4 * STRIDE + 20);
    });
    await readFailing(Key, 'ES_TRUNCATED', data);
  });

  test.each([
    ['1 byte', 1],
    ['a whole chunk’s worth', STRIDE],
  ])('%s appended → ES_SIZE_MISMATCH', async (_what, n) => {
    const Key = await tampered(original, (o) => {
      o.body = Buffer.concat([o.body, seededBytes('junk', n)]);
    });
    await readFailing(Key, 'ES_SIZE_MISMATCH', data);
    await readFailing(Key, 'ES_SIZE_MISMATCH', data, { Range: 'bytes=0-9' });
  });

  test('bodies of two objects swapped, metadata kept → ES_AUTH_FAILED, nothing released', async () => {
    const other = seededBytes('tamper-other', SIZE);
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'tamper/other', Body: other }));
    const otherRaw = await getRaw(plain, bucket.name, 'tamper/other');
    const a = await tampered(original, (o) => {
      o.body = otherRaw.body;
    });
    const b = await tampered(otherRaw, (o) => {
      o.body = original.body;
    });
    expect((await readFailing(a, 'ES_AUTH_FAILED', data)).length).toBe(0);
    expect((await readFailing(b, 'ES_AUTH_FAILED', other)).length).toBe(0);
    await readFailing(a, 'ES_AUTH_FAILED', data, { Range: `bytes=${C}-${C + 10}`, chunkStart: C });
  });
});

describe('objects without a recorded size (EncryptedUpload of a stream)', () => {
  const S = 4 * C + 5000;
  const streamed = seededBytes('tamper-stream', S);
  let raw: RawObject;

  beforeAll(async () => {
    await new EncryptedUpload({
      client: plain,
      params: { Bucket: bucket.name, Key: 'tamper/stream', Body: seededStream('tamper-stream', S, 9000) },
      encryption: { keyring },
    }).done();
    raw = await getRaw(plain, bucket.name, 'tamper/stream');
    expect(Buffer.from(raw.metadata[METADATA_KEYS.h] as string, 'base64url')[7]).toBe(0); // size flag clear
  });

  test('truncated inside a chunk: full read → ES_AUTH_FAILED after the intact chunks', async () => {
    const Key = await tampered(raw, (o) => {
      o.body = o.body.subarray(0, 3 * STRIDE + 1000);
    });
    // Chunks 0–2 are authentic; how many of them come out before the failure
    // depends on how the network cut the body (see the ChunkDecoder test below).
    expect((await readFailing(Key, 'ES_AUTH_FAILED', streamed)).length).toBeLessThanOrEqual(3 * C);
    // Without a recorded size the first chunks still read (they are authentic).
    const head = await getBytes(enc.client, { Bucket: bucket.name, Key, Range: 'bytes=0-9' });
    expect(head.equals(streamed.subarray(0, 10))).toBe(true);
  });

  test('truncated at a chunk boundary → ES_TRUNCATED', async () => {
    const Key = await tampered(raw, (o) => {
      o.body = o.body.subarray(0, 4 * STRIDE);
    });
    await readFailing(Key, 'ES_TRUNCATED', streamed);
  });

  /*
   * HeadObject unwraps the data key, and the wrap binds the stream header: a
   * forged chunk exponent (which would change the size HEAD reports) is refused.
   */
  test('HeadObject authenticates the header: a forged chunk exponent → ES_KEY_UNWRAP_FAILED', async () => {
    const Key = await tampered(raw, ({ metadata }) => editHeader(metadata, (h) => h.writeUInt8(15, 6)));
    const error = await rejection(enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key })));
    expect((error as { code?: string }).code).toBe('ES_KEY_UNWRAP_FAILED');
    await readFailing(Key, 'ES_KEY_UNWRAP_FAILED', streamed);
  });

  test('bytes appended → ES_AUTH_FAILED (the final chunk no longer authenticates)', async () => {
    const Key = await tampered(raw, (o) => {
      o.body = Buffer.concat([o.body, Buffer.from([0])]);
    });
    expect((await readFailing(Key, 'ES_AUTH_FAILED', streamed)).length).toBeLessThanOrEqual(4 * C);
  });

  /*
   * ChunkDecoder.push() decodes every chunk its input completes, but when a
   * later chunk in the same push() fails, it throws and the plaintext of the
   * chunks it had already authenticated in that call is dropped. GetObject
   * passes the plaintext size (from the body size), so the short final chunk
   * is decoded in the same push() as the full chunk before it whenever one
   * network piece holds the end of both: a failing read then delivers fewer
   * authentic bytes than it verified (never unauthenticated ones).
   */
  test('every chunk that authenticated before the failure is released, whatever the piece boundaries', async () => {
    const cipher = await openStreamCipher(
      fromDetachedHeader({
        h: raw.metadata[METADATA_KEYS.h],
        k: raw.metadata[METADATA_KEYS.k],
        w: raw.metadata[METADATA_KEYS.w],
      }),
      { keyring },
    );
    const truncated = raw.body.subarray(0, 3 * STRIDE + 1000);
    // What handleGetObject does: the plaintext size follows from the body size.
    const size = plaintextSize(truncated.length, C);
    const delivered: Uint8Array[] = [];
    let failure: unknown;
    try {
      for await (const piece of decryptBody(cipher, [truncated], { plaintextSize: size })) delivered.push(piece);
    } catch (error) {
      failure = error;
    }
    expect((failure as { code?: string }).code).toBe('ES_AUTH_FAILED');
    const bytes = Buffer.concat(delivered);
    expect(bytes.equals(streamed.subarray(0, bytes.length))).toBe(true);
    expect(bytes.length).toBe(3 * C); // chunks 0, 1 and 2 authenticated
  });
});

describe('metadata', () => {
  const cases: { name: string; code: string; change: (m: Record<string, string>) => void }[] = [
    { name: 'es-h not base64url', code: 'ES_MALFORMED', change: (m) => setValue(m, METADATA_KEYS.h, '!!not-base64!!') },
    {
      name: 'es-h too short',
      code: 'ES_MALFORMED',
      change: (m) => setValue(m, METADATA_KEYS.h, (m[METADATA_KEYS.h] as string).slice(0, 64)),
    },
    { name: 'es-h magic', code: 'ES_MALFORMED', change: (m) => editHeader(m, (h) => h.writeUInt8(0x46, 0)) },
    { name: 'es-h version', code: 'ES_UNSUPPORTED_VERSION', change: (m) => editHeader(m, (h) => h.writeUInt8(2, 4)) },
    { name: 'es-h suite', code: 'ES_UNSUPPORTED_VERSION', change: (m) => editHeader(m, (h) => h.writeUInt8(9, 5)) },
    {
      name: 'es-h chunk exponent out of range',
      code: 'ES_MALFORMED',
      change: (m) => editHeader(m, (h) => h.writeUInt8(30, 6)),
    },
    { name: 'es-h reserved flag', code: 'ES_MALFORMED', change: (m) => editHeader(m, (h) => flip(h, 7, 0x02)) },
    // Any other header byte is bound to the wrapped key (the header is the wrap AAD).
    {
      name: 'es-h chunk exponent 16→15',
      code: 'ES_KEY_UNWRAP_FAILED',
      change: (m) => editHeader(m, (h) => h.writeUInt8(15, 6)),
    },
    { name: 'es-h recorded size', code: 'ES_KEY_UNWRAP_FAILED', change: (m) => editHeader(m, (h) => flip(h, 15, 1)) },
    { name: 'es-h stream id', code: 'ES_KEY_UNWRAP_FAILED', change: (m) => editHeader(m, (h) => flip(h, 20, 1)) },
    { name: 'es-h commitment', code: 'ES_KEY_UNWRAP_FAILED', change: (m) => editHeader(m, (h) => flip(h, 50, 1)) },
    { name: 'es-h context tag', code: 'ES_KEY_UNWRAP_FAILED', change: (m) => editHeader(m, (h) => flip(h, 90, 1)) },
    { name: 'es-k unknown id', code: 'ES_UNKNOWN_KEY', change: (m) => setValue(m, METADATA_KEYS.k, 'key-9') },
    {
      name: 'es-k another held key',
      code: 'ES_KEY_UNWRAP_FAILED',
      change: (m) => setValue(m, METADATA_KEYS.k, 'key-2'),
    },
    { name: 'es-k not printable ASCII', code: 'ES_MALFORMED', change: (m) => setValue(m, METADATA_KEYS.k, 'key 1') },
    {
      name: 'es-w flipped',
      code: 'ES_KEY_UNWRAP_FAILED',
      change: (m) => {
        const w = Buffer.from(m[METADATA_KEYS.w] as string, 'base64url');
        flip(w, 30);
        m[METADATA_KEYS.w] = w.toString('base64url');
      },
    },
    {
      name: 'es-w shortened',
      code: 'ES_KEY_UNWRAP_FAILED',
      change: (m) => {
        m[METADATA_KEYS.w] = Buffer.from(m[METADATA_KEYS.w] as string, 'base64url')
          .subarray(0, 60)
          .toString('base64url');
      },
    },
    { name: 'es-w not base64url', code: 'ES_MALFORMED', change: (m) => setValue(m, METADATA_KEYS.w, '***') },
    { name: 'es-h removed', code: 'ES_MALFORMED', change: (m) => void delete m[METADATA_KEYS.h] },
    { name: 'es-k removed', code: 'ES_MALFORMED', change: (m) => void delete m[METADATA_KEYS.k] },
    { name: 'es-w removed', code: 'ES_MALFORMED', change: (m) => void delete m[METADATA_KEYS.w] },
    {
      name: 'all three removed',
      code: S3ErrorCode.NOT_ENCRYPTED,
      change: (m) => {
        delete m[METADATA_KEYS.h];
        delete m[METADATA_KEYS.k];
        delete m[METADATA_KEYS.w];
      },
    },
  ];

  test.each(cases)(
    '$name → $code on GetObject (full and ranged) and HeadObject, before any byte',
    async ({ code, change }) => {
      const Key = await tampered(original, ({ metadata }) => change(metadata));
      for (const Range of [undefined, 'bytes=0-0', 'bytes=-10']) {
        const error = await rejection(enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key, Range })));
        expect(error.code).toBe(code);
      }
      // HeadObject does not unwrap the key: it checks only what it reads (format and presence).
      if (code === 'ES_MALFORMED' || code === 'ES_UNSUPPORTED_VERSION' || code === S3ErrorCode.NOT_ENCRYPTED) {
        const head = await rejection(enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key })));
        expect(head.code).toBe(code);
      }
    },
  );

  test('a wrapped key for another data key, over the same header → ES_KEY_COMMITMENT_MISMATCH', async () => {
    // Someone holding the master key wraps a different data key for this header.
    const Key = await tampered(original, ({ metadata }) => {
      metadata[METADATA_KEYS.w] = 'placeholder';
    });
    const header = Buffer.from(original.metadata[METADATA_KEYS.h] as string, 'base64url');
    const forged = await LocalKeyring.single('key-1', key1).wrap(seededBytes('other-data-key', 32), header);
    await putRaw(plain, bucket.name, Key, original.body, {
      ...original.metadata,
      [METADATA_KEYS.w]: Buffer.from(forged.wrappedKey).toString('base64url'),
    });
    await readFailing(Key, 'ES_KEY_COMMITMENT_MISMATCH', data);
  });

  test('no encryption metadata with passthrough: true → the stored object as it is', async () => {
    const Key = 'tamper/plaintext';
    const bytes = seededBytes('plain-object', 3 * C);
    await plain.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: bytes, Metadata: { a: 'b' } }));
    await expect(getBytes(enc.client, { Bucket: bucket.name, Key })).rejects.toMatchObject({
      code: S3ErrorCode.NOT_ENCRYPTED,
    });
    await expect(enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).rejects.toMatchObject({
      code: S3ErrorCode.NOT_ENCRYPTED,
    });
    const passthrough = encryptedClient({ keyring, passthrough: true });
    try {
      expect((await getBytes(passthrough.client, { Bucket: bucket.name, Key })).equals(bytes)).toBe(true);
      const head = await passthrough.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
      expect(head.ContentLength).toBe(bytes.length);
      expect(head.Metadata).toEqual({ a: 'b' });
      passthrough.requests.reset();
      const slice = await getBytes(passthrough.client, { Bucket: bucket.name, Key, Range: 'bytes=70000-70009' });
      expect(slice.equals(bytes.subarray(70000, 70010))).toBe(true);
      expect(slice.contentRange).toBe(`bytes 70000-70009/${bytes.length}`);
      // The first request asked for the ciphertext range of an encrypted object; a second fetches the real range.
      expect(passthrough.requests.count).toBe(2);
      // Encrypted objects still decrypt.
      expect((await getBytes(passthrough.client, { Bucket: bucket.name, Key: ORIGINAL })).equals(data)).toBe(true);
    } finally {
      passthrough.client.destroy();
    }
  });
});

describe('keys and context', () => {
  test('a keyring without the object’s key id → ES_UNKNOWN_KEY; same id, other key → ES_KEY_UNWRAP_FAILED', async () => {
    const stranger = encryptedClient({ keyring: LocalKeyring.single('key-9', newMasterKey()) });
    const impostor = encryptedClient({ keyring: LocalKeyring.single('key-1', newMasterKey()) });
    try {
      await readFailing(ORIGINAL, 'ES_UNKNOWN_KEY', data, { client: stranger.client });
      await readFailing(ORIGINAL, 'ES_KEY_UNWRAP_FAILED', data, { client: impostor.client });
      await readFailing(ORIGINAL, 'ES_KEY_UNWRAP_FAILED', data, { client: impostor.client, Range: 'bytes=5-6' });
    } finally {
      stranger.client.destroy();
      impostor.client.destroy();
    }
  });

  test("context 'location': body+metadata copied to another key with a plain client → ES_CONTEXT_MISMATCH", async () => {
    const located = encryptedClient({ keyring, context: 'location' });
    try {
      await located.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'tamper/located', Body: data }));
      expect((await getBytes(located.client, { Bucket: bucket.name, Key: 'tamper/located' })).equals(data)).toBe(true);
      const raw = await getRaw(plain, bucket.name, 'tamper/located');
      await putRaw(plain, bucket.name, 'tamper/moved', raw.body, raw.metadata);
      await readFailing('tamper/moved', 'ES_CONTEXT_MISMATCH', data, { client: located.client });
      await readFailing('tamper/moved', 'ES_CONTEXT_MISMATCH', data, { client: located.client, Range: 'bytes=0-0' });
      // A reader without the location context cannot read it either.
      await readFailing('tamper/located', 'ES_CONTEXT_MISMATCH', data);
    } finally {
      located.client.destroy();
    }
  });
});
