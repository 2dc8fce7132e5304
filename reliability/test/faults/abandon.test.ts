import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  encryptedClient,
  type FaultProxy,
  newKeyring,
  plainClient,
  readAll,
  seededBytes,
  startFaultProxy,
  useBucket,
} from '../helpers';
import { faultCase, within } from './fault-case';

/**
 * Client-side faults: a caller that stops reading a decrypted body half-way
 * (destroys it, or breaks out of its loop) must not leak the HTTP connection
 * under it. With a pool of 2 sockets, a run of abandoned reads and then a normal
 * one must all finish: a leaked socket per abandoned body would hang the pool.
 * The plain SDK frees the socket of a destroyed body (the control case).
 */

const MiB = 2 ** 20;
const SIZE = 4 * MiB + 1;

describe('faults: abandoned bodies', () => {
  const bucket = useBucket('faults-abandon');
  const { keyring } = newKeyring();
  let client: S3Client;
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await startFaultProxy();
    client = encryptedClient(
      { keyring },
      { endpoint: proxy.endpoint, requestHandler: { httpAgent: { maxSockets: 2 }, connectionTimeout: 2000 } },
    ).client;
    await client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'obj', Body: seededBytes('obj', SIZE) }));
    // A tampered copy: chunk 3's ciphertext has one byte flipped (stored with a direct plain client).
    const raw = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'obj' }));
    const body = await readAll(raw.Body);
    const at = 3 * (64 * 1024 + 40) + 100;
    body.writeUInt8(body.readUInt8(at) ^ 1, at);
    await bucket.client.send(
      new PutObjectCommand({ Bucket: bucket.name, Key: 'tampered', Body: body, Metadata: raw.Metadata }),
    );
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
  });

  const get = (Range?: string) => client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'obj', Range }));

  faultCase(
    'Caller destroys the decrypted body after the first piece (20 times, 2 sockets)',
    () => proxy,
    async () => {
      for (let i = 0; i < 20; i++) {
        const out = await get(i % 2 ? 'bytes=1000-3999999' : undefined);
        const body = out.Body as Readable;
        await new Promise<void>((resolve, reject) => {
          body.once('data', () => {
            body.destroy();
            resolve();
          });
          body.once('error', reject);
        });
      }
      const data = await readAll((await get()).Body);
      expect(data.equals(seededBytes('obj', SIZE))).toBe(true);
    },
  );

  faultCase(
    'Caller breaks out of for-await after the first piece (20 times, 2 sockets)',
    () => proxy,
    async () => {
      for (let i = 0; i < 20; i++) {
        const out = await get(i % 2 ? 'bytes=-3000000' : 'bytes=5-');
        for await (const _piece of out.Body as AsyncIterable<Uint8Array>) break;
      }
      const data = await readAll((await get('bytes=100-199')).Body);
      expect(data.equals(seededBytes('obj', 100, 100))).toBe(true);
    },
  );

  faultCase(
    'Reads that fail authentication mid-body free their sockets (10 times, 2 sockets)',
    () => proxy,
    async () => {
      for (let i = 0; i < 10; i++) {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'tampered' }));
        await expect(readAll(out.Body)).rejects.toMatchObject({ code: 'ES_AUTH_FAILED' });
      }
      const data = await readAll((await get('bytes=0-9')).Body);
      expect(data.equals(seededBytes('obj', 10))).toBe(true);
    },
  );

  for (const encrypted of [false, true]) {
    const label = encrypted ? 'encrypted client' : 'plain client (control)';
    faultCase(
      `Caller destroys a body it never read (5 times, 2 sockets) [${label}]`,
      () => proxy,
      async () => {
        const c = encrypted
          ? client
          : plainClient({ endpoint: proxy.endpoint, requestHandler: { httpAgent: { maxSockets: 2 } } });
        try {
          for (let i = 0; i < 5; i++) {
            const out = await within(
              3000,
              `GetObject ${i + 1} after ${i} destroyed unread bodies (the pool has 2 sockets)`,
              c.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'obj' })),
            );
            (out.Body as Readable).destroy();
          }
          const out = await within(
            3000,
            'the final GetObject',
            c.send(new GetObjectCommand({ Bucket: bucket.name, Key: 'obj', Range: 'bytes=0-0' })),
          );
          await readAll(out.Body);
        } finally {
          if (!encrypted) c.destroy();
        }
      },
    );
  }
});
