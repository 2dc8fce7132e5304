/**
 * The tamper matrix of the X25519 recipient wrap (FORMAT.md §6): every byte
 * of the wrapped key, every character of the key id, every byte of the stream
 * header, swapped ephemeral keys, another recipient's key block, low-order
 * points. Each must fail with its code, at the keyring and through a whole
 * decryption, and release nothing.
 */
import { LOW_ORDER_POINTS } from '../scripts/recipient-vectors';
import type { CryptoBackend } from '../src/crypto/backend/backend';
import { loadSodium } from '../src/crypto/backend/sodium';
import { RecipientKeyring } from '../src/crypto/recipient-keyring';
import { openStreamCipher } from '../src/crypto/stream-cipher';
import { EncryptedStreamError, ErrorCode } from '../src/format/errors';
import {
  decodeHeader,
  type EncryptionHeader,
  encodeHeader,
  fromDetachedHeader,
  parseStreamHeader,
  toDetachedHeader,
} from '../src/format/header';
import { formatIdentity, formatRecipient, parseRecipient } from '../src/format/recipient-text';
import { decryptBuffer, decryptStream } from '../src/io/decrypt';
import { encryptBuffer } from '../src/io/encrypt';
import { BACKENDS, backend, C, codeOf, concat, drain, failureCode, filler, flipBit, hex } from './helpers';

const A = formatIdentity(filler(32, 31));
const B = formatIdentity(filler(32, 32));
const PLAINTEXT = filler(C + 5, 33);

/** Two streams to A and one to B, all under the same backend. */
async function setUp(on: CryptoBackend) {
  const toA = new RecipientKeyring({ recipient: await RecipientKeyring.recipientOf(A), backend: on });
  const toB = new RecipientKeyring({ recipient: await RecipientKeyring.recipientOf(B), backend: on });
  const readA = new RecipientKeyring({ identities: [A], backend: on });
  const readBoth = new RecipientKeyring({ identities: [A, B], backend: on });
  const make = async (keyring: RecipientKeyring) => {
    const bytes = await encryptBuffer(PLAINTEXT, { keyring, backend: on, chunkSize: C });
    const { header, length } = decodeHeader(bytes)!;
    return { bytes, header, body: bytes.subarray(length) };
  };
  return { toA, readA, readBoth, first: await make(toA), second: await make(toA), forB: await make(toB) };
}

/** The stream reframed with another key block (and optionally another stream header). */
function reframe(header: EncryptionHeader, body: Uint8Array, patch: { keyId?: string; w?: Uint8Array }) {
  const d = toDetachedHeader(header);
  const k = patch.keyId ?? d.k;
  const w = patch.w ? Buffer.from(patch.w).toString('base64url') : d.w;
  return concat(encodeHeader(fromDetachedHeader({ h: d.h, k, w })), body);
}

/** The code a whole decryption fails with (and releases nothing: the key is checked before any chunk). */
async function refusal(bytes: Uint8Array, keyring: RecipientKeyring, on: CryptoBackend): Promise<string> {
  const { output, error } = await drain(decryptStream(bytes, { keyring, backend: on }));
  expect(output.length).toBe(0);
  expect(await failureCode(decryptBuffer(bytes, { keyring, backend: on }))).toBe(codeOf(error));
  return codeOf(error);
}

describe.each(BACKENDS)('recipient wrap tamper matrix (%s backend)', (name) => {
  let on: CryptoBackend;
  let s: Awaited<ReturnType<typeof setUp>>;

  beforeAll(async () => {
    on = await backend(name);
    s = await setUp(on);
  });

  test('control: the untouched streams open, the key block of each is 80 bytes', async () => {
    for (const stream of [s.first, s.second]) {
      expect(stream.header.wrappedKey.length).toBe(80);
      expect(hex(await decryptBuffer(stream.bytes, { keyring: s.readA, backend: on }))).toBe(hex(PLAINTEXT));
    }
    expect(hex(await decryptBuffer(s.forB.bytes, { keyring: s.readBoth, backend: on }))).toBe(hex(PLAINTEXT));
  });

  test('every bit of every byte of the wrapped key (ephemeral key, ciphertext, tag)', async () => {
    const { header } = s.first;
    for (let offset = 0; offset < 80; offset++) {
      for (let bit = 0; bit < 8; bit++) {
        const wrappedKey = flipBit(header.wrappedKey, offset, bit);
        expect([offset, bit, await failureCode(s.readA.unwrap({ ...header, wrappedKey }, header.streamBytes))]).toEqual(
          [offset, bit, ErrorCode.KEY_UNWRAP_FAILED],
        );
      }
    }
  });

  test('bit 255 of the ephemeral key: the same shared secret, refused all the same (E is in the HKDF salt)', async () => {
    const sodium = await loadSodium();
    const { header } = s.first;
    const e = header.wrappedKey.subarray(0, 32);
    const flipped = flipBit(e, 31, 7);
    const identity = new Uint8Array(Buffer.from(filler(32, 31)));
    expect(hex(sodium.crypto_scalarmult(identity, flipped))).toBe(hex(sodium.crypto_scalarmult(identity, e)));
    const bytes = reframe(header, s.first.body, { w: flipBit(header.wrappedKey, 31, 7) });
    expect(await refusal(bytes, s.readA, on)).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test('every length of the wrapped key but 80', async () => {
    const { header } = s.first;
    for (const length of [0, 1, 32, 48, 64, 79, 81, 96, 160]) {
      const wrappedKey = new Uint8Array(length);
      wrappedKey.set(header.wrappedKey.subarray(0, Math.min(length, 80)));
      expect([length, await failureCode(s.readA.unwrap({ ...header, wrappedKey }, header.streamBytes))]).toEqual([
        length,
        ErrorCode.KEY_UNWRAP_FAILED,
      ]);
    }
    // Whole streams, through the self-contained framing (the format layer allows 1 … 1024 bytes).
    for (const w of [header.wrappedKey.subarray(0, 79), concat(header.wrappedKey, Uint8Array.of(0))]) {
      expect(await refusal(reframe(header, s.first.body, { w }), s.readA, on)).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    }
  });

  test('every character of the key id, changed to each other printable character: an unknown key', async () => {
    const { header, body } = s.first;
    const keyId = header.keyId;
    for (let i = 0; i < keyId.length; i++) {
      for (let c = 0x21; c <= 0x7e; c++) {
        const char = String.fromCharCode(c);
        if (char === keyId[i]) continue;
        const edited = `${keyId.slice(0, i)}${char}${keyId.slice(i + 1)}`;
        expect([
          edited,
          await failureCode(s.readBoth.unwrap({ ...header, keyId: edited }, header.streamBytes)),
        ]).toEqual([edited, ErrorCode.UNKNOWN_KEY]);
      }
    }
    for (const edited of [keyId.toUpperCase(), keyId.slice(0, -1), `${keyId}A`, `x${keyId}`]) {
      expect(await refusal(reframe(header, body, { keyId: edited }), s.readBoth, on)).toBe(ErrorCode.UNKNOWN_KEY);
    }
  });

  test('the key id re-pointed at another identity the reader holds: not an unwrap for that recipient', async () => {
    const { header, body } = s.first;
    const bytes = reframe(header, body, { keyId: s.forB.header.keyId });
    expect(await refusal(bytes, s.readBoth, on)).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    // …and B's block re-labelled with A's key id.
    const relabelled = reframe(s.forB.header, s.forB.body, { keyId: header.keyId });
    expect(await refusal(relabelled, s.readBoth, on)).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test('another recipient’s key block: an unknown key for a reader without that identity', async () => {
    expect(await refusal(s.forB.bytes, s.readA, on)).toBe(ErrorCode.UNKNOWN_KEY);
    // B's block on A's stream, for a reader holding both: B's identity opens it, the header is A's stream's.
    const swapped = reframe(s.first.header, s.first.body, { keyId: s.forB.header.keyId, w: s.forB.header.wrappedKey });
    expect(await refusal(swapped, s.readBoth, on)).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test('every bit of every byte of the stream header, at the keyring: the wrap is bound to all 96 bytes', async () => {
    const { header } = s.first;
    for (let offset = 0; offset < 96; offset++) {
      for (const bit of [0, 3, 7]) {
        const aad = flipBit(header.streamBytes, offset, bit);
        expect([offset, bit, await failureCode(s.readA.unwrap(header, aad))]).toEqual([
          offset,
          bit,
          ErrorCode.KEY_UNWRAP_FAILED,
        ]);
      }
    }
  });

  test('every byte of the stream header, in a whole stream: refused (format errors first, FORMAT.md §9)', async () => {
    const { bytes } = s.first;
    for (let offset = 0; offset < 96; offset++) {
      const tampered = flipBit(bytes, offset, 0);
      let parses = true;
      try {
        parseStreamHeader(tampered.subarray(0, 96));
      } catch {
        parses = false;
      }
      const code = await refusal(tampered, s.readA, on);
      if (parses) expect([offset, code]).toEqual([offset, ErrorCode.KEY_UNWRAP_FAILED]);
      else expect([ErrorCode.MALFORMED, ErrorCode.UNSUPPORTED_VERSION]).toContain(code);
    }
  });

  test('the key block moved to another stream to the same recipient', async () => {
    const moved = reframe(s.second.header, s.second.body, { w: s.first.header.wrappedKey });
    expect(await refusal(moved, s.readA, on)).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    // The detached framing: es-k/es-w of one object under es-h of another.
    const d1 = toDetachedHeader(s.first.header);
    const d2 = toDetachedHeader(s.second.header);
    const code = await failureCode(
      openStreamCipher(fromDetachedHeader({ ...d2, k: d1.k, w: d1.w }), { keyring: s.readA }),
    );
    expect(code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test('ephemeral keys swapped between two wraps to the same recipient', async () => {
    const w1 = s.first.header.wrappedKey;
    const w2 = s.second.header.wrappedKey;
    const swap1 = concat(w2.subarray(0, 32), w1.subarray(32));
    const swap2 = concat(w1.subarray(0, 32), w2.subarray(32));
    expect(await refusal(reframe(s.first.header, s.first.body, { w: swap1 }), s.readA, on)).toBe(
      ErrorCode.KEY_UNWRAP_FAILED,
    );
    expect(await refusal(reframe(s.second.header, s.second.body, { w: swap2 }), s.readA, on)).toBe(
      ErrorCode.KEY_UNWRAP_FAILED,
    );
    // The ephemeral key replaced by the recipient's own public key, or by the base point (whose
    // shared secret is the public key itself: anyone can compute it, but the ciphertext is under another key).
    const publicKey = parseRecipient(await RecipientKeyring.recipientOf(A));
    const basePoint = new Uint8Array(32);
    basePoint[0] = 9;
    for (const e of [publicKey, basePoint]) {
      const w = concat(e, w1.subarray(32));
      expect(await refusal(reframe(s.first.header, s.first.body, { w }), s.readA, on)).toBe(
        ErrorCode.KEY_UNWRAP_FAILED,
      );
    }
  });

  test.each(
    LOW_ORDER_POINTS.flatMap(([pointName, point]) => [
      [pointName, Buffer.from(point, 'hex')],
      [`${pointName} with bit 255`, flipBit(Buffer.from(point, 'hex'), 31, 7)],
    ]),
  )('low-order ephemeral key %s: refused, and no recipient can be such a point', async (_n, point) => {
    const { header, body } = s.first;
    const w = concat(point as Uint8Array, header.wrappedKey.subarray(32));
    expect(await failureCode(s.readA.unwrap({ ...header, wrappedKey: w }, header.streamBytes))).toBe(
      ErrorCode.KEY_UNWRAP_FAILED,
    );
    expect(await refusal(reframe(header, body, { w }), s.readA, on)).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    const toLowOrder = new RecipientKeyring({ recipient: formatRecipient(point as Uint8Array), backend: on });
    let thrown: unknown;
    try {
      await encryptBuffer(PLAINTEXT, { keyring: toLowOrder, backend: on });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect(thrown).not.toBeInstanceOf(EncryptedStreamError);
  });
});
