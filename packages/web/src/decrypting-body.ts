import type { RangeDecoder } from '@encrypted-stream/codec/low-level';
import { EncryptedMediaError, WebErrorCode } from './errors';

/**
 * The plaintext stream of a ranged ciphertext GET: each piece of `source` is
 * pushed through `decoder`, which releases a chunk's plaintext only after its
 * tag verified (and holds a range's last piece until the final chunk did,
 * when the range reaches the end). A failed chunk, a cut, or a body longer
 * than `cipherLength` (the ciphertext bytes asked for; `ES_S3_FAILED`,
 * checked before the piece that runs over is decrypted) errors the stream — the media element sees a network error, never
 * unauthenticated bytes — and cancels the S3 response. Pull-driven: nothing
 * is fetched or decrypted ahead of what the reader takes.
 * @public
 */
export function decryptingBody(
  source: ReadableStream<Uint8Array>,
  decoder: RangeDecoder,
  onError?: (error: unknown) => void,
  cipherLength?: number,
): ReadableStream<Uint8Array> {
  if (cipherLength !== undefined && (!Number.isSafeInteger(cipherLength) || cipherLength < 0)) {
    throw new RangeError('cipherLength must be a non-negative safe integer');
  }
  const reader = source.getReader();
  let cancelled = false;
  let received = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (!done && cipherLength !== undefined) {
              received += value.length;
              // Checked before the piece is decrypted: nothing of a piece that runs over is released.
              if (received > cipherLength) {
                throw new EncryptedMediaError(WebErrorCode.S3_FAILED, 'S3 sent more bytes than the range asked for');
              }
            }
            const out = done ? decoder.finish() : decoder.push(value);
            for (const piece of out) controller.enqueue(piece);
            if (done) return controller.close();
            if (out.length > 0) return;
          }
        } catch (error) {
          // After the reader went away (a media element abandoning a range) an early end is expected, not a failure.
          if (!cancelled) onError?.(error);
          reader.cancel(error).catch(() => {});
          throw error; // errors the stream
        }
      },
      cancel(reason) {
        cancelled = true;
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
