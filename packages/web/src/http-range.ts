/**
 * The one plaintext byte range a media request asks for (RFC 9110 §14).
 * Multiple or malformed ranges are ignored (the whole representation is
 * sent, as §14.2 allows); a range that starts past the end is unsatisfiable.
 */

/**
 * What a Range header selects of a `size`-byte representation.
 * @public
 */
export type PlaintextRange =
  | { readonly kind: 'full'; readonly start: 0; readonly end: number }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/**
 * Parses `header` (or its absence) against `size`; `end` is exclusive.
 * @public
 */
export function parsePlaintextRange(header: string | null | undefined, size: number): PlaintextRange {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a non-negative safe integer`);
  const full = { kind: 'full', start: 0, end: size } as const;
  if (header === null || header === undefined) return full;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return full;
  const first = m[1] === '' ? undefined : Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if (first === undefined) {
    // A suffix: the last `last` bytes (RFC 9110 §14.1.1); none of an empty representation.
    const length = last as number;
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size };
  }
  if (last !== undefined && last < first) return full; // invalid: ignored
  if (first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start: first, end: last === undefined ? size : Math.min(last + 1, size) };
}
