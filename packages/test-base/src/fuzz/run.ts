/**
 * Shared machinery of the fuzz tests: run budgets, the per-input time bound,
 * the error contracts, allocation and memory tracking, and input counting.
 *
 * Budget: `FUZZ_RUNS` is the approximate total number of generated inputs of the
 * whole fuzz suite (default {@link DEFAULT_TOTAL_RUNS}); every target gets its
 * share of {@link SHARES}. `FUZZ_SEED` replays a run (fast-check prints the seed
 * of a failure). `FUZZ_INCLUDE_KNOWN_BUGS=1` lets the generators of the main
 * contract properties produce the inputs of the bugs pinned by the `BUG:` tests.
 */

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { Expectation } from './format-oracle';

// ---------------------------------------------------------------------------
// Figures

/** Where the runner's figures go (runs and outcomes per target, totals per file). */
export type FigureSink = (section: string, name: string, value: string | number | boolean) => void;

let figureSink: FigureSink = () => {};

/**
 * Sends this test file's figures to `sink` (the reliability suite records them for its
 * summary); without a sink they are dropped.
 */
export function setFigureSink(sink: FigureSink): void {
  figureSink = sink;
}

function recordFigure(section: string, name: string, value: string | number | boolean): void {
  figureSink(section, name, value);
}

// ---------------------------------------------------------------------------
// Errors of the code under test

/** An encrypted-stream error: its class is, or derives from, `EncryptedStreamError` (found by name: no import of the codec). */
type EncryptedStreamError = Error & { readonly code: string };

function isEncryptedStreamError(error: unknown): error is EncryptedStreamError {
  if (!(error instanceof Error)) return false;
  for (let proto = Object.getPrototypeOf(error); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'EncryptedStreamError')
      return typeof (error as { code?: unknown }).code === 'string';
  }
  return false;
}

/** Default total of generated inputs over every fuzz target. */
export const DEFAULT_TOTAL_RUNS = 105_000;

const totalRuns = (() => {
  const raw = process.env.FUZZ_RUNS;
  if (raw === undefined || raw === '') return DEFAULT_TOTAL_RUNS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`FUZZ_RUNS must be a positive integer, got ${raw}`);
  return n;
})();

/** Fixed seed from FUZZ_SEED, else fast-check's own (printed on failure). */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

/** Whether the main properties may generate inputs of already-reported bugs. */
export const INCLUDE_KNOWN_BUGS = process.env.FUZZ_INCLUDE_KNOWN_BUGS === '1';

/**
 * Share of the total budget per target (they sum to 1). Cheap parsers get many
 * inputs; decoders that run real decryption fewer. The `BUG:` properties are not
 * in the budget: they fail on their first counterexample (see {@link BUG_RUNS}).
 */
export const SHARES = {
  parseStreamHeader: 0.15,
  decodeHeader: 0.13,
  decodeHeaderLarge: 0.002,
  fromDetachedHeader: 0.1,
  readEncryptionHeader: 0.056,
  parseRange: 0.1,
  parseContentRange: 0.09,
  rangeLarge: 0.002,
  resumeToken: 0.04,
  keyringFromJSON: 0.06,
  keyringRoundTrip: 0.01,
  decryptBody: 0.09,
  chunkDecoderRandom: 0.04,
  decryptStream: 0.05,
  openEncryptedFile: 0.01,
  decryptStreamRandom: 0.03,
  decryptingWriter: 0.01,
  decryptRange: 0.03,
} as const;

/** Runs of the properties that pin a reported bug (they stop at the first counterexample). */
export const BUG_RUNS = 300;

/** Runs of one target under the current budget (at least 10). */
export function runsFor(target: keyof typeof SHARES): number {
  return Math.max(10, Math.round(SHARES[target] * totalRuns));
}

/** Wall-clock bound per input: decoders must answer (or fail) within it. */
export const INPUT_TIME_LIMIT_MS = 2000;

// ---------------------------------------------------------------------------
// Error contracts

/** RangeErrors the engine throws (stack, allocation, DataView bounds): never part of a contract. */
const ENGINE_RANGE_ERROR =
  /Maximum call stack|Invalid (typed )?array length|Invalid string length|Array buffer allocation failed|out of memory|outside the bounds|out of bounds|Invalid DataView|Invalid time value/i;

/** TypeErrors from touching undefined/null, i.e. crashes, never part of a contract. */
const ENGINE_TYPE_ERROR =
  /Cannot read properties of|Cannot set properties of|Cannot destructure|is not a function|is not iterable|Cannot convert undefined or null|is not a constructor/;

/**
 * What a target may throw for a given input. Anything else is a contract violation:
 * engine errors (stack overflow, bad allocation, property of undefined), plain
 * Errors, EncryptedStreamErrors with codes outside `codes`.
 */
export interface Contract {
  /** Allowed `EncryptedStreamError` codes. */
  readonly codes?: readonly string[];
  /** Whether a (non-engine) RangeError is the contract for this input. */
  readonly rangeError?: boolean;
  /** Whether a (non-engine) TypeError is the contract for this input. */
  readonly typeError?: boolean;
}

/** Short description of an error for messages. */
export function describeError(error: unknown): string {
  if (isEncryptedStreamError(error)) return `${error.name}(${error.code}): ${error.message}`;
  if (error instanceof Error) return `${error.constructor.name}: ${error.message}`;
  return `non-error thrown: ${String(error)}`;
}

/** Throws a descriptive Error unless `error` is allowed by `contract`. */
export function assertContractError(error: unknown, contract: Contract, what: string): void {
  if (isEncryptedStreamError(error)) {
    if (contract.codes?.includes(error.code)) return;
    throw new Error(`${what}: unexpected code ${describeError(error)} (allowed: ${contract.codes?.join(', ') || '—'})`);
  }
  if (error instanceof RangeError && contract.rangeError && !ENGINE_RANGE_ERROR.test(error.message)) return;
  if (error instanceof TypeError && contract.typeError && !ENGINE_TYPE_ERROR.test(error.message)) return;
  throw new Error(`${what}: contract violation: ${describeError(error)}\n${(error as Error)?.stack ?? ''}`);
}

/** The outcome of running a target: its value or the error it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs a synchronous target, catching its error (and counting the outcome, see {@link note}). */
export function attempt<T>(fn: () => T): Outcome<T> {
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: fn() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  note(outcome);
  return outcome;
}

/**
 * Checks an outcome against what the FORMAT.md oracle expects: the value when the input is valid;
 * else it must have failed with one of the expected codes.
 */
export function expectMatches<T>(outcome: Outcome<T>, expected: Expectation<unknown>, what: string): T | undefined {
  if (expected.ok) {
    if (!outcome.ok) throw new Error(`${what}: a valid input was refused: ${String(outcome.error)}`);
    return outcome.value;
  }
  if (outcome.ok) throw new Error(`${what}: accepted an input FORMAT.md rejects (${[...expected.codes].join('/')})`);
  assertContractError(outcome.error, { codes: [...expected.codes] }, what);
  return undefined;
}

/** Runs an async target under {@link INPUT_TIME_LIMIT_MS}; a hang becomes a thrown Error (not an outcome). */
export async function attemptAsync<T>(fn: () => Promise<T>, limitMs = INPUT_TIME_LIMIT_MS): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HangError(limitMs)), limitMs);
  });
  try {
    const outcome: Outcome<T> = { ok: true, value: await Promise.race([fn(), hang]) };
    note(outcome);
    return outcome;
  } catch (error) {
    if (error instanceof HangError) throw error;
    note({ ok: false, error });
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

class HangError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms: the decoder hangs`);
  }
}

// ---------------------------------------------------------------------------
// Memory

let gcFunction: (() => void) | undefined;
/** A forced GC (V8's, exposed at run time), so memory baselines are comparable. */
export function gc(): void {
  if (!gcFunction) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** `process.memoryUsage().arrayBuffers`, in bytes. */
export const arrayBuffers = (): number => process.memoryUsage().arrayBuffers;

/**
 * `arrayBuffers` once garbage is really gone: V8 frees ArrayBuffer backing stores
 * lazily (after a GC, on a later task), so collect a few times, yielding between
 * collections, and take the lowest reading.
 */
export async function settledArrayBuffers(): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    lowest = Math.min(lowest, arrayBuffers());
  }
  return lowest;
}

/**
 * Counts the largest typed array / ArrayBuffer constructed by length while `fn`
 * runs, by swapping the global constructors for counting proxies (module code
 * resolves `Uint8Array` on the global at call time). Catches allocations sized by
 * a length field before the field was checked.
 */
export function largestAllocation<T>(fn: () => T): { value: T | undefined; error: unknown; largest: number } {
  const g = globalThis as unknown as Record<string, unknown>;
  const originals = { Uint8Array: g.Uint8Array, ArrayBuffer: g.ArrayBuffer };
  let largest = 0;
  const counting = (ctor: unknown) =>
    new Proxy(ctor as new (...args: unknown[]) => object, {
      construct(target, args, newTarget) {
        if (typeof args[0] === 'number') largest = Math.max(largest, args[0]);
        return Reflect.construct(target, args, newTarget);
      },
    });
  g.Uint8Array = counting(originals.Uint8Array);
  g.ArrayBuffer = counting(originals.ArrayBuffer);
  try {
    return { value: fn(), error: undefined, largest };
  } catch (error) {
    return { value: undefined, error, largest };
  } finally {
    g.Uint8Array = originals.Uint8Array;
    g.ArrayBuffer = originals.ArrayBuffer;
  }
}

// ---------------------------------------------------------------------------
// Running a target

/** Outcomes seen per target (what the inputs reached), recorded as a figure per target. */
const tallies = new Map<string, Map<string, number>>();
let currentTarget = '';

/** Counts an outcome of the running target: 'ok', an error code, or an error class. */
export function note(outcome: Outcome<unknown> | string): void {
  let label: string;
  if (typeof outcome === 'string') label = outcome;
  else if (outcome.ok) label = outcome.value === undefined ? 'undefined' : 'ok';
  else if (isEncryptedStreamError(outcome.error)) label = outcome.error.code;
  else label = (outcome.error as Error)?.constructor?.name ?? 'thrown';
  const tally = tallies.get(currentTarget) ?? new Map<string, number>();
  tally.set(label, (tally.get(label) ?? 0) + 1);
  tallies.set(currentTarget, tally);
}

/** Totals of one test file, recorded by {@link recordFileTotals}. */
const fileTotals = { inputs: 0, peakGrowth: 0, seconds: 0 };

/** Budget for `arrayBuffers` growth while a target runs (peak over the baseline). */
export const ARRAY_BUFFER_PEAK_LIMIT = 64 * 2 ** 20;
/** Budget for `arrayBuffers` retained after a target ran (after GC). */
export const ARRAY_BUFFER_RETAINED_LIMIT = 8 * 2 ** 20;

/**
 * Runs `check` on `runs` inputs of `arbitrary` (sync or async check), counting
 * every call (shrinking included), bounding each input's time, and sampling
 * `arrayBuffers` so that a length field cannot make the decoder allocate without
 * bound. Records the target's runs as a figure.
 */
export async function fuzz<T>(
  target: string,
  arbitrary: fc.Arbitrary<T>,
  check: (input: T) => void | Promise<void>,
  options: { runs: number; timeLimitMs?: number; peakLimit?: number },
): Promise<void> {
  const limit = options.timeLimitMs ?? INPUT_TIME_LIMIT_MS;
  let calls = 0;
  const baseline = await settledArrayBuffers();
  let peak = baseline;
  const started = Date.now();
  currentTarget = target;
  const property = fc.asyncProperty(arbitrary, async (input) => {
    calls++;
    if ((calls & 127) === 0) peak = Math.max(peak, arrayBuffers());
    const t0 = performance.now();
    const pending = check(input);
    if (pending instanceof Promise) {
      // An async decoder that never settles is a hang: bounded by a timer.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          pending,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new HangError(limit)), limit);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    }
    // A synchronous decoder cannot be interrupted: its time is measured instead.
    const elapsed = performance.now() - t0;
    if (elapsed > limit) throw new Error(`${target}: one input took ${elapsed.toFixed(0)} ms (limit ${limit} ms)`);
  });
  try {
    await fc.assert(property, { numRuns: options.runs, ...(FUZZ_SEED !== undefined ? { seed: FUZZ_SEED } : {}) });
  } finally {
    const seconds = (Date.now() - started) / 1000;
    peak = Math.max(peak, arrayBuffers());
    fileTotals.inputs += calls;
    fileTotals.seconds += seconds;
    fileTotals.peakGrowth = Math.max(fileTotals.peakGrowth, peak - baseline);
    recordFigure('fuzz', `${target}: runs`, calls);
    const tally = tallies.get(target);
    if (tally) {
      const text = [...tally].sort((a, b) => b[1] - a[1]).map(([label, n]) => `${label} ${n}`);
      recordFigure('fuzz', `${target}: outcomes`, text.join(', '));
    }
  }
  expect(peak - baseline).toBeLessThan(options.peakLimit ?? ARRAY_BUFFER_PEAK_LIMIT);
  const retained = (await settledArrayBuffers()) - baseline;
  recordFigure('fuzz', `${target}: arrayBuffers retained MiB`, Math.round((retained / 2 ** 20) * 10) / 10);
  expect(retained).toBeLessThan(ARRAY_BUFFER_RETAINED_LIMIT);
}

/**
 * Records this file's totals: `fuzz`/`inputs` (the summary sums these over the
 * files), and the largest `arrayBuffers` growth seen. Call from afterAll.
 */
export function recordFileTotals(file: string): void {
  recordFigure('fuzz', 'inputs', fileTotals.inputs);
  recordFigure('fuzz', `${file}: generated`, fileTotals.inputs);
  recordFigure('fuzz', `${file}: seconds`, Math.round(fileTotals.seconds * 10) / 10);
  recordFigure(
    'fuzz',
    `${file}: peak arrayBuffers growth MiB`,
    Math.round((fileTotals.peakGrowth / 2 ** 20) * 10) / 10,
  );
}

// ---------------------------------------------------------------------------
// Small byte helpers

/** Byte equality. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Concatenation. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}

/** Cuts `bytes` into pieces of the given lengths (cycled; zero-length pieces included), as views. */
export function slices(bytes: Uint8Array, lengths: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (lengths.length === 0) return bytes.length > 0 ? [bytes] : [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = lengths[i % lengths.length] as number;
    out.push(bytes.subarray(at, at + n));
    at += n;
    if (i > bytes.length + lengths.length) break; // all zero lengths
  }
  if (at < bytes.length) out.push(bytes.subarray(at));
  return out;
}

/** Piece lengths for {@link slices}: mostly small, some large, some empty. */
export const pieceLengths = (): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 9000 })), {
    minLength: 0,
    maxLength: 12,
  });

/** An async iterable over pieces (what a network body looks like). */
export async function* asyncPieces(pieces: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of pieces) yield p;
}
