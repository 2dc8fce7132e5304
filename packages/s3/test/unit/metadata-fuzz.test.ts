/**
 * Fuzzing of the S3 metadata that carries a stream's header (`readEncryptionHeader`);
 * the codec's own header parsers are fuzzed in the codec (test/unit/header-fuzz.test.ts).
 *
 * Contract (checked against an independent reading of FORMAT.md,
 * `@encrypted-stream/test-base/fuzz`'s format-oracle.ts):
 * - `readEncryptionHeader(metadata)`: `undefined` iff none of es-h/es-k/es-w is
 *   present (names compared case-insensitively), ES_MALFORMED if only some are,
 *   else as `fromDetachedHeader` of the values it picked.
 */

import { LocalKeyring } from '@encrypted-stream/codec';
import {
  createStreamCipher,
  decodeHeader,
  type EncryptionHeader,
  toDetachedHeader,
} from '@encrypted-stream/codec/low-level';
import {
  attempt,
  type DetachedStrings,
  detachedInput,
  expectDetached,
  expectMatches,
  fuzz,
  headerCorpus,
  runsFor,
} from '@encrypted-stream/test-base/fuzz';
import fc from 'fast-check';
import { METADATA_KEYS, readEncryptionHeader } from '../../src/metadata';

/** Detached forms of real headers, and of synthetic ones whose key blocks span the range a detached header allows. */
const detachedCorpus: DetachedStrings[] = [];
const wideDetachedCorpus: DetachedStrings[] = [];

beforeAll(async () => {
  const { headers, wideHeaders } = await headerCorpus<EncryptionHeader>({
    create: async ({ keyId, masterKey, chunkSize, plaintextSize, context }) =>
      (await createStreamCipher({ keyring: LocalKeyring.single(keyId, masterKey), chunkSize, plaintextSize, context }))
        .header,
    streamBytes: (header) => header.streamBytes,
    // The public way to attach a key block: decode the self-contained prefix it forms.
    withKeyBlock: (streamBytes, keyId, wrappedKey) => {
      const id = Buffer.from(keyId, 'latin1');
      const prefix = Buffer.concat([
        streamBytes,
        Uint8Array.of(id.length),
        id,
        Uint8Array.of(wrappedKey.length >> 8, wrappedKey.length & 0xff),
        wrappedKey,
      ]);
      return (decodeHeader(prefix) as { header: EncryptionHeader }).header;
    },
  });
  detachedCorpus.push(...headers.map(toDetachedHeader));
  wideDetachedCorpus.push(...wideHeaders.filter((h) => h.wrappedKey.length <= 189).map(toDetachedHeader));
});

const NAMES = [METADATA_KEYS.h, METADATA_KEYS.k, METADATA_KEYS.w];

/** Metadata as a store may return it: ours (possibly edited, renamed in case, duplicated, missing) among user keys. */
const metadataInput = fc
  .record({
    detached: detachedInput(detachedCorpus, wideDetachedCorpus),
    drop: fc.subarray([0, 1, 2]),
    upper: fc.subarray([0, 1, 2]),
    duplicate: fc.option(fc.record({ which: fc.integer({ min: 0, max: 2 }), value: fc.string({ maxLength: 130 }) })),
    user: fc.dictionary(
      fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('es-x', 'es-hh', 'ES', 'x-amz-meta-es-h', 'es_h')),
      fc.string({ maxLength: 40 }),
      { maxKeys: 4 },
    ),
    shuffle: fc.boolean(),
  })
  .map(({ detached, drop, upper, duplicate, user, shuffle }) => {
    const values = [detached.h, detached.k, detached.w].map((v) => (typeof v === 'string' ? v : String(v)));
    const entries: [string, string][] = Object.entries(user).filter(([k]) => !NAMES.includes(k.toLowerCase() as never));
    NAMES.forEach((name, i) => {
      if (drop.includes(i)) return;
      entries.push([upper.includes(i) ? name.toUpperCase() : name, values[i] as string]);
    });
    if (duplicate) {
      const name = NAMES[duplicate.which] as string;
      entries.push([`${name.slice(0, 1).toUpperCase()}${name.slice(1)}`, duplicate.value]);
    }
    if (shuffle) entries.reverse();
    return Object.fromEntries(entries) as Record<string, string>;
  });

/** The value a case-insensitive lookup picks: the exact name if present, else the first case variant. */
function pick(metadata: Record<string, string>, name: string): string | undefined {
  if (Object.hasOwn(metadata, name)) return metadata[name];
  return Object.entries(metadata).find(([k]) => k.toLowerCase() === name)?.[1];
}

test('readEncryptionHeader: absent → undefined, partial → ES_MALFORMED, else exactly fromDetachedHeader of the values', async () => {
  await fuzz(
    'readEncryptionHeader',
    fc.oneof({ weight: 40, arbitrary: metadataInput }, { weight: 1, arbitrary: fc.constant(undefined) }),
    (metadata) => {
      const outcome = attempt(() => readEncryptionHeader(metadata));
      const [h, k, w] = NAMES.map((n) => (metadata ? pick(metadata, n) : undefined));
      if (h === undefined && k === undefined && w === undefined) {
        if (!outcome.ok) throw new Error(`metadata without ours must be undefined: ${String(outcome.error)}`);
        expect(outcome.value).toBeUndefined();
        return;
      }
      if (h === undefined || k === undefined || w === undefined) {
        expectMatches(outcome, { ok: false, codes: new Set(['ES_MALFORMED']) }, 'readEncryptionHeader (partial)');
        return;
      }
      const expected = expectDetached(h, k, w);
      const header = expectMatches(outcome, expected, 'readEncryptionHeader');
      if (header) expect(toDetachedHeader(header)).toEqual({ h, k, w });
    },
    { runs: runsFor('readEncryptionHeader') },
  );
});
