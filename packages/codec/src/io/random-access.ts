import type { StreamCipher } from '../crypto/stream-cipher';
import { ErrorCode, FormatError } from '../format/errors';
import { plaintextSize, planRange } from '../format/geometry';
import { decryptBody } from './decrypt';
import type { ByteSource } from './sources';

/**
 * Reads body bytes `[start, end)` (end exclusive) from wherever the
 * chunked body lives: a file, an HTTP range request, a buffer.
 * @public
 */
export type BodyReader = (start: number, end: number) => Promise<ByteSource> | ByteSource;

/**
 * The plaintext size of a chunked body of `bodySize` bytes, checked against
 * the size recorded in the header (ES_SIZE_MISMATCH when they disagree).
 * @public
 */
export function verifiedPlaintextSize(cipher: StreamCipher, bodySize: number): number {
  const size = plaintextSize(bodySize, cipher.chunkSize);
  const recorded = cipher.header.stream.plaintextSize;
  if (recorded !== undefined && recorded !== size) {
    throw new FormatError(ErrorCode.SIZE_MISMATCH, `body holds ${size} bytes, header records ${recorded}`);
  }
  return size;
}

/**
 * Random-access decryption: yields exactly plaintext bytes `[start, end)`
 * (clamped to the stream's size), reading only the chunks that hold them, in
 * one call to `read`, each chunk authenticated before any of its bytes is released.
 * @public
 */
export async function* decryptRange(
  cipher: StreamCipher,
  read: BodyReader,
  bodySize: number,
  start: number,
  end: number,
): AsyncGenerator<Uint8Array> {
  const total = verifiedPlaintextSize(cipher, bodySize);
  if (!Number.isSafeInteger(start) || start < 0 || start > total) {
    throw new RangeError(`range start ${start} is outside the ${total}-byte plaintext`);
  }
  const plan = planRange(start, Math.min(Math.max(end, start), total), cipher.chunkSize, total);
  const cipherEnd = Math.min(plan.cipherEnd, bodySize);
  const body = await read(plan.cipherStart, cipherEnd);
  yield* decryptBody(cipher, body, {
    firstChunk: plan.firstChunk,
    plaintextSize: total,
    expectFinal: cipherEnd === bodySize,
    skip: plan.skip,
    length: plan.length,
  });
}
