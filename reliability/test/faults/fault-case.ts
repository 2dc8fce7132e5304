import type { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import type { EncryptionOptions } from '@encrypted-stream/s3';
import { consume, encryptedClient, type FaultProxy, recordFigure, seededBytes, startFaultProxy } from '../helpers';

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

/** A fault proxy and the encrypting clients that go through it (see useFaultProxy). */
export interface ProxiedClients {
  readonly proxy: FaultProxy;
  /** Retries (maxAttempts 3). */
  readonly client: S3Client;
  /** Retries (maxAttempts 3) and gives up on a socket idle for 1 s. */
  readonly timeoutClient: S3Client;
}

/**
 * A fault proxy for one describe block, with clients encrypting with `options` through it:
 * started in beforeAll, closed in afterAll. Read the fields inside tests.
 */
export function useFaultProxy(options: EncryptionOptions): ProxiedClients {
  const state = {} as { proxy: FaultProxy; client: S3Client; timeoutClient: S3Client };
  beforeAll(async () => {
    state.proxy = await startFaultProxy();
    const through = { endpoint: state.proxy.endpoint, maxAttempts: 3 };
    state.client = encryptedClient(options, through).client;
    state.timeoutClient = encryptedClient(options, { ...through, requestHandler: { socketTimeout: 1000 } }).client;
  });
  afterAll(async () => {
    state.client?.destroy();
    state.timeoutClient?.destroy();
    await state.proxy?.close();
  });
  return state;
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
