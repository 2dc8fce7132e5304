import { ErrorCode, FormatError } from '../../src/format/errors';
import {
  assertKeyId,
  decodeHeader,
  type EncryptionHeader,
  encodeHeader,
  encodeStreamHeader,
  fromDetachedHeader,
  makeEncryptionHeader,
  parseStreamHeader,
  toDetachedHeader,
} from '../../src/format/header';
import { filler, hex } from '../helpers';

const streamId = filler(32, 1);
const commitment = filler(32, 2);
const contextTag = filler(16, 3);
/** `null`: size not recorded. */
const streamBytes = (size: number | null = 123456789, chunkSize = 65536) =>
  encodeStreamHeader({ chunkSize, plaintextSize: size ?? undefined, streamId, commitment, contextTag });
const header = (keyId = 'key-1', wrappedKey = filler(72, 4), bytes = streamBytes()): EncryptionHeader =>
  makeEncryptionHeader(bytes, { keyId, wrappedKey });

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof FormatError) return error.code;
    throw error;
  }
  return undefined;
}

describe('stream header (FORMAT.md §2)', () => {
  test('field layout', () => {
    const h = streamBytes(0x0102030405, 1 << 16);
    expect(h.length).toBe(96);
    expect(hex(h.subarray(0, 8))).toBe('4553545201011001');
    expect(hex(h.subarray(8, 16))).toBe('0000000102030405');
    expect(hex(h.subarray(16, 48))).toBe(hex(streamId));
    expect(hex(h.subarray(48, 80))).toBe(hex(commitment));
    expect(hex(h.subarray(80, 96))).toBe(hex(contextTag));
    const unsized = streamBytes(null, 1 << 12);
    expect(hex(unsized.subarray(4, 16))).toBe('01010c000000000000000000');
  });

  test('parses back what it encodes', () => {
    for (const [size, chunkSize] of [
      [0, 4096],
      [null, 4096],
      [Number.MAX_SAFE_INTEGER, 1 << 24],
      [12345, 1 << 16],
    ] as const) {
      const parsed = parseStreamHeader(streamBytes(size, chunkSize));
      expect(parsed).toEqual({ chunkSize, plaintextSize: size ?? undefined, streamId, commitment, contextTag });
    }
  });

  test('rejections: MALFORMED for framing, UNSUPPORTED_VERSION for version/suite', () => {
    const ok = streamBytes();
    const patched = (offset: number, value: number) => {
      const b = ok.slice();
      b[offset] = value;
      return b;
    };
    expect(codeOf(() => parseStreamHeader(ok))).toBeUndefined();
    expect(codeOf(() => parseStreamHeader(ok.subarray(0, 95)))).toBe(ErrorCode.MALFORMED);
    expect(codeOf(() => parseStreamHeader(new Uint8Array([...ok, 0])))).toBe(ErrorCode.MALFORMED);
    expect(codeOf(() => parseStreamHeader(patched(3, 0x53)))).toBe(ErrorCode.MALFORMED);
    expect(codeOf(() => parseStreamHeader(patched(4, 0)))).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(codeOf(() => parseStreamHeader(patched(4, 2)))).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(codeOf(() => parseStreamHeader(patched(5, 0)))).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(codeOf(() => parseStreamHeader(patched(5, 2)))).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(codeOf(() => parseStreamHeader(patched(6, 11)))).toBe(ErrorCode.MALFORMED);
    expect(codeOf(() => parseStreamHeader(patched(6, 25)))).toBe(ErrorCode.MALFORMED);
    expect(codeOf(() => parseStreamHeader(patched(6, 12)))).toBeUndefined();
    expect(codeOf(() => parseStreamHeader(patched(6, 24)))).toBeUndefined();
    for (let bit = 1; bit < 8; bit++)
      expect(codeOf(() => parseStreamHeader(patched(7, 1 | (1 << bit))))).toBe(ErrorCode.MALFORMED);
    // A size with the flag clear.
    const unsized = streamBytes(null);
    const withSize = unsized.slice();
    withSize[15] = 1;
    expect(codeOf(() => parseStreamHeader(withSize))).toBe(ErrorCode.MALFORMED);
    // A size beyond 2^53 - 1.
    const big = ok.slice();
    big.set([0, 0x20, 0, 0, 0, 0, 0, 0], 8);
    expect(codeOf(() => parseStreamHeader(big))).toBe(ErrorCode.MALFORMED);
  });
});

describe('self-contained prefix (FORMAT.md §3)', () => {
  test('layout: stream header || kl || key id || u16 wl || wrapped', () => {
    const h = header('abc', filler(300, 5));
    const bytes = encodeHeader(h);
    expect(bytes.length).toBe(96 + 1 + 3 + 2 + 300);
    expect(hex(bytes.subarray(0, 96))).toBe(hex(h.streamBytes));
    expect(hex(bytes.subarray(96, 102))).toBe(`03${Buffer.from('abc').toString('hex')}012c`);
    expect(hex(bytes.subarray(102))).toBe(hex(filler(300, 5)));
  });

  test('decodeHeader needs every byte, ignores what follows, and round-trips', () => {
    const h = header('key-1', filler(72, 6));
    const bytes = encodeHeader(h);
    for (let n = 0; n < bytes.length; n++) expect(decodeHeader(bytes.subarray(0, n))).toBeUndefined();
    const decoded = decodeHeader(new Uint8Array([...bytes, 1, 2, 3]));
    expect(decoded?.length).toBe(bytes.length);
    expect(hex(encodeHeader(decoded!.header))).toBe(hex(bytes));
    expect(decoded!.header.stream).toEqual(h.stream);
  });

  test('a foreign file fails fast, before the rest of the prefix arrives', () => {
    const bytes = encodeHeader(header());
    bytes[0] = 0x50;
    expect(codeOf(() => decodeHeader(bytes.subarray(0, 97)))).toBe(ErrorCode.MALFORMED);
  });

  test('key block rejections are MALFORMED', () => {
    const bytes = encodeHeader(header('key-1', filler(72, 7)));
    const patched = (offset: number, value: number) => {
      const b = bytes.slice();
      b[offset] = value;
      return b;
    };
    expect(codeOf(() => decodeHeader(patched(96, 0)))).toBe(ErrorCode.MALFORMED); // kl = 0
    expect(codeOf(() => decodeHeader(patched(96, 201)))).toBe(ErrorCode.MALFORMED); // kl > 200
    expect(codeOf(() => decodeHeader(patched(97, 0x20)))).toBe(ErrorCode.MALFORMED); // space
    expect(codeOf(() => decodeHeader(patched(97, 0x7f)))).toBe(ErrorCode.MALFORMED); // DEL
    expect(codeOf(() => decodeHeader(patched(97, 0xc3)))).toBe(ErrorCode.MALFORMED); // non-ASCII
    expect(codeOf(() => decodeHeader(patched(103, 0)))).toBe(ErrorCode.MALFORMED); // wl = 0
    const long = patched(102, 0x04);
    long[103] = 0x01; // wl = 1025
    expect(codeOf(() => decodeHeader(long))).toBe(ErrorCode.MALFORMED);
    // 1024 bytes is the limit, and still needs every byte.
    const max = header('k', filler(1024, 8));
    expect(decodeHeader(encodeHeader(max))?.header.wrappedKey.length).toBe(1024);
  });

  test('makeEncryptionHeader copies its inputs', () => {
    const s = streamBytes();
    const w = filler(72, 9);
    const h = makeEncryptionHeader(s, { keyId: 'k', wrappedKey: w });
    s[20] = (s[20] as number) ^ 1;
    w[0] = (w[0] as number) ^ 1;
    expect(hex(h.streamBytes)).not.toBe(hex(s));
    expect(hex(h.wrappedKey)).not.toBe(hex(w));
  });
});

describe('detached framing (FORMAT.md §7)', () => {
  const ascii = /^[\x21-\x7e]+$/;
  const b64url = /^[A-Za-z0-9_-]+$/;

  test('three ASCII-safe values, each under 256 characters, even at the limits', () => {
    for (const [keyId, wrappedLength] of [
      ['k', 1],
      ['key-1', 72],
      ['x'.repeat(200), 189],
      ['~!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}', 100],
    ] as const) {
      const d = toDetachedHeader(header(keyId, filler(wrappedLength, 10)));
      expect(Object.keys(d).sort()).toEqual(['h', 'k', 'w']);
      expect(d.h).toMatch(b64url);
      expect(d.w).toMatch(b64url);
      expect(d.k).toMatch(ascii);
      expect(d.h.length).toBe(128);
      expect(d.w.length).toBe(Math.ceil((wrappedLength * 4) / 3));
      for (const v of Object.values(d)) expect(v.length).toBeLessThan(256);
      expect(toDetachedHeader(fromDetachedHeader(d))).toEqual(d);
    }
  });

  test('a wrapped key over 189 bytes does not fit: RangeError', () => {
    expect(() => toDetachedHeader(header('k', filler(190, 11)))).toThrow(RangeError);
  });

  test('the detached strings round-trip to the same header', () => {
    const h = header('key-1', filler(72, 12));
    const back = fromDetachedHeader(toDetachedHeader(h));
    expect(hex(encodeHeader(back))).toBe(hex(encodeHeader(h)));
  });

  test('anything non-canonical or malformed is MALFORMED', () => {
    const d = toDetachedHeader(header('key-1', filler(72, 13)));
    const stray = (s: string) => {
      // The last character of a 2- or 3-char group carries unused low bits: set one.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return `${s}${alphabet[1]}${alphabet[1]}`;
    };
    const cases: Record<string, unknown>[] = [
      { ...d, h: `${d.h}=` },
      { ...d, h: `${d.h}==` },
      { ...d, h: `${d.h.slice(0, -1)}+` },
      { ...d, h: `${d.h.slice(0, -1)}/` },
      { ...d, h: ` ${d.h}` },
      { ...d, h: `${d.h}\n` },
      { ...d, h: d.h.slice(0, -1) }, // 127 chars: length % 4 === 3, 95 bytes
      { ...d, h: d.h.slice(0, -4) }, // 93 bytes
      { ...d, h: `${d.h}A` }, // length % 4 === 1
      { ...d, h: stray(d.h) }, // 97 bytes, non-canonical
      { ...d, w: stray(d.w) },
      { ...d, w: `${d.w}=` },
      { ...d, w: '' },
      { ...d, w: 'A'.repeat(255) }, // > 189 bytes
      { ...d, k: '' },
      { ...d, k: 'a b' },
      { ...d, k: 'ключ' },
      { ...d, k: 'x'.repeat(201) },
      { ...d, k: 'x'.repeat(256) },
      { ...d, h: 'A'.repeat(256) },
      { h: d.h, k: d.k },
      { ...d, w: undefined },
      { ...d, h: 42 },
      { ...d, k: ['key-1'] },
    ];
    for (const c of cases) expect([c, codeOf(() => fromDetachedHeader(c))]).toEqual([c, ErrorCode.MALFORMED]);
    expect(codeOf(() => fromDetachedHeader(d))).toBeUndefined();
  });

  test('a header value that does not parse as a stream header is rejected like the self-contained one', () => {
    const d = toDetachedHeader(header());
    const bytes = Buffer.from(d.h, 'base64url');
    bytes[4] = 2;
    expect(codeOf(() => fromDetachedHeader({ ...d, h: bytes.toString('base64url') }))).toBe(
      ErrorCode.UNSUPPORTED_VERSION,
    );
  });
});

describe('assertKeyId', () => {
  test('TypeError for non-strings, RangeError for bad strings', () => {
    expect(() => assertKeyId(5)).toThrow(TypeError);
    expect(() => assertKeyId(undefined)).toThrow(TypeError);
    for (const bad of ['', ' ', 'a b', 'x'.repeat(201), 'é', 'tab\t'])
      expect(() => assertKeyId(bad)).toThrow(RangeError);
    for (const good of ['a', 'x'.repeat(200), 'arn:aws:kms:eu-west-1:123:key/abc'])
      expect(() => assertKeyId(good)).not.toThrow();
  });
});
