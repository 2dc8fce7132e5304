import type { FileHandle } from 'node:fs/promises';
import type { RandomAccessSource } from '../io/random-access-source';

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
