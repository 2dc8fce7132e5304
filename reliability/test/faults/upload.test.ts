import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import { EncryptedUpload } from '@encrypted-stream/s3/upload';
import {
  encryptedClient,
  type FaultAction,
  type FaultMatch,
  listOpenUploads,
  newKeyring,
  plainClient,
  seededBytes,
  seededPieces,
  seededStream,
  useBucket,
  useEncryptedClient,
} from '../helpers';
import { faultCase, readChecked, useFaultProxy, within } from './fault-case';

/**
 * Uploads through a fault-injecting proxy: UploadPart, CompleteMultipartUpload,
 * CreateMultipartUpload, ListParts and PutObject meet connection resets (in the
 * request body, and after S3 acted but before the client heard), stalls, 500s
 * and 503 SlowDown. Retried operations must complete with the exact plaintext;
 * an upload that gives up must abort its multipart upload and leave no parts.
 */

const MiB = 2 ** 20;
const PART = 5 * MiB; // RGW's minimum part size
const SIZE = 2 * PART + 123_457; // 3 parts

const UPLOAD_PART = (partNumber?: number): FaultMatch => ({
  method: 'PUT',
  query: { uploadId: true, partNumber: partNumber === undefined ? true : String(partNumber) },
});
const COMPLETE: FaultMatch = { method: 'POST', query: { uploadId: true } };
const CREATE: FaultMatch = { method: 'POST', query: { uploads: true } };
const LIST_PARTS: FaultMatch = { method: 'GET', query: { uploadId: true } };
const ABORT: FaultMatch = { method: 'DELETE', query: { uploadId: true } };
const HTTP_500: FaultAction = { kind: 'error', status: 500, code: 'InternalError' };

describe('faults: uploads', () => {
  const bucket = useBucket('faults-upload');
  const { keyring } = newKeyring();
  const direct = useEncryptedClient({ keyring });
  const faults = useFaultProxy({ keyring });
  let giveUpClient: S3Client;
  let plainProxyClient: S3Client;
  let n = 0;
  const newKey = (label: string) => `${label}-${++n}`;

  beforeAll(() => {
    giveUpClient = encryptedClient({ keyring }, { endpoint: faults.proxy.endpoint, maxAttempts: 2 }).client;
    plainProxyClient = plainClient({ endpoint: faults.proxy.endpoint });
  });
  afterAll(() => {
    giveUpClient?.destroy();
    plainProxyClient?.destroy();
  });

  /** Reads the object back directly (no proxy) and checks every byte. */
  async function expectObject(key: string, seed: string, size: number) {
    const out = await direct.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: key }));
    expect(out.ContentLength).toBe(size);
    const outcome = await readChecked(out.Body, seed, 0);
    expect(outcome.error).toBeUndefined();
    expect(outcome.mismatches).toBe(0);
    expect(outcome.delivered).toBe(size);
  }

  async function expectNoObject(key: string) {
    await expect(bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  }

  async function expectNoOpenUpload(key: string) {
    const open = await listOpenUploads(bucket.client, bucket.name, key);
    expect(open.filter((u) => u.Key === key)).toEqual([]);
  }

  /** The low-level path: create, 3 parts in parallel, complete (all through `c`). */
  async function multipart(c: S3Client, key: string, seed = key) {
    const mpu = await EncryptedMultipartUpload.create(
      c,
      { Bucket: bucket.name, Key: key },
      { keyring, partSize: PART },
    );
    const data = seededBytes(seed, SIZE);
    const parts = [0, 1, 2].map((i) => data.subarray(i * PART, Math.min(SIZE, (i + 1) * PART)));
    await Promise.all(parts.map((body, i) => mpu.uploadPart(i + 1, body, { isLastPart: i === 2 })));
    return { mpu, complete: () => mpu.complete() };
  }

  async function encryptedUpload(c: S3Client, key: string, size = SIZE) {
    return new EncryptedUpload({
      client: c,
      params: { Bucket: bucket.name, Key: key, Body: seededStream(key, size) },
      encryption: { keyring },
      partSize: PART,
      queueSize: 4,
    }).done();
  }

  /** `retried: false`: the fault delays the request but does not fail it (one request only). */
  const cases: {
    name: string;
    rule: FaultMatch;
    action: FaultAction;
    times?: number;
    timeouts?: boolean;
    retried?: false;
  }[] = [
    {
      name: 'UploadPart: connection reset mid-request-body (retried)',
      rule: UPLOAD_PART(2),
      action: { kind: 'reset-request', afterBytes: MiB + 17 },
    },
    {
      name: 'UploadPart: stall mid-request-body, shorter than the socket timeout',
      rule: UPLOAD_PART(1),
      action: { kind: 'stall-request', afterBytes: 2 * MiB, ms: 600 },
      timeouts: true,
      retried: false,
    },
    {
      name: 'UploadPart: stall mid-request-body, longer than the socket timeout (retried)',
      rule: UPLOAD_PART(3),
      action: { kind: 'stall-request', afterBytes: 50_000, ms: 2500 },
      timeouts: true,
    },
    {
      name: 'UploadPart: HTTP 500 InternalError twice (retried)',
      rule: UPLOAD_PART(2),
      action: { kind: 'error', status: 500, code: 'InternalError' },
      times: 2,
    },
    {
      name: 'UploadPart: HTTP 503 SlowDown twice (retried)',
      rule: UPLOAD_PART(1),
      action: { kind: 'error', status: 503, code: 'SlowDown' },
      times: 2,
    },
    {
      name: 'UploadPart: reset after S3 stored the part, before the response (retried, re-encrypted)',
      rule: UPLOAD_PART(2),
      action: { kind: 'reset-response', afterBytes: 0 },
    },
    {
      name: 'CreateMultipartUpload: HTTP 503 SlowDown (retried)',
      rule: CREATE,
      action: { kind: 'error', status: 503, code: 'SlowDown' },
    },
    {
      name: 'ListParts (in complete): connection reset mid-response-body (retried)',
      rule: LIST_PARTS,
      action: { kind: 'reset-response', afterBytes: 100 },
    },
    {
      name: 'CompleteMultipartUpload: connection reset mid-request-body (retried)',
      rule: COMPLETE,
      action: { kind: 'reset-request', afterBytes: 60 },
    },
    {
      name: 'CompleteMultipartUpload: stall mid-request-body, shorter than the socket timeout',
      rule: COMPLETE,
      action: { kind: 'stall-request', afterBytes: 60, ms: 600 },
      timeouts: true,
      retried: false,
    },
    {
      name: 'CompleteMultipartUpload: stall mid-request-body, longer than the socket timeout (retried)',
      rule: COMPLETE,
      action: { kind: 'stall-request', afterBytes: 60, ms: 2500 },
      timeouts: true,
    },
    {
      name: 'CompleteMultipartUpload: stall mid-response-body, longer than the socket timeout (retried)',
      rule: COMPLETE,
      action: { kind: 'stall-response', afterBytes: 40, ms: 2500 },
      timeouts: true,
    },
    {
      name: 'CompleteMultipartUpload: HTTP 500 InternalError (retried)',
      rule: COMPLETE,
      action: { kind: 'error', status: 500, code: 'InternalError' },
    },
    {
      name: 'CompleteMultipartUpload: HTTP 503 SlowDown twice (retried)',
      rule: COMPLETE,
      action: { kind: 'error', status: 503, code: 'SlowDown' },
      times: 2,
    },
  ];

  for (const c of cases) {
    faultCase(
      `${c.name} [EncryptedMultipartUpload]`,
      () => faults.proxy,
      async () => {
        const key = newKey('mpu');
        const rule = faults.proxy.addRule({ match: c.rule, action: c.action, times: c.times ?? 1 });
        const { complete } = await multipart(c.timeouts ? faults.timeoutClient : faults.client, key);
        await complete();
        expect(rule.fired).toBe(c.times ?? 1);
        expect(faults.proxy.requests(c.rule)).toHaveLength(c.retried === false ? 1 : (c.times ?? 1) + 1);
        await expectObject(key, key, SIZE);
        await expectNoOpenUpload(key);
      },
    );
  }

  for (const c of cases) {
    faultCase(
      `${c.name} [EncryptedUpload]`,
      () => faults.proxy,
      async () => {
        const key = newKey('upload');
        const rule = faults.proxy.addRule({ match: c.rule, action: c.action, times: c.times ?? 1 });
        await encryptedUpload(c.timeouts ? faults.timeoutClient : faults.client, key);
        if (c.rule !== LIST_PARTS) expect(rule.fired).toBe(c.times ?? 1); // lib-storage does not list parts
        await expectObject(key, key, SIZE);
        await expectNoOpenUpload(key);
      },
    );
  }

  const giveUps: { what: string; match: FaultMatch; action: FaultAction; size: number; rejectsWith?: object }[] = [
    { what: 'part 2: HTTP 500 on every attempt', match: UPLOAD_PART(2), action: HTTP_500, size: 4 * PART },
    {
      what: 'part 2: connection reset mid-body on every attempt',
      match: UPLOAD_PART(2),
      action: { kind: 'reset-request', afterBytes: 300_000 },
      size: 4 * PART,
    },
    {
      what: 'CompleteMultipartUpload: HTTP 500 on every attempt',
      match: COMPLETE,
      action: HTTP_500,
      size: SIZE,
      rejectsWith: { name: 'InternalError' },
    },
  ];
  for (const g of giveUps) {
    faultCase(
      `EncryptedUpload gives up (${g.what}, maxAttempts 2): aborted, no parts left`,
      () => faults.proxy,
      async () => {
        const key = newKey('give-up');
        const rule = faults.proxy.addRule({ match: g.match, action: g.action, times: Number.POSITIVE_INFINITY });
        await expect(encryptedUpload(giveUpClient, key, g.size)).rejects.toMatchObject(g.rejectsWith ?? {});
        expect(rule.fired).toBe(2);
        expect(faults.proxy.requests(ABORT).length).toBeGreaterThanOrEqual(1);
        await expectNoOpenUpload(key);
        await expectNoObject(key);
      },
    );
  }

  faultCase(
    'EncryptedUpload.abort() while an UploadPart is stalled: rejects, aborted, no parts left',
    () => faults.proxy,
    async () => {
      const key = newKey('abort');
      faults.proxy.addRule({ match: UPLOAD_PART(2), action: { kind: 'stall-request', afterBytes: 100_000, ms: 2500 } });
      const upload = new EncryptedUpload({
        client: faults.client,
        params: { Bucket: bucket.name, Key: key, Body: seededStream(key, 4 * PART) },
        encryption: { keyring },
        partSize: PART,
        queueSize: 4,
      });
      const done = upload.done();
      const settled = done.then(
        () => undefined,
        (error: unknown) => error,
      );
      await new Promise((r) => setTimeout(r, 700));
      const abortedAt = Date.now();
      await upload.abort();
      expect(await settled).toMatchObject({ name: 'AbortError' });
      // It waits for the stalled part (by design, so that nothing is left), but no longer than that.
      expect(Date.now() - abortedAt).toBeLessThan(2500 + 2000);
      // EncryptedUpload waits for the in-flight parts and aborts: when done() rejects, nothing is left.
      await expectNoOpenUpload(key);
      await expectNoObject(key);
    },
  );

  for (const encrypted of [false, true]) {
    const label = encrypted ? 'EncryptedUpload' : 'lib-storage Upload (control, no encryption)';
    faultCase(
      `${label}: abort() while an UploadPart hangs (15 s): done() rejects within 5 s`,
      () => faults.proxy,
      async () => {
        const key = newKey('abort-hung');
        // A black-holed part: the server never answers (here for 15 s; in the field, until a timeout, if any).
        faults.proxy.addRule({
          match: UPLOAD_PART(2),
          action: { kind: 'stall-request', afterBytes: 100_000, ms: 15_000 },
        });
        const params = { Bucket: bucket.name, Key: key, Body: seededStream(key, 4 * PART) };
        const upload = encrypted
          ? new EncryptedUpload({
              client: faults.client,
              params,
              encryption: { keyring },
              partSize: PART,
              queueSize: 4,
            })
          : new Upload({ client: plainProxyClient, params, partSize: PART, queueSize: 4 });
        const settled = upload.done().then(
          () => undefined,
          (error: unknown) => error,
        );
        await new Promise((r) => setTimeout(r, 700));
        await upload.abort();
        // Plain lib-storage rejects at once. EncryptedUpload first waits for the in-flight parts, which
        // lib-storage sends without the abort signal: its abort() cannot cancel a hung upload.
        expect(await within(5000, `${label}.done() after abort()`, settled)).toMatchObject({ name: 'AbortError' });
      },
      30_000,
    );
  }

  faultCase(
    'EncryptedUpload: the source stream fails mid-way: rejects with its error, aborted, no parts left',
    () => faults.proxy,
    async () => {
      const key = newKey('source-error');
      async function* failing() {
        yield* seededPieces(key, 3 * PART + 1234);
        throw Object.assign(new Error('disk read failed'), { code: 'EIO' });
      }
      await expect(
        new EncryptedUpload({
          client: faults.client,
          params: { Bucket: bucket.name, Key: key, Body: Readable.from(failing()) },
          encryption: { keyring },
          partSize: PART,
          queueSize: 2,
        }).done(),
      ).rejects.toMatchObject({ code: 'EIO' });
      await expectNoOpenUpload(key);
      await expectNoObject(key);
    },
  );

  faultCase(
    'UploadPart (file stream body): reset mid-request-body rejects (not retryable); the caller retries the part',
    () => faults.proxy,
    async () => {
      const key = newKey('part-stream');
      const dir = mkdtempSync(join(tmpdir(), 'es-faults-'));
      try {
        const path = join(dir, 'source.bin');
        writeFileSync(path, seededBytes(key, SIZE));
        const mpu = await EncryptedMultipartUpload.create(
          faults.client,
          { Bucket: bucket.name, Key: key },
          { keyring, partSize: PART },
        );
        const part = (n: number) =>
          createReadStream(path, { start: (n - 1) * PART, end: Math.min(SIZE, n * PART) - 1 });
        faults.proxy.addRule({ match: UPLOAD_PART(2), action: { kind: 'reset-request', afterBytes: 400_000 } });
        await mpu.uploadPart(1, part(1));
        await expect(mpu.uploadPart(2, part(2))).rejects.toBeDefined();
        expect(faults.proxy.requests(UPLOAD_PART(2))).toHaveLength(1);
        await mpu.uploadPart(2, part(2)); // a fresh stream: succeeds
        await mpu.uploadPart(3, part(3), { isLastPart: true });
        await mpu.complete();
        await expectObject(key, key, SIZE);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  // S3 has completed the upload when the client loses the response: the SDK retries the Complete.
  const completeLost: [string, string, (key: string) => Promise<unknown>][] = [
    ['EncryptedMultipartUpload', 'complete-lost', async (key) => (await multipart(faults.client, key)).complete()],
    ['EncryptedUpload', 'complete-lost-upload', (key) => encryptedUpload(faults.client, key)],
  ];
  for (const action of [
    { kind: 'reset-response', afterBytes: 50 },
    { kind: 'short-response', bytes: 50 },
    { kind: 'reset-response', afterBytes: 0 },
  ] as const) {
    for (const [api, label, upload] of completeLost) {
      faultCase(
        `CompleteMultipartUpload: ${action.kind} after ${'afterBytes' in action ? action.afterBytes : action.bytes} bytes of the response [${api}]`,
        () => faults.proxy,
        async () => {
          const key = newKey(label);
          faults.proxy.addRule({ match: COMPLETE, action });
          const result = await upload(key).then(
            (out) => ({ ok: true as const, out }),
            (error: unknown) => ({ ok: false as const, error }),
          );
          // RGW answers the retried Complete of a completed upload with 200: the caller sees success.
          expect(result).toMatchObject({ ok: true });
          expect(faults.proxy.requests(COMPLETE)).toHaveLength(2);
          await expectObject(key, key, SIZE);
          await expectNoOpenUpload(key);
        },
      );
    }
  }

  faultCase(
    'PutObject (in-memory body): connection reset mid-request-body (retried)',
    () => faults.proxy,
    async () => {
      const key = newKey('put');
      const rule = faults.proxy.addRule({
        match: { method: 'PUT', query: { uploadId: false } },
        action: { kind: 'reset-request', afterBytes: 777_777 },
      });
      await faults.client.send(
        new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: seededBytes(key, 3 * MiB + 1) }),
      );
      expect(rule.fired).toBe(1);
      await expectObject(key, key, 3 * MiB + 1);
    },
  );

  faultCase(
    'PutObject (stream body): reset mid-request-body fails cleanly (not retryable), no object',
    () => faults.proxy,
    async () => {
      const key = newKey('put-stream');
      const size = 3 * MiB + 1;
      faults.proxy.addRule({
        match: { method: 'PUT', query: { uploadId: false } },
        action: { kind: 'reset-request', afterBytes: 777_777 },
      });
      // A consumed stream cannot be sent again: the SDK gives up at once rather than send a short body.
      await expect(
        faults.client.send(
          new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: seededStream(key, size), ContentLength: size }),
        ),
      ).rejects.toBeDefined();
      expect(faults.proxy.requests({ method: 'PUT', query: { uploadId: false } })).toHaveLength(1);
      await expectNoObject(key);
    },
  );
});
