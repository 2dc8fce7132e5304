/**
 * Fuzzing of everything in the codec that parses a stream's header: the 96-byte
 * stream header (`parseStreamHeader`), the self-contained prefix and key block
 * (`decodeHeader`) and the detached strings (`fromDetachedHeader`). The S3
 * metadata that carries them (`readEncryptionHeader`) is fuzzed in the s3
 * package (test/unit/metadata-fuzz.test.ts).
 *
 * Contracts (checked against an independent reading of FORMAT.md,
 * `@encrypted-stream/test-base/fuzz`'s format-oracle.ts):
 * - `parseStreamHeader(bytes)`: the fields, or FormatError ES_MALFORMED /
 *   ES_UNSUPPORTED_VERSION exactly as §2 says; a header that parses re-encodes to
 *   the same 96 bytes. Nothing else is ever thrown (no TypeError/RangeError: the
 *   input is data, not an argument).
 * - `decodeHeader(bytes)`: `undefined` only while §3 says more bytes are needed,
 *   else the prefix (re-encoding to the same bytes, same result for the exact
 *   prefix) or FormatError ES_MALFORMED / ES_UNSUPPORTED_VERSION. It allocates
 *   nothing larger than its input, whatever the length fields claim.
 * - `fromDetachedHeader({ h, k, w })`: the header (whose detached form is exactly
 *   `{ h, k, w }`: one spelling per header) or FormatError ES_MALFORMED /
 *   ES_UNSUPPORTED_VERSION, for any values of any type. A null/undefined argument
 *   (not an object at all) is a TypeError.
 */

import {
  assertContractError,
  attempt,
  BUG_RUNS,
  byteMutations,
  type Detached,
  type DetachedStrings,
  detachedInput,
  expectDetached,
  expectMatches,
  expectPrefix,
  expectStreamHeader,
  fuzz,
  headerCorpus,
  largestAllocation,
  mutateBytes,
  runsFor,
  sameBytes,
} from '@encrypted-stream/test-base/fuzz';
import fc from 'fast-check';
import { LocalKeyring } from '../../src/crypto/local-keyring';
import { createStreamCipher } from '../../src/crypto/stream-cipher';
import {
  decodeHeader,
  type EncryptionHeader,
  encodeHeader,
  encodeStreamHeader,
  fromDetachedHeader,
  makeEncryptionHeader,
  parseStreamHeader,
  toDetachedHeader,
} from '../../src/format/header';

const FORMAT_CODES = ['ES_MALFORMED', 'ES_UNSUPPORTED_VERSION'] as const;

/** Real headers: several chunk sizes, recorded sizes, contexts and key ids. */
let headers: EncryptionHeader[] = [];
/** Synthetic headers whose key blocks span the whole allowed range (ids of 1…200, wrapped keys of 1…1024 bytes). */
let wideHeaders: EncryptionHeader[] = [];
/** Their detached forms (wide headers: those whose wrapped key fits a detached header). */
const detachedCorpus: DetachedStrings[] = [];
const wideDetachedCorpus: DetachedStrings[] = [];

beforeAll(async () => {
  ({ headers, wideHeaders } = await headerCorpus<EncryptionHeader>({
    create: async ({ keyId, masterKey, chunkSize, plaintextSize, context }) =>
      (await createStreamCipher({ keyring: LocalKeyring.single(keyId, masterKey), chunkSize, plaintextSize, context }))
        .header,
    streamBytes: (header) => header.streamBytes,
    withKeyBlock: (streamBytes, keyId, wrappedKey) => makeEncryptionHeader(streamBytes, { keyId, wrappedKey }),
  }));
  detachedCorpus.push(...headers.map(toDetachedHeader));
  wideDetachedCorpus.push(...wideHeaders.filter((h) => h.wrappedKey.length <= 189).map(toDetachedHeader));
});

// ---------------------------------------------------------------------------
// The 96-byte stream header

/** Headers built field by field, values biased to the edges of each field's range. */
const fieldwiseHeader = fc
  .record({
    magic: fc.oneof(
      { weight: 9, arbitrary: fc.constant([0x45, 0x53, 0x54, 0x52]) },
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
    ),
    version: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, fc.integer({ min: 0, max: 255 })),
    suite: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, fc.integer({ min: 0, max: 255 })),
    exponent: fc.oneof(fc.integer({ min: 10, max: 26 }), fc.integer({ min: 0, max: 255 })),
    flags: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 })),
    size: fc.oneof(
      fc.constantFrom(0n, 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: 2n ** 40n }),
    ),
    rest: fc.uint8Array({ minLength: 80, maxLength: 80 }),
    resize: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, fc.integer({ min: -96, max: 8 })),
  })
  .map(({ magic, version, suite, exponent, flags, size, rest, resize }) => {
    const out = new Uint8Array(96);
    out.set(magic, 0);
    out[4] = version;
    out[5] = suite;
    out[6] = exponent;
    out[7] = flags;
    new DataView(out.buffer).setBigUint64(8, size);
    out.set(rest, 16);
    if (resize < 0) return out.slice(0, 96 + resize);
    if (resize > 0) return new Uint8Array([...out, ...new Uint8Array(resize)]);
    return out;
  });

test('parseStreamHeader: any bytes give the header FORMAT.md §2 describes, or its format errors', async () => {
  const input = fc.record({
    bytes: fc.oneof(
      { weight: 4, arbitrary: fieldwiseHeader },
      {
        weight: 3,
        arbitrary: fc
          .tuple(fc.nat(), byteMutations([0, 4, 5, 6, 7, 8, 15, 16, 48, 80, 95]))
          .map(([i, m]) => mutateBytes((headers[i % headers.length] as EncryptionHeader).streamBytes, m)),
      },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 200 }) },
    ),
    // Parse a view into a larger buffer too: offsets must be honoured.
    offset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 17 })),
  });
  await fuzz(
    'parseStreamHeader',
    input,
    ({ bytes, offset }) => {
      const host = new Uint8Array(offset + bytes.length + 3).fill(0xa5);
      host.set(bytes, offset);
      const view = host.subarray(offset, offset + bytes.length);
      const expected = expectStreamHeader(bytes);
      const parsed = expectMatches(
        attempt(() => parseStreamHeader(view)),
        expected,
        'parseStreamHeader',
      );
      if (parsed && expected.ok) {
        expect(parsed.chunkSize).toBe(expected.value.chunkSize);
        expect(parsed.plaintextSize).toBe(expected.value.plaintextSize);
        expect(sameBytes(parsed.streamId, bytes.subarray(16, 48))).toBe(true);
        expect(sameBytes(parsed.commitment, bytes.subarray(48, 80))).toBe(true);
        expect(sameBytes(parsed.contextTag, bytes.subarray(80, 96))).toBe(true);
        // One encoding per header: what parses re-encodes to the same bytes.
        expect(sameBytes(encodeStreamHeader(parsed), bytes)).toBe(true);
      }
    },
    { runs: runsFor('parseStreamHeader') },
  );
});

// ---------------------------------------------------------------------------
// The self-contained prefix: stream header || key block

/** Hot positions of a prefix: header fields, the key id length, the wrapped length's two bytes, the end. */
function prefixHotSpots(h: EncryptionHeader): number[] {
  const kl = h.keyId.length;
  return [0, 4, 5, 6, 7, 8, 96, 97, 96 + kl, 97 + kl, 98 + kl, 99 + kl, 99 + kl + h.wrappedKey.length];
}

/** A key block whose length fields claim anything (0 … 65535), with fewer or more bytes than claimed. */
const claimedKeyBlock = fc
  .record({
    header: fc.nat(),
    kl: fc.oneof(fc.constantFrom(0, 1, 200, 201, 255), fc.integer({ min: 0, max: 255 })),
    id: fc.uint8Array({ minLength: 0, maxLength: 260 }).map((b) => b.map((c) => (c % 2 ? 0x21 + (c % 94) : c))),
    wl: fc.oneof(fc.constantFrom(0, 1, 72, 189, 1024, 1025, 65535), fc.integer({ min: 0, max: 65535 })),
    wrapped: fc.uint8Array({ minLength: 0, maxLength: 1100 }),
  })
  .map(({ header, kl, id, wl, wrapped }) => {
    const h = (headers[header % headers.length] as EncryptionHeader).streamBytes;
    return new Uint8Array([...h, kl, ...id.subarray(0, kl), wl >> 8, wl & 0xff, ...wrapped]);
  });

const prefixInput = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({ i: fc.nat(), wide: fc.boolean(), tail: fc.uint8Array({ maxLength: 64 }) })
      .chain(({ i, wide, tail }) => {
        const list = wide ? wideHeaders : headers;
        const h = list[i % list.length] as EncryptionHeader;
        const valid = new Uint8Array([...encodeHeader(h), ...tail]);
        return byteMutations(prefixHotSpots(h)).map((m) => mutateBytes(valid, m));
      }),
  },
  { weight: 3, arbitrary: claimedKeyBlock },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }) },
);

test('decodeHeader: the prefix §3 describes, "need more bytes" only when it does, or format errors', async () => {
  await fuzz(
    'decodeHeader',
    prefixInput,
    (bytes) => {
      const expected = expectPrefix(bytes);
      const outcome = attempt(() => decodeHeader(bytes));
      if (expected === 'more') {
        if (!outcome.ok) throw new Error(`decodeHeader threw on an incomplete prefix: ${String(outcome.error)}`);
        expect(outcome.value).toBeUndefined();
        return;
      }
      if (outcome.ok && outcome.value === undefined) throw new Error('decodeHeader asked for more bytes than §3 needs');
      const result = expectMatches(outcome, expected, 'decodeHeader');
      if (result && expected.ok) {
        const { header, length } = result;
        expect(length).toBe(expected.value.length);
        expect(header.keyId).toBe(expected.value.keyId);
        expect(sameBytes(header.wrappedKey, expected.value.wrappedKey)).toBe(true);
        expect(header.stream.chunkSize).toBe(expected.value.header.chunkSize);
        expect(header.stream.plaintextSize).toBe(expected.value.header.plaintextSize);
        expect(sameBytes(encodeHeader(header), bytes.subarray(0, length))).toBe(true);
        // Exactly the prefix decodes the same; one byte less is "more bytes needed".
        expect(decodeHeader(bytes.slice(0, length))?.length).toBe(length);
        expect(decodeHeader(bytes.slice(0, length - 1))).toBeUndefined();
      }
    },
    { runs: runsFor('decodeHeader') },
  );
});

test('decodeHeader: large inputs (up to 1 MiB, any claims) answer quickly', async () => {
  const big = fc
    .record({ head: prefixInput, size: fc.integer({ min: 1, max: 2 ** 20 }), fill: fc.integer({ min: 0, max: 255 }) })
    .map(({ head, size, fill }) => {
      const out = new Uint8Array(Math.max(size, head.length)).fill(fill);
      out.set(head, 0);
      return out;
    });
  await fuzz(
    'decodeHeader (large)',
    big,
    (bytes) => {
      const outcome = attempt(() => decodeHeader(bytes));
      if (!outcome.ok) assertContractError(outcome.error, { codes: FORMAT_CODES }, 'decodeHeader');
    },
    { runs: runsFor('decodeHeaderLarge'), timeLimitMs: 250 },
  );
});

/**
 * BUG (packages/codec/src/format/header.ts, decodeHeader): the wrapped-key length field is
 * validated with `checkWrappedKey(new Uint8Array(wrappedLength), …)`, which
 * allocates the claimed length (up to 65535 bytes) before checking it. An input
 * of ~100 bytes thus makes the decoder allocate 64 KiB per call; the check should
 * compare the number (`wrappedLength < 1 || wrappedLength > 1024`) instead.
 */
test('BUG: decodeHeader allocates no more than its input, whatever the key block claims', async () => {
  const claims = fc
    .record({
      header: fc.nat(),
      kl: fc.integer({ min: 1, max: 200 }),
      wl: fc.integer({ min: 0, max: 65535 }),
      extra: fc.uint8Array({ maxLength: 32 }),
    })
    .map(({ header, kl, wl, extra }) => {
      const h = (headers[header % headers.length] as EncryptionHeader).streamBytes;
      return new Uint8Array([...h, kl, ...new Uint8Array(kl).fill(0x41), wl >> 8, wl & 0xff, ...extra]);
    });
  await fuzz(
    'decodeHeader allocation',
    claims,
    (bytes) => {
      const { error, largest } = largestAllocation(() => decodeHeader(bytes));
      if (error !== undefined) assertContractError(error, { codes: FORMAT_CODES }, 'decodeHeader');
      if (largest > bytes.length) {
        throw new Error(`decodeHeader allocated ${largest} bytes for a ${bytes.length}-byte input`);
      }
    },
    { runs: BUG_RUNS },
  );
});

// ---------------------------------------------------------------------------
// The detached strings

test('fromDetachedHeader: any values give the header §7 describes (in its one spelling) or ES_MALFORMED / ES_UNSUPPORTED_VERSION', async () => {
  const input = fc.oneof(
    { weight: 30, arbitrary: detachedInput(detachedCorpus, wideDetachedCorpus) },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined) },
  );
  await fuzz(
    'fromDetachedHeader',
    input,
    (detached) => {
      const outcome = attempt(() => fromDetachedHeader(detached as Detached));
      if (detached === null || detached === undefined) {
        // Not an object at all: argument misuse.
        if (outcome.ok || !(outcome.error instanceof TypeError)) throw new Error('null/undefined must be a TypeError');
        return;
      }
      const { h, k, w } = detached as Detached;
      const expected = expectDetached(h, k, w);
      const header = expectMatches(outcome, expected, 'fromDetachedHeader');
      if (header && expected.ok) {
        expect(toDetachedHeader(header)).toEqual({ h, k, w });
        expect(sameBytes(header.streamBytes, expected.value.streamBytes)).toBe(true);
        expect(header.stream.plaintextSize).toBe(expected.value.header.plaintextSize);
      }
    },
    { runs: runsFor('fromDetachedHeader') },
  );
});
