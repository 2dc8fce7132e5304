/**
 * An independent reading of FORMAT.md §2, §3, §7 and §9 (steps 1–2): for an
 * input, the set of error codes a conforming decoder may report, or the fields
 * it must return. Written from the specification, not from the code under test,
 * and precedence-agnostic: when several rules are broken, any of their codes is
 * acceptable (the specification does not order them).
 */

/** The codec's codes for these failures (its `ErrorCode` values, spelt out: this reading imports nothing from the codec). */
const ErrorCode = { MALFORMED: 'ES_MALFORMED', UNSUPPORTED_VERSION: 'ES_UNSUPPORTED_VERSION' } as const;

const MAGIC = [0x45, 0x53, 0x54, 0x52];
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Fields of a well-formed stream header. */
export interface ExpectedHeader {
  readonly chunkSize: number;
  readonly plaintextSize: number | undefined;
}

/** What parsing must give: the fields, or the codes it may fail with. */
export type Expectation<T> = { ok: true; value: T } | { ok: false; codes: Set<string> };

/** FORMAT.md §2 for a byte string that claims to be a stream header. */
export function expectStreamHeader(bytes: Uint8Array): Expectation<ExpectedHeader> {
  const codes = new Set<string>();
  if (bytes.length !== 96) return { ok: false, codes: new Set([ErrorCode.MALFORMED]) };
  if (MAGIC.some((m, i) => bytes[i] !== m)) codes.add(ErrorCode.MALFORMED);
  if (bytes[4] !== 1 || bytes[5] !== 1) codes.add(ErrorCode.UNSUPPORTED_VERSION);
  const e = bytes[6] as number;
  if (e < 12 || e > 24) codes.add(ErrorCode.MALFORMED);
  const flags = bytes[7] as number;
  if ((flags & 0xfe) !== 0) codes.add(ErrorCode.MALFORMED);
  let size = 0n;
  for (let i = 8; i < 16; i++) size = (size << 8n) | BigInt(bytes[i] as number);
  if ((flags & 1) === 0 && size !== 0n) codes.add(ErrorCode.MALFORMED);
  // JavaScript implementations refuse sizes of 2^53 and more (§8), as a format error.
  if (size > MAX_SAFE) codes.add(ErrorCode.MALFORMED);
  if (codes.size > 0) return { ok: false, codes };
  return { ok: true, value: { chunkSize: 2 ** e, plaintextSize: flags & 1 ? Number(size) : undefined } };
}

const printable = (code: number) => code >= 0x21 && code <= 0x7e;

/** Whether `id` is a valid key id: 1…200 printable ASCII characters (§3). */
export function validKeyId(id: string): boolean {
  if (id.length < 1 || id.length > 200) return false;
  for (let i = 0; i < id.length; i++) if (!printable(id.charCodeAt(i))) return false;
  return true;
}

/** Fields of a well-formed self-contained prefix. */
export interface ExpectedPrefix {
  readonly header: ExpectedHeader;
  readonly keyId: string;
  readonly wrappedKey: Uint8Array;
  readonly length: number;
}

/**
 * §3 and §7 for the start of a self-contained stream: `'more'` when a decoder
 * needs more bytes to decide, else the prefix or the codes. Like the code under
 * test, a decoder may wait for the whole key id before checking its characters.
 */
export function expectPrefix(bytes: Uint8Array): Expectation<ExpectedPrefix> | 'more' {
  if (bytes.length < 97) return 'more';
  const header = expectStreamHeader(bytes.subarray(0, 96));
  if (!header.ok) return header;
  const kl = bytes[96] as number;
  if (kl < 1 || kl > 200) return { ok: false, codes: new Set([ErrorCode.MALFORMED]) };
  if (bytes.length < 99 + kl) return 'more';
  const wl = ((bytes[97 + kl] as number) << 8) | (bytes[98 + kl] as number);
  if (wl < 1 || wl > 1024) return { ok: false, codes: new Set([ErrorCode.MALFORMED]) };
  if (bytes.length < 99 + kl + wl) return 'more';
  const idBytes = bytes.subarray(97, 97 + kl);
  if (!idBytes.every(printable)) return { ok: false, codes: new Set([ErrorCode.MALFORMED]) };
  return {
    ok: true,
    value: {
      header: header.value,
      keyId: String.fromCharCode(...idBytes),
      wrappedKey: bytes.slice(99 + kl, 99 + kl + wl),
      length: 99 + kl + wl,
    },
  };
}

/** RFC 4648 §5 base64url without padding, canonical (no stray bits): the bytes, or undefined. */
export function strictBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  if (text.length % 4 === 1) return undefined;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    acc = (acc << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero for the encoding to be canonical.
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return Uint8Array.from(out);
}

/** Fields of a well-formed detached header. */
export interface ExpectedDetached {
  readonly header: ExpectedHeader;
  readonly streamBytes: Uint8Array;
  readonly keyId: string;
  readonly wrappedKey: Uint8Array;
}

/** §7 and §9 step 2 for the three detached strings. */
export function expectDetached(h: unknown, k: unknown, w: unknown): Expectation<ExpectedDetached> {
  const malformed: Expectation<ExpectedDetached> = { ok: false, codes: new Set([ErrorCode.MALFORMED]) };
  if (typeof h !== 'string' || typeof k !== 'string' || typeof w !== 'string') return malformed;
  if (h.length > 255 || k.length > 255 || w.length > 255) return malformed;
  const streamBytes = strictBase64Url(h);
  const wrappedKey = strictBase64Url(w);
  if (!streamBytes || !wrappedKey) return malformed;
  if (wrappedKey.length < 1 || wrappedKey.length > 189) return malformed;
  if (!validKeyId(k)) {
    // A bad key id and a bad header: either report is fine.
    const header = expectStreamHeader(streamBytes);
    return { ok: false, codes: header.ok ? malformed.codes : new Set([ErrorCode.MALFORMED, ...header.codes]) };
  }
  const header = expectStreamHeader(streamBytes);
  if (!header.ok) return header;
  return { ok: true, value: { header: header.value, streamBytes, keyId: k, wrappedKey } };
}
