import { ErrorCode, FormatError } from '../format/errors';

/**
 * Drops `skip` bytes, then passes on exactly `length` bytes of `pieces`; an
 * input that runs out first is ES_TRUNCATED (never a silently short range).
 * @public
 */
export async function* trimRange(
  pieces: AsyncIterable<Uint8Array>,
  skip: number,
  length: number,
): AsyncGenerator<Uint8Array> {
  let toSkip = skip;
  let left = length;
  for await (let piece of pieces) {
    if (toSkip > 0) {
      const n = Math.min(toSkip, piece.length);
      piece = piece.subarray(n);
      toSkip -= n;
    }
    if (left > 0 && piece.length > 0) {
      const out = piece.length > left ? piece.subarray(0, left) : piece;
      left -= out.length;
      yield out;
    }
  }
  // The loop above drains the input so that trailing chunks still authenticate.
  if (left > 0) throw new FormatError(ErrorCode.TRUNCATED, `the range ended ${left} bytes short`);
}
