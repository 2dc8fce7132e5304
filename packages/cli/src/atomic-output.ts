import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Writes `pieces` to `path` (or stdout for `-`): into a hidden temporary file
 * beside it, renamed into place only once every byte was written — and, since
 * decryption releases only authenticated chunks and throws on truncation, only
 * once every byte authenticated. On failure the temporary file is removed and
 * nothing appears under the final name.
 */
export async function writeOutput(path: string, pieces: AsyncIterable<Uint8Array>, stdout: Writable): Promise<void> {
  if (path === '-') {
    await pipeline(pieces, stdout, { end: false });
    return;
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
  const file: WriteStream = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  try {
    await pipeline(coalesce(pieces), file);
    const handle = await open(temp, 'r+');
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

/** Bytes gathered per file write: one syscall per MiB instead of three per chunk (nonce, body, tag). */
const WRITE_SIZE = 1024 * 1024;

/** Joins small pieces into writes of about {@link WRITE_SIZE} bytes. */
async function* coalesce(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let batch: Uint8Array[] = [];
  let size = 0;
  for await (const piece of pieces) {
    batch.push(piece);
    size += piece.length;
    if (size >= WRITE_SIZE) {
      yield Buffer.concat(batch, size);
      batch = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(batch, size);
}
