/**
 * A decoder written only from FORMAT.md, with libsodium's XChaCha20-Poly1305
 * and node:crypto's SHA-256/HKDF — none of the codec's decoding code. It
 * decrypts the codec's output and every vector, and reports the failure class
 * FORMAT.md assigns to every failure vector: proof that FORMAT.md suffices.
 * The X25519 recipient unwrap (§6) uses node:crypto's X25519 (OpenSSL), not
 * libsodium's, and its own Bech32.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import sodium from 'libsodium-wrappers-sumo';
import { VECTORS_PATH, type VectorFile } from '../scripts/generate-vectors';
import { RecipientKeyring } from '../src/crypto/recipient-keyring';
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

/** BIP 173 Bech32, decoding only: the data bytes of `text` under `hrp`, or undefined. */
function bech32Bytes(text: string, hrp: string): Uint8Array | undefined {
  const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const lower = text.toLowerCase();
  const at = lower.lastIndexOf('1');
  if (lower.slice(0, at) !== hrp || lower.length > 90) return undefined;
  const values = [...lower.slice(at + 1)].map((c) => charset.indexOf(c));
  if (values.length < 6 || values.includes(-1)) return undefined;
  const expanded = [...hrp]
    .map((c) => c.charCodeAt(0) >> 5)
    .concat(
      [0],
      [...hrp].map((c) => c.charCodeAt(0) & 31),
    );
  let chk = 1;
  for (const v of [...expanded, ...values]) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3].forEach((g, i) => {
      if ((top >> i) & 1) chk ^= g;
    });
  }
  if (chk !== 1) return undefined;
  let bits = 0;
  let acc = 0;
  const out: number[] = [];
  for (const v of values.slice(0, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
    }
  }
  if (bits >= 5 || acc !== 0) return undefined; // zero padding, fewer than 5 bits
  return Uint8Array.from(out);
}

/** X25519 through node:crypto (OpenSSL): keys as raw 32 bytes, wrapped in the fixed DER prefixes. */
const x25519Private = (s: Uint8Array) =>
  createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), s]),
    format: 'der',
    type: 'pkcs8',
  });
const x25519Public = (u: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), u]),
    format: 'der',
    type: 'spki',
  });
const publicKeyOf = (s: Uint8Array) =>
  new Uint8Array(createPublicKey(x25519Private(s)).export({ format: 'der', type: 'spki' }).subarray(12));
/** X25519(s, u); all zero when OpenSSL refuses the small-order result. */
function x25519(privateKey: KeyObject, u: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(diffieHellman({ privateKey, publicKey: x25519Public(u) }));
  } catch {
    return new Uint8Array(32);
  }
}
/** "es-x25519-" || base64url(SHA-256("encrypted-stream v1 x25519 key id" || R)[0..16]) */
const x25519KeyId = (R: Uint8Array) =>
  `es-x25519-${Buffer.from(sha256(Buffer.concat([ascii('encrypted-stream v1 x25519 key id'), R])))
    .subarray(0, 16)
    .toString('base64url')}`;

/** §6 X25519 recipients: the unwrap, steps 1–5. */
function unwrapX25519(identities: readonly string[], keyId: string, wrapped: Uint8Array, header: Uint8Array) {
  // 1. the identity whose key id matches
  const held = identities.map((text) => {
    const s = bech32Bytes(text, 'es-secret-key-');
    if (s?.length !== 32) throw new Error('test bug: not an identity');
    const R = publicKeyOf(s);
    return { s, R, keyId: x25519KeyId(R) };
  });
  const identity = held.find((i) => i.keyId === keyId) ?? fail(ErrorCode.UNKNOWN_KEY);
  // 2. length
  if (wrapped.length !== 80) fail(ErrorCode.KEY_UNWRAP_FAILED);
  // 3. shared secret, not all zero
  const E = wrapped.subarray(0, 32);
  const S = x25519(x25519Private(identity.s), E);
  if (S.reduce((any, b) => any | b, 0) === 0) fail(ErrorCode.KEY_UNWRAP_FAILED);
  // 4. wrap key: salt = E as stored || the identity's own R
  const wrapKey = hkdf(S, Buffer.concat([E, identity.R]), ascii('encrypted-stream v1 x25519 wrap'), 32);
  // 5. the data key, aad = the 96-byte stream header, nonce = 24 zero bytes
  return (
    open(wrapKey, new Uint8Array(24), header, wrapped.subarray(32, 64), wrapped.subarray(64, 80)) ??
    fail(ErrorCode.KEY_UNWRAP_FAILED)
  );
}

interface Parts {
  header: Uint8Array;
  keyId: string;
  wrapped: Uint8Array;
  body: Uint8Array;
}

/** §6 local keyring unwrap. */
function unwrapLocal(parts: Parts, masterKeys: Record<string, Uint8Array>): Uint8Array {
  const masterKey = masterKeys[parts.keyId] ?? fail(ErrorCode.UNKNOWN_KEY);
  if (parts.wrapped.length !== 72) fail(ErrorCode.KEY_UNWRAP_FAILED);
  const id = ascii(parts.keyId);
  const wrapAad = Buffer.concat([ascii('encrypted-stream v1 local wrap'), Uint8Array.of(id.length), id, parts.header]);
  const w = parts.wrapped;
  return (
    open(masterKey, w.subarray(0, 24), wrapAad, w.subarray(24, 56), w.subarray(56)) ?? fail(ErrorCode.KEY_UNWRAP_FAILED)
  );
}

/** The X25519 identities a decoder holds (FORMAT.md §6, "X25519 recipients"), as ES-SECRET-KEY-1… strings. */
class Identities {
  constructor(readonly list: readonly string[]) {}
}
type Keys = Record<string, Uint8Array> | Identities;

/**
 * Decodes a stream. `stream` mode reads the body front to back (§9); `random-access` mode knows the
 * body size first and checks it against a recorded size (§8) before reading.
 */
function independentDecode(
  parts: Parts,
  keys: Keys,
  context: Record<string, string>,
  mode: 'stream' | 'random-access' = 'stream',
): Uint8Array {
  const h = parseStreamHeader(parts.header);
  const C = h.chunkSize;
  const dataKey =
    keys instanceof Identities
      ? unwrapX25519(keys.list, parts.keyId, parts.wrapped, parts.header)
      : unwrapLocal(parts, keys);
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

const decodeSelfContained = (bytes: Uint8Array, keys: Keys, context = {}, mode?: 'stream' | 'random-access') =>
  independentDecode(splitSelfContained(bytes), keys, context, mode);
const decodeDetached = (
  d: { h: string; k: string; w: string },
  body: Uint8Array,
  keys: Keys,
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

describe('the independent decoder, X25519 recipients (FORMAT.md §6)', () => {
  const { wrap, unwrapFailure, stream } = file.recipient;

  test.each(wrap.map((v) => [v.name, v] as const))('known answer %s, every step with OpenSSL X25519', (_n, v) => {
    const s = bech32Bytes(v.identity, 'es-secret-key-')!;
    expect(hex(s)).toBe(v.identitySecretKey);
    const R = publicKeyOf(s);
    expect(hex(R)).toBe(v.recipientPublicKey);
    expect(hex(bech32Bytes(v.recipient, 'es-pub')!)).toBe(v.recipientPublicKey);
    expect(x25519KeyId(R)).toBe(v.keyId);
    const e = fromHex(v.ephemeralSecretKey);
    expect(hex(publicKeyOf(e))).toBe(v.ephemeralPublicKey);
    const S = x25519(x25519Private(e), R);
    expect(hex(S)).toBe(v.sharedSecret);
    expect(hex(x25519(x25519Private(s), fromHex(v.ephemeralPublicKey)))).toBe(v.sharedSecret);
    const E = fromHex(v.ephemeralPublicKey);
    expect(hex(hkdf(S, Buffer.concat([E, R]), ascii('encrypted-stream v1 x25519 wrap'), 32))).toBe(v.wrapKey);
    expect(v.wrappedKey.slice(0, 64)).toBe(v.ephemeralPublicKey);
    const dataKey = unwrapX25519([v.identity], v.keyId, fromHex(v.wrappedKey), fromHex(v.streamHeader));
    expect(hex(dataKey)).toBe(v.dataKey);
  });

  test.each(unwrapFailure.map((v) => [v.name, v] as const))('refuses key block %s with its code', (_n, v) => {
    const code = codeOfIndependent(() =>
      unwrapX25519(v.identities, v.keyId, fromHex(v.wrappedKey), fromHex(v.streamHeader)),
    );
    expect(code).toBe(v.expect);
  });

  test.each(stream.map((v) => [v.name, v] as const))('decodes stream %s in both framings', (_n, v) => {
    const keys = new Identities(v.identities);
    const expected = hex(pool.subarray(0, v.plaintextLength));
    expect(hex(decodeSelfContained(fromHex(v.selfContained), keys, v.context))).toBe(expected);
    expect(hex(decodeDetached(v.detached, fromHex(v.body), keys, v.context))).toBe(expected);
    expect(hex(decodeDetached(v.detached, fromHex(v.body), keys, v.context, 'random-access'))).toBe(expected);
    const older = new Identities(v.identities.slice(0, 1));
    expect(codeOfIndependent(() => decodeSelfContained(fromHex(v.selfContained), older, v.context))).toBe(
      ErrorCode.UNKNOWN_KEY,
    );
  });

  test.each(BACKENDS)('decodes fresh RecipientKeyring output of the %s backend', async (name) => {
    const on = await backend(name);
    const identity = await RecipientKeyring.generateIdentity();
    const keyring = new RecipientKeyring({ recipient: await RecipientKeyring.recipientOf(identity), backend: on });
    const context = { bucket: 'b', key: 'k/é' };
    for (const size of [0, 1, C, 2 * C + 3]) {
      const plaintext = filler(size, size + 9);
      const bytes = await encryptBuffer(plaintext, { keyring, backend: on, chunkSize: C, context });
      expect(hex(decodeSelfContained(bytes, new Identities([identity]), context))).toBe(hex(plaintext));
      const other = new Identities([await RecipientKeyring.generateIdentity()]);
      expect(codeOfIndependent(() => decodeSelfContained(bytes, other, context))).toBe(ErrorCode.UNKNOWN_KEY);
    }
  });
});
