import type { FileHandle } from 'node:fs/promises';

/**
 * A plaintext source that can be read at any offset.
 * @public
 */
export interface RandomAccessSource {
  /** Total bytes. */
  readonly size: number;
  /** Reads up to `length` bytes at `offset` (fewer only at the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A {@link RandomAccessSource} over a buffer (not copied). @public */
export function bufferSource(buffer: Uint8Array): RandomAccessSource {
  if (!(buffer instanceof Uint8Array)) throw new TypeError('buffer must be a Uint8Array');
  return {
    size: buffer.length,
    read: async (offset, length) => buffer.subarray(offset, offset + length),
  };
}

/** A {@link RandomAccessSource} over an open file; its size is taken now. @public */
export async function fileSource(handle: FileHandle): Promise<RandomAccessSource> {
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      const out = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(out, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return out.subarray(0, filled);
    },
  };
}
