import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type FileWriter, writeAtomically } from '@encrypted-stream/codec/node';

/**
 * Writes `pieces` to `path` (or stdout for `-`): atomically, see
 * {@link writeAtomically}; the file appears under its name only once every
 * byte was written and synced — and, since decryption releases only
 * authenticated chunks and throws on truncation, only once every byte
 * authenticated. On failure nothing appears under the final name.
 *
 * The pieces must not be modified once yielded (they are written without copying).
 */
export async function writeOutput(path: string, pieces: AsyncIterable<Uint8Array>, stdout: Writable): Promise<void> {
  if (path === '-') {
    await pipeline(pieces, stdout, { end: false });
    return;
  }
  await writeAtomically(path, (writer) => writeGathered(writer, pieces));
}

/** Bytes gathered per hand-over to the writer: a few calls per MiB rather than three per chunk (nonce, body, tag). */
const GATHER_BYTES = 1024 * 1024;
/** Pieces gathered at most (a `writev` takes up to IOV_MAX = 1024; libuv splits longer lists). */
const GATHER_PIECES = 1024;

/**
 * Hands `pieces` to `writer` in gathered lists of about {@link GATHER_BYTES}
 * (written with `writev`, never joined into a copy), pulling the next pieces
 * while earlier writes are still in flight.
 */
export async function writeGathered(writer: FileWriter, pieces: AsyncIterable<Uint8Array>): Promise<void> {
  let batch: Uint8Array[] = [];
  let size = 0;
  for await (const piece of pieces) {
    if (piece.length === 0) continue;
    batch.push(piece);
    size += piece.length;
    if (size >= GATHER_BYTES || batch.length >= GATHER_PIECES) {
      await writer.write(batch);
      batch = [];
      size = 0;
    }
  }
  if (size > 0) await writer.write(batch);
}
