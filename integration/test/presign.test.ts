/**
 * Presigned URLs against the real server, used by a plain HTTP client (Node's
 * fetch, no SDK, no credentials): getSignedUrl through the plugged client
 * (GETs return the stored ciphertext; uploads are refused with a pointer to
 * the helpers), presignEncryptedGet + openPresignedGet + the codec's
 * decryptRange, presignEncryptedPut and presignEncryptedUploadPart read back
 * through the plugin; tampering and a URL used with another body.
 */
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { decryptRange, ErrorCode } from '@encrypted-stream/codec';
import { ciphertextSize, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import {
  copySourceOf,
  EncryptedMultipartUpload,
  METADATA_KEYS,
  openPresignedGet,
  presignEncryptedGet,
  presignEncryptedPut,
  presignEncryptedUploadPart,
  readEncryptionHeader,
  S3ErrorCode,
  withEncryption,
} from '@encrypted-stream/s3';
import { newKeyring, seededBytes, useEncryptedBucket, withEncryptedClient } from '@encrypted-stream/test-support';
import { getBytes, getRaw, rejection } from './helpers/objects';

const { keyring } = newKeyring();
const C = DEFAULT_CHUNK_SIZE;
const MiB = 1024 * 1024;
const { bucket, enc, plain } = useEncryptedBucket('presign', { keyring });

const data = seededBytes('presign', 5 * C + 1234);

/** Every piece of a decryption, concatenated. */
async function collectBytesOf(pieces: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of pieces) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}

/** Flips bits of one byte in place. */
function flipBit(bytes: Buffer, at: number, mask: number): void {
  bytes.writeUInt8(bytes.readUInt8(at) ^ mask, at);
}

/** A plain HTTP request (Node's fetch), its status and body. */
async function http(url: string, init: RequestInit & { duplex?: 'half' } = {}) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** What a reader holding the key fetches: ciphertext `[start, end)` of a presigned GET. */
function rangeReader(get: { url: string; headers: Readonly<Record<string, string>> }) {
  return async (start: number, end: number) => {
    const response = await fetch(get.url, { headers: { ...get.headers, range: `bytes=${start}-${end - 1}` } });
    if (response.status !== 206) throw new Error(`ranged GET answered ${response.status}`);
    if (!response.body) throw new Error('no body');
    return response.body;
  };
}

/** The encryption metadata of a response's headers, as an object's Metadata map. */
function encryptionOf(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.values(METADATA_KEYS)) out[name] = headers.get(`x-amz-meta-${name}`) ?? '';
  return out;
}

describe('getSignedUrl with the plugged client', () => {
  const Key = 'signed/object ä.bin';

  beforeAll(async () => {
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
  });

  test('a presigned GET returns the stored ciphertext with its header, and the codec decrypts it', async () => {
    enc.requests.reset();
    const url = await getSignedUrl(enc.client, new GetObjectCommand({ Bucket: bucket.name, Key }), { expiresIn: 300 });
    expect(enc.requests.requests.filter((r) => r.status !== undefined)).toHaveLength(0); // nothing sent to sign
    const got = await http(url);
    expect(got.status).toBe(200);
    const raw = await getRaw(plain, bucket.name, Key);
    expect(got.body.equals(raw.body)).toBe(true);
    expect(got.body.length).toBe(ciphertextSize(data.length, C));

    const opened = await openPresignedGet(
      { bucket: bucket.name, key: Key, encryption: encryptionOf(got.headers), ciphertextSize: got.body.length },
      { keyring },
    );
    expect(opened.plaintextSize).toBe(data.length);
    const plaintext = await collectBytesOf(
      decryptRange(opened.cipher, (s, e) => got.body.subarray(s, e), got.body.length, 0, data.length),
    );
    expect(plaintext.equals(data)).toBe(true);
  });

  test('a presigned ranged GET returns that ciphertext range (the Range is a ciphertext range)', async () => {
    const raw = await getRaw(plain, bucket.name, Key);
    const Range = `bytes=${C + 40}-${3 * (C + 40) - 1}`; // chunks 1 and 2
    const url = await getSignedUrl(enc.client, new GetObjectCommand({ Bucket: bucket.name, Key, Range }));
    const got = await http(url, { headers: { range: Range } });
    expect(got.status).toBe(206);
    expect(got.body.equals(raw.body.subarray(C + 40, 3 * (C + 40)))).toBe(true);
    // Those two chunks decrypt to plaintext [C, 3C).
    const opened = await openPresignedGet(
      { bucket: bucket.name, key: Key, encryption: raw.metadata, ciphertextSize: raw.body.length },
      { keyring },
    );
    const plaintext = await collectBytesOf(decryptRange(opened.cipher, () => got.body, raw.body.length, C, 3 * C));
    expect(plaintext.equals(data.subarray(C, 3 * C))).toBe(true);
  });

  test('a presigned HeadObject returns the stored size and the encryption metadata', async () => {
    const url = await getSignedUrl(enc.client, new HeadObjectCommand({ Bucket: bucket.name, Key }));
    const got = await fetch(url, { method: 'HEAD' });
    expect(got.status).toBe(200);
    expect(Number(got.headers.get('content-length'))).toBe(ciphertextSize(data.length, C));
    expect(readEncryptionHeader(encryptionOf(got.headers))).toBeDefined();
  });

  test('PutObject / UploadPart → ES_UNSUPPORTED_OPERATION naming the helper, before any request', async () => {
    enc.requests.reset();
    const put = await rejection(
      getSignedUrl(enc.client, new PutObjectCommand({ Bucket: bucket.name, Key: 'signed/put' })),
    );
    expect(put.code).toBe(S3ErrorCode.UNSUPPORTED_OPERATION);
    expect(put.message).toContain('presignEncryptedPut');
    const { UploadId } = await enc.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: 'signed/mpu' }),
    );
    enc.requests.reset();
    const part = await rejection(
      getSignedUrl(
        enc.client,
        new UploadPartCommand({ Bucket: bucket.name, Key: 'signed/mpu', UploadId, PartNumber: 1, ContentLength: 5 }),
      ),
    );
    expect(part.code).toBe(S3ErrorCode.UNSUPPORTED_OPERATION);
    expect(part.message).toContain('presignEncryptedUploadPart');
    expect(enc.requests.requests.filter((r) => r.status !== undefined)).toHaveLength(0);
  });

  test('a raw-marked PutObject presigns as given (a deliberately plaintext upload)', async () => {
    const url = await getSignedUrl(
      enc.client,
      new PutObjectCommand(withEncryption({ Bucket: bucket.name, Key: 'signed/plain' }, { raw: true })),
    );
    expect((await http(url, { method: 'PUT', body: 'plain text' })).status).toBe(200);
    expect((await getRaw(plain, bucket.name, 'signed/plain')).body.toString()).toBe('plain text');
  });

  test("CopyObject: a copy that keeps the metadata presigns as given; 'REPLACE' → ES_UNSUPPORTED_OPERATION", async () => {
    const CopySource = copySourceOf(bucket.name, Key);
    // RGW reads the copy source only from a header, so keep it one (plain SDK presigning needs the same).
    const url = await getSignedUrl(
      enc.client,
      new CopyObjectCommand({ Bucket: bucket.name, Key: 'signed/copied', CopySource }),
      { unhoistableHeaders: new Set(['x-amz-copy-source']) },
    );
    expect((await http(url, { method: 'PUT', headers: { 'x-amz-copy-source': CopySource } })).status).toBe(200);
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key: 'signed/copied' })).equals(data)).toBe(true);

    const replace = await rejection(
      getSignedUrl(
        enc.client,
        new CopyObjectCommand({
          Bucket: bucket.name,
          Key: 'signed/replaced',
          CopySource,
          MetadataDirective: 'REPLACE',
          Metadata: { note: 'x' },
        }),
      ),
    );
    expect(replace.code).toBe(S3ErrorCode.UNSUPPORTED_OPERATION);
    await expect(
      plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'signed/replaced' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});

describe('presignEncryptedGet: a reader holding the key decrypts what a plain client fetched', () => {
  const Key = 'get/object.bin';

  beforeAll(async () => {
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
  });

  test('whole object and ranges (one ranged fetch each), each byte authenticated', async () => {
    enc.requests.reset();
    const get = await presignEncryptedGet(enc.client, getSignedUrl, { Bucket: bucket.name, Key }, { expiresIn: 300 });
    expect(enc.requests.requests.filter((r) => r.status !== undefined).map((r) => r.method)).toEqual(['HEAD']);
    expect(get.method).toBe('GET');
    expect(Object.keys(get.headers)).toEqual(['if-match']); // the ETag binding; no Range is signed
    expect(JSON.parse(JSON.stringify(get))).toEqual(get); // plain data, for a server to hand to a browser
    const opened = await openPresignedGet(get, { keyring });
    expect(opened.plaintextSize).toBe(data.length);
    const read = rangeReader(get);
    for (const [start, end] of [
      [0, data.length],
      [0, 1],
      [C - 1, C + 1],
      [2 * C, 3 * C],
      [data.length - 1, data.length],
      [data.length - 1300, data.length],
    ] as const) {
      const got = await collectBytesOf(decryptRange(opened.cipher, read, get.ciphertextSize, start, end));
      expect(got.equals(data.subarray(start, end))).toBe(true);
    }
  });

  test('the URL serves only the object it was made for: after an overwrite it answers 412', async () => {
    const K = 'get/overwritten.bin';
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: K, Body: data }));
    const get = await presignEncryptedGet(enc.client, getSignedUrl, { Bucket: bucket.name, Key: K });
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: K, Body: data }));
    expect((await http(get.url, { headers: get.headers })).status).toBe(412);
    // Without the signed If-Match the signature fails.
    expect((await http(get.url)).status).toBe(403);
  });

  test('tampered ciphertext → ES_AUTH_FAILED before any byte of the changed chunk', async () => {
    const K = 'get/tampered.bin';
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: K, Body: data }));
    const raw = await getRaw(plain, bucket.name, K);
    const body = Buffer.from(raw.body);
    flipBit(body, 2 * (C + 40) + 100, 1); // inside chunk 2
    await plain.send(new PutObjectCommand({ Bucket: bucket.name, Key: K, Body: body, Metadata: raw.metadata }));
    const get = await presignEncryptedGet(enc.client, getSignedUrl, { Bucket: bucket.name, Key: K });
    const opened = await openPresignedGet(get, { keyring });
    const released: Buffer[] = [];
    const error = await rejection(
      (async () => {
        for await (const piece of decryptRange(opened.cipher, rangeReader(get), get.ciphertextSize, 0, data.length)) {
          released.push(Buffer.from(piece));
        }
      })(),
    );
    expect(error.code).toBe(ErrorCode.AUTH_FAILED);
    expect(Buffer.concat(released).equals(data.subarray(0, 2 * C))).toBe(true); // chunks 0 and 1 only
  });

  test('an edited header, another context, or a foreign keyring fail when opening', async () => {
    const get = await presignEncryptedGet(enc.client, getSignedUrl, { Bucket: bucket.name, Key });
    const w = get.encryption[METADATA_KEYS.w] as string;
    const edited = { ...get, encryption: { ...get.encryption, [METADATA_KEYS.w]: `${w.slice(0, -2)}AA` } };
    await expect(openPresignedGet(edited, { keyring })).rejects.toMatchObject({ code: ErrorCode.KEY_UNWRAP_FAILED });
    await expect(openPresignedGet(get, { keyring, context: 'location' })).rejects.toMatchObject({
      code: ErrorCode.CONTEXT_MISMATCH,
    });
    await expect(openPresignedGet(get, { keyring: newKeyring('other').keyring })).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_KEY,
    });
  });

  test('refusals: a plaintext object → ES_NOT_ENCRYPTED; Range → TypeError', async () => {
    await plain.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'get/plain', Body: 'plain' }));
    expect(
      (await rejection(presignEncryptedGet(enc.client, getSignedUrl, { Bucket: bucket.name, Key: 'get/plain' }))).code,
    ).toBe(S3ErrorCode.NOT_ENCRYPTED);
    await expect(
      presignEncryptedGet(enc.client, getSignedUrl, { Bucket: bucket.name, Key, Range: 'bytes=0-1' } as never),
    ).rejects.toBeInstanceOf(TypeError);
  });
});

describe('presignEncryptedPut: a plain client uploads ciphertext, the plugin reads it', () => {
  test('streamed body; read back whole and ranged with the metadata and content type', async () => {
    const Key = 'put/streamed.bin';
    const put = await presignEncryptedPut(
      plain, // any client: the command is presigned as prepared
      getSignedUrl,
      { Bucket: bucket.name, Key, Metadata: { owner: 'me' }, ContentType: 'application/x-test' },
      { keyring, plaintextSize: data.length, expiresIn: 300 },
    );
    expect(put.method).toBe('PUT');
    expect(put.contentLength).toBe(ciphertextSize(data.length, C));
    expect(Object.keys(put.headers).sort()).toEqual([
      'content-length',
      'content-type',
      'x-amz-meta-es-h',
      'x-amz-meta-es-k',
      'x-amz-meta-es-w',
      'x-amz-meta-owner',
    ]);
    // The wrapped key travels in a (signed) header, not in the URL.
    expect(new URL(put.url).searchParams.has('x-amz-meta-es-w')).toBe(false);
    expect(put.url).not.toContain(encodeURIComponent(put.headers['x-amz-meta-es-w'] as string));
    const sent = await http(put.url, {
      method: put.method,
      headers: put.headers,
      body: put.encrypt(data) as unknown as BodyInit,
      duplex: 'half',
    });
    expect(sent.status).toBe(200);

    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
    const slice = await getBytes(enc.client, { Bucket: bucket.name, Key, Range: 'bytes=70000-70010' });
    expect(slice.equals(data.subarray(70000, 70011))).toBe(true);
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    expect(head.Metadata).toEqual({ owner: 'me' });
    expect(head.ContentType).toBe('application/x-test');
    expect(head.ContentLength).toBe(data.length);
    const raw = await getRaw(plain, bucket.name, Key);
    expect(raw.body.includes(data.subarray(0, 64))).toBe(false); // ciphertext at rest
  });

  test('in-memory body; an empty object; location-bound objects read at their location', async () => {
    await withEncryptedClient({ keyring, context: 'location' }, async (located) => {
      for (const [Key, body] of [
        ['put/bytes.bin', data.subarray(0, 1000)],
        ['put/empty.bin', Buffer.alloc(0)],
      ] as const) {
        const put = await presignEncryptedPut(
          plain,
          getSignedUrl,
          { Bucket: bucket.name, Key },
          { keyring, context: 'location', plaintextSize: body.length },
        );
        const ciphertext = Buffer.concat(await put.encrypt(body).toArray());
        expect(ciphertext.length).toBe(put.contentLength);
        expect((await http(put.url, { method: 'PUT', headers: put.headers, body: ciphertext })).status).toBe(200);
        expect((await getBytes(located.client, { Bucket: bucket.name, Key })).equals(body)).toBe(true);
      }
    });
  });

  test('a body of another length or edited headers → 403, nothing stored', async () => {
    const Key = 'put/refused.bin';
    const put = await presignEncryptedPut(
      plain,
      getSignedUrl,
      { Bucket: bucket.name, Key },
      {
        keyring,
        plaintextSize: data.length,
      },
    );
    const ciphertext = Buffer.concat(await put.encrypt(data).toArray());
    const send = (headers: Record<string, string>, body: Buffer) =>
      http(put.url, { method: 'PUT', headers, body: new Uint8Array(body) });
    // fetch sets the body's own content-length: one byte more or less is not the signed length.
    const { 'content-length': _, ...others } = put.headers;
    expect((await send(others, Buffer.concat([ciphertext, Buffer.from('x')]))).status).toBe(403);
    expect((await send(others, ciphertext.subarray(1))).status).toBe(403);
    expect((await send({}, ciphertext)).status).toBe(403); // no encryption metadata
    const w = put.headers['x-amz-meta-es-w'] as string;
    expect((await send({ ...put.headers, 'x-amz-meta-es-w': `${w.slice(0, -1)}A` }, ciphertext)).status).toBe(403);
    await expect(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  test('a same-length body that is not this encryptor’s output is stored but fails authentication on read', async () => {
    const Key = 'put/substituted.bin';
    const put = await presignEncryptedPut(
      plain,
      getSignedUrl,
      { Bucket: bucket.name, Key },
      {
        keyring,
        plaintextSize: data.length,
      },
    );
    const ciphertext = Buffer.concat(await put.encrypt(data).toArray());
    // Another upload's ciphertext of the same length (another data key), and this one with a flipped bit.
    const other = await presignEncryptedPut(
      plain,
      getSignedUrl,
      { Bucket: bucket.name, Key: 'put/other' },
      {
        keyring,
        plaintextSize: data.length,
      },
    );
    const foreign = Buffer.concat(await other.encrypt(data).toArray());
    const flipped = Buffer.from(ciphertext);
    flipBit(flipped, flipped.length - 5, 0x80);
    for (const body of [foreign, flipped]) {
      expect((await http(put.url, { method: 'PUT', headers: put.headers, body })).status).toBe(200);
      const error = await rejection(getBytes(enc.client, { Bucket: bucket.name, Key }));
      expect(error.code).toBe(ErrorCode.AUTH_FAILED);
    }
  });

  test('argument mistakes: TypeError / RangeError before a key is made; encrypt() once; wrong plaintext length', async () => {
    const input = { Bucket: bucket.name, Key: 'put/args' };
    const base = { keyring, plaintextSize: 10 };
    await expect(
      presignEncryptedPut(plain, getSignedUrl, input, { ...base, plaintextSize: -1 }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      presignEncryptedPut(plain, getSignedUrl, { ...input, Body: 'x' } as never, base),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(
      presignEncryptedPut(plain, getSignedUrl, { ...input, ContentMD5: 'x' } as never, base),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(
      presignEncryptedPut(plain, getSignedUrl, { ...input, Metadata: { 'es-h': 'x' } }, base),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(presignEncryptedPut(plain, 'no' as never, input, base)).rejects.toBeInstanceOf(TypeError);

    const put = await presignEncryptedPut(plain, getSignedUrl, input, base);
    const short = await rejection(put.encrypt('123456789').toArray());
    expect(short).toBeInstanceOf(RangeError);
    expect(() => put.encrypt('1234567890')).toThrow(TypeError);
  });
});

describe('presignEncryptedUploadPart: parts uploaded by a plain client, completed with the token', () => {
  const P = 5 * MiB;
  const big = seededBytes('presign-parts', 2 * P + 4321);

  test('a recorded-size upload: three parts presigned out of order and sent in parallel', async () => {
    const Key = 'parts/recorded.bin';
    const upload = await EncryptedMultipartUpload.create(
      plain,
      { Bucket: bucket.name, Key },
      { keyring, partSize: P, plaintextSize: big.length },
    );
    const token = upload.resumeToken;
    const slices = [big.subarray(0, P), big.subarray(P, 2 * P), big.subarray(2 * P)];
    const presigned = await Promise.all(
      [3, 1, 2].map((n) =>
        presignEncryptedUploadPart(
          plain,
          getSignedUrl,
          { resumeToken: token, partNumber: n, plaintextLength: (slices[n - 1] as Buffer).length },
          { keyring, bucket: bucket.name, key: Key },
        ),
      ),
    );
    expect(Object.keys(presigned[0]?.headers ?? {})).toEqual(['content-length']);
    const sent = await Promise.all(
      presigned.map((part) =>
        http(part.url, {
          method: 'PUT',
          headers: part.headers,
          body: part.encrypt(slices[part.partNumber - 1] as Buffer) as unknown as BodyInit,
          duplex: 'half',
        }),
      ),
    );
    expect(sent.map((s) => s.status)).toEqual([200, 200, 200]);
    const again = await EncryptedMultipartUpload.resume(plain, token, { keyring, bucket: bucket.name, key: Key });
    await again.complete();
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(big)).toBe(true);
    const tail = await getBytes(enc.client, { Bucket: bucket.name, Key, Range: `bytes=-5000` });
    expect(tail.equals(big.subarray(big.length - 5000))).toBe(true);
  });

  test('through the plugin, without a recorded size: the marked last part is carried in the token', async () => {
    const Key = 'parts/plugin.bin';
    const { UploadId } = await enc.client.send(
      new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key }, { partSize: P })),
    );
    const token = enc.plugin.resumeToken(UploadId as string, bucket.name, Key);
    const last = await presignEncryptedUploadPart(
      plain,
      getSignedUrl,
      { resumeToken: token, partNumber: 2, plaintextLength: big.length - P, isLastPart: true },
      { keyring },
    );
    // The new token knows part 2 ends the stream: a second, different final part is refused before signing.
    const twice = await rejection(
      presignEncryptedUploadPart(
        plain,
        getSignedUrl,
        { resumeToken: last.resumeToken, partNumber: 3, plaintextLength: 10, isLastPart: true },
        { keyring },
      ),
    );
    expect(twice.code).toBe(S3ErrorCode.INVALID_UPLOAD);
    const first = await presignEncryptedUploadPart(
      plain,
      getSignedUrl,
      { resumeToken: last.resumeToken, partNumber: 1, plaintextLength: P },
      { keyring },
    );
    for (const [part, body] of [
      [first, big.subarray(0, P)],
      [last, big.subarray(P)],
    ] as const) {
      const ciphertext = Buffer.concat(await part.encrypt(body).toArray());
      expect((await http(part.url, { method: 'PUT', headers: part.headers, body: ciphertext })).status).toBe(200);
    }
    const again = await EncryptedMultipartUpload.resume(plain, last.resumeToken, { keyring });
    await again.complete();
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(big)).toBe(true);
  });

  test('refusals before signing: edited token, another key, a part that does not fit', async () => {
    const Key = 'parts/refused.bin';
    const upload = await EncryptedMultipartUpload.create(
      plain,
      { Bucket: bucket.name, Key },
      { keyring, partSize: P, plaintextSize: big.length },
    );
    const token = upload.resumeToken;
    const part = (over: Partial<{ resumeToken: string; partNumber: number; plaintextLength: number }>) =>
      rejection(
        presignEncryptedUploadPart(
          plain,
          getSignedUrl,
          { resumeToken: token, partNumber: 1, plaintextLength: P, ...over },
          { keyring, bucket: bucket.name, key: Key },
        ),
      );
    const edited = Buffer.from(token, 'base64url')
      .toString()
      .replace(/"p":\d+/, `"p":${2 * P}`);
    expect((await part({ resumeToken: Buffer.from(edited).toString('base64url') })).code).toBe(
      S3ErrorCode.INVALID_RESUME_TOKEN,
    );
    expect(
      (
        await rejection(
          presignEncryptedUploadPart(
            plain,
            getSignedUrl,
            { resumeToken: token, partNumber: 1, plaintextLength: P },
            { keyring, key: 'parts/elsewhere' },
          ),
        )
      ).code,
    ).toBe(S3ErrorCode.INVALID_RESUME_TOKEN);
    expect(await part({ plaintextLength: P - 1 })).toBeInstanceOf(RangeError);
    expect(await part({ partNumber: 4 })).toBeInstanceOf(RangeError);
    await upload.abort();
  });
});
