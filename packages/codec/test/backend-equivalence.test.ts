import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { CryptoBackend } from '../src/crypto/backend/backend';
import { createLibsodiumBackend } from '../src/crypto/backend/libsodium-backend';
import { loadSodium, type Sodium } from '../src/crypto/backend/sodium';
import { decryptBuffer } from '../src/io/decrypt';
import { encryptBuffer, encryptStream } from '../src/io/encrypt';
import { createNativeBackend } from '../src/node/native-backend';
import { collect, concat, hex, keyring, seeded, splitAt } from './helpers';

let sodium: Sodium;
let native: CryptoBackend;
let libsodium: CryptoBackend;

beforeAll(async () => {
  sodium = await loadSodium();
  native = createNativeBackend(sodium);
  libsodium = createLibsodiumBackend(sodium);
  expect([native.name, libsodium.name]).toEqual(['native', 'libsodium']);
});

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const key = bytes(32, 32);
const nonce = bytes(24, 24);
/** Up to 5 cut points: the same bytes as 1–6 pieces (some possibly empty). */
const cuts = fc.array(fc.nat({ max: 3000 }), { maxLength: 5 });
const RUNS = { numRuns: 300 };

describe('seal / open', () => {
  test('identical ciphertext and tag from both backends, whatever the piece boundaries', () => {
    fc.assert(
      fc.property(
        key,
        nonce,
        bytes(0, 64),
        fc.oneof(bytes(0, 0), bytes(1, 80), bytes(0, 3000)),
        cuts,
        cuts,
        (k, n, aad, m, cutsA, cutsB) => {
          const a = native.seal(k, n, aad, splitAt(m, cutsA));
          const b = libsodium.seal(k, n, aad, splitAt(m, cutsB));
          const [ctA, tagA] = [concat(...a.slice(0, -1)), a.at(-1)!];
          const [ctB, tagB] = [concat(...b.slice(0, -1)), b.at(-1)!];
          expect(tagA.length).toBe(16);
          expect(ctA.length).toBe(m.length);
          expect([hex(ctA), hex(tagA)]).toEqual([hex(ctB), hex(tagB)]);
          // Reference: libsodium's combined encryption is ciphertext || tag.
          const combined = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(m, aad, null, n, k);
          expect(hex(combined)).toBe(hex(concat(ctA, tagA)));
          // Each opens the other's output, in any pieces.
          expect(hex(concat(...native.open(k, n, aad, splitAt(ctB, cutsB), tagB)!))).toBe(hex(m));
          expect(hex(concat(...libsodium.open(k, n, aad, splitAt(ctA, cutsA), tagA)!))).toBe(hex(m));
        },
      ),
      RUNS,
    );
  });

  test('both refuse the same forgeries', () => {
    fc.assert(
      fc.property(
        key,
        nonce,
        bytes(0, 32),
        bytes(0, 200),
        fc.nat(),
        fc.constantFrom('ciphertext', 'tag', 'aad', 'nonce', 'key'),
        (k, n, aad, m, at, what) => {
          const sealed = native.seal(k, n, aad, [m]);
          let ct = concat(...sealed.slice(0, -1));
          let tag = sealed.at(-1)!;
          let [k2, n2, aad2] = [k, n, aad];
          const flip = (b: Uint8Array) => {
            const out = b.slice();
            if (out.length === 0) return Uint8Array.of(0); // empty: one extra byte is the change
            out[at % out.length] = (out[at % out.length] as number) ^ (1 << (at % 8));
            return out;
          };
          if (what === 'ciphertext') ct = flip(ct);
          if (what === 'tag') tag = flip(tag);
          if (what === 'aad') aad2 = flip(aad);
          if (what === 'nonce') n2 = flip(n);
          if (what === 'key') k2 = flip(k);
          expect(native.open(k2, n2, aad2, [ct], tag)).toBeUndefined();
          expect(libsodium.open(k2, n2, aad2, [ct], tag)).toBeUndefined();
        },
      ),
      RUNS,
    );
  });
});

describe('hkdf, hmac, sha256, equal', () => {
  test('hkdf: identical output for any ikm, salt (including empty), info and length up to 255·32', () => {
    fc.assert(
      fc.property(
        bytes(0, 100),
        bytes(0, 100),
        bytes(0, 200),
        fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 255 * 32 })),
        (ikm, salt, info, length) => {
          const a = native.hkdf(ikm, salt, info, length);
          const b = libsodium.hkdf(ikm, salt, info, length);
          expect(a.length).toBe(length);
          expect(hex(a)).toBe(hex(b));
        },
      ),
      RUNS,
    );
    // RFC 5869 test case 1.
    const ikm = new Uint8Array(22).fill(0x0b);
    const salt = Uint8Array.from(Buffer.from('000102030405060708090a0b0c', 'hex'));
    const info = Uint8Array.from(Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex'));
    const okm = '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865';
    expect(hex(native.hkdf(ikm, salt, info, 42))).toBe(okm);
    expect(hex(libsodium.hkdf(ikm, salt, info, 42))).toBe(okm);
    expect(() => native.hkdf(ikm, salt, info, 255 * 32 + 1)).toThrow();
    expect(() => libsodium.hkdf(ikm, salt, info, 255 * 32 + 1)).toThrow(RangeError);
  });

  test('hmacSha256 over pieces: identical, and equal to node:crypto on the concatenation', () => {
    fc.assert(
      fc.property(fc.oneof(bytes(0, 0), bytes(1, 64), bytes(65, 200)), bytes(0, 500), cuts, (k, data, at) => {
        const a = native.hmacSha256(k, splitAt(data, at));
        const b = libsodium.hmacSha256(k, splitAt(data, at.slice().reverse()));
        const reference = createHmac('sha256', k).update(data).digest('hex');
        expect([hex(a), hex(b)]).toEqual([reference, reference]);
      }),
      RUNS,
    );
  });

  test('sha256 and equal agree', () => {
    fc.assert(
      fc.property(bytes(0, 300), bytes(0, 40), fc.boolean(), (data, other, same) => {
        const reference = createHash('sha256').update(data).digest('hex');
        expect([hex(native.sha256(data)), hex(libsodium.sha256(data))]).toEqual([reference, reference]);
        const b = same ? data.slice() : other;
        const expected = Buffer.compare(data, b) === 0;
        expect([native.equal(data, b), libsodium.equal(data, b)]).toEqual([expected, expected]);
      }),
      RUNS,
    );
  });
});

describe('whole streams', () => {
  let run = 0;
  test('with the same injected random source, both backends write identical streams; each decrypts the other', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(bytes(0, 0), bytes(1, 100), bytes(4000, 9000)),
        fc.boolean(),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
        async (plaintext, recorded, context) => {
          const label = `equivalence-${run++}`;
          const [a, b] = [await seeded(label, 'native'), await seeded(label, 'libsodium')];
          const masterKey = new Uint8Array(32).fill(3);
          const encrypt = (on: CryptoBackend) => {
            const options = { keyring: keyring('eq', masterKey, on), backend: on, chunkSize: 4096, context };
            return recorded ? encryptBuffer(plaintext, options) : collect(encryptStream(plaintext, options));
          };
          const [fromNative, fromLibsodium] = [await encrypt(a), await encrypt(b)];
          expect(hex(fromNative)).toBe(hex(fromLibsodium));
          const open = (on: CryptoBackend) => ({ keyring: keyring('eq', masterKey, on), backend: on, context });
          expect(hex(await decryptBuffer(fromNative, open(libsodium)))).toBe(hex(plaintext));
          expect(hex(await decryptBuffer(fromLibsodium, open(native)))).toBe(hex(plaintext));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('randomly sourced streams (the default CSPRNG) still decrypt across backends', async () => {
    const plaintext = new Uint8Array(10_000).map((_, i) => i * 7);
    const masterKey = native.randomBytes(32);
    for (const [enc, dec] of [
      [native, libsodium],
      [libsodium, native],
    ] as const) {
      const bytes = await encryptBuffer(plaintext, {
        keyring: keyring('r', masterKey, enc),
        backend: enc,
        chunkSize: 4096,
      });
      expect(hex(await decryptBuffer(bytes, { keyring: keyring('r', masterKey, dec), backend: dec }))).toBe(
        hex(plaintext),
      );
    }
    // The default source is random: two encryptions differ.
    const [x, y] = [native.randomBytes(24), native.randomBytes(24)];
    expect(hex(x)).not.toBe(hex(y));
    expect(hex(libsodium.randomBytes(24))).not.toBe(hex(libsodium.randomBytes(24)));
  });
});
