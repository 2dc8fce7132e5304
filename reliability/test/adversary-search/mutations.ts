/**
 * The adversary's structured edits of a stored stream, generated from its
 * geometry alone (FORMAT.md §5, §7, §8): every chunk boundary, the bytes around
 * it, the final chunk, whole chunks moved, and the header strings. Pure
 * functions over bytes: the same list serves S3 objects (detached: body +
 * metadata) and self-contained files (prefix + body).
 */
import { createHash } from 'node:crypto';

/** Bytes of overhead per chunk (nonce 24 + tag 16). */
export const O = 40;

/** The chunk layout of a stream of `P` plaintext bytes in `C`-byte chunks. */
export interface Layout {
  readonly P: number;
  readonly C: number;
  /** Bytes of a full chunk, C + 40. */
  readonly stride: number;
  /** Number of chunks, the last one final (0 … C−1 plaintext bytes). */
  readonly n: number;
  /** Detached body size. */
  readonly S: number;
}

export function layout(P: number, C: number): Layout {
  const n = Math.floor(P / C) + 1;
  const stride = C + O;
  return { P, C, stride, n, S: (n - 1) * stride + (P % C) + O };
}

/** Chunk `k`'s bytes within a body laid out as `l`. */
export function chunkOf(body: Buffer, l: Layout, k: number): Buffer {
  return body.subarray(k * l.stride, k === l.n - 1 ? l.S : (k + 1) * l.stride);
}

/** Deterministic "arbitrary" bytes, named (so a failing case replays exactly). */
export function arbitrary(name: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0, i = 0; at < length; i++) {
    const block = createHash('sha256').update(`${name}:${i}`).digest();
    at += block.copy(out, at);
  }
  return out;
}

/** What a body mutation may borrow: another stream's body of the same size and chunk size (another data key). */
export interface Donors {
  /** A stream of the same plaintext size and chunk size, under another data key. */
  readonly foreign: Buffer;
}

/** One edit of the body, named by kind (the matrix's row) and instance (where). */
export interface BodyMutation {
  readonly kind: string;
  readonly instance: string;
  apply(body: Buffer, donors: Donors): Buffer;
}

/**
 * The mutation kinds, in the order the matrix lists them. A kind with no
 * instance for some size (e.g. swapping chunks of a one-chunk stream) simply
 * has none there.
 */
export const BODY_KINDS = [
  'cut at a chunk boundary',
  'cut at boundary +1',
  'cut at boundary +39',
  'cut at boundary +40',
  'cut at boundary +41',
  'final chunk replaced by 40 arbitrary bytes',
  '40 bytes appended',
  'chunk dropped',
  'chunk duplicated',
  'adjacent chunks swapped',
  'chunk overwritten by another chunk of the stream (same data key)',
  'chunk spliced from another stream (other data key)',
] as const;
export type BodyKind = (typeof BODY_KINDS)[number];

/** Every body mutation of a stream laid out as `l`; none leaves the body as it was. */
export function bodyMutations(l: Layout): (BodyMutation & { kind: BodyKind })[] {
  const out: (BodyMutation & { kind: BodyKind })[] = [];
  const chunks = (body: Buffer) => Array.from({ length: l.n }, (_, k) => chunkOf(body, l, k));
  const add = (kind: BodyKind, instance: string, apply: BodyMutation['apply']) => out.push({ kind, instance, apply });

  for (let k = 0; k < l.n; k++) {
    const at = k * l.stride;
    add('cut at a chunk boundary', `after ${k} chunk(s), ${at} bytes kept`, (b) => b.subarray(0, at));
    for (const d of [1, 39, 40, 41] as const) {
      if (at + d >= l.S) continue;
      add(`cut at boundary +${d}`, `${d} bytes into chunk ${k}, ${at + d} bytes kept`, (b) => b.subarray(0, at + d));
    }
  }
  const lastStart = (l.n - 1) * l.stride;
  add('final chunk replaced by 40 arbitrary bytes', `final chunk ${l.n - 1}`, (b) =>
    Buffer.concat([b.subarray(0, lastStart), arbitrary(`final-${l.P}-${l.C}`, O)]),
  );
  add('40 bytes appended', `after final chunk ${l.n - 1}`, (b) =>
    Buffer.concat([b, arbitrary(`append-${l.P}-${l.C}`, O)]),
  );
  if (l.n >= 2) {
    for (let k = 0; k < l.n; k++) {
      add('chunk dropped', `chunk ${k}`, (b) => Buffer.concat(chunks(b).filter((_, i) => i !== k)));
    }
  }
  for (let k = 0; k < l.n; k++) {
    add('chunk duplicated', `chunk ${k}`, (b) => Buffer.concat(chunks(b).flatMap((c, i) => (i === k ? [c, c] : [c]))));
  }
  for (let k = 0; k + 1 < l.n; k++) {
    add('adjacent chunks swapped', `chunks ${k} and ${k + 1}`, (b) => {
      const cs = chunks(b);
      [cs[k], cs[k + 1]] = [cs[k + 1] as Buffer, cs[k] as Buffer];
      return Buffer.concat(cs);
    });
  }
  for (let k = 0; k < l.n; k++) {
    for (let j = 0; j < l.n; j++) {
      if (j === k) continue;
      add('chunk overwritten by another chunk of the stream (same data key)', `chunk ${k} := chunk ${j}`, (b) => {
        const cs = chunks(b);
        cs[k] = cs[j] as Buffer;
        return Buffer.concat(cs);
      });
    }
  }
  for (let k = 0; k < l.n; k++) {
    add('chunk spliced from another stream (other data key)', `chunk ${k}`, (b, donors) => {
      const cs = chunks(b);
      cs[k] = chunkOf(donors.foreign, l, k);
      return Buffer.concat(cs);
    });
  }
  return out;
}

/** The three detached header strings (S3 user metadata es-h, es-k, es-w). */
export interface DetachedStrings {
  h?: string;
  k?: string;
  w?: string;
}

/** What metadata mutations may borrow. */
export interface MetadataDonors {
  /** Another object's strings (same keyring, same key id, another data key). */
  readonly other: Required<DetachedStrings>;
  /** Another key id the victim's keyring holds. */
  readonly otherHeldKeyId: string;
}

/** One edit of the header strings. */
export interface MetadataMutation {
  readonly kind: string;
  apply(strings: DetachedStrings, donors: MetadataDonors): DetachedStrings;
}

function flipDecoded(value: string | undefined, at: number): string {
  const bytes = Buffer.from(value ?? '', 'base64url');
  bytes[at] = (bytes[at] as number) ^ 0x01;
  return bytes.toString('base64url');
}

/** es-h / es-k / es-w: flipped, swapped with another object's, removed (and a little more for es-h and es-k). */
export const METADATA_MUTATIONS: readonly MetadataMutation[] = [
  { kind: 'es-h: a stream id byte flipped', apply: (s) => ({ ...s, h: flipDecoded(s.h, 20) }) },
  { kind: 'es-h: the low byte of the plaintext size flipped', apply: (s) => ({ ...s, h: flipDecoded(s.h, 15) }) },
  { kind: "es-h: swapped with another object's", apply: (s, d) => ({ ...s, h: d.other.h }) },
  { kind: 'es-h: removed', apply: ({ h: _h, ...s }) => s },
  { kind: 'es-k: another key id the keyring holds', apply: (s, d) => ({ ...s, k: d.otherHeldKeyId }) },
  { kind: 'es-k: a character changed', apply: (s) => ({ ...s, k: `${s.k?.slice(0, -1)}X` }) },
  { kind: 'es-k: removed', apply: ({ k: _k, ...s }) => s },
  { kind: 'es-w: a byte flipped', apply: (s) => ({ ...s, w: flipDecoded(s.w, 30) }) },
  { kind: "es-w: swapped with another object's", apply: (s, d) => ({ ...s, w: d.other.w }) },
  { kind: 'es-w: removed', apply: ({ w: _w, ...s }) => s },
];
