import type { PositionalFile } from './positional-file';

/** Input bytes per read by default: per-block costs vanish, and two blocks stay small. */
export const DEFAULT_READ_SIZE = 4 * 1024 * 1024;

/** `size` rounded to a whole number of `unit`s (chunks, or chunks with their overhead), at least one. */
export const wholeUnits = (size: number, unit: number): number => Math.max(1, Math.round(size / unit)) * unit;

/**
 * Reads a file from `start` to its end in blocks of exactly `blockSize` bytes
 * (the last one shorter; empty blocks are not yielded), with the next
 * block's read already in flight while the caller works on the current one.
 *
 * Two buffers are used in turn, so a yielded block is valid only until the
 * caller asks for the next one: anything kept longer must be copied. A block
 * shorter than `blockSize` is the last one: nothing is read after it, so it
 * stays valid until the generator ends.
 */
export async function* readBlocks(
  file: Pick<PositionalFile, 'read'>,
  blockSize: number,
  start = 0,
): AsyncGenerator<Uint8Array> {
  const buffers = [Buffer.allocUnsafe(blockSize), Buffer.allocUnsafe(blockSize)] as const;
  let position = start;
  let pending: Promise<Uint8Array> | undefined = prefetch(file, buffers[0], position);
  try {
    for (let turn = 1; pending !== undefined; turn ^= 1) {
      const block = await pending;
      pending = undefined;
      if (block.length === 0) return;
      position += block.length;
      // The other buffer held the block yielded last time, which the caller is done with.
      if (block.length === blockSize) pending = prefetch(file, buffers[turn] as Buffer, position);
      yield block;
    }
  } finally {
    // Stopped early (an error downstream): let the read in flight land before the file is closed.
    await pending?.catch(() => {});
  }
}

/** {@link readFully}, its failure marked handled until the generator awaits it (the caller may be busy elsewhere). */
function prefetch(file: Pick<PositionalFile, 'read'>, buffer: Buffer, position: number): Promise<Uint8Array> {
  const read = readFully(file, buffer, position);
  read.catch(() => {});
  return read;
}

/**
 * Reads into all of `buffer` from `position`, stopping early only at the end
 * of the file: the one loop over positioned reads, which may return fewer bytes.
 * @public
 */
export async function readFully(
  file: Pick<PositionalFile, 'read'>,
  buffer: Uint8Array,
  position: number,
): Promise<Uint8Array> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
