/**
 * Inputs for fuzzing what parses a stream's header, shared by the codec's header fuzz test and the s3
 * package's metadata fuzz test: a corpus of real headers, and detached strings derived from them.
 * The codec's functions are passed in (this package imports nothing from the workspace).
 */
import fc from 'fast-check';
import { mutateString, stringMutation } from './mutations';

/** The three detached strings of a header (the codec's `DetachedHeader`). */
export interface DetachedStrings {
  readonly h: string;
  readonly k: string;
  readonly w: string;
}

/** Detached strings as an input may hold them: any value of any type, or absent. */
export type Detached = { h?: unknown; k?: unknown; w?: unknown };

/** How a test makes headers with the codec under test (its own sources, or its public entries). */
export interface HeaderMaker<H> {
  /** A real header: a new stream of a one-key keyring (`keyId` → `masterKey`) with these options. */
  create(options: {
    keyId: string;
    masterKey: Uint8Array;
    chunkSize: number;
    plaintextSize: number | undefined;
    context: Record<string, string> | undefined;
  }): Promise<H>;
  /** The header's 96 stream-header bytes. */
  streamBytes(header: H): Uint8Array;
  /** A header with `streamBytes` and this key block. */
  withKeyBlock(streamBytes: Uint8Array, keyId: string, wrappedKey: Uint8Array): H;
}

/**
 * Real headers (several chunk sizes, recorded sizes, contexts and key ids), and synthetic headers whose
 * key blocks span the whole allowed range (ids of 1…200 characters, wrapped keys of 1…1024 bytes).
 */
export async function headerCorpus<H>(maker: HeaderMaker<H>): Promise<{ headers: H[]; wideHeaders: H[] }> {
  const headers: H[] = [];
  const wideHeaders: H[] = [];
  const ids = ['k', 'key-1', 'a'.repeat(200), '!~', 'prod/2024-01/primary'];
  for (const [i, keyId] of ids.entries()) {
    const masterKey = new Uint8Array(32).fill(i + 1);
    for (const chunkSize of [4096, 65536, 16 * 2 ** 20]) {
      for (const plaintextSize of [undefined, 0, 1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
        const context = i % 2 ? { bucket: 'b', key: `k${i}` } : undefined;
        headers.push(await maker.create({ keyId, masterKey, chunkSize, plaintextSize, context }));
      }
    }
  }
  const rnd = fc.sample(
    fc.record({
      id: fc.string({
        unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
        minLength: 1,
        maxLength: 200,
      }),
      wrapped: fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 189 }),
        fc.uint8Array({ minLength: 190, maxLength: 1024 }),
      ),
    }),
    { numRuns: 60, seed: 7 },
  );
  for (const [i, { id, wrapped }] of rnd.entries()) {
    wideHeaders.push(maker.withKeyBlock(maker.streamBytes(headers[i % headers.length] as H), id, wrapped));
  }
  return { headers, wideHeaders };
}

/** A value in place of a detached string: the original, a mutation of it, another type, or absent. */
export function detachedValue(original: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(original) },
    {
      weight: 6,
      arbitrary: fc.array(stringMutation(), { minLength: 1, maxLength: 3 }).map((m) => mutateString(original, m)),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null, 42, true, {}, [], ['x'], original.repeat(3)) },
  );
}

/**
 * Detached strings of a header of `headers` or of `wideHeaders` (the detached forms of the corpus; read
 * when inputs are generated, so they may be filled in a beforeAll), each possibly replaced or dropped.
 * Only wide headers whose wrapped key fits a detached header (≤ 189 bytes) belong in `wideHeaders`.
 */
export function detachedInput(
  headers: readonly DetachedStrings[],
  wideHeaders: readonly DetachedStrings[],
): fc.Arbitrary<Detached> {
  return fc.record({ i: fc.nat(), wide: fc.boolean() }).chain(({ i, wide }) => {
    const list = wide ? wideHeaders : headers;
    const d = list[i % list.length] as DetachedStrings;
    return fc.record({ h: detachedValue(d.h), k: detachedValue(d.k), w: detachedValue(d.w) }, { requiredKeys: [] });
  });
}
