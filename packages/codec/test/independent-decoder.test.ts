/**
 * A decoder written only from FORMAT.md, with libsodium's XChaCha20-Poly1305
 * and node:crypto's SHA-256/HKDF — none of the codec's decoding code. It
 * decrypts the codec's output and every vector, and reports the failure class
 * FORMAT.md assigns to every failure vector: proof that FORMAT.md suffices.
 */
import { createHash, hkdfSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import sodium from 'libsodium-wrappers-sumo';
import { VECTORS_PATH, type VectorFile } from '../scripts/generate-vectors';
import { createStreamCipher } from '../src/crypto/stream-cipher';
import { ErrorCode } from '../src/format/errors';
import { toDetachedHeader } from '../src/format/header';
import { encryptBody, encryptBuffer, encryptStream } from '../src/io/encrypt';
import { EncryptingReader } from '../src/io/encrypting-reader';
import { bufferSource } from '../src/io/random-access-source';
import { BACKENDS, backend, C, collect, filler, fromHex, hex, keyring } from './helpers';

// ---------------------------------------------------------------------------
// The independent decoder (FORMAT.md §2–§9).

class DecodeError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
const fail = (code: string): never => {
  throw new DecodeError(code);
};

const ascii = (text: string) => Buffer.from(text, 'latin1');
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number) =>
  new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
const be64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const printable = (bytes: Uint8Array) => bytes.length > 0 && bytes.every((b) => b >= 0x21 && b <= 0x7e);

/** XChaCha20-Poly1305-IETF decryption; undefined when the tag does not verify. */
function open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array) {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt_detached(null, ciphertext, tag, aad, nonce, key);
  } catch {
    return undefined;
  }
}

/** §2 */
function parseStreamHeader(h: Uint8Array) {
  if (h.length !== 96) fail(ErrorCode.MALFORMED);
  if (ascii('ESTR').compare(h.subarray(0, 4)) !== 0) fail(ErrorCode.MALFORMED);
  if (h[4] !== 1 || h[5] !== 1) fail(ErrorCode.UNSUPPORTED_VERSION);
  const e = h[6] as number;
  if (e < 12 || e > 24) fail(ErrorCode.MALFORMED);
  const flags = h[7] as number;
  if ((flags & 0xfe) !== 0) fail(ErrorCode.MALFORMED);
  const size = Buffer.from(h).readBigUInt64BE(8);
  if ((flags & 1) === 0 && size !== 0n) fail(ErrorCode.MALFORMED);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) fail(ErrorCode.MALFORMED); // §8: JS implementations refuse these
  return {
    chunkSize: 2 ** e,
    size: (flags & 1) === 1 ? Number(size) : undefined,
    streamId: h.subarray(16, 48),
    commitment: h.subarray(48, 80),
    contextTag: h.subarray(80, 96),
  };
}

/** §3/§7 self-contained prefix: returns the parts and the body, or fails. */
function splitSelfContained(bytes: Uint8Array) {
  if (bytes.length < 96) fail(ErrorCode.TRUNCATED);
  const header = bytes.subarray(0, 96);
  parseStreamHeader(header);
  if (bytes.length < 97) fail(ErrorCode.TRUNCATED);
  const kl = bytes[96] as number;
  if (kl < 1 || kl > 200) fail(ErrorCode.MALFORMED);
  if (bytes.length < 97 + kl + 2) fail(ErrorCode.TRUNCATED);
  const wl = Buffer.from(bytes).readUInt16BE(97 + kl);
  if (wl < 1 || wl > 1024) fail(ErrorCode.MALFORMED);
  const keyId = bytes.subarray(97, 97 + kl);
  if (!printable(keyId)) fail(ErrorCode.MALFORMED);
  const end = 99 + kl + wl;
  if (bytes.length < end) fail(ErrorCode.TRUNCATED);
  return {
    header,
    keyId: Buffer.from(keyId).toString('latin1'),
    wrapped: bytes.subarray(99 + kl, end),
    body: bytes.subarray(end),
  };
}

/** RFC 4648 §5 base64url without padding, canonical only. */
function base64url(text: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  if (text.length % 4 === 1) fail(ErrorCode.MALFORMED);
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    const v = alphabet.indexOf(ch);
    if (v < 0) fail(ErrorCode.MALFORMED);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) fail(ErrorCode.MALFORMED); // stray low bits: not the canonical spelling
  return Uint8Array.from(out);
}

/** §7 detached strings. */
function parseDetached(d: { h: string; k: string; w: string }) {
  if (d.h.length > 255 || d.k.length > 255 || d.w.length > 255) fail(ErrorCode.MALFORMED);
  const header = base64url(d.h);
  const wrapped = base64url(d.w);
  if (header.length !== 96) fail(ErrorCode.MALFORMED);
  parseStreamHeader(header);
  if (d.k.length > 200 || !printable(ascii(d.k))) fail(ErrorCode.MALFORMED);
  if (wrapped.length < 1 || wrapped.length > 189) fail(ErrorCode.MALFORMED);
  return { header, keyId: d.k, wrapped };
}

/** §4 canonical context encoding. */
function contextDigest(context: Record<string, string>): Uint8Array {
  const entries = Object.entries(context).map(([k, v]) => [Buffer.from(k, 'utf8'), Buffer.from(v, 'utf8')] as const);
  entries.sort(([a], [b]) => Buffer.compare(a, b));
  return sha256(Buffer.concat(entries.flatMap(([k, v]) => [be32(k.length), k, be32(v.length), v])));
}

interface Parts {
  header: Uint8Array;
  keyId: string;
  wrapped: Uint8Array;
  body: Uint8Array;
}

/**
 * Decodes a stream. `stream` mode reads the body front to back (§9); `random-access` mode knows the
 * body size first and checks it against a recorded size (§8) before reading.
 */
function independentDecode(
  parts: Parts,
  masterKeys: Record<string, Uint8Array>,
  context: Record<string, string>,
  mode: 'stream' | 'random-access' = 'stream',
): Uint8Array {
  const h = parseStreamHeader(parts.header);
  const C = h.chunkSize;
  // §6 local keyring unwrap
  const masterKey = masterKeys[parts.keyId] ?? fail(ErrorCode.UNKNOWN_KEY);
  if (parts.wrapped.length !== 72) fail(ErrorCode.KEY_UNWRAP_FAILED);
  const id = ascii(parts.keyId);
  const wrapAad = Buffer.concat([ascii('encrypted-stream v1 local wrap'), Uint8Array.of(id.length), id, parts.header]);
  const w = parts.wrapped;
  const dataKey =
    open(masterKey, w.subarray(0, 24), wrapAad, w.subarray(24, 56), w.subarray(56)) ??
    fail(ErrorCode.KEY_UNWRAP_FAILED);
  // §4 key schedule
  const payloadKey = hkdf(dataKey, h.streamId, ascii('encrypted-stream v1 payload'), 32);
  const commitment = hkdf(dataKey, h.streamId, ascii('encrypted-stream v1 commitment'), 32);
  const contextInfo = Buffer.concat([ascii('encrypted-stream v1 context'), contextDigest(context)]);
  const contextTag = hkdf(dataKey, h.streamId, contextInfo, 16);
  if (!timingSafeEqual(commitment, h.commitment)) fail(ErrorCode.KEY_COMMITMENT_MISMATCH);
  if (!timingSafeEqual(contextTag, h.contextTag)) fail(ErrorCode.CONTEXT_MISMATCH);
  // §8 size arithmetic
  const body = parts.body;
  if (mode === 'random-access') {
    const q = Math.floor(body.length / (C + 40));
    const r = body.length % (C + 40);
    if (r < 40) fail(ErrorCode.TRUNCATED);
    if (h.size !== undefined && q * C + r - 40 !== h.size) fail(ErrorCode.SIZE_MISMATCH);
  }
  // §5 chunks, §9 step 5–7
  const digest = sha256(parts.header);
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; ; i++) {
    const left = body.length - at;
    let length: number;
    let final: boolean;
    if (h.size !== undefined) {
      // The recorded size locates the final chunk: index floor(P/C), P mod C + 40 bytes.
      final = i === Math.floor(h.size / C);
      length = final ? (h.size % C) + 40 : C + 40;
      if (left < length) fail(ErrorCode.TRUNCATED);
    } else {
      // A full chunk is never final; the stream ends with a chunk of 40 … C+39 bytes.
      final = left < C + 40;
      length = final ? left : C + 40;
      if (left < 40) fail(ErrorCode.TRUNCATED);
    }
    const chunk = body.subarray(at, at + length);
    const aad = Buffer.concat([digest, be64(i), Uint8Array.of(final ? 1 : 0)]);
    const plaintext =
      open(payloadKey, chunk.subarray(0, 24), aad, chunk.subarray(24, length - 16), chunk.subarray(length - 16)) ??
      fail(ErrorCode.AUTH_FAILED);
    out.push(plaintext);
    at += length;
    if (final) break;
  }
  if (at !== body.length) fail(ErrorCode.TRAILING_DATA);
  const plaintext = Buffer.concat(out);
  if (h.size !== undefined && plaintext.length !== h.size) fail(ErrorCode.SIZE_MISMATCH);
  return new Uint8Array(plaintext);
}

const decodeSelfContained = (
  bytes: Uint8Array,
  keys: Record<string, Uint8Array>,
  context = {},
  mode?: 'stream' | 'random-access',
) => independentDecode(splitSelfContained(bytes), keys, context, mode);
const decodeDetached = (
  d: { h: string; k: string; w: string },
  body: Uint8Array,
  keys: Record<string, Uint8Array>,
  context = {},
  mode?: 'stream' | 'random-access',
) => independentDecode({ ...parseDetached(d), body }, keys, context, mode);

function codeOfIndependent(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DecodeError) return error.code;
    throw error;
  }
  throw new Error('the independent decoder accepted a failure vector');
}

// ---------------------------------------------------------------------------

beforeAll(async () => {
  await sodium.ready;
});

const file = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as VectorFile;
const pool = fromHex(file.plaintextPool);

describe('the independent decoder', () => {
  test.each(file.roundTrip.map((v) => [v.name, v] as const))(
    'decodes round-trip vector %s in both framings',
    (_n, v) => {
      const keys = { [v.keyId]: fromHex(v.masterKey) };
      const expected = hex(pool.subarray(0, v.plaintextLength));
      expect(hex(decodeSelfContained(fromHex(v.selfContained), keys, v.context))).toBe(expected);
      expect(hex(decodeDetached(v.detached, fromHex(v.body), keys, v.context))).toBe(expected);
      expect(hex(decodeDetached(v.detached, fromHex(v.body), keys, v.context, 'random-access'))).toBe(expected);
    },
  );

  test.each(file.failure.map((v) => [v.name, v] as const))('reports failure vector %s with its code', (_n, v) => {
    const keys = { [v.keyId]: fromHex(v.masterKey) };
    const code = codeOfIndependent(() =>
      v.selfContained !== undefined
        ? decodeSelfContained(fromHex(v.selfContained), keys, v.context, v.decoder)
        : decodeDetached(v.detached!, fromHex(v.body!), keys, v.context, v.decoder),
    );
    expect(code).toBe(v.expect);
  });

  const sizes = [0, 1, 100, C - 1, C, C + 1, 3 * C + 17];
  const context = { bucket: 'b', key: 'k/é' };
  test.each(BACKENDS)('decodes fresh %s output, self-contained and detached, of several sizes', async (name) => {
    const on = await backend(name);
    const masterKey = on.randomBytes(32);
    const keys = { fresh: masterKey };
    const options = { keyring: keyring('fresh', masterKey, on), backend: on, chunkSize: C, context };
    for (const size of sizes) {
      const plaintext = filler(size, size + 1);
      // encryptBuffer: size recorded
      expect(hex(decodeSelfContained(await encryptBuffer(plaintext, options), keys, context))).toBe(hex(plaintext));
      // encryptStream without plaintextSize: size not recorded
      const unsized = await collect(encryptStream(plaintext, options));
      expect(unsized[7]).toBe(0);
      expect(hex(decodeSelfContained(unsized, keys, context))).toBe(hex(plaintext));
      // detached: header strings + body
      const cipher = await createStreamCipher({ ...options, plaintextSize: size });
      const body = await collect(encryptBody(cipher, plaintext));
      const detached = toDetachedHeader(cipher.header);
      expect(hex(decodeDetached(detached, body, keys, context))).toBe(hex(plaintext));
      expect(hex(decodeDetached(detached, body, keys, context, 'random-access'))).toBe(hex(plaintext));
    }
  });

  test('decodes a larger default-chunk-size stream and EncryptingReader output (synthetic nonces)', async () => {
    const on = await backend('native');
    const masterKey = on.randomBytes(32);
    const keys = { k: masterKey };
    const plaintext = filler(3 * 65536 + 5, 7);
    const kr = keyring('k', masterKey, on);
    expect(hex(decodeSelfContained(await encryptBuffer(plaintext, { keyring: kr, backend: on }), keys))).toBe(
      hex(plaintext),
    );
    const reader = await EncryptingReader.create(bufferSource(plaintext), { keyring: kr, backend: on, chunkSize: C });
    const bytes = await reader.read(0, reader.size);
    expect(hex(decodeSelfContained(bytes, keys))).toBe(hex(plaintext));
  });

  test('rejects what it should (the test decoder itself can fail)', async () => {
    const on = await backend('native');
    const masterKey = on.randomBytes(32);
    const bytes = await encryptBuffer(filler(10), { keyring: keyring('k', masterKey, on), backend: on, chunkSize: C });
    expect(codeOfIndependent(() => decodeSelfContained(bytes, { k: on.randomBytes(32) }))).toBe(
      ErrorCode.KEY_UNWRAP_FAILED,
    );
    const flipped = bytes.slice();
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    expect(codeOfIndependent(() => decodeSelfContained(flipped, { k: masterKey }))).toBe(ErrorCode.AUTH_FAILED);
  });
});
