/**
 * Fuzzing of the chunk decoders with mutated and random ciphertext, fed in
 * random slices: `decryptBody` (detached bodies and runs of chunks, with random
 * `plaintextSize` / `firstChunk` / `expectFinal` options), `ChunkDecoder`
 * (push/finish), `decryptStream` (self-contained streams, header included),
 * `DecryptingWriter` (push-style) and `decryptRange` (random access).
 *
 * The property, for every decoder: a run either fails with one of the codes
 * listed below, or yields exactly the original plaintext (its slice), and then
 * the input was the original bytes (no-op mutation) — or, for a run that need
 * not end the stream (`expectFinal: false`, ranges), a chunk-aligned prefix of
 * them. Never a hang (each input is bounded in time), never another exception.
 *
 * Error contracts:
 * - `decryptBody` / `ChunkDecoder` (chunks only): ES_AUTH_FAILED, ES_TRUNCATED,
 *   ES_TRAILING_DATA. RangeError only for argument mistakes, at construction:
 *   `firstChunk` not a non-negative safe integer or past the final chunk that
 *   `plaintextSize` implies; `plaintextSize` not a non-negative safe integer.
 * - `decryptStream` / `DecryptingWriter` (header included): also ES_MALFORMED,
 *   ES_UNSUPPORTED_VERSION, ES_UNKNOWN_KEY, ES_KEY_UNWRAP_FAILED; and
 *   ES_CONTEXT_MISMATCH only when read under another context.
 * - `decryptRange`: the chunk codes and ES_SIZE_MISMATCH; RangeError when the
 *   start lies past the plaintext size the body implies.
 * - `openEncryptedFile` + `read(start, end)` (a self-contained file, random
 *   access): the stream codes and ES_SIZE_MISMATCH; RangeError as for `decryptRange`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  decryptRange,
  decryptStream,
  type EncryptionContext,
  LocalKeyring,
  openStreamCipher,
  type StreamCipher,
} from '@encrypted-stream/codec';
import {
  CHUNK_OVERHEAD,
  ChunkDecoder,
  type CryptoBackend,
  collectBytes,
  createStreamCipher,
  decryptBody,
  encodeHeader,
  encryptBody,
  getBackend,
} from '@encrypted-stream/codec/low-level';
import { DecryptingWriter, openEncryptedFile } from '@encrypted-stream/codec/node';
import {
  assertContractError,
  asyncPieces,
  attemptAsync,
  BUG_RUNS,
  type ByteMutation,
  byteMutations,
  concat,
  fuzz,
  mutateBytes,
  note,
  pieceLengths,
  recordFileTotals,
  runsFor,
  sameBytes,
  setFigureSink,
  slices,
} from '@encrypted-stream/test-base/fuzz';
import fc from 'fast-check';
import { recordFigure } from '../helpers';

setFigureSink(recordFigure);

const C = 4096;
const STRIDE = C + CHUNK_OVERHEAD;
const CHUNK_CODES = ['ES_AUTH_FAILED', 'ES_TRUNCATED', 'ES_TRAILING_DATA'];
const STREAM_CODES = [
  ...CHUNK_CODES,
  'ES_MALFORMED',
  'ES_UNSUPPORTED_VERSION',
  'ES_UNKNOWN_KEY',
  'ES_KEY_UNWRAP_FAILED',
];
const BOUND: EncryptionContext = { bucket: 'fuzz-bucket', key: 'fuzz/key' };

type BackendName = 'native' | 'libsodium';
const backends = {} as Record<BackendName, CryptoBackend>;
/** Holds both keys: objects under 'fuzz-old' unwrap too, so a swapped key id is ES_KEY_UNWRAP_FAILED. */
let keyring: LocalKeyring;

interface Fixture {
  readonly plaintext: Uint8Array;
  readonly body: Uint8Array; // detached: chunks only
  readonly stream: Uint8Array; // self-contained: header || key block || chunks
  readonly prefixLength: number;
  readonly context: EncryptionContext | undefined;
  readonly recorded: boolean;
  readonly ciphers: Record<BackendName, StreamCipher>; // opened from the header, per backend
}
const fixtures: Fixture[] = [];

const SIZES = [0, 1, 39, 40, 1000, C - 1, C, C + 1, 2 * C, 2 * C + 700, 3 * C + 17];

beforeAll(async () => {
  backends.native = await getBackend('native');
  backends.libsodium = await getBackend('libsodium');
  const old = LocalKeyring.single('fuzz-old', new Uint8Array(32).fill(3));
  keyring = new LocalKeyring({ 'fuzz-old': new Uint8Array(32).fill(3), fuzz: new Uint8Array(32).fill(9) }, 'fuzz');
  for (const [i, size] of SIZES.entries()) {
    for (const recorded of [true, false]) {
      const plaintext = new Uint8Array(size).map((_, j) => (j * 31 + i * 7 + (recorded ? 1 : 0)) & 0xff);
      const context = i % 3 === 0 ? BOUND : undefined;
      const cipher = await createStreamCipher({
        keyring: i % 4 === 1 ? old : keyring,
        chunkSize: C,
        context,
        ...(recorded ? { plaintextSize: size } : {}),
      });
      const body = await collectBytes(encryptBody(cipher, plaintext));
      const prefix = encodeHeader(cipher.header);
      const ciphers = {} as Record<BackendName, StreamCipher>;
      for (const name of ['native', 'libsodium'] as const) {
        ciphers[name] = await openStreamCipher(cipher.header, { keyring, context, backend: backends[name] });
      }
      fixtures.push({
        plaintext,
        body,
        stream: concat([prefix, body]),
        prefixLength: prefix.length,
        context,
        recorded,
        ciphers,
      });
    }
  }
});

afterAll(() => recordFileTotals('chunks.test'));

/** Chunk boundaries of a body (± a few bytes are favoured by the mutations). */
function boundaries(bodyLength: number, offset = 0): number[] {
  const out = [offset];
  for (let at = STRIDE; at <= bodyLength + STRIDE; at += STRIDE)
    out.push(offset + at, offset + at - 16, offset + at - 40 + 24);
  out.push(offset + bodyLength);
  return out;
}

const fixtureIndex = fc.nat();
/** `arbitrary` with weight `some`, null with weight `none`. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, some: number, none: number): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: some, arbitrary }, { weight: none, arbitrary: fc.constant(null) });
}
const pick = (i: number) => fixtures[i % fixtures.length] as Fixture;
const backendName = fc.constantFrom<BackendName>('native', 'libsodium');
type SourceKind = 'async' | 'iterable' | 'web' | 'readable';
const sourceKind = fc.constantFrom<SourceKind>('async', 'async', 'iterable', 'web', 'readable');

function source(kind: SourceKind, pieces: Uint8Array[]) {
  switch (kind) {
    case 'async':
      return asyncPieces(pieces);
    case 'iterable':
      return pieces;
    case 'web':
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (const p of pieces) if (p.length > 0) controller.enqueue(p);
          controller.close();
        },
      });
    case 'readable':
      return Readable.from(pieces.filter((p) => p.length > 0).map((p) => Buffer.from(p)));
  }
}

/** Splices chunk `chunk` of another fixture's body into `bytes` at a chunk boundary (another stream's chunk). */
interface Splice {
  readonly donor: number;
  readonly chunk: number;
  readonly at: number;
  readonly replace: boolean;
}
/** Sometimes (1 in 6): a chunk of another stream spliced in. */
const splice = sometimes(
  fc.record({ donor: fc.nat(), chunk: fc.nat({ max: 3 }), at: fc.nat({ max: 4 }), replace: fc.boolean() }),
  1,
  5,
);
function applySplice(bytes: Uint8Array, s: Splice | null): Uint8Array {
  if (!s) return bytes;
  const donor = pick(s.donor).body;
  const start = Math.min(s.chunk * STRIDE, Math.max(0, donor.length - CHUNK_OVERHEAD));
  const piece = donor.subarray(start, start + STRIDE);
  const at = Math.min(s.at * STRIDE, bytes.length);
  return concat([bytes.subarray(0, at), piece, bytes.subarray(s.replace ? at + piece.length : at)]);
}

// ---------------------------------------------------------------------------

const bodyInput = fc.record({
  f: fixtureIndex,
  backend: backendName,
  kind: sourceKind,
  // A run of chunks [first, first + count) of the body (ranged reads), or all of it.
  run: sometimes(fc.record({ first: fc.nat({ max: 4 }), count: fc.nat({ max: 4 }) }), 1, 2),
  mutations: byteMutations(boundaries(3 * STRIDE + 57)),
  splice,
  pieces: pieceLengths(),
  plaintextSize: fc.oneof(
    { weight: 4, arbitrary: fc.constant('header' as const) },
    { weight: 2, arbitrary: fc.constant('omit' as const) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.oneof(fc.nat({ max: 5 * C }), fc.constantFrom(0, C - 1, C, Number.MAX_SAFE_INTEGER)) },
  ),
  expectFinal: fc.option(fc.boolean(), { freq: 2 }),
});

test('decryptBody: mutated bodies in random slices, random options → the original plaintext or a chunk error', async () => {
  await fuzz(
    'decryptBody',
    bodyInput,
    async (input) => {
      const fx = pick(input.f);
      const total = fx.body.length;
      const first = input.run ? Math.min(input.run.first, Math.floor(total / STRIDE)) : 0;
      const end = input.run ? Math.min(total, (first + input.run.count) * STRIDE) : total;
      const slice = fx.body.subarray(first * STRIDE, Math.max(end, first * STRIDE));
      const mutated = applySplice(mutateBytes(slice, input.mutations), input.splice);
      const options: { firstChunk?: number; plaintextSize?: number; expectFinal?: boolean } = {};
      if (first > 0 || input.run) options.firstChunk = first;
      if (input.plaintextSize === 'header') options.plaintextSize = fx.recorded ? fx.plaintext.length : undefined;
      else if (input.plaintextSize !== 'omit') options.plaintextSize = input.plaintextSize;
      if (input.expectFinal !== null) options.expectFinal = input.expectFinal;
      const cipher = fx.ciphers[input.backend];
      const pieces = slices(mutated, input.pieces);
      const outcome = await attemptAsync(() => collectBytes(decryptBody(cipher, source(input.kind, pieces), options)));
      const finalChunk = options.plaintextSize === undefined ? undefined : Math.floor(options.plaintextSize / C);
      if (!outcome.ok) {
        const pastFinal = finalChunk !== undefined && first > finalChunk;
        assertContractError(outcome.error, { codes: CHUNK_CODES, rangeError: pastFinal }, 'decryptBody');
        return;
      }
      const out = outcome.value;
      const from = first * C;
      expect(sameBytes(out, fx.plaintext.subarray(from, from + out.length))).toBe(true);
      // Whatever the mutations did, what decrypted is original bytes at the run's place in the body
      // (a splice may put an original chunk back), and it ends the stream — or, for a run that need
      // not end it (expectFinal: false), stops on a chunk boundary.
      const at = first * STRIDE;
      expect(sameBytes(mutated, fx.body.subarray(at, at + mutated.length))).toBe(true);
      if (options.expectFinal === false && at + mutated.length < total) {
        expect(mutated.length % STRIDE).toBe(0);
      } else {
        expect(at + mutated.length).toBe(total);
        expect(from + out.length).toBe(fx.plaintext.length);
      }
    },
    { runs: runsFor('decryptBody') },
  );
});

test('ChunkDecoder: random bytes in random slices never decode to anything', async () => {
  const input = fc.record({
    f: fixtureIndex,
    backend: backendName,
    bytes: fc.oneof(
      fc.uint8Array({ maxLength: 3 * STRIDE }),
      fc.integer({ min: 0, max: 3 * STRIDE }).map((n) => new Uint8Array(n)),
      fc
        .constantFrom(STRIDE, 2 * STRIDE, CHUNK_OVERHEAD, CHUNK_OVERHEAD - 1)
        .chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    ),
    pieces: pieceLengths(),
    plaintextSize: fc.option(fc.nat({ max: 4 * C })),
    firstChunk: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat({ max: 3 })),
    expectFinal: fc.boolean(),
  });
  await fuzz(
    'ChunkDecoder (random bytes)',
    input,
    (x) => {
      const cipher = pick(x.f).ciphers[x.backend];
      const options = {
        firstChunk: x.firstChunk,
        expectFinal: x.expectFinal,
        ...(x.plaintextSize === null ? {} : { plaintextSize: x.plaintextSize }),
      };
      let out = 0;
      try {
        const decoder = new ChunkDecoder(cipher, options);
        for (const p of slices(x.bytes, x.pieces)) for (const c of decoder.push(p)) out += c.length;
        for (const c of decoder.finish()) out += c.length;
        note('ok');
      } catch (error) {
        note({ ok: false, error });
        const pastFinal = x.plaintextSize !== null && x.firstChunk > Math.floor(x.plaintextSize / C);
        assertContractError(error, { codes: CHUNK_CODES, rangeError: pastFinal }, 'ChunkDecoder');
        return;
      }
      // Nothing authenticates; only an empty run that need not end the stream "succeeds".
      expect(out).toBe(0);
      expect(x.bytes.length).toBe(0);
      expect(x.expectFinal).toBe(false);
    },
    { runs: runsFor('chunkDecoderRandom') },
  );
});

/**
 * BUG (packages/codec/src/engine/chunk-decoder.ts, constructor): `firstChunk` is
 * validated but `plaintextSize` is not. NaN, ±Infinity, fractions and sizes of
 * 2^53 and more are accepted, and the argument mistake then surfaces as
 * ES_AUTH_FAILED or ES_TRUNCATED (fractions even leave fractional offsets in
 * the ByteQueue) — an API misuse reported as tampering. The contract of the
 * codec ("argument mistakes are TypeError/RangeError") wants a RangeError from
 * the constructor, as for `firstChunk`.
 */
test('BUG: ChunkDecoder refuses invalid plaintextSize / firstChunk options with a RangeError up front', async () => {
  const bad = fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -1,
    -0.5,
    1.5,
    C + 0.25,
    2 ** 53,
    2 ** 60,
  );
  const input = fc.record({
    f: fixtureIndex,
    which: fc.constantFrom('plaintextSize', 'firstChunk'),
    value: bad,
  });
  await fuzz(
    'ChunkDecoder options',
    input,
    ({ f, which, value }) => {
      const fx = pick(f);
      let decoder: ChunkDecoder;
      try {
        decoder = new ChunkDecoder(fx.ciphers.native, { [which]: value });
      } catch (error) {
        assertContractError(error, { rangeError: true }, `ChunkDecoder({ ${which}: ${value} })`);
        return;
      }
      let outcome = 'decoded';
      try {
        decoder.push(fx.body);
        decoder.finish();
      } catch (error) {
        outcome = String(error);
      }
      throw new Error(`ChunkDecoder accepted { ${which}: ${value} }; decoding then gave: ${outcome}`);
    },
    { runs: BUG_RUNS },
  );
});

// ---------------------------------------------------------------------------
// Self-contained streams

const WRONG_CONTEXTS: EncryptionContext[] = [
  {},
  { bucket: 'fuzz-bucket', key: 'fuzz/other' },
  { key: 'fuzz/key', bucket: 'fuzz-bucket', x: '' },
];

const streamInput = fc
  .record({
    f: fixtureIndex,
    backend: backendName,
    kind: sourceKind,
    pieces: pieceLengths(),
    // Mostly the stream's own context; 1 in 8 reads under another one.
    context: sometimes(fc.nat({ max: 2 }), 1, 7),
  })
  .chain((x) => {
    const fx = pick(x.f);
    const kl = fx.stream[96] as number;
    const hot = [
      0,
      4,
      5,
      6,
      7,
      8,
      15,
      16,
      48,
      80,
      95,
      96,
      97 + kl,
      98 + kl,
      99 + kl,
      99 + kl + 24,
      ...boundaries(fx.body.length, fx.prefixLength),
    ];
    return fc
      .record({
        mutations: fc.oneof(byteMutations(hot), byteMutations(hot, 1)) as fc.Arbitrary<ByteMutation[]>,
        splice,
      })
      .map((m) => ({ ...x, ...m }));
  });

/** Runs a self-contained decoder; checks the outcome against the stream property. */
async function checkStream(
  x: {
    f: number;
    backend: BackendName;
    context: number | null;
    mutations: ByteMutation[];
    splice: Splice | null;
    pieces: number[];
    kind: SourceKind;
  },
  decode: (
    pieces: Uint8Array[],
    options: { keyring: LocalKeyring; context: EncryptionContext | undefined; backend: CryptoBackend },
    kind: SourceKind,
  ) => Promise<Uint8Array>,
  what: string,
) {
  const fx = pick(x.f);
  const mutated = mutateBytes(fx.stream, x.mutations);
  const spliced = x.splice
    ? concat([mutated.subarray(0, fx.prefixLength), applySplice(mutated.subarray(fx.prefixLength), x.splice)])
    : mutated;
  const wrongContext = x.context !== null;
  const context = wrongContext ? (WRONG_CONTEXTS[x.context as number] as EncryptionContext) : fx.context;
  const contextIsWrong = wrongContext && JSON.stringify(context ?? {}) !== JSON.stringify(fx.context ?? {});
  const outcome = await attemptAsync(() =>
    decode(slices(spliced, x.pieces), { keyring, context, backend: backends[x.backend] }, x.kind),
  );
  if (!outcome.ok) {
    assertContractError(
      outcome.error,
      { codes: contextIsWrong ? [...STREAM_CODES, 'ES_CONTEXT_MISMATCH'] : STREAM_CODES },
      what,
    );
    return;
  }
  expect(contextIsWrong).toBe(false);
  expect(sameBytes(spliced, fx.stream)).toBe(true);
  expect(sameBytes(outcome.value, fx.plaintext)).toBe(true);
}

test('decryptStream: mutated self-contained streams (header, key block, chunks) → the original or a listed error', async () => {
  await fuzz(
    'decryptStream',
    streamInput,
    (x) =>
      checkStream(
        x,
        (pieces, options, kind) => collectBytes(decryptStream(source(kind, pieces), options)),
        'decryptStream',
      ),
    { runs: runsFor('decryptStream') },
  );
});

test('decryptStream: random and half-plausible bytes never decrypt', async () => {
  const magic = [0x45, 0x53, 0x54, 0x52, 1, 1];
  const noContext = (bytes: Uint8Array) => ({ bytes, context: undefined as EncryptionContext | undefined });
  const input = fc.record({
    sample: fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map(noContext),
      fc
        .tuple(fc.integer({ min: 10, max: 26 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 2000 }))
        .map(([e, flags, rest]) => noContext(new Uint8Array([...magic, e, flags, ...new Uint8Array(8), ...rest]))),
      // A real header and key block, then random chunks (read in the stream's context): must fail on the chunks.
      fc.tuple(fixtureIndex, fc.uint8Array({ maxLength: 3 * STRIDE })).map(([i, rest]) => {
        const fx = pick(i);
        return { bytes: concat([fx.stream.subarray(0, fx.prefixLength), rest]), context: fx.context };
      }),
      // A real header with a random key block naming a held key.
      fc
        .tuple(fixtureIndex, fc.uint8Array({ minLength: 72, maxLength: 72 }), fc.uint8Array({ maxLength: 200 }))
        .map(([i, w, rest]) => {
          const fx = pick(i);
          return {
            bytes: new Uint8Array([...fx.stream.subarray(0, 96), 4, ...Buffer.from('fuzz'), 0, 72, ...w, ...rest]),
            context: fx.context,
          };
        }),
    ),
    pieces: pieceLengths(),
    backend: backendName,
  });
  await fuzz(
    'decryptStream (random)',
    input,
    async ({ sample, pieces, backend }) => {
      const { bytes, context } = sample;
      const outcome = await attemptAsync(() =>
        collectBytes(
          decryptStream(asyncPieces(slices(bytes, pieces)), { keyring, context, backend: backends[backend] }),
        ),
      );
      if (outcome.ok) throw new Error(`random bytes decrypted to ${outcome.value.length} bytes`);
      // Not ES_CONTEXT_MISMATCH: that needs the right data key, which random bytes cannot unwrap.
      assertContractError(outcome.error, { codes: STREAM_CODES }, 'decryptStream');
    },
    { runs: runsFor('decryptStreamRandom') },
  );
});

test('DecryptingWriter: mutated streams written in random slices → the original or a listed error', async () => {
  await fuzz(
    'DecryptingWriter',
    streamInput,
    (x) =>
      checkStream(
        x,
        async (pieces, options) => {
          const out: Uint8Array[] = [];
          const writer = new DecryptingWriter((p) => {
            out.push(p.slice());
          }, options);
          await new Promise<void>((resolve, reject) => {
            writer.on('error', reject);
            writer.on('finish', resolve);
            for (const p of pieces) writer.write(p);
            writer.end();
          });
          return concat(out);
        },
        'DecryptingWriter',
      ),
    { runs: runsFor('decryptingWriter') },
  );
});

// ---------------------------------------------------------------------------
// Random access

test('decryptRange: random ranges of mutated bodies → exactly the original slice, or a listed error', async () => {
  const input = fc.record({
    f: fixtureIndex,
    backend: backendName,
    mutations: byteMutations(boundaries(3 * STRIDE + 57)),
    start: fc.oneof(fc.nat({ max: 4 * C }), fc.constantFrom(0, C - 1, C, 2 * C, 3 * C)),
    inside: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
    length: fc.oneof(fc.nat({ max: 2 * C }), fc.constantFrom(0, 1, C, Number.MAX_SAFE_INTEGER)),
  });
  await fuzz(
    'decryptRange',
    input,
    async (x) => {
      const fx = pick(x.f);
      const mutated = mutateBytes(fx.body, x.mutations);
      const start = x.inside ? x.start % (fx.plaintext.length + 1) : x.start;
      const end = Math.min(Number.MAX_SAFE_INTEGER, start + x.length);
      const reads: [number, number][] = [];
      const outcome = await attemptAsync(() =>
        collectBytes(
          decryptRange(
            fx.ciphers[x.backend],
            (s, e) => {
              reads.push([s, e]);
              return asyncPieces([mutated.subarray(s, e)]);
            },
            mutated.length,
            start,
            end,
          ),
        ),
      );
      expect(reads.length).toBeLessThanOrEqual(1);
      if (!outcome.ok) {
        assertContractError(
          outcome.error,
          { codes: [...CHUNK_CODES, 'ES_SIZE_MISMATCH'], rangeError: true },
          'decryptRange',
        );
        if (outcome.error instanceof RangeError) expect(outcome.error.message).toMatch(/range start/);
        return;
      }
      const out = outcome.value;
      expect(start + out.length).toBeLessThanOrEqual(fx.plaintext.length);
      expect(sameBytes(out, fx.plaintext.subarray(start, start + out.length))).toBe(true);
      if (sameBytes(mutated, fx.body)) expect(out.length).toBe(Math.min(end, fx.plaintext.length) - start);
    },
    { runs: runsFor('decryptRange') },
  );
});

test('openEncryptedFile: mutated files, random ranges → exactly the original slice, or a listed error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-fuzz-'));
  let n = 0;
  const input = fc.record({
    f: fixtureIndex,
    backend: backendName,
    mutations: byteMutations([0, 6, 7, 8, 96, 97, 100, 101, 102, 175, 176, 175 + STRIDE, 175 + 2 * STRIDE]),
    start: fc.oneof(fc.nat({ max: 4 * C }), fc.constantFrom(0, C, 2 * C)),
    inside: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
    length: fc.oneof(fc.nat({ max: 2 * C }), fc.constant(Number.MAX_SAFE_INTEGER)),
  });
  try {
    await fuzz(
      'openEncryptedFile',
      input,
      async (x) => {
        const fx = pick(x.f);
        const mutated = mutateBytes(fx.stream, x.mutations);
        const path = join(dir, `f${n++ % 8}`);
        writeFileSync(path, mutated);
        const start = x.inside ? x.start % (fx.plaintext.length + 1) : x.start;
        const end = Math.min(Number.MAX_SAFE_INTEGER, start + x.length);
        const outcome = await attemptAsync(async () => {
          const file = await openEncryptedFile(path, { keyring, context: fx.context, backend: backends[x.backend] });
          try {
            return await collectBytes(file.read(start, end));
          } finally {
            await file.close();
          }
        });
        if (!outcome.ok) {
          assertContractError(
            outcome.error,
            { codes: [...STREAM_CODES, 'ES_SIZE_MISMATCH'], rangeError: true },
            'openEncryptedFile',
          );
          if (outcome.error instanceof RangeError) expect(outcome.error.message).toMatch(/range start/);
          return;
        }
        const out = outcome.value;
        expect(start + out.length).toBeLessThanOrEqual(fx.plaintext.length);
        expect(sameBytes(out, fx.plaintext.subarray(start, start + out.length))).toBe(true);
        if (sameBytes(mutated, fx.stream)) expect(out.length).toBe(Math.min(end, fx.plaintext.length) - start);
      },
      { runs: runsFor('openEncryptedFile') },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
