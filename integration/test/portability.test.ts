/**
 * Portability across S3-compatible stores: a fault proxy in front of the real
 * server plays a stricter store that (1) answers 412 to a CopyObject whose
 * `x-amz-copy-source-if-match` names a multipart ETag, even when it matches,
 * and (2) refuses DeleteObjects without Content-MD5. Key rotation and the
 * plugin's REPLACE copy still work there, and a concurrent overwrite is never
 * a silent success (guarded-copy.ts) — there and on the server itself, which
 * may enforce copy conditions (Amazon S3) or ignore them (Ceph RGW 16.2): the
 * suite asks it first and expects the outcome the docs promise for its kind.
 * No feature of the package sends DeleteObjects; a user's DeleteObjects
 * through the plugged client goes out with the SDK's own checksum, or
 * Content-MD5 with the SDK's documented fallback.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import {
  copySourceOf,
  EncryptedMultipartUpload,
  lastPart,
  METADATA_KEYS,
  rotateObjectKey,
  S3ErrorCode,
} from '@encrypted-stream/s3';
import {
  type EncryptedClient,
  encryptedClient,
  type FaultProxy,
  newMasterKey,
  plainClient,
  seededBytes,
  startFaultProxy,
  useEncryptedBucket,
  withEncryptedClient,
} from '@encrypted-stream/test-support';
import { getBytes, getRaw, rejection } from './helpers/objects';

const newKey = newMasterKey();
const oldKeyring = LocalKeyring.single('old', newMasterKey());
const bothKeyring = oldKeyring.withPrimaryKey('new', newKey);
const onlyNew = LocalKeyring.single('new', newKey);
const { bucket, enc, plain } = useEncryptedBucket('portability', { keyring: oldKeyring });
const data = seededBytes('portability', 300_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The stricter store: the proxy, what it saw, and clients that go through it. */
let proxy: FaultProxy;
let quirky: EncryptedClient; // plugged, through the proxy
let quirkyPlain: S3Client; // no plugin, through the proxy
let storeRequiresMd5 = true;
/** Whether the server itself enforces `x-amz-copy-source-if-*` (asked in beforeAll). */
let serverEnforcesCopyConditions: boolean;
const copies: IncomingHttpHeaders[] = [];
const deletes: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy();
  proxy.addRule({
    name: 'observe',
    match: {
      when: (r) => {
        if (r.headers['x-amz-copy-source'] !== undefined) copies.push(r.headers);
        if (r.method === 'POST' && r.query.has('delete')) deletes.push(r.headers);
        return false;
      },
    },
    action: { kind: 'error', status: 500, code: 'InternalError' },
  });
  proxy.addRule({
    name: 'if-match on a multipart ETag',
    match: { method: 'PUT', when: (r) => String(r.headers['x-amz-copy-source-if-match'] ?? '').includes('-') },
    action: {
      kind: 'error',
      status: 412,
      code: 'PreconditionFailed',
      message: 'At least one of the pre-conditions you specified did not hold',
    },
    times: Number.POSITIVE_INFINITY,
  });
  proxy.addRule({
    name: 'DeleteObjects needs Content-MD5',
    match: {
      method: 'POST',
      query: { delete: true },
      when: (r) => storeRequiresMd5 && r.headers['content-md5'] === undefined,
    },
    action: {
      kind: 'error',
      status: 400,
      code: 'InvalidRequest',
      message: 'Missing required header for this request: Content-MD5',
    },
    times: Number.POSITIVE_INFINITY,
  });
  quirky = encryptedClient({ keyring: oldKeyring }, { endpoint: proxy.endpoint });
  quirkyPlain = plainClient({ endpoint: proxy.endpoint });
  // Does the server refuse a copy whose source does not match x-amz-copy-source-if-match?
  await plain.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'probe/source', Body: 'probe' }));
  const probe = plain.send(
    new CopyObjectCommand({
      Bucket: bucket.name,
      Key: 'probe/copy',
      CopySource: copySourceOf(bucket.name, 'probe/source'),
      CopySourceIfMatch: '"00000000000000000000000000000000"',
    }),
  );
  serverEnforcesCopyConditions = await probe.then(
    () => false,
    (error) => {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw error;
      return true;
    },
  );
});

afterAll(async () => {
  quirky?.client.destroy();
  quirkyPlain?.destroy();
  await proxy?.close();
});

beforeEach(() => {
  copies.length = 0;
  deletes.length = 0;
  proxy.log.length = 0;
});

/** An encrypted multipart object (one part, marked last: its ETag is `…-1`), written directly. */
async function putMultipart(Key: string, body: Uint8Array = data): Promise<void> {
  const upload = await EncryptedMultipartUpload.create(plain, { Bucket: bucket.name, Key }, { keyring: oldKeyring });
  await upload.uploadPart(1, body, { isLastPart: true });
  await upload.complete();
}

/** A request as the SDK's middleware sees it. */
interface HttpRequest {
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}
type Next = (args: { request: unknown }) => Promise<unknown>;

/**
 * Runs `action` once around the first request `client` sends that `pick`
 * selects: just before it is sent, or just after its response arrived.
 */
function once(
  client: S3Client,
  when: 'before' | 'after',
  pick: (request: HttpRequest) => boolean,
  action: () => Promise<void>,
) {
  let done = false;
  const middleware = (next: Next) => async (args: { request: unknown }) => {
    const request = args.request as HttpRequest;
    const fire = !done && pick(request);
    if (fire) done = true;
    if (fire && when === 'before') await action();
    const result = await next(args);
    if (fire && when === 'after') await action();
    return result;
  };
  client.middlewareStack.add(middleware as never, { step: 'finalizeRequest', name: `portability${Math.random()}` });
}

const isCopy = (r: HttpRequest) => r.headers['x-amz-copy-source'] !== undefined;
const carries = (header: string) => (r: HttpRequest) => isCopy(r) && r.headers[header] !== undefined;
const isRangedGet = (r: HttpRequest) => r.method === 'GET' && r.headers.range !== undefined;
/** What the proxy relayed or answered, in order: `METHOD status`. */
const proxied = () => proxy.log.map((e) => `${e.method} ${e.status}`);

describe('a store that refuses CopySourceIfMatch for multipart ETags', () => {
  test('control: the emulated store refuses a matching If-Match on a multipart ETag, the server does not', async () => {
    const Key = 'control/multipart';
    await putMultipart(Key);
    const head = await plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    expect(head.ETag).toMatch(/-1"$/);
    const copy = (client: S3Client) =>
      client.send(
        new CopyObjectCommand({
          Bucket: bucket.name,
          Key: 'control/copied',
          CopySource: copySourceOf(bucket.name, Key),
          CopySourceIfMatch: head.ETag,
        }),
      );
    expect((await rejection(copy(quirkyPlain))).$metadata).toMatchObject({ httpStatusCode: 412 });
    await copy(plain); // the same request, straight to the server
  });

  test('rotateObjectKey rotates a multipart object: a 412 checked as the store’s quirk, then the Last-Modified guard', async () => {
    const Key = 'rotate/multipart ä.bin';
    await putMultipart(Key);
    const before = await getRaw(plain, bucket.name, Key);
    const head = await plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    proxy.log.length = 0;
    const result = await rotateObjectKey(quirkyPlain, { Bucket: bucket.name, Key }, { from: bothKeyring });
    expect(result).toEqual({ rotated: true, fromKeyId: 'old', toKeyId: 'new' });
    expect(proxied()).toEqual([
      'HEAD 200', // the object's header and ETag
      'GET 206', // its first nonce, as the HeadObject described it
      'PUT 412', // the copy with If-Match: refused by the store
      'GET 206', // unchanged: the 412 was the store's quirk
      'PUT 200', // the copy with If-Unmodified-Since
      'GET 206', // the result holds that nonce under the metadata written
    ]);
    expect(copies).toHaveLength(2);
    expect(copies[0]?.['x-amz-copy-source-if-match']).toBe(head.ETag);
    expect(copies[1]?.['x-amz-copy-source-if-match']).toBeUndefined();
    expect(new Date(String(copies[1]?.['x-amz-copy-source-if-unmodified-since'])).getTime()).toBe(
      head.LastModified?.getTime(),
    );
    const after = await getRaw(plain, bucket.name, Key);
    expect(after.body.equals(before.body)).toBe(true); // data not rewritten
    expect(after.metadata[METADATA_KEYS.k]).toBe('new');
    expect(after.metadata[METADATA_KEYS.h]).toBe(before.metadata[METADATA_KEYS.h]);
    await withEncryptedClient({ keyring: onlyNew }, async (reader) => {
      expect((await getBytes(reader.client, { Bucket: bucket.name, Key })).equals(data)).toBe(true);
    });
    expect(deletes).toHaveLength(0);
  });

  test('a single-part object keeps the If-Match guard: HeadObject, GET, one copy, GET', async () => {
    const Key = 'rotate/single';
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
    proxy.log.length = 0;
    const result = await rotateObjectKey(quirkyPlain, { Bucket: bucket.name, Key }, { from: bothKeyring });
    expect(result.rotated).toBe(true);
    expect(proxied()).toEqual(['HEAD 200', 'GET 206', 'PUT 200', 'GET 206']);
    expect(copies[0]?.['x-amz-copy-source-if-match']).toMatch(/^"[0-9a-f]{32}"$/);
  });

  test("the plugin's CopyObject with 'REPLACE' copies a multipart object there, encryption metadata carried", async () => {
    const Key = 'copy/multipart-source';
    await putMultipart(Key);
    quirky.requests.reset();
    await quirky.client.send(
      new CopyObjectCommand({
        Bucket: bucket.name,
        Key: 'copy/multipart-replaced',
        CopySource: copySourceOf(bucket.name, Key),
        MetadataDirective: 'REPLACE',
        Metadata: { colour: 'red' },
      }),
    );
    expect(quirky.requests.requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'HEAD 200',
      'GET 206',
      'PUT 412',
      'GET 206',
      'PUT 200',
      'GET 206',
    ]);
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key: 'copy/multipart-replaced' })).equals(data)).toBe(
      true,
    );
    const head = await enc.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: 'copy/multipart-replaced' }));
    expect(head.Metadata).toEqual({ colour: 'red' });
  });

  test("a caller's own CopySourceIfMatch is sent as given: no checks, no fallback", async () => {
    const Key = 'copy/own-if-match';
    await putMultipart(Key);
    const { ETag } = await plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key }));
    const error = await rejection(
      quirky.client.send(
        new CopyObjectCommand({
          Bucket: bucket.name,
          Key: 'copy/own-if-match-dest',
          CopySource: copySourceOf(bucket.name, Key),
          CopySourceIfMatch: ETag,
          MetadataDirective: 'REPLACE',
        }),
      ),
    );
    expect(error.$metadata).toMatchObject({ httpStatusCode: 412 });
    expect(proxied()).toEqual(['HEAD 200', 'PUT 412']);
  });
});

describe('a concurrent overwrite is refused or reported, never a silent success', () => {
  const other = seededBytes('portability-other', data.length);
  /** Overwrites `Key` with another encrypted object (its own data key), straight to the server. */
  const overwrite = (Key: string) => async () => {
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: other }));
  };
  /** Rotates `Key` with a client (straight or through the proxy) that runs `arrange` on itself first. */
  async function rotateWith(Key: string, through: 'proxy' | 'server', arrange: (client: S3Client) => void) {
    const client = plainClient(through === 'proxy' ? { endpoint: proxy.endpoint } : {});
    try {
      arrange(client);
      return await rejection(rotateObjectKey(client, { Bucket: bucket.name, Key }, { from: bothKeyring }));
    } finally {
      client.destroy();
    }
  }
  /** The overwrite is intact: readable, with its own header. */
  async function expectIntact(Key: string) {
    expect((await getBytes(enc.client, { Bucket: bucket.name, Key })).equals(other)).toBe(true);
    expect((await getRaw(plain, bucket.name, Key)).metadata[METADATA_KEYS.k]).toBe('old');
  }

  test('between the HeadObject and the first read: ES_CONCURRENT_MODIFICATION, nothing written', async () => {
    const Key = 'race/while-read';
    await putMultipart(Key);
    const error = await rotateWith(Key, 'server', (c) => once(c, 'before', isRangedGet, overwrite(Key)));
    expect(error.code).toBe(S3ErrorCode.CONCURRENT_MODIFICATION);
    await expectIntact(Key);
  });

  test('before the copy, on the server itself: refused (412) where it enforces copy conditions, else reported', async () => {
    const Key = 'race/server';
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
    const error = await rotateWith(Key, 'server', (c) => once(c, 'before', isCopy, overwrite(Key)));
    if (serverEnforcesCopyConditions) {
      expect(error.$metadata).toMatchObject({ httpStatusCode: 412 });
      await expectIntact(Key);
    } else {
      // Ceph RGW 16.2 copies regardless of x-amz-copy-source-if-match; the check after the copy reports it.
      expect(error.code).toBe(S3ErrorCode.CONCURRENT_MODIFICATION);
    }
  });

  test('before the first copy, on the stricter store: its 412 is a real one, thrown as is, nothing written', async () => {
    const Key = 'race/before-first-copy';
    await putMultipart(Key);
    const error = await rotateWith(Key, 'proxy', (c) => once(c, 'before', isCopy, overwrite(Key)));
    expect(error.$metadata).toMatchObject({ httpStatusCode: 412 });
    expect(copies).toHaveLength(1); // no second copy
    await expectIntact(Key);
  });

  test('before the Last-Modified fallback, a second later: refused where the store enforces it, else reported', async () => {
    const Key = 'race/before-second-copy';
    await putMultipart(Key);
    await sleep(1100); // the overwrite lands in a later second than the object
    const error = await rotateWith(Key, 'proxy', (c) =>
      once(c, 'before', carries('x-amz-copy-source-if-unmodified-since'), overwrite(Key)),
    );
    expect(copies).toHaveLength(2);
    if (serverEnforcesCopyConditions) {
      expect(error.$metadata).toMatchObject({ httpStatusCode: 412 });
      await expectIntact(Key);
    } else {
      expect(error.code).toBe(S3ErrorCode.CONCURRENT_MODIFICATION);
    }
  });

  test('after the copy, before it is checked: ES_CONCURRENT_MODIFICATION on every store', async () => {
    const Key = 'race/after-copy';
    await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
    const error = await rotateWith(Key, 'server', (c) => once(c, 'after', isCopy, overwrite(Key)));
    expect(error.code).toBe(S3ErrorCode.CONCURRENT_MODIFICATION);
    await expectIntact(Key); // here the overwrite came after the copy: nothing lost
  });
});

describe('DeleteObjects: never sent by the package; a user’s goes out with a checksum the store accepts', () => {
  test('every feature through the stricter store, and no DeleteObjects among its requests', async () => {
    const c = quirky.client;
    const Key = 'tour/object';
    await c.send(new PutObjectCommand({ Bucket: bucket.name, Key, Body: data }));
    const slice = await getBytes(c, { Bucket: bucket.name, Key, Range: 'bytes=1000-1999' });
    expect(slice.equals(data.subarray(1000, 2000))).toBe(true);
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: 'tour/mpu' }));
    const part = await c.send(
      new UploadPartCommand(
        lastPart({ Bucket: bucket.name, Key: 'tour/mpu', UploadId, PartNumber: 1, Body: data.subarray(0, 5000) }),
      ),
    );
    await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket.name,
        Key: 'tour/mpu',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await c.send(
      new CopyObjectCommand({
        Bucket: bucket.name,
        Key: 'tour/copy',
        CopySource: copySourceOf(bucket.name, 'tour/mpu'),
        MetadataDirective: 'REPLACE',
      }),
    );
    await rotateObjectKey(c, { Bucket: bucket.name, Key: 'tour/mpu' }, { from: bothKeyring });
    await withEncryptedClient({ keyring: bothKeyring }, async (reader) => {
      for (const K of ['tour/mpu', 'tour/copy']) {
        expect((await getBytes(reader.client, { Bucket: bucket.name, Key: K })).equals(data.subarray(0, 5000))).toBe(
          true,
        );
      }
    });
    expect(deletes).toHaveLength(0);
    expect(proxy.requests({ method: 'POST', query: { delete: true } })).toHaveLength(0);
  });

  const deleteTwo = async (client: S3Client, prefix: string) => {
    for (const n of [1, 2]) {
      await enc.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: `${prefix}/${n}`, Body: 'x' }));
    }
    return client.send(
      new DeleteObjectsCommand({
        Bucket: bucket.name,
        Delete: { Objects: [{ Key: `${prefix}/1` }, { Key: `${prefix}/2` }] },
      }),
    );
  };
  const gone = async (Key: string) =>
    (await rejection(plain.send(new HeadObjectCommand({ Bucket: bucket.name, Key })))).$metadata;

  test("through the plugged client with 'WHEN_REQUIRED': the SDK's CRC32 in a header, no aws-chunked body", async () => {
    storeRequiresMd5 = false;
    try {
      const out = await deleteTwo(quirky.client, 'delete/crc');
      expect(out.Deleted?.map((d) => d.Key).sort()).toEqual(['delete/crc/1', 'delete/crc/2']);
    } finally {
      storeRequiresMd5 = true;
    }
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(deletes[0]?.['content-encoding']).toBeUndefined();
    expect(deletes[0]?.['content-length']).toBeDefined();
    expect(await gone('delete/crc/1')).toMatchObject({ httpStatusCode: 404 });
  });

  test('a store that demands Content-MD5: refused as the SDK sends it; accepted with the SDK’s documented MD5 fallback', async () => {
    const refused = await rejection(deleteTwo(quirky.client, 'delete/md5'));
    expect(refused.$metadata).toMatchObject({ httpStatusCode: 400 });

    // The AWS SDK's MD5 fallback (supplemental-docs/MD5_FALLBACK.md), on the plugged client.
    await withEncryptedClient(
      { keyring: oldKeyring },
      async (md5) => {
        const addMd5 = (next: Next, context: { commandName?: string }) => async (args: { request: unknown }) => {
          const request = args.request as HttpRequest;
          if (context.commandName === 'DeleteObjectsCommand' && typeof request.body === 'string') {
            for (const name of Object.keys(request.headers)) {
              if (/^x-amz-(sdk-)?checksum-/i.test(name)) delete request.headers[name];
            }
            request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
          }
          return next(args);
        };
        md5.client.middlewareStack.add(addMd5 as never, { step: 'build', name: 'md5Fallback' });
        const out = await deleteTwo(md5.client, 'delete/md5');
        expect(out.Deleted).toHaveLength(2);
      },
      { endpoint: proxy.endpoint },
    );
    expect(deletes.map((h) => h['content-md5'] !== undefined)).toEqual([false, true]);
    expect(await gone('delete/md5/2')).toMatchObject({ httpStatusCode: 404 });
  });
});
