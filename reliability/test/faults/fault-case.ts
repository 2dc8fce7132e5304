import { DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec';
import { consume, type FaultProxy, recordFigure, seededBytes } from '../helpers';

/**
 * A fault case: a jest test whose outcome is recorded as a figure
 * (`faults`, name, 'survived' | 'failed'), with the faults the proxy injected
 * during it added to `faults injected`.
 */
export function faultCase(name: string, proxy: () => FaultProxy, fn: () => Promise<void>, timeout = 60_000): void {
  it(
    name,
    async () => {
      const before = proxy().faultsInjected;
      try {
        await fn();
        recordFigure('faults', name, 'survived');
      } catch (error) {
        recordFigure('faults', name, 'failed');
        throw error;
      } finally {
        recordFigure('faults', 'faults injected', proxy().faultsInjected - before);
        proxy().reset();
      }
    },
    timeout,
  );
}

/** What a read delivered before it ended. */
export interface ReadOutcome {
  /** Plaintext bytes delivered (all checked against the true plaintext). */
  readonly delivered: number;
  /** Delivered bytes that differed from the true plaintext (must be 0). */
  readonly mismatches: number;
  /** The error the body ended in, or undefined if it ended normally. */
  readonly error: unknown;
}

/**
 * Consumes a decrypted body, checking every delivered byte against the seeded
 * plaintext from `start`, and reports how it ended (never throws for the body's own error).
 */
export async function readChecked(body: unknown, seed: string, start: number): Promise<ReadOutcome> {
  let delivered = 0;
  let mismatches = 0;
  let error: unknown;
  try {
    await consume(body, (piece) => {
      const want = seededBytes(seed, piece.length, start + delivered);
      if (!want.equals(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength))) mismatches++;
      delivered += piece.length;
    });
  } catch (e) {
    error = e;
  }
  if (process.env.FAULT_DEBUG) {
    console.log({
      delivered,
      mismatches,
      error: (error as Error)?.name,
      code: (error as { code?: string })?.code,
      msg: (error as Error)?.message,
    });
  }
  return { delivered, mismatches, error };
}

/**
 * Asserts a read that was cut ended in an error, and that what it delivered
 * before the error is an authenticated prefix of the true plaintext ending on a
 * chunk boundary (plaintext offset `start + delivered` is a multiple of the chunk size).
 */
export function expectErrorAfterAuthenticatedPrefix(
  outcome: ReadOutcome,
  start: number,
  wanted: number,
  chunkSize = DEFAULT_CHUNK_SIZE,
): void {
  expect(outcome.error).toBeDefined();
  expect(outcome.mismatches).toBe(0);
  expect(outcome.delivered).toBeLessThan(wanted);
  if (outcome.delivered > 0) expect((start + outcome.delivered) % chunkSize).toBe(0);
}

/** `work`, or a rejection saying `what` did not finish within `ms`. */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
