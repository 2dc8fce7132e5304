/**
 * Fuzzing of the S3 package's parsers: the caller's `Range` header
 * (`parseRange`), the server's `Content-Range` (`parseContentRange`) and resume
 * tokens (`fromResumeToken`).
 *
 * Contracts:
 * - `parseRange(header)`: for a string, the range `bytes=a-b` / `bytes=a-` /
 *   `bytes=-n` describes (surrounding whitespace ignored; bounds ≤ 2^53 − 1;
 *   b ≥ a), else RangeError — the header is the caller's argument. Numbers spelt
 *   with more than 16 digits may be refused (RangeError) even when their value
 *   is small. A non-string is a TypeError. Formatting a parsed range and parsing
 *   it again gives the same range.
 * - `parseContentRange(header)`: never throws; `{ start, end, total }` exactly
 *   when the header is `bytes a-b/total` with safe integers a ≤ b < total, else
 *   `undefined` (the caller then trusts nothing from it).
 * - `fromResumeToken(token, options)`: a non-string is a TypeError; a token whose
 *   structure is wrong (not base64url JSON, v ≠ 1, b/k/u not strings, p not a
 *   positive multiple of the chunk size, h not a valid detached header) is
 *   ES_INVALID_RESUME_TOKEN; a well-formed token fails only with ES_UNKNOWN_KEY,
 *   ES_KEY_UNWRAP_FAILED or ES_CONTEXT_MISMATCH; a token that is accepted carries
 *   a header that was really issued for this keyring (its data key, its context:
 *   with `context: 'location'`, exactly its bucket and key).
 */

import { LocalKeyring } from '@encrypted-stream/codec';
import { createStreamCipher, type DetachedHeader, toDetachedHeader } from '@encrypted-stream/codec/low-level';
import {
  assertContractError,
  attempt,
  attemptAsync,
  expectDetached,
  fuzz,
  hostileChar,
  mutateString,
  runsFor,
  type StringMutation,
  sameBytes,
  stringMutation,
} from '@encrypted-stream/test-base/fuzz';
import fc from 'fast-check';
import { type ResolvedOptions, resolveOptions } from '../../src/options';
import { type ByteRange, formatRange, parseContentRange, parseRange } from '../../src/ranges';
import { fromResumeToken, toResumeToken, type UploadState } from '../../src/upload-state';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Numbers as a header may spell them: small, at the safe-integer edge, huge, with leading zeros. */
const digits = fc.oneof(
  fc.nat({ max: 10_000 }).map(String),
  fc.constantFrom(
    '0',
    '00',
    '007',
    '9007199254740991',
    '9007199254740992',
    '9999999999999999',
    '10000000000000000',
    '99999999999999999999',
    '0000000000000000001',
  ),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
  fc.string({ unit: fc.constantFrom('0', '1', '9'), minLength: 1, maxLength: 24 }),
);
const junk = fc.string({ unit: hostileChar(), maxLength: 3 });
const ws = fc.constantFrom('', '', '', ' ', '\t', '\n', ' \u00a0', '\ufeff');

// ---------------------------------------------------------------------------
// Range

/** The RFC 9110 byte-range forms S3 accepts, independently of the code under test. */
function expectRange(header: string): { ok: true; value: ByteRange; long: boolean } | { ok: false } {
  const t = header.trim();
  const bounded = /^bytes=([0-9]+)-([0-9]*)$/.exec(t);
  const suffix = /^bytes=-([0-9]+)$/.exec(t);
  const long = (s: string | undefined) => (s ?? '').length > 16;
  if (suffix) {
    const n = BigInt(suffix[1] as string);
    if (n > MAX) return { ok: false };
    return { ok: true, value: { kind: 'suffix', length: Number(n) }, long: long(suffix[1]) };
  }
  if (!bounded) return { ok: false };
  const start = BigInt(bounded[1] as string);
  if (start > MAX) return { ok: false };
  const isLong = long(bounded[1]) || long(bounded[2]);
  if (bounded[2] === '') return { ok: true, value: { kind: 'from', start: Number(start) }, long: isLong };
  const end = BigInt(bounded[2] as string);
  if (end > MAX || end < start) return { ok: false };
  return { ok: true, value: { kind: 'bounded', start: Number(start), end: Number(end) }, long: isLong };
}

const rangeHeader = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(ws, digits, digits, ws).map(([a, s, e, b]) => `${a}bytes=${s}-${e}${b}`) },
  { weight: 2, arbitrary: fc.tuple(ws, digits).map(([a, s]) => `${a}bytes=${s}-`) },
  { weight: 2, arbitrary: fc.tuple(digits, ws).map(([n, b]) => `bytes=-${n}${b}`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('bytes=', 'Bytes=', 'bytes =', 'bytes= ', 'items=', 'bytes', ''),
        digits,
        junk,
        digits,
        junk,
      )
      .map(([unit, a, j1, b, j2]) => `${unit}${a}${j1 || '-'}${b}${j2}`),
  },
  { weight: 1, arbitrary: fc.tuple(digits, digits, digits, digits).map(([a, b, c, d]) => `bytes=${a}-${b},${c}-${d}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

test('parseRange: the range RFC 9110 describes, else RangeError; non-strings TypeError', async () => {
  const input = fc.oneof(
    { weight: 30, arbitrary: rangeHeader },
    {
      weight: 1,
      arbitrary: fc.constantFrom<unknown>(undefined, null, 5, ['bytes=0-1'], { toString: () => 'bytes=0-1' }),
    },
  );
  await fuzz(
    'parseRange',
    input,
    (header) => {
      const outcome = attempt(() => parseRange(header as string));
      if (typeof header !== 'string') {
        if (outcome.ok) throw new Error('parseRange accepted a non-string');
        assertContractError(outcome.error, { typeError: true }, 'parseRange');
        return;
      }
      const expected = expectRange(header);
      if (!expected.ok) {
        if (outcome.ok)
          throw new Error(`parseRange accepted ${JSON.stringify(header)} as ${JSON.stringify(outcome.value)}`);
        assertContractError(outcome.error, { rangeError: true }, 'parseRange');
        return;
      }
      if (!outcome.ok) {
        // Only over-long spellings of valid ranges may be refused.
        if (!expected.long) throw new Error(`parseRange refused ${JSON.stringify(header)}: ${String(outcome.error)}`);
        assertContractError(outcome.error, { rangeError: true }, 'parseRange');
        return;
      }
      expect(outcome.value).toEqual(expected.value);
      expect(parseRange(formatRange(outcome.value))).toEqual(outcome.value);
    },
    { runs: runsFor('parseRange') },
  );
});

// ---------------------------------------------------------------------------
// Content-Range

function expectContentRange(header: string | undefined): { start: number; end: number; total: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes ([0-9]+)-([0-9]+)\/([0-9]+)$/.exec(header.trim());
  if (!m) return undefined;
  const [start, end, total] = [m[1], m[2], m[3]].map((s) => BigInt(s as string)) as [bigint, bigint, bigint];
  if (start > MAX || end > MAX || total > MAX || end < start || end >= total) return undefined;
  return { start: Number(start), end: Number(end), total: Number(total) };
}

const contentRange = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(ws, digits, digits, digits, ws).map(([a, s, e, t, b]) => `${a}bytes ${s}-${e}/${t}${b}`),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom('bytes ', 'bytes=', 'Bytes ', 'bytes  ', ''),
        digits,
        junk,
        digits,
        fc.constantFrom('/', '/*', ' / ', '//'),
        digits,
      )
      .map(([unit, a, j, b, slash, t]) => `${unit}${a}${j || '-'}${b}${slash}${t}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(undefined, '', 'bytes */1000', 'bytes 0-0/0', 'bytes 0-0/1', 'bytes 5-4/10'),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

test('parseContentRange: never throws; a span exactly when the header is a satisfiable bytes a-b/total', async () => {
  await fuzz(
    'parseContentRange',
    contentRange,
    (header) => {
      const outcome = attempt(() => parseContentRange(header));
      if (!outcome.ok)
        throw new Error(`parseContentRange threw on ${JSON.stringify(header)}: ${String(outcome.error)}`);
      expect(outcome.value).toEqual(expectContentRange(header));
    },
    { runs: runsFor('parseContentRange') },
  );
});

test('range parsers: megabyte-long headers answer quickly', async () => {
  const big = fc
    .record({
      size: fc.integer({ min: 1000, max: 2 ** 20 }),
      char: fc.constantFrom('0', '9', ' ', '-', 'a'),
      form: fc.constantFrom('range-digits', 'range-junk', 'content-digits', 'content-junk'),
    })
    .map(({ size, char, form }) => {
      const run = char.repeat(size);
      if (form === 'range-digits') return { kind: 'range' as const, header: `bytes=${run}-${run}` };
      if (form === 'range-junk') return { kind: 'range' as const, header: `bytes=1-${run}x` };
      if (form === 'content-digits') return { kind: 'content' as const, header: `bytes ${run}-${run}/${run}` };
      return { kind: 'content' as const, header: `bytes 1-2/${run}x` };
    });
  await fuzz(
    'range parsers (large)',
    big,
    ({ kind, header }) => {
      if (kind === 'content') {
        parseContentRange(header);
        return;
      }
      const outcome = attempt(() => parseRange(header));
      if (!outcome.ok) assertContractError(outcome.error, { rangeError: true }, 'parseRange');
    },
    { runs: runsFor('rangeLarge'), timeLimitMs: 250 },
  );
});

// ---------------------------------------------------------------------------
// Resume tokens

const C = 65536;
let keyring: LocalKeyring;
const modes = {} as Record<'none' | 'location', ResolvedOptions>;

/** A header issued for `keyring`, and where it is bound (undefined: context 'none'). */
interface Issued {
  readonly detached: DetachedHeader;
  readonly streamBytes: Uint8Array;
  readonly boundTo: { bucket: string; key: string } | undefined;
  readonly state: UploadState;
}
const issued: Issued[] = [];
/** Headers of another keyring (their key id is unknown here). */
const foreign: DetachedHeader[] = [];

beforeAll(async () => {
  keyring = new LocalKeyring({ old: new Uint8Array(32).fill(1), current: new Uint8Array(32).fill(2) }, 'current');
  modes.none = resolveOptions({ keyring, context: 'none' });
  modes.location = resolveOptions({ keyring, context: 'location' });
  const places = [
    { bucket: 'bkt', key: 'a/b.bin' },
    { bucket: 'bkt', key: 'a/c.bin' },
    { bucket: 'other-bkt', key: 'a/b.bin' },
  ];
  for (const [i, place] of places.entries()) {
    for (const mode of ['none', 'location'] as const) {
      const cipher = await createStreamCipher({
        keyring,
        chunkSize: i === 2 ? 4096 : C,
        context: modes[mode].contextFor(place),
      });
      const state: UploadState = { ...place, uploadId: `upload-${i}-${mode}`, partSize: 8 * 2 ** 20, cipher };
      issued.push({
        detached: toDetachedHeader(cipher.header),
        streamBytes: cipher.header.streamBytes,
        boundTo: mode === 'location' ? place : undefined,
        state,
      });
    }
  }
  const other = LocalKeyring.single('elsewhere', new Uint8Array(32).fill(5));
  foreign.push(toDetachedHeader((await createStreamCipher({ keyring: other })).header));
});

/** A token body as generated: every field may be replaced by something else. */
interface TokenBody {
  v?: unknown;
  b?: unknown;
  k?: unknown;
  u?: unknown;
  p?: unknown;
  h?: unknown;
  m?: unknown;
}

const NO_EDITS: StringMutation[] = [];
const anyJson = fc.oneof(fc.constantFrom(null, 0, -1, 1.5, true, '', [], {}), fc.string({ maxLength: 20 }));

const tokenBody: fc.Arbitrary<{
  body: TokenBody;
  origin: number;
  hFrom: 'own' | 'issued' | 'foreign' | 'mutated' | 'other';
}> = fc
  .record({
    origin: fc.nat(),
    v: fc.oneof(
      { weight: 9, arbitrary: fc.constant<unknown>(2) },
      fc.constantFrom<unknown>(1, 3, 0, '2', null, undefined),
    ),
    // The MAC: the origin token's (valid only if nothing else changed), one made
    // by a holder of the origin's data key over the edited fields, junk, none.
    m: fc.constantFrom<'keep' | 'sign' | 'junk' | 'none'>('keep', 'sign', 'sign', 'junk', 'none'),
    b: fc.oneof(
      { weight: 6, arbitrary: fc.constant<unknown>('keep') },
      fc.constantFrom<unknown>('bkt', 'other-bkt', 'x'),
      anyJson,
    ),
    k: fc.oneof(
      { weight: 6, arbitrary: fc.constant<unknown>('keep') },
      fc.constantFrom<unknown>('a/b.bin', 'a/c.bin', ''),
      anyJson,
    ),
    u: fc.oneof({ weight: 8, arbitrary: fc.constant<unknown>('keep') }, anyJson),
    p: fc.oneof(
      { weight: 6, arbitrary: fc.constant<unknown>('keep') },
      fc.constantFrom<unknown>(
        0,
        -C,
        4096,
        C,
        C + 1,
        5 * 2 ** 20,
        1.5 * C,
        2 ** 53,
        Number.MAX_SAFE_INTEGER,
        '8388608',
        null,
      ),
      fc.integer({ min: 1, max: 2 ** 30 }),
    ),
    h: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ from: fc.constant('own' as const), i: fc.constant(0), m: fc.constant(NO_EDITS) }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ from: fc.constant('issued' as const), i: fc.nat(), m: fc.constant(NO_EDITS) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ from: fc.constant('foreign' as const), i: fc.nat(), m: fc.constant(NO_EDITS) }),
      },
      {
        weight: 3,
        arbitrary: fc.record({
          from: fc.constant('mutated' as const),
          i: fc.integer({ min: 0, max: 2 }),
          m: fc.array(stringMutation(), { minLength: 1, maxLength: 2 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ from: fc.constant('other' as const), i: fc.nat(), m: fc.constant(NO_EDITS) }),
      },
    ),
  })
  .map(({ origin, v, b, k, u, p, h, m }) => {
    const o = issued[origin % issued.length] as Issued;
    const body: TokenBody = {
      v,
      b: b === 'keep' ? o.state.bucket : b,
      k: k === 'keep' ? o.state.key : k,
      u: u === 'keep' ? o.state.uploadId : u,
      p: p === 'keep' ? o.state.partSize : p,
    };
    let hFrom: 'own' | 'issued' | 'foreign' | 'mutated' | 'other' = h.from;
    if (h.from === 'own') body.h = { ...o.detached };
    else if (h.from === 'issued') body.h = { ...(issued[h.i % issued.length] as Issued).detached };
    else if (h.from === 'foreign') body.h = { ...(foreign[h.i % foreign.length] as DetachedHeader) };
    else if (h.from === 'other') body.h = [null, 'x', 1, {}, { h: o.detached.h }][h.i % 5];
    else {
      const field = (['h', 'k', 'w'] as const)[h.i] as 'h' | 'k' | 'w';
      body.h = { ...o.detached, [field]: mutateString(o.detached[field], h.m) };
      hFrom = 'mutated';
    }
    const macOf = (state: UploadState) => JSON.parse(Buffer.from(toResumeToken(state), 'base64url').toString()).m;
    if (m === 'keep') body.m = macOf(o.state);
    else if (m === 'sign') {
      const edited = { ...o.state, bucket: body.b, key: body.k, uploadId: body.u, partSize: body.p };
      body.m = macOf(edited as UploadState); // covers the origin's own header, whatever body.h says
    } else if (m === 'junk') body.m = 'AAAA';
    return { body, origin: origin % issued.length, hFrom };
  });

const toToken = (body: TokenBody) => Buffer.from(JSON.stringify(body)).toString('base64url');

test('fromResumeToken: structure errors are ES_INVALID_RESUME_TOKEN; only issued headers, in their context, are accepted', async () => {
  const input = fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant('body' as const),
        t: tokenBody,
        mode: fc.constantFrom<'none' | 'location'>('none', 'location'),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('string' as const),
        origin: fc.nat(),
        m: fc.array(stringMutation(), { minLength: 1, maxLength: 3 }),
        mode: fc.constantFrom<'none' | 'location'>('none', 'location'),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('random' as const),
        value: fc.oneof(fc.string({ maxLength: 200 }), fc.anything()),
      }),
    },
  );
  await fuzz(
    'fromResumeToken',
    input,
    async (x) => {
      if (x.kind === 'random') {
        const outcome = await attemptAsync(() => fromResumeToken(x.value as string, modes.none));
        if (outcome.ok) throw new Error('a random token was accepted');
        if (typeof x.value !== 'string') assertContractError(outcome.error, { typeError: true }, 'fromResumeToken');
        else assertContractError(outcome.error, { codes: ['ES_INVALID_RESUME_TOKEN'] }, 'fromResumeToken');
        return;
      }
      const mode = x.mode;
      const token =
        x.kind === 'body'
          ? toToken(x.t.body)
          : mutateString(toResumeToken((issued[x.origin % issued.length] as Issued).state), x.m);
      const outcome = await attemptAsync(() => fromResumeToken(token, modes[mode]));
      const allowed = ['ES_INVALID_RESUME_TOKEN', 'ES_UNKNOWN_KEY', 'ES_KEY_UNWRAP_FAILED', 'ES_CONTEXT_MISMATCH'];
      if (x.kind === 'body') {
        const { body, hFrom } = x.t;
        const h = body.h as Partial<DetachedHeader> | null | undefined;
        const header = h && typeof h === 'object' ? expectDetached(h.h, h.k, h.w) : { ok: false as const };
        const partSize = body.p;
        const structural =
          body.v === 2 &&
          typeof body.m === 'string' &&
          typeof body.b === 'string' &&
          typeof body.k === 'string' &&
          typeof body.u === 'string' &&
          header.ok &&
          typeof partSize === 'number' &&
          Number.isSafeInteger(partSize) &&
          partSize > 0 &&
          partSize % header.value.header.chunkSize === 0;
        if (!structural) {
          if (outcome.ok) throw new Error(`a structurally invalid token was accepted: ${JSON.stringify(body)}`);
          assertContractError(outcome.error, { codes: ['ES_INVALID_RESUME_TOKEN'] }, 'fromResumeToken');
          return;
        }
        if (!outcome.ok) {
          // Every edit is ES_INVALID_RESUME_TOKEN (the codec's code as its cause), but a
          // key id the keyring does not hold (another keyring's header, an edited key id).
          const codes = hFrom === 'foreign' ? ['ES_UNKNOWN_KEY'] : ['ES_INVALID_RESUME_TOKEN', 'ES_UNKNOWN_KEY'];
          assertContractError(outcome.error, { codes }, 'fromResumeToken (well-formed)');
          // A header issued for this keyring, read in its own context, must be accepted.
          const same = issued.find((i) => h && i.detached.h === h.h && i.detached.k === h.k && i.detached.w === h.w);
          if (same) {
            const fits =
              mode === 'none'
                ? same.boundTo === undefined
                : same.boundTo?.bucket === body.b && same.boundTo?.key === body.k;
            // ... and carrying the MAC its data key gives these fields.
            const signed = { ...same.state, bucket: body.b, key: body.k, uploadId: body.u, partSize: body.p };
            const macValid =
              body.m === JSON.parse(Buffer.from(toResumeToken(signed as UploadState), 'base64url').toString()).m;
            expect(fits && macValid).toBe(false);
          }
          return;
        }
      } else if (!outcome.ok) {
        assertContractError(outcome.error, { codes: allowed }, 'fromResumeToken (mutated string)');
        return;
      }
      if (!outcome.ok) return;
      // Accepted: the header must be one really issued for this keyring, opened in its own context.
      const state = outcome.value;
      // Accepted: every field is what a holder of the data key authenticated.
      if (x.kind === 'body') {
        const reissued = JSON.parse(Buffer.from(toResumeToken(state), 'base64url').toString());
        expect(reissued).toEqual(JSON.parse(JSON.stringify(x.t.body)));
      }
      const origin = issued.find((i) => sameBytes(i.streamBytes, state.cipher.header.streamBytes));
      if (!origin) throw new Error('an accepted token carries a header never issued for this keyring');
      if (mode === 'location') expect({ bucket: state.bucket, key: state.key }).toEqual(origin.boundTo);
      else expect(origin.boundTo).toBeUndefined();
      expect(typeof state.uploadId).toBe('string');
      expect(Number.isSafeInteger(state.partSize) && state.partSize > 0).toBe(true);
      expect(state.partSize % state.cipher.chunkSize).toBe(0);
      // Same data key: a chunk sealed by the resumed cipher opens with the original one.
      const sealed = state.cipher.encryptChunk(0, true, [Uint8Array.of(1, 2, 3)]);
      const [nonce, ...rest] = sealed;
      const tag = rest.pop() as Uint8Array;
      expect(origin.state.cipher.decryptChunk(0, true, nonce as Uint8Array, rest, tag)).toBeDefined();
    },
    { runs: runsFor('resumeToken') },
  );
});
