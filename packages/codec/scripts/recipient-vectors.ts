/**
 * The X25519 recipient vectors of `test/vectors/v1.json` (its `recipient`
 * member; FORMAT.md §6 "X25519 recipients"), built by `generate-vectors.ts`
 * with the same seeded randomness: every byte is reproducible.
 *
 * ```
 * "recipient": {
 *   "wrap": [{                       // known answers, with every intermediate value
 *     "name": string,
 *     "identity": string,            // ES-SECRET-KEY-1… (its 32 bytes: identitySecretKey)
 *     "identitySecretKey": hex,
 *     "recipient": string,           // es-pub1…
 *     "recipientPublicKey": hex,     // R = X25519(identitySecretKey, 9)
 *     "streamHeader": hex,           // the 96-byte stream header (the wrap's aad)
 *     "dataKey": hex,                // DK
 *     "ephemeralSecretKey": hex,     // e
 *     "ephemeralPublicKey": hex,     // E = X25519(e, 9)
 *     "sharedSecret": hex,           // S = X25519(e, R)
 *     "wrapKey": hex,                // HKDF-SHA256(S, E || R, "encrypted-stream v1 x25519 wrap", 32)
 *     "keyId": string,               // "es-x25519-" || base64url(SHA-256("encrypted-stream v1 x25519 key id" || R)[0..16])
 *     "wrappedKey": hex              // E || ciphertext || tag (80 bytes)
 *   }],
 *   "unwrapFailure": [{              // key blocks a decoder holding `identities` must refuse
 *     "name": string,
 *     "identities": [string],        // ES-SECRET-KEY-1… the decoder holds
 *     "streamHeader": hex, "keyId": string, "wrappedKey": hex,
 *     "expect": "ES_UNKNOWN_KEY" | "ES_KEY_UNWRAP_FAILED"
 *   }],
 *   "stream": [{                     // whole streams wrapped to a recipient
 *     "name": string,
 *     "identities": [string],        // what the decoder holds (the last one wrapped the stream)
 *     "context": { [k: string]: string },
 *     "chunkExponent": number, "plaintextLength": number, "plaintextSizeRecorded": boolean,
 *     "selfContained": hex, "detached": { "h", "k", "w" }, "body": hex
 *   }]
 * }
 * ```
 */
import type { CryptoBackend } from '../src/crypto/backend/backend';
import type { Sodium } from '../src/crypto/backend/sodium';
import type { Keyring } from '../src/crypto/keyring';
import { RecipientKeyring } from '../src/crypto/recipient-keyring';
import { LABEL_X25519_WRAP } from '../src/crypto/recipient-wrap';
import { createStreamCipher } from '../src/crypto/stream-cipher';
import type { EncryptionContext } from '../src/format/context';
import { ErrorCode } from '../src/format/errors';
import { type DetachedHeader, decodeHeader, toDetachedHeader } from '../src/format/header';
import { formatIdentity, formatRecipient } from '../src/format/recipient-text';
import { encryptBuffer, encryptStream } from '../src/io/encrypt';
import { collectBytes } from '../src/io/sources';

export interface RecipientWrapVector {
  readonly name: string;
  readonly identity: string;
  readonly identitySecretKey: string;
  readonly recipient: string;
  readonly recipientPublicKey: string;
  readonly streamHeader: string;
  readonly dataKey: string;
  readonly ephemeralSecretKey: string;
  readonly ephemeralPublicKey: string;
  readonly sharedSecret: string;
  readonly wrapKey: string;
  readonly keyId: string;
  readonly wrappedKey: string;
}

export interface RecipientUnwrapFailureVector {
  readonly name: string;
  readonly identities: string[];
  readonly streamHeader: string;
  readonly keyId: string;
  readonly wrappedKey: string;
  readonly expect: string;
}

export interface RecipientStreamVector {
  readonly name: string;
  readonly identities: string[];
  readonly context: EncryptionContext;
  readonly chunkExponent: number;
  readonly plaintextLength: number;
  readonly plaintextSizeRecorded: boolean;
  readonly selfContained: string;
  readonly detached: DetachedHeader;
  readonly body: string;
}

export interface RecipientVectors {
  readonly wrap: RecipientWrapVector[];
  readonly unwrapFailure: RecipientUnwrapFailureVector[];
  readonly stream: RecipientStreamVector[];
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const utf8 = (text: string) => new TextEncoder().encode(text);

/**
 * The X25519 u-coordinates of small order (libsodium's list, little-endian):
 * 0, 1, the two points of order 8, p − 1, p, p + 1. X25519 ignores the top
 * bit, so each also stands for its copy with bit 255 set.
 */
export const LOW_ORDER_POINTS: readonly (readonly [string, string])[] = [
  ['zero', '00'.repeat(32)],
  ['one', `01${'00'.repeat(31)}`],
  ['order-8-a', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
  ['order-8-b', '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157'],
  ['p-minus-1', `ec${'ff'.repeat(30)}7f`],
  ['p', `ed${'ff'.repeat(30)}7f`],
  ['p-plus-1', `ee${'ff'.repeat(30)}7f`],
];

/** A backend that remembers (copies of) every random byte string it hands out. */
function recording(backend: CryptoBackend): { backend: CryptoBackend; drawn: Uint8Array[] } {
  const drawn: Uint8Array[] = [];
  return {
    drawn,
    backend: {
      ...backend,
      randomBytes: (length) => {
        const bytes = backend.randomBytes(length);
        drawn.push(bytes.slice());
        return bytes;
      },
    },
  };
}

/** A keyring that remembers the data key and header of its last wrap (for known-answer vectors only). */
function capturing(inner: Keyring): Keyring & { dataKey?: Uint8Array; header?: Uint8Array } {
  const self: Keyring & { dataKey?: Uint8Array; header?: Uint8Array } = {
    wrap: async (dataKey, aad) => {
      self.dataKey = dataKey.slice();
      self.header = aad.slice();
      return inner.wrap(dataKey, aad);
    },
    unwrap: (wrapped, aad) => inner.unwrap(wrapped, aad),
  };
  return self;
}

/**
 * Builds the recipient vectors. `seeded(label)` is a backend whose randomness
 * is the generator's seeded source for `label`; `pool` the shared plaintexts.
 */
export async function buildRecipientVectors(
  sodium: Sodium,
  seeded: (label: string) => CryptoBackend,
  pool: Uint8Array,
  chunkExponent: number,
): Promise<RecipientVectors> {
  const C = 2 ** chunkExponent;
  /** A fresh identity from a vector's own randomness. */
  const identityFrom = (backend: CryptoBackend) => {
    const secretKey = backend.randomBytes(32);
    const publicKey = sodium.crypto_scalarmult_base(secretKey);
    return { secretKey, publicKey, identity: formatIdentity(secretKey), recipient: formatRecipient(publicKey) };
  };

  // Known answers.
  const wrap: RecipientWrapVector[] = [];
  for (const [name, length, context] of [
    ['x25519-wrap-p10', 10, {}],
    ['x25519-wrap-p0-context', 0, { bucket: 'example-bucket', key: 'backups/2026-01-01.tar' }],
  ] as [string, number, EncryptionContext][]) {
    const backend = seeded(`v1/recipient/${name}`);
    const id = identityFrom(backend);
    const keyringRandom = recording(backend);
    const keyring = capturing(new RecipientKeyring({ recipient: id.recipient, backend: keyringRandom.backend }));
    const cipher = await createStreamCipher({ keyring, backend, context, chunkSize: C, plaintextSize: length });
    const e = keyringRandom.drawn[0] as Uint8Array;
    const E = sodium.crypto_scalarmult_base(e);
    const S = sodium.crypto_scalarmult(e, id.publicKey);
    const salt = Buffer.concat([E, id.publicKey]);
    wrap.push({
      name,
      identity: id.identity,
      identitySecretKey: hex(id.secretKey),
      recipient: id.recipient,
      recipientPublicKey: hex(id.publicKey),
      streamHeader: hex(keyring.header as Uint8Array),
      dataKey: hex(keyring.dataKey as Uint8Array),
      ephemeralSecretKey: hex(e),
      ephemeralPublicKey: hex(E),
      sharedSecret: hex(S),
      wrapKey: hex(backend.hkdf(S, salt, utf8(LABEL_X25519_WRAP), 32)),
      keyId: cipher.header.keyId,
      wrappedKey: hex(cipher.header.wrappedKey),
    });
  }

  // Key blocks to refuse.
  const unwrapFailure: RecipientUnwrapFailureVector[] = [];
  {
    const backend = seeded('v1/recipient/unwrap-failure');
    const a = identityFrom(backend);
    const b = identityFrom(backend);
    const toA = new RecipientKeyring({ recipient: a.recipient, backend });
    const toB = new RecipientKeyring({ recipient: b.recipient, backend });
    const first = await createStreamCipher({ keyring: toA, backend, chunkSize: C });
    const second = await createStreamCipher({ keyring: toA, backend, chunkSize: C }); // same recipient, another stream
    const forB = await createStreamCipher({ keyring: toB, backend, chunkSize: C });
    const header = first.header.streamBytes;
    const w = first.header.wrappedKey;
    const push = (
      name: string,
      expect: string,
      block: { keyId?: string; wrappedKey?: Uint8Array; streamHeader?: Uint8Array },
      identities = [a.identity],
    ) =>
      unwrapFailure.push({
        name,
        identities,
        streamHeader: hex(block.streamHeader ?? header),
        keyId: block.keyId ?? first.header.keyId,
        wrappedKey: hex(block.wrappedKey ?? w),
        expect,
      });
    const flip = (bytes: Uint8Array, offset: number, mask: number) => {
      const out = bytes.slice();
      out[offset] = (out[offset] as number) ^ mask;
      return out;
    };
    push('unknown-key-another-recipient', ErrorCode.UNKNOWN_KEY, {
      keyId: forB.header.keyId,
      wrappedKey: forB.header.wrappedKey,
      streamHeader: forB.header.streamBytes,
    });
    push('unknown-key-id-upper-case', ErrorCode.UNKNOWN_KEY, { keyId: first.header.keyId.toUpperCase() });
    push('unknown-key-id-one-character-changed', ErrorCode.UNKNOWN_KEY, {
      keyId: `${first.header.keyId.slice(0, 20)}${first.header.keyId[20] === 'A' ? 'B' : 'A'}${first.header.keyId.slice(21)}`,
    });
    // The decoder holds both identities; the key id names B but the block was wrapped to A.
    push(
      'unwrap-failed-retargeted-to-another-held-recipient',
      ErrorCode.KEY_UNWRAP_FAILED,
      { keyId: forB.header.keyId },
      [a.identity, b.identity],
    );
    push('unwrap-failed-ephemeral-key-bit', ErrorCode.KEY_UNWRAP_FAILED, { wrappedKey: flip(w, 0, 0x01) });
    // X25519 ignores bit 255: the shared secret is unchanged, but E is in the HKDF salt.
    push('unwrap-failed-ephemeral-key-bit-255', ErrorCode.KEY_UNWRAP_FAILED, { wrappedKey: flip(w, 31, 0x80) });
    push('unwrap-failed-ciphertext-bit', ErrorCode.KEY_UNWRAP_FAILED, { wrappedKey: flip(w, 40, 0x10) });
    push('unwrap-failed-tag-bit', ErrorCode.KEY_UNWRAP_FAILED, { wrappedKey: flip(w, 79, 0x80) });
    push('unwrap-failed-79-bytes', ErrorCode.KEY_UNWRAP_FAILED, { wrappedKey: w.subarray(0, 79) });
    push('unwrap-failed-81-bytes', ErrorCode.KEY_UNWRAP_FAILED, { wrappedKey: Buffer.concat([w, Uint8Array.of(0)]) });
    push('unwrap-failed-header-stream-id-bit', ErrorCode.KEY_UNWRAP_FAILED, { streamHeader: flip(header, 16, 0x01) });
    push('unwrap-failed-moved-to-another-stream', ErrorCode.KEY_UNWRAP_FAILED, {
      streamHeader: second.header.streamBytes,
    });
    push('unwrap-failed-ephemeral-key-swapped', ErrorCode.KEY_UNWRAP_FAILED, {
      wrappedKey: Buffer.concat([second.header.wrappedKey.subarray(0, 32), w.subarray(32)]),
    });
    for (const [name, point] of LOW_ORDER_POINTS) {
      push(`unwrap-failed-low-order-ephemeral-${name}`, ErrorCode.KEY_UNWRAP_FAILED, {
        wrappedKey: Buffer.concat([Buffer.from(point, 'hex'), w.subarray(32)]),
      });
    }
    const highBit = Buffer.from((LOW_ORDER_POINTS[0] as [string, string])[1], 'hex');
    highBit[31] = 0x80;
    push('unwrap-failed-low-order-ephemeral-zero-bit-255', ErrorCode.KEY_UNWRAP_FAILED, {
      wrappedKey: Buffer.concat([highBit, w.subarray(32)]),
    });
  }

  // Whole streams.
  const stream: RecipientStreamVector[] = [];
  for (const [name, length, context, recorded] of [
    ['x25519-stream-p0-sized', 0, {}, true],
    ['x25519-stream-p10-context-unsized', 10, { bucket: 'b', key: 'k' }, false],
    ['x25519-stream-c-plus-1-sized', C + 1, {}, true],
  ] as [string, number, EncryptionContext, boolean][]) {
    const backend = seeded(`v1/recipient/${name}`);
    const old = identityFrom(backend);
    const current = identityFrom(backend);
    const keyring = new RecipientKeyring({ recipient: current.recipient, backend });
    const options = { keyring, backend, context, chunkSize: C };
    const plaintext = pool.subarray(0, length);
    const bytes = recorded
      ? await encryptBuffer(plaintext, options)
      : await collectBytes(encryptStream(plaintext, options));
    const parsed = decodeHeader(bytes);
    if (!parsed) throw new Error('generator bug: no header');
    stream.push({
      name,
      identities: [old.identity, current.identity],
      context,
      chunkExponent,
      plaintextLength: length,
      plaintextSizeRecorded: recorded,
      selfContained: hex(bytes),
      detached: toDetachedHeader(parsed.header),
      body: hex(bytes.subarray(parsed.length)),
    });
  }

  return { wrap, unwrapFailure, stream };
}
