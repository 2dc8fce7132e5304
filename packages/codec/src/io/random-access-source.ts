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
