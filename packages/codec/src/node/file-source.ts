import type { FileHandle } from 'node:fs/promises';
import type { RandomAccessSource } from '../io/random-access-source';
import { readFully } from './block-reader';

/** A {@link RandomAccessSource} over an open file; its size is taken now. @public */
export async function fileSource(handle: FileHandle): Promise<RandomAccessSource> {
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      return readFully(handle, Buffer.allocUnsafe(length), offset);
    },
  };
}
