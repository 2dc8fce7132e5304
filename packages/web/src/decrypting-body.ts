import type { RangeDecoder } from '@encrypted-stream/codec/low-level';

/**
 * The plaintext stream of a ranged ciphertext GET: each piece of `source` is
 * pushed through `decoder`, which releases a chunk's plaintext only after its
 * tag verified (and holds a range's last piece until the final chunk did,
 * when the range reaches the end). A failed chunk, a cut or an overlong body
 * errors the stream — the media element sees a network error, never
 * unauthenticated bytes — and cancels the S3 response. Pull-driven: nothing
 * is fetched or decrypted ahead of what the reader takes.
 * @public
 */
export function decryptingBody(
  source: ReadableStream<Uint8Array>,
  decoder: RangeDecoder,
  onError?: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const { done, value } = await reader.read();
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
