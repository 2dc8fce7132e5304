import { open } from 'node:fs/promises';
import type { EncryptedMultipartUpload } from '@encrypted-stream/s3';

/** The parts of a `size`-byte file cut into `partSize` parts: numbers 1…count. */
export function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

export interface PartHooks {
  /** Called when a part's upload begins. */
  onStart?(partNumber: number): void;
  /** Called when a part's UploadPart returned. */
  onDone?(partNumber: number, etag: string | undefined): void;
}

/**
 * Uploads every part S3 does not list yet (ListParts is the truth: a part
 * recorded nowhere but stored by S3 before a crash is not sent again), `concurrency`
 * at a time, each read from the file into memory (so the SDK can retry it).
 * Returns the part numbers it uploaded.
 */
export async function uploadMissingParts(
  mpu: EncryptedMultipartUpload,
  file: { path: string; size: number },
  concurrency: number,
  hooks: PartHooks = {},
): Promise<number[]> {
  const count = partCount(file.size, mpu.partSize);
  const listed = new Set((await mpu.listParts()).map((p) => p.PartNumber));
  const missing: number[] = [];
  for (let n = 1; n <= count; n++) if (!listed.has(n)) missing.push(n);
  const handle = await open(file.path, 'r');
  try {
    const queue = [...missing];
    const worker = async () => {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
        const start = (n - 1) * mpu.partSize;
        const length = Math.min(mpu.partSize, file.size - start);
        const body = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(body, 0, length, start);
        if (bytesRead !== length) throw new Error(`short read of part ${n}: ${bytesRead} of ${length} bytes`);
        hooks.onStart?.(n);
        const out = await mpu.uploadPart(n, body, { isLastPart: n === count });
        hooks.onDone?.(n, out.ETag);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, missing.length) }, worker));
  } finally {
    await handle.close();
  }
  return missing;
}
