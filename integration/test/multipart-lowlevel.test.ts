/**
 * Low-level multipart uploads: the plugin's commands (withEncryption / lastPart)
 * and EncryptedMultipartUpload; parallel out-of-order parts, resume tokens,
 * refusals at Complete, abort, and whole-object integrity against re-assembled parts.
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import {
  CHUNK_OVERHEAD,
  ciphertextSize,
  DEFAULT_CHUNK_SIZE,
  fromDetachedHeader,
} from '@encrypted-stream/codec/low-level';
import { EncryptedMultipartUpload, lastPart, METADATA_KEYS, S3ErrorCode, withEncryption } from '@encrypted-stream/s3';
import {
  consumeUntilError,
  contains,
  encryptedClient,
  hashBody,
  newKeyring,
  parallel,
  plainClient,
  seededBytes,
  seededPieces,
  seededSha256,
  shuffled,
  useEncryptedBucket,
} from '@encrypted-stream/test-support';
import { getBytes, getRaw, putRaw, rejection } from './helpers/objects';

const { keyring, keyId, masterKey } = newKeyring();
const MiB = 1024 * 1024;
const C = DEFAULT_CHUNK_SIZE;
const { bucket, enc, plain } = useEncryptedBucket('mpu-low', { keyring });

/** Ciphertext bytes of a full (non-final) part of `partSize` plaintext bytes. */
const fullPartCipher = (partSize: number) => partSize + (partSize / C) * CHUNK_OVERHEAD;

async function expectGone(Key: string) {
  const error = await rejection(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key })));
  expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(404);
}

/** ListParts of an aborted upload: AWS says NoSuchUpload, Ceph RGW says NoSuchKey; both 404. */
function expectNoSuchUpload(error: Error & Record<string, unknown>) {
  expect(['NoSuchUpload', 'NoSuchKey']).toContain(error.name);
  expect((error.$metadata as { httpStatusCode?: number }).httpStatusCode).toBe(404);
}

async function uploadsFor(Key: string) {
  const out = await plain.send(new ListMultipartUploadsCommand({ Bucket: bucket.name, Prefix: Key }));
  return (out.Uploads ?? []).filter((u) => u.Key === Key);
}

async function streamedSha256(Key: string) {
  const out = await enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key }));
  return hashBody(out.Body);
}

describe('plugin commands: a 200 MiB+ object in parallel, out-of-order parts', () => {
  const Key = 'big/plugin-commands';
  const P = 8 * MiB;
  const SIZE = 25 * P + MiB + 7;
  const PARTS = Math.ceil(SIZE / P);

  test('Create (withEncryption partSize) → UploadPart ×26 shuffled, 4 at a time, lastPart() → Complete → reads back', async () => {
    const created = await enc.client.send(
      new CreateMultipartUploadCommand(
        withEncryption({ Bucket: bucket.name, Key, Metadata: { kind: 'low-level' } }, { partSize: P }),
      ),
    );
    const UploadId = created.UploadId as string;
    const order = shuffled(
      Array.from({ length: PARTS }, (_, i) => i + 1),
      7,
    );
    expect(order[order.length - 1]).not.toBe(PARTS); // the last part is not sent last
    const parts = await parallel(order, 4, async (PartNumber) => {
      const offset = (PartNumber - 1) * P;
      const length = Math.min(P, SIZE - offset);
      const input = {
        Bucket: bucket.name,
        Key,
        UploadId,
        PartNumber,
        Body: seededBytes('mpu-low-plugin', length, offset),
      };
      const out = await enc.client.send(new UploadPartCommand(PartNumber === PARTS ? lastPart(input) : input));
      return { PartNumber, ETag: out.ETag };
    });
    const listed = await plain.send(new ListPartsCommand({ Bucket: bucket.name, Key, UploadId }));
    for (const part of listed.Parts ?? []) {
      const n = part.PartNumber as number;
      expect(part.Size).toBe(n < PARTS ? fullPartCipher(P) : ciphertextSize(SIZE - (PARTS - 1) * P, C));
    }

    enc.requests.reset();
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await enc.client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId, MultipartUpload: { Parts: parts } }),
    );
    // The plugin lists the parts once, then completes.
    expect(enc.requests.requests.map((r) => r.method)).toEqual(['GET', 'POST']);

    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    expect(head.ContentLength).toBe(SIZE);
    expect(head.Metadata).toEqual({ kind: 'low-level' });
    const got = await streamedSha256(Key);
    expect(got.length).toBe(SIZE);
    expect(got.sha256).toBe(seededSha256('mpu-low-plugin', SIZE));

    const start = 3 * P - 5;
    const slice = await getBytes(enc.client, { Bucket: bucket.name, Key, Range: `bytes=${start}-${start + 9}` });
    expect(slice.equals(seededBytes('mpu-low-plugin', 10, start))).toBe(true);
    await plain.send(new DeleteObjectCommand({ Bucket: bucket.name, Key }));
  }, 180_000);
});

describe('EncryptedMultipartUpload: a 200 MiB+ object, half the parts sent by a resumed second client', () => {
  const Key = 'big/resumed';
  const P = 8 * MiB;
  const SIZE = 25 * P + 3 * MiB + 1;
  const PARTS = Math.ceil(SIZE / P);

  function partBody(n: number, streamed: boolean) {
    const offset = (n - 1) * P;
    const length = Math.min(P, SIZE - offset);
    return streamed
      ? { body: Readable.from(seededPieces('mpu-low-resumed', length, offset)), contentLength: length }
      : { body: seededBytes('mpu-low-resumed', length, offset), contentLength: undefined };
  }

  test('create → parts 1…13 (shuffled) → resumeToken → resume on another client → parts 14…27 → complete', async () => {
    const first = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring, partSize: P });
    await parallel(
      shuffled(
        [...Array(13).keys()].map((i) => i + 1),
        3,
      ),
      4,
      async (n) => {
        const { body, contentLength } = partBody(n, n % 2 === 0);
        return first.uploadPart(n, body, contentLength === undefined ? {} : { contentLength });
      },
    );

    const token = first.resumeToken;
    const otherClient = plainClient();
    try {
      const second = await EncryptedMultipartUpload.resume(otherClient, token, {
        keyring: LocalKeyring.single(keyId, masterKey),
      });
      expect(second.uploadId).toBe(first.uploadId);
      expect(second.partSize).toBe(P);
      expect([second.bucket, second.key]).toEqual([bucket.name, Key]);
      await parallel(
        shuffled(
          Array.from({ length: PARTS - 13 }, (_, i) => i + 14),
          5,
        ),
        4,
        async (n) => {
          const { body, contentLength } = partBody(n, n % 3 === 0);
          return second.uploadPart(n, body, {
            ...(contentLength === undefined ? {} : { contentLength }),
            ...(n === PARTS ? { isLastPart: true } : {}),
          });
        },
      );
      const done = await second.complete();
      expect(done.ETag).toBeTruthy(); // read back with HeadObject when the server leaves it empty (RGW)
    } finally {
      otherClient.destroy();
    }
    const got = await streamedSha256(Key);
    expect(got.length).toBe(SIZE);
    expect(got.sha256).toBe(seededSha256('mpu-low-resumed', SIZE));
    await plain.send(new DeleteObjectCommand({ Bucket: bucket.name, Key }));
  }, 180_000);
});

describe('resume tokens', () => {
  const P = 5 * MiB;

  test('plugin.resume(token) on a second client/plugin instance continues an upload begun through the first', async () => {
    const Key = 'resume/plugin';
    const SIZE = 2 * P + 1234;
    const data = seededBytes('mpu-low-plugin-resume', SIZE);
    const created = await enc.client.send(
      new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key }, { partSize: P })),
    );
    const UploadId = created.UploadId as string;
    const p1 = await enc.client.send(
      new UploadPartCommand({ Bucket: bucket.name, Key, UploadId, PartNumber: 1, Body: data.subarray(0, P) }),
    );
    const token = enc.plugin.resumeToken(UploadId, bucket.name, Key);

    const other = encryptedClient({ keyring: LocalKeyring.single(keyId, masterKey) });
    try {
      // Before resume the second plugin knows nothing of the upload.
      other.requests.reset();
      const unknown = await rejection(
        other.client.send(
          new UploadPartCommand({ Bucket: bucket.name, Key, UploadId, PartNumber: 2, Body: data.subarray(P, 2 * P) }),
        ),
      );
      expect(unknown.code).toBe(S3ErrorCode.UNKNOWN_UPLOAD);
      expect(other.requests.count).toBe(0);

      expect(await other.plugin.resume(token)).toEqual({
        bucket: bucket.name,
        key: Key,
        uploadId: UploadId,
        partSize: P,
      });
      const p2 = await other.client.send(
        new UploadPartCommand({ Bucket: bucket.name, Key, UploadId, PartNumber: 2, Body: data.subarray(P, 2 * P) }),
      );
      const p3 = await other.client.send(
        new UploadPartCommand(
          lastPart({ Bucket: bucket.name, Key, UploadId, PartNumber: 3, Body: data.subarray(2 * P) }),
        ),
      );
      await other.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket.name,
          Key,
          UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: p1.ETag },
              { PartNumber: 2, ETag: p2.ETag },
              { PartNumber: 3, ETag: p3.ETag },
            ],
          },
        }),
      );
    } finally {
      other.client.destroy();
    }
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
  });

  test('resuming from an old token does not forget the final part S3 already holds (one ListParts)', async () => {
    const Key = 'resume/final-known';
    const partSize = 5 * MiB;
    const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring, partSize });
    const token0 = upload.resumeToken; // taken before any part was marked final
    const data = seededBytes('final-known', partSize + 100);
    await upload.uploadPart(1, data.subarray(0, partSize));
    await upload.uploadPart(2, data.subarray(partSize), { isLastPart: true });
    const again = await EncryptedMultipartUpload.resume(plain, token0, { keyring });
    // Either would give the stream a second end next to the stored part 2.
    expect((await rejection(again.uploadPart(3, seededBytes('final-known-3', 5)))).code).toBe(
      S3ErrorCode.INVALID_UPLOAD,
    );
    expect((await rejection(again.uploadPart(2, seededBytes('final-known-2', partSize)))).code).toBe(
      S3ErrorCode.INVALID_UPLOAD,
    );
    await again.uploadPart(2, data.subarray(partSize), { isLastPart: true }); // a retry of the same final part
    await again.complete();
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
  });

  test('a token holds the documented fields and no key material', async () => {
    const Key = 'resume/token';
    const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring, partSize: P });
    try {
      const token = upload.resumeToken;
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      expect(Object.keys(decoded).sort()).toEqual(['b', 'h', 'k', 'm', 'p', 'u', 'v']);
      expect(decoded).toMatchObject({ v: 2, b: bucket.name, k: Key, u: upload.uploadId, p: P });
      expect(Object.keys(decoded.h).sort()).toEqual(['h', 'k', 'w']);
      expect(decoded.h.k).toBe(keyId);
      // Recover the data key the way a keyring holder would, then look for it.
      const header = fromDetachedHeader(decoded.h);
      const dataKey = Buffer.from(await keyring.unwrap(header, header.streamBytes));
      expect(dataKey).toHaveLength(32);
      const haystacks = [Buffer.from(token), Buffer.from(JSON.stringify(decoded)), Buffer.from(token, 'base64url')];
      for (const secret of [Buffer.from(masterKey), dataKey]) {
        for (const encoding of [
          secret,
          Buffer.from(secret.toString('hex')),
          Buffer.from(secret.toString('base64')),
          Buffer.from(secret.toString('base64url')),
        ]) {
          for (const haystack of haystacks) expect(contains(haystack, encoding)).toBe(false);
        }
      }
    } finally {
      await upload.abort();
    }
  });

  test('resuming needs the key: another keyring → ES_UNKNOWN_KEY; garbage → ES_INVALID_RESUME_TOKEN', async () => {
    const upload = await EncryptedMultipartUpload.create(
      plain,
      { Bucket: bucket.name, Key: 'resume/keyless' },
      { keyring, partSize: P },
    );
    try {
      const stranger = newKeyring('someone-else').keyring;
      await expect(
        EncryptedMultipartUpload.resume(plain, upload.resumeToken, { keyring: stranger }),
      ).rejects.toMatchObject({ code: 'ES_UNKNOWN_KEY' });
      const other = encryptedClient({ keyring: stranger });
      await expect(other.plugin.resume(upload.resumeToken)).rejects.toMatchObject({ code: 'ES_UNKNOWN_KEY' });
      other.client.destroy();
      for (const bad of ['', 'not-a-token', Buffer.from('{"v":2}').toString('base64url')]) {
        await expect(EncryptedMultipartUpload.resume(plain, bad, { keyring })).rejects.toMatchObject({
          code: S3ErrorCode.INVALID_RESUME_TOKEN,
        });
      }
    } finally {
      await upload.abort();
    }
  });

  test('resumeToken() for an upload the plugin does not hold → ES_UNKNOWN_UPLOAD', () => {
    expect(() => enc.plugin.resumeToken('no-such-upload', bucket.name, 'x')).toThrow(
      expect.objectContaining({ code: S3ErrorCode.UNKNOWN_UPLOAD }),
    );
  });
});

describe('Complete refuses parts that do not form a readable object', () => {
  const P = C; // parts this small are fine while nothing is completed on the server

  async function begin(Key: string, partSize = P) {
    const created = await enc.client.send(
      new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key }, { partSize })),
    );
    return created.UploadId as string;
  }

  async function put(Key: string, UploadId: string, PartNumber: number, body: Uint8Array, last = false) {
    const input = { Bucket: bucket.name, Key, UploadId, PartNumber, Body: body };
    const out = await enc.client.send(new UploadPartCommand(last ? lastPart(input) : input));
    return { PartNumber, ETag: out.ETag };
  }

  async function refusedComplete(Key: string, UploadId: string, Parts: { PartNumber: number; ETag?: string }[]) {
    enc.requests.reset();
    const error = await rejection(
      enc.client.send(
        new CompleteMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId, MultipartUpload: { Parts } }),
      ),
    );
    expect(error.code).toBe(S3ErrorCode.INVALID_UPLOAD);
    // Only the ListParts the check needs went out; no CompleteMultipartUpload.
    expect(enc.requests.withMethod('POST')).toHaveLength(0);
    await expectGone(Key);
  }

  test('last part exactly partSize and never marked', async () => {
    const Key = 'refuse/unmarked';
    const UploadId = await begin(Key);
    const parts = [
      await put(Key, UploadId, 1, seededBytes('r1', P)),
      await put(Key, UploadId, 2, seededBytes('r2', P)),
    ];
    await refusedComplete(Key, UploadId, parts);
    await enc.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId }));
  });

  test('a gap: parts 1 and 3', async () => {
    const Key = 'refuse/gap';
    const UploadId = await begin(Key);
    const parts = [
      await put(Key, UploadId, 1, seededBytes('g1', P)),
      await put(Key, UploadId, 3, seededBytes('g3', 10), true),
    ];
    await refusedComplete(Key, UploadId, parts);
    // Naming a part that was never uploaded is refused too.
    await refusedComplete(Key, UploadId, [parts[0]!, { PartNumber: 2, ETag: '"0"' }, parts[1]!]);
    await refusedComplete(Key, UploadId, [parts[0]!, parts[0]!, parts[1]!]);
    await refusedComplete(Key, UploadId, []);
    await enc.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId }));
  });

  test('completing a prefix of the parts (final part left out)', async () => {
    const Key = 'refuse/prefix';
    const UploadId = await begin(Key);
    const p1 = await put(Key, UploadId, 1, seededBytes('p1', P));
    await put(Key, UploadId, 2, seededBytes('p2', 5), true);
    await refusedComplete(Key, UploadId, [p1]);
    await enc.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId }));
  });

  test('EncryptedMultipartUpload.complete() with a gap; then fixed and completed', async () => {
    const Key = 'refuse/class';
    const partSize = 5 * MiB;
    const data = seededBytes('refuse-class', 2 * partSize + 77);
    const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring, partSize });
    await upload.uploadPart(1, data.subarray(0, partSize));
    await upload.uploadPart(3, data.subarray(2 * partSize), { isLastPart: true });
    await expect(upload.complete()).rejects.toMatchObject({ code: S3ErrorCode.INVALID_UPLOAD });
    await expectGone(Key);
    // The refusal leaves the upload open: send the missing part and complete.
    await upload.uploadPart(2, data.subarray(partSize, 2 * partSize));
    await upload.complete();
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
  });

  test('an unmarked full last part, fixed by re-sending it marked', async () => {
    const Key = 'refuse/remark';
    const partSize = 5 * MiB;
    const data = seededBytes('refuse-remark', 2 * partSize);
    const UploadId = await begin(Key, partSize);
    const p1 = await put(Key, UploadId, 1, data.subarray(0, partSize));
    const p2 = await put(Key, UploadId, 2, data.subarray(partSize));
    await refusedComplete(Key, UploadId, [p1, p2]);
    const p2marked = await put(Key, UploadId, 2, data.subarray(partSize), true);
    await enc.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket.name,
        Key,
        UploadId,
        MultipartUpload: { Parts: [p1, p2marked] },
      }),
    );
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
  });
});

describe('edge cases', () => {
  test('a single empty final part is a zero-byte object', async () => {
    const Key = 'edge/empty';
    const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring });
    await upload.uploadPart(1, new Uint8Array(0), { isLastPart: true });
    await upload.complete();
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).length).toBe(0);
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    expect(head.ContentLength).toBe(0);
  });

  /*
   * Complete checks the parts with ListParts, which pages at 1000 parts. With
   * 1001 tiny parts the check must see them all (then S3 itself refuses the
   * parts as too small: EntityTooSmall, not ES_INVALID_UPLOAD).
   */
  test('more than 1000 parts: the pre-Complete check follows ListParts pagination', async () => {
    const Key = 'edge/1001-parts';
    const chunkSize = 4096;
    const small = encryptedClient({ keyring, chunkSize, partSize: chunkSize });
    try {
      const { UploadId } = await small.client.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key }));
      const numbers = Array.from({ length: 1001 }, (_, i) => i + 1);
      const parts = await parallel(numbers, 16, async (PartNumber) => {
        const input = {
          Bucket: bucket.name,
          Key,
          UploadId,
          PartNumber,
          Body: seededBytes('tiny', PartNumber === 1001 ? 10 : chunkSize, (PartNumber - 1) * chunkSize),
        };
        const out = await small.client.send(new UploadPartCommand(PartNumber === 1001 ? lastPart(input) : input));
        return { PartNumber, ETag: out.ETag };
      });
      small.requests.reset();
      const error = await rejection(
        small.client.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId, MultipartUpload: { Parts: parts } }),
        ),
      );
      expect(error.code).toBeUndefined(); // not refused by the plugin …
      expect(error.name).toBe('EntityTooSmall'); // … but by S3
      expect(small.requests.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']); // two ListParts pages
      await small.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId }));
    } finally {
      small.client.destroy();
    }
  }, 120_000);
});

describe('abort', () => {
  test('AbortMultipartUploadCommand through the plugin: no parts left, state forgotten', async () => {
    const Key = 'abort/plugin';
    const created = await enc.client.send(
      new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key }, { partSize: C })),
    );
    const UploadId = created.UploadId as string;
    await enc.client.send(
      new UploadPartCommand({ Bucket: bucket.name, Key, UploadId, PartNumber: 1, Body: seededBytes('a', C) }),
    );
    await enc.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId }));
    const error = await rejection(plain.send(new ListPartsCommand({ Bucket: bucket.name, Key, UploadId })));
    expectNoSuchUpload(error);
    expect(await uploadsFor(Key)).toEqual([]);
    enc.requests.reset();
    const late = await rejection(
      enc.client.send(new UploadPartCommand({ Bucket: bucket.name, Key, UploadId, PartNumber: 2, Body: 'x' })),
    );
    expect(late.code).toBe(S3ErrorCode.UNKNOWN_UPLOAD);
    expect(enc.requests.count).toBe(0);
  });

  test('EncryptedMultipartUpload.abort(): no parts left', async () => {
    const Key = 'abort/class';
    const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring, partSize: C });
    await upload.uploadPart(1, seededBytes('b', C));
    await upload.abort();
    const error = await rejection(upload.listParts());
    expectNoSuchUpload(error);
    expect(await uploadsFor(Key)).toEqual([]);
  });
});

describe('refused before any request', () => {
  test('UploadPart / Complete for an upload the plugin does not know → ES_UNKNOWN_UPLOAD', async () => {
    const foreign = await plain.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: 'unknown/foreign' }));
    const own = await enc.client.send(
      new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key: 'unknown/own' }, { partSize: C })),
    );
    try {
      const attempts = [
        { Key: 'unknown/x', UploadId: 'no-such-upload' },
        { Key: 'unknown/foreign', UploadId: foreign.UploadId as string }, // exists on S3, not in the plugin
        { Key: 'unknown/other-key', UploadId: own.UploadId as string }, // the plugin's upload, another key
      ];
      for (const { Key, UploadId } of attempts) {
        enc.requests.reset();
        const part = await rejection(
          enc.client.send(new UploadPartCommand({ Bucket: bucket.name, Key, UploadId, PartNumber: 1, Body: 'x' })),
        );
        expect(part.code).toBe(S3ErrorCode.UNKNOWN_UPLOAD);
        const complete = await rejection(
          enc.client.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket.name,
              Key,
              UploadId,
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
            }),
          ),
        );
        expect(complete.code).toBe(S3ErrorCode.UNKNOWN_UPLOAD);
        expect(enc.requests.count).toBe(0);
      }
    } finally {
      await plain.send(
        new AbortMultipartUploadCommand({ Bucket: bucket.name, Key: 'unknown/foreign', UploadId: foreign.UploadId }),
      );
      await enc.client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket.name, Key: 'unknown/own', UploadId: own.UploadId }),
      );
    }
  });

  test('parts of the wrong size → RangeError; bad part numbers → RangeError; unknown length → TypeError', async () => {
    const Key = 'sizes/wrong';
    const P = 2 * C;
    const created = await enc.client.send(
      new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key }, { partSize: P })),
    );
    const UploadId = created.UploadId as string;
    const base = { Bucket: bucket.name, Key, UploadId, PartNumber: 1 };
    try {
      enc.requests.reset();
      const cases: [unknown, new (message?: string) => Error][] = [
        [{ ...base, Body: seededBytes('w', P + 1) }, RangeError], // too long, not marked last
        [{ ...base, Body: seededBytes('w', P + C) }, RangeError],
        [withEncryption({ ...base, Body: seededBytes('w', P - 1) }, { isLastPart: false }), RangeError], // short, declared not last
        [{ ...base, PartNumber: 0, Body: seededBytes('w', P) }, RangeError],
        [{ ...base, PartNumber: 10001, Body: seededBytes('w', P) }, RangeError],
        [{ ...base, Body: Readable.from([seededBytes('w', P)]) }, TypeError], // no ContentLength
      ];
      for (const [input, type] of cases) {
        const error = await rejection(enc.client.send(new UploadPartCommand(input as never)));
        expect(error).toBeInstanceOf(type);
      }
      const upload = await EncryptedMultipartUpload.resume(plain, enc.plugin.resumeToken(UploadId, bucket.name, Key), {
        keyring,
      });
      await expect(upload.uploadPart(1, seededBytes('w', P - 1), { isLastPart: false })).rejects.toBeInstanceOf(
        RangeError,
      );
      await expect(upload.uploadPart(1, seededBytes('w', P + 1))).rejects.toBeInstanceOf(RangeError);
      expect(enc.requests.count).toBe(0);
    } finally {
      await enc.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key, UploadId }));
    }
  });

  /*
   * Same defect as PutObject's (put-get.test.ts): the encrypted part is an
   * internal Readable piped into the request; when the source yields fewer
   * bytes than contentLength its RangeError is an unhandled 'error' event and
   * the request hangs until a timeout.
   */
  test('a streamed part shorter than its contentLength: uploadPart rejects with RangeError (no uncaught error, no hang)', async () => {
    const client = plainClient({ requestHandler: { requestTimeout: 3000, throwOnRequestTimeout: true } as never });
    const upload = await EncryptedMultipartUpload.create(
      client,
      { Bucket: bucket.name, Key: 'sizes/short-stream' },
      { keyring, partSize: 2 * C },
    );
    try {
      const error = await rejection(
        upload.uploadPart(1, Readable.from([seededBytes('short', C)]), { contentLength: 2 * C }),
      );
      expect(error).toBeInstanceOf(RangeError);
    } finally {
      await upload.abort();
      client.destroy();
    }
  });

  test('a partSize that is not a multiple of the chunk size → RangeError, no request', async () => {
    enc.requests.reset();
    for (const partSize of [5 * MiB + 1, C / 2, 0]) {
      const error = await rejection(
        enc.client.send(
          new CreateMultipartUploadCommand(withEncryption({ Bucket: bucket.name, Key: 'sizes/part' }, { partSize })),
        ),
      );
      expect(error).toBeInstanceOf(RangeError);
      await expect(
        EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key: 'sizes/part' }, { keyring, partSize }),
      ).rejects.toBeInstanceOf(RangeError);
    }
    expect(enc.requests.count).toBe(0);
    expect(await uploadsFor('sizes/part')).toEqual([]);
  });
});

describe('whole-object integrity: parts re-assembled behind the library’s back', () => {
  const Key = 'integrity/original';
  const P = 5 * MiB;
  const SIZE = 3 * P + 100_000;
  const data = seededBytes('mpu-low-integrity', SIZE);
  const FULL = fullPartCipher(P);
  let raw: Awaited<ReturnType<typeof getRaw>>;

  beforeAll(async () => {
    const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring, partSize: P });
    await Promise.all([
      upload.uploadPart(1, data.subarray(0, P)),
      upload.uploadPart(2, data.subarray(P, 2 * P)),
      upload.uploadPart(3, data.subarray(2 * P, 3 * P)),
      upload.uploadPart(4, data.subarray(3 * P), { isLastPart: true }),
    ]);
    await upload.complete();
    raw = await getRaw(plain, bucket.name, Key);
    expect(raw.body.length).toBe(ciphertextSize(SIZE, C));
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
  });

  /** The raw ciphertext of part n (1-based). */
  const part = (n: number) => raw.body.subarray((n - 1) * FULL, n === 4 ? raw.body.length : n * FULL);

  /** Reads `Key` through the plugin; expects failure `code` after exactly `prefix` authentic bytes. */
  async function expectBroken(target: string, code: string, prefix: number) {
    const out = await enc.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: target })).catch((e) => e);
    if (out instanceof Error) {
      expect((out as Error & { code?: string }).code).toBe(code);
      expect(prefix).toBe(0);
      return;
    }
    const { delivered, error } = await consumeUntilError(out.Body);
    expect((error as { code?: string } | undefined)?.code).toBe(code);
    expect(delivered.length).toBe(prefix);
    expect(delivered.equals(data.subarray(0, delivered.length))).toBe(true);
  }

  test('UploadPartCopy (plain client) re-orders parts 2,1,3,4 into a new object → ES_AUTH_FAILED, nothing released', async () => {
    const target = 'integrity/reordered-copy';
    const created = await plain.send(
      new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: target, Metadata: raw.metadata }),
    );
    const UploadId = created.UploadId as string;
    const ranges = [
      [FULL, 2 * FULL - 1],
      [0, FULL - 1],
      [2 * FULL, 3 * FULL - 1],
      [3 * FULL, raw.body.length - 1],
    ];
    const Parts = [];
    for (const [i, [from, to]] of ranges.entries()) {
      const out = await plain.send(
        new UploadPartCopyCommand({
          Bucket: bucket.name,
          Key: target,
          UploadId,
          PartNumber: i + 1,
          CopySource: `${bucket.name}/${Key}`,
          CopySourceRange: `bytes=${from}-${to}`,
        }),
      );
      Parts.push({ PartNumber: i + 1, ETag: out.CopyPartResult?.ETag });
    }
    await plain.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket.name, Key: target, UploadId, MultipartUpload: { Parts } }),
    );
    expect((await getRaw(plain, bucket.name, target)).body.length).toBe(raw.body.length);
    await expectBroken(target, 'ES_AUTH_FAILED', 0);
    // Even a 1-byte ranged read of the first byte fails.
    await expect(getBytes(enc.client, { Bucket: bucket.name, Key: target, Range: 'bytes=0-0' })).rejects.toMatchObject({
      code: 'ES_AUTH_FAILED',
    });
  });

  test.each([
    { name: 'parts 1,3,4 (middle part dropped)', order: [1, 3, 4], code: 'ES_AUTH_FAILED', prefix: P },
    { name: 'parts 1,1,2,3,4 (part duplicated)', order: [1, 1, 2, 3, 4], code: 'ES_AUTH_FAILED', prefix: P },
    { name: 'parts 1,2,4,3 (last two swapped)', order: [1, 2, 4, 3], code: 'ES_AUTH_FAILED', prefix: 2 * P },
    { name: 'parts 1,2,3 (final part dropped)', order: [1, 2, 3], code: 'ES_TRUNCATED', prefix: 0 },
    { name: 'parts 2,3,4 (first part dropped)', order: [2, 3, 4], code: 'ES_AUTH_FAILED', prefix: 0 },
  ])('raw object of $name → $code after exactly the authentic prefix', async ({ order, code, prefix }) => {
    const target = `integrity/${order.join('-')}`;
    await putRaw(plain, bucket.name, target, Buffer.concat(order.map(part)), raw.metadata);
    await expectBroken(target, code, prefix);
  });

  /*
   * Multipart objects do not record their plaintext size (it is unknown when
   * the upload starts), so a ranged read that stays inside untouched chunks
   * cannot notice that later parts were dropped: it returns authentic bytes.
   */
  test('dropping later parts is invisible to a ranged read of the first part (no recorded size)', async () => {
    const target = 'integrity/1-4';
    await putRaw(plain, bucket.name, target, Buffer.concat([part(1), part(4)]), raw.metadata);
    const got = await getBytes(enc.client, { Bucket: bucket.name, Key: target, Range: 'bytes=0-99' });
    expect(got.equals(data.subarray(0, 100))).toBe(true);
    await expectBroken(target, 'ES_AUTH_FAILED', P);
  });

  test('the metadata names the stream: METADATA_KEYS are stored', () => {
    expect(Object.keys(raw.metadata).sort()).toEqual([METADATA_KEYS.h, METADATA_KEYS.k, METADATA_KEYS.w].sort());
  });
});
