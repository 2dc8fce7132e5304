/**
 * Generators of hostile inputs: byte-level and string-level mutations of valid
 * encodings, applied at positions that favour field boundaries.
 */
import fc from 'fast-check';

/** One edit of a byte string. Positions are taken modulo the current length (+1 for inserts). */
export type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly mask: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'append'; readonly bytes: Uint8Array }
  | { readonly kind: 'copy'; readonly from: number; readonly to: number; readonly count: number };

/**
 * Positions: anywhere, or near one of `hot` (field and chunk boundaries) ± 3.
 * Negative results count from the end.
 */
export function position(hot: readonly number[] = []): fc.Arbitrary<number> {
  const near =
    hot.length > 0
      ? fc.tuple(fc.constantFrom(...hot), fc.integer({ min: -3, max: 3 })).map(([h, d]) => Math.max(0, h + d))
      : fc.nat({ max: 64 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.nat() },
    { weight: 3, arbitrary: near },
    { weight: 1, arbitrary: fc.integer({ min: -48, max: -1 }) },
  );
}

/** One byte mutation, positions biased towards `hot`. */
export function byteMutation(hot: readonly number[] = []): fc.Arbitrary<ByteMutation> {
  const at = position(hot);
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 48 });
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant('flip' as const), at, mask: fc.integer({ min: 0, max: 255 }) }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('set' as const), at, value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, bytes }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 64 }) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('copy' as const),
        from: at,
        to: at,
        count: fc.integer({ min: 1, max: 5000 }),
      }),
    },
  );
}

/** 0 … 3 mutations (0 leaves the input valid: the no-op case every decoder must accept). */
export function byteMutations(hot: readonly number[] = [], maxLength = 3): fc.Arbitrary<ByteMutation[]> {
  return fc.array(byteMutation(hot), { minLength: 0, maxLength });
}

function wrap(at: number, length: number): number {
  if (length === 0) return 0;
  return at < 0 ? Math.max(0, length + at) : at % length;
}

/** Applies mutations to a copy of `input`. */
export function mutateBytes(input: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let bytes = Buffer.from(input);
  for (const m of mutations) {
    switch (m.kind) {
      case 'flip':
        if (bytes.length > 0) {
          const i = wrap(m.at, bytes.length);
          bytes[i] = (bytes[i] as number) ^ m.mask;
        }
        break;
      case 'set':
        if (bytes.length > 0) bytes[wrap(m.at, bytes.length)] = m.value;
        break;
      case 'insert': {
        const i = wrap(m.at, bytes.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, i), m.bytes, bytes.subarray(i)]);
        break;
      }
      case 'delete': {
        const i = wrap(m.at, bytes.length);
        bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + m.count)]);
        break;
      }
      case 'truncate':
        bytes = bytes.subarray(0, wrap(m.at, bytes.length + 1));
        break;
      case 'append':
        bytes = Buffer.concat([bytes, m.bytes]);
        break;
      case 'copy': {
        // Overwrites [to, to+count) with bytes [from, from+count): moves chunks and fields around.
        const from = wrap(m.from, bytes.length);
        const to = wrap(m.to, bytes.length);
        const piece = Buffer.from(bytes.subarray(from, from + m.count));
        bytes = Buffer.from(bytes);
        piece.copy(bytes, to, 0, Math.min(piece.length, bytes.length - to));
        break;
      }
    }
  }
  return new Uint8Array(bytes);
}

/** One edit of a string. */
export type StringMutation =
  | { readonly kind: 'replace'; readonly at: number; readonly char: string }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'append'; readonly text: string }
  | { readonly kind: 'case' }
  | { readonly kind: 'pad' };

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A character: mostly base64url, sometimes padding, standard base64, space, control or any code unit. */
export const hostileChar = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...B64URL) },
    { weight: 2, arbitrary: fc.constantFrom('=', '+', '/', ' ', '\t', '\n', '\0', '.', '~', '\u00e9', '\u2028') },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  );

/** One string mutation. */
export function stringMutation(): fc.Arbitrary<StringMutation> {
  const at = fc.oneof(fc.nat(), fc.integer({ min: -4, max: -1 }));
  const text = fc.array(hostileChar(), { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('replace' as const), at, char: hostileChar() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, text }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 8 }) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), text }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('case' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('pad' as const) }) },
  );
}

/** Applies string mutations. */
export function mutateString(input: string, mutations: readonly StringMutation[]): string {
  let s = input;
  for (const m of mutations) {
    switch (m.kind) {
      case 'replace':
        if (s.length > 0) {
          const i = wrap(m.at, s.length);
          s = s.slice(0, i) + m.char + s.slice(i + 1);
        }
        break;
      case 'insert': {
        const i = wrap(m.at, s.length + 1);
        s = s.slice(0, i) + m.text + s.slice(i);
        break;
      }
      case 'delete': {
        const i = wrap(m.at, s.length);
        s = s.slice(0, i) + s.slice(i + m.count);
        break;
      }
      case 'truncate':
        s = s.slice(0, wrap(m.at, s.length + 1));
        break;
      case 'append':
        s += m.text;
        break;
      case 'case':
        s = s === s.toUpperCase() ? s.toLowerCase() : s.toUpperCase();
        break;
      case 'pad':
        s += s.length % 4 === 2 ? '==' : '=';
        break;
    }
  }
  return s;
}
