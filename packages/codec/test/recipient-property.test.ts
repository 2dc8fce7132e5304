import fc from 'fast-check';
import type { CryptoBackend } from '../src/crypto/backend/backend';
import { RecipientKeyring } from '../src/crypto/recipient-keyring';
import { ErrorCode } from '../src/format/errors';
import {
  formatIdentity,
  formatRecipient,
  parseIdentities,
  parseIdentity,
  parseRecipient,
} from '../src/format/recipient-text';
import { backend, failureCode, hex, seeded } from './helpers';

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const header96 = fc.uint8Array({ minLength: 96, maxLength: 96 });
const RUNS = { numRuns: 150 };

let on: CryptoBackend;
beforeAll(async () => {
  on = await backend('native');
});

describe('X25519 recipient wrap, properties', () => {
  test('unwrap(wrap(DK, H), H) = DK for any identity, data key and header; any other header is refused', async () => {
    await fc.assert(
      fc.asyncProperty(key32, key32, header96, header96, async (secret, dataKey, header, other) => {
        const identity = formatIdentity(secret);
        const writer = new RecipientKeyring({ recipient: await RecipientKeyring.recipientOf(identity), backend: on });
        const reader = new RecipientKeyring({ identities: [identity], backend: on });
        const wrapped = await writer.wrap(dataKey, header);
        expect(wrapped.wrappedKey.length).toBe(80);
        expect(hex(await reader.unwrap(wrapped, header))).toBe(hex(dataKey));
        fc.pre(hex(other) !== hex(header));
        expect(await failureCode(reader.unwrap(wrapped, other))).toBe(ErrorCode.KEY_UNWRAP_FAILED);
      }),
      RUNS,
    );
  });

  test('any change to the wrapped key (one byte XOR any non-zero mask, or a cut) is refused', async () => {
    const identity = formatIdentity(new Uint8Array(32).fill(5));
    const writer = new RecipientKeyring({ recipient: await RecipientKeyring.recipientOf(identity), backend: on });
    const reader = new RecipientKeyring({ identities: [identity], backend: on });
    await fc.assert(
      fc.asyncProperty(
        key32,
        header96,
        fc.integer({ min: 0, max: 79 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 0, max: 80 }),
        async (dataKey, header, offset, mask, cut) => {
          const wrapped = await writer.wrap(dataKey, header);
          const changed = wrapped.wrappedKey.slice();
          changed[offset] = (changed[offset] as number) ^ mask;
          expect(await failureCode(reader.unwrap({ ...wrapped, wrappedKey: changed }, header))).toBe(
            ErrorCode.KEY_UNWRAP_FAILED,
          );
          const short = wrapped.wrappedKey.subarray(0, cut);
          if (cut < 80) {
            expect(await failureCode(reader.unwrap({ ...wrapped, wrappedKey: short }, header))).toBe(
              ErrorCode.KEY_UNWRAP_FAILED,
            );
          }
        },
      ),
      RUNS,
    );
  });

  test('a key block wrapped to one identity never opens with another', async () => {
    await fc.assert(
      fc.asyncProperty(key32, key32, key32, header96, async (a, b, dataKey, header) => {
        fc.pre(hex(a) !== hex(b));
        const writer = new RecipientKeyring({ recipient: await RecipientKeyring.recipientOf(formatIdentity(a)) });
        const wrapped = await writer.wrap(dataKey, header);
        const other = new RecipientKeyring({ identities: [formatIdentity(b)], backend: on });
        expect(await failureCode(other.unwrap(wrapped, header))).toBe(ErrorCode.UNKNOWN_KEY);
        const otherKeyId = await RecipientKeyring.keyIdOf(await RecipientKeyring.recipientOf(formatIdentity(b)));
        expect(await failureCode(other.unwrap({ ...wrapped, keyId: otherKeyId }, header))).toBe(
          ErrorCode.KEY_UNWRAP_FAILED,
        );
      }),
      { numRuns: 60 },
    );
  });

  test('the native and libsodium backends wrap identically from the same randomness', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 12 }), key32, key32, header96, async (label, s, dk, h) => {
        const recipient = await RecipientKeyring.recipientOf(formatIdentity(s));
        const wrap = async (name: 'native' | 'libsodium') =>
          new RecipientKeyring({ recipient, backend: await seeded(label, name) }).wrap(dk, h);
        const [native, portable] = [await wrap('native'), await wrap('libsodium')];
        expect(native.keyId).toBe(portable.keyId);
        expect(hex(native.wrappedKey)).toBe(hex(portable.wrappedKey));
      }),
      { numRuns: 60 },
    );
  });
});

describe('recipient and identity strings, properties', () => {
  test('format/parse round trips, in either case', () => {
    fc.assert(
      fc.property(key32, (key) => {
        expect(hex(parseRecipient(formatRecipient(key)))).toBe(hex(key));
        expect(hex(parseRecipient(formatRecipient(key).toUpperCase()))).toBe(hex(key));
        expect(hex(parseIdentity(formatIdentity(key)))).toBe(hex(key));
        expect(hex(parseIdentities(`# x\n${formatIdentity(key).toLowerCase()}\n`)[0]!)).toBe(hex(key));
      }),
      { numRuns: 300 },
    );
  });

  test('arbitrary text is refused with a RangeError, never accepted and never a crash', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        for (const parse of [parseRecipient, parseIdentity, parseIdentities]) {
          let thrown: unknown;
          try {
            parse(text);
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(RangeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
