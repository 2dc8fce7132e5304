/**
 * The main job: encrypts a generated file of a few hundred MiB into S3 with a
 * parallel multipart upload, reads ranges back (one request each), verifies
 * every byte, proves the stored object is ciphertext, and prints timings.
 *
 *   DEMO_MB=256 pnpm --filter @encrypted-stream/s3 demo
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { getEncryptionPlugin } from '../src';
import { EncryptedUpload } from '../src/upload';
import { s3ConfigFromEnv } from './s3-config';

const MB = 1e6;
const MiB = 1024 * 1024;
const sizeMiB = Number(process.env.DEMO_MB ?? 256);

async function timed<T>(label: string, bytes: number, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await work();
  const seconds = (performance.now() - t0) / 1000;
  const rate = bytes > 0 ? `  ${(bytes / MB / seconds).toFixed(0).padStart(5)} MB/s` : '';
  console.log(`${label.padEnd(48)} ${(seconds * 1000).toFixed(0).padStart(7)} ms${rate}`);
  return result;
}

/** Writes `size` bytes of pseudo-random data (a repeated random block) and returns its SHA-256. */
async function generateFile(path: string, size: number): Promise<string> {
  const block = randomBytes(MiB);
  const hash = createHash('sha256');
  async function* blocks() {
    for (let left = size; left > 0; left -= block.length) {
      const piece = left >= block.length ? block : block.subarray(0, left);
      hash.update(piece);
      yield piece;
    }
  }
  await pipeline(blocks(), createWriteStream(path));
  return hash.digest('hex');
}

async function main() {
  const config = s3ConfigFromEnv();
  const plain = new S3Client(config);
  const client = new S3Client(config);
  const keyring = LocalKeyring.single('demo-2026', randomBytes(32));
  client.middlewareStack.use(getEncryptionPlugin(client, { keyring })); // the one line
  let requests = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'demoRequestCounter' },
  );

  const Bucket = `encrypted-stream-demo-${Date.now()}`;
  const Key = 'backups/demo.bin';
  const size = sizeMiB * MiB + 12345; // not a multiple of anything
  const dir = await mkdtemp(join(tmpdir(), 'es-demo-'));
  const file = join(dir, 'demo.bin');
  console.log(`encrypted-stream demo against ${config.endpoint}: ${(size / MB).toFixed(1)} MB file\n`);
  try {
    await plain.send(new CreateBucketCommand({ Bucket }));
    const sha = await timed('generate plaintext file', size, () => generateFile(file, size));

    const upload = new EncryptedUpload({
      client,
      params: { Bucket, Key, Body: createReadStream(file), ContentType: 'application/octet-stream' },
      encryption: { keyring },
      partSize: 8 * MiB,
      queueSize: 4,
    });
    let parts = 0;
    upload.on('httpUploadProgress', () => parts++);
    await timed('encrypted multipart upload (8 MiB parts, 4 at once)', size, () => upload.done());

    const head = await client.send(new HeadObjectCommand({ Bucket, Key }));
    const raw = await plain.send(new HeadObjectCommand({ Bucket, Key }));
    console.log(`  ${parts} progress events; plaintext ${head.ContentLength} bytes, stored ${raw.ContentLength} bytes`);

    const downloaded = await timed('download, decrypt and authenticate everything', size, async () => {
      const out = await client.send(new GetObjectCommand({ Bucket, Key }));
      const hash = createHash('sha256');
      for await (const piece of out.Body as AsyncIterable<Uint8Array>) hash.update(piece);
      return hash.digest('hex');
    });
    console.log(`  SHA-256 ${downloaded === sha ? 'matches' : 'DIFFERS'} (${downloaded.slice(0, 16)}…)`);
    if (downloaded !== sha) throw new Error('round trip mismatch');

    const block = await readBlock(file);
    for (const [label, range, expected] of [
      ['first byte', 'bytes=0-0', block.subarray(0, 1)],
      ['1 MiB across a chunk boundary', `bytes=${MiB - 100}-${2 * MiB - 101}`, null],
      ['last 100 bytes (suffix range)', 'bytes=-100', null],
      ['from the middle to 4 KiB later', `bytes=${Math.floor(size / 2)}-${Math.floor(size / 2) + 4095}`, null],
    ] as const) {
      requests = 0;
      const bytes = await timed(`ranged read: ${label}`, 0, async () => {
        const out = await client.send(new GetObjectCommand({ Bucket, Key, Range: range }));
        return { data: Buffer.from(await out.Body!.transformToByteArray()), contentRange: out.ContentRange };
      });
      const want = expected ?? (await expectedRange(file, range, size));
      const ok = Buffer.compare(bytes.data, want) === 0;
      console.log(
        `  ${bytes.contentRange}: ${bytes.data.length} bytes, ${ok ? 'correct' : 'WRONG'}, ${requests} request`,
      );
      if (!ok) throw new Error(`range ${range} mismatch`);
    }

    const stored = await plain.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=0-${4 * MiB}` }));
    const rawBytes = Buffer.from(await stored.Body!.transformToByteArray());
    const leaked = rawBytes.includes(block.subarray(1000, 1032));
    console.log(
      `\nstored object is ciphertext: ${leaked ? 'NO — plaintext found!' : 'yes (no 32-byte plaintext window found)'}`,
    );
    if (leaked) throw new Error('plaintext at rest');
    await plain.send(new DeleteObjectCommand({ Bucket, Key }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function readBlock(file: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of createReadStream(file, { start: 0, end: MiB - 1 })) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

async function expectedRange(file: string, range: string, size: number): Promise<Buffer> {
  const m = /bytes=(\d*)-(\d*)/.exec(range)!;
  const start = m[1] === '' ? size - Number(m[2]) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Number(m[2]);
  const parts: Buffer[] = [];
  for await (const p of createReadStream(file, { start, end })) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
