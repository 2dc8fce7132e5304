import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * An input, opened: a regular file as a handle (for the block pipelines of
 * file-encrypt.ts / file-decrypt.ts), or stdin, a pipe or a device as a
 * stream, with its size when that is known (regular files only).
 */
export type Input = { handle: FileHandle; size: number } | { stream: AsyncIterable<Uint8Array>; size?: number };

/** Read size of the stream path: 1 MiB pieces, fewer trips through the decoders. */
const STREAM_PIECE = 1024 * 1024;

/**
 * Opens `path` (`-`: `stdin`). A regular file comes as a handle only with
 * `wantHandle` (the block pipelines write files; stdout takes the stream path).
 */
export async function openInput(path: string, stdin: Readable, wantHandle: boolean): Promise<Input> {
  if (path === '-') return { stream: stdin };
  const info = await stat(path); // before open(): opening a FIFO would wait for a writer
  // A pipe or device has no size to record (stat says 0).
  if (!info.isFile()) return { stream: createReadStream(path, { highWaterMark: STREAM_PIECE }) };
  if (!wantHandle) return { stream: createReadStream(path, { highWaterMark: STREAM_PIECE }), size: info.size };
  const handle = await open(path, 'r');
  try {
    return { handle, size: (await handle.stat()).size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Closes the input's file handle, if it has one (streams close themselves). */
export async function closeInput(input: Input): Promise<void> {
  if ('handle' in input) await input.handle.close();
}
