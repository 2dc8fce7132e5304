/**
 * The X25519 recipient vectors of v1.json (FORMAT.md §6) against the codec,
 * on both backends. (vectors.test.ts regenerates the whole file, these
 * included, and compares it byte for byte; independent-decoder.test.ts reads
 * them without the codec.)
 */
import { readFileSync } from 'node:fs';
import { VECTORS_PATH, type VectorFile } from '../scripts/generate-vectors';
import { loadSodium } from '../src/crypto/backend/sodium';
import { RecipientKeyring } from '../src/crypto/recipient-keyring';
import { LABEL_X25519_WRAP, unwrapWithIdentity, wrapToRecipient } from '../src/crypto/recipient-wrap';
import { openStreamCipher } from '../src/crypto/stream-cipher';
import { ErrorCode } from '../src/format/errors';
import { decodeHeader, fromDetachedHeader, toDetachedHeader } from '../src/format/header';
import { parseIdentity, parseRecipient } from '../src/format/recipient-text';
import { decryptBody, decryptBuffer } from '../src/io/decrypt';
import { BACKENDS, type BackendName, backend, collect, failureCode, fromHex, hex } from './helpers';

const file = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as VectorFile;
const { wrap, unwrapFailure, stream } = file.recipient;
const pool = fromHex(file.plaintextPool);

test('the recipient vectors cover known answers, both failure codes, several identities and both framings', () => {
  expect(wrap.length).toBeGreaterThanOrEqual(2);
  expect(new Set(unwrapFailure.map((v) => v.expect))).toEqual(
    new Set([ErrorCode.UNKNOWN_KEY, ErrorCode.KEY_UNWRAP_FAILED]),
  );
  expect(unwrapFailure.filter((v) => v.name.includes('low-order')).length).toBeGreaterThanOrEqual(7);
  expect(stream.every((v) => v.identities.length === 2)).toBe(true);
  const names = [...wrap, ...unwrapFailure, ...stream].map((v) => v.name);
  expect(new Set(names).size).toBe(names.length);
});

describe.each(BACKENDS)('recipient vectors on the %s backend', (name: BackendName) => {
  test.each(wrap.map((v) => [v.name, v] as const))('known answer %s: every intermediate value', async (_n, v) => {
    const on = await backend(name);
    const sodium = await loadSodium();
    expect(hex(parseIdentity(v.identity))).toBe(v.identitySecretKey);
    expect(await RecipientKeyring.recipientOf(v.identity)).toBe(v.recipient);
    expect(hex(parseRecipient(v.recipient))).toBe(v.recipientPublicKey);
    expect(await RecipientKeyring.keyIdOf(v.recipient)).toBe(v.keyId);
    const e = fromHex(v.ephemeralSecretKey);
    const E = sodium.crypto_scalarmult_base(e);
    expect(hex(E)).toBe(v.ephemeralPublicKey);
    const S = sodium.crypto_scalarmult(e, fromHex(v.recipientPublicKey));
    expect(hex(S)).toBe(v.sharedSecret);
    const salt = new Uint8Array([...E, ...fromHex(v.recipientPublicKey)]);
    expect(hex(on.hkdf(S, salt, new TextEncoder().encode(LABEL_X25519_WRAP), 32))).toBe(v.wrapKey);
    // The wrap, given the vector's ephemeral key as its randomness, writes exactly the vector's bytes.
    const fixed = { ...on, randomBytes: (length: number) => (length === 32 ? e.slice() : on.randomBytes(length)) };
    const header = fromHex(v.streamHeader);
    const wrapped = wrapToRecipient(sodium, fixed, fromHex(v.recipientPublicKey), fromHex(v.dataKey), header);
    expect(hex(wrapped)).toBe(v.wrappedKey);
    const secret = fromHex(v.identitySecretKey);
    expect(hex(unwrapWithIdentity(sodium, on, secret, fromHex(v.recipientPublicKey), wrapped, header)!)).toBe(
      v.dataKey,
    );
    const reader = new RecipientKeyring({ identities: [v.identity], backend: on });
    const key = await reader.unwrap({ keyId: v.keyId, wrappedKey: fromHex(v.wrappedKey) }, header);
    expect(hex(key)).toBe(v.dataKey);
  });

  test.each(unwrapFailure.map((v) => [v.name, v] as const))('key block %s is refused', async (_n, v) => {
    const reader = new RecipientKeyring({ identities: v.identities, backend: await backend(name) });
    const wrapped = { keyId: v.keyId, wrappedKey: fromHex(v.wrappedKey) };
    expect(await failureCode(reader.unwrap(wrapped, fromHex(v.streamHeader)))).toBe(v.expect);
  });

  test.each(stream.map((v) => [v.name, v] as const))('stream %s decrypts in both framings', async (_n, v) => {
    const on = await backend(name);
    const keyring = new RecipientKeyring({ identities: v.identities, backend: on });
    const plaintext = hex(pool.subarray(0, v.plaintextLength));
    const selfContained = fromHex(v.selfContained);
    const parsed = decodeHeader(selfContained)!;
    expect(toDetachedHeader(parsed.header)).toEqual(v.detached);
    expect(parsed.header.stream.plaintextSize).toBe(v.plaintextSizeRecorded ? v.plaintextLength : undefined);
    expect(parsed.header.keyId).toBe(
      await RecipientKeyring.keyIdOf(await RecipientKeyring.recipientOf(v.identities.at(-1)!)),
    );
    expect(hex(await decryptBuffer(selfContained, { keyring, backend: on, context: v.context }))).toBe(plaintext);
    const cipher = await openStreamCipher(fromDetachedHeader(v.detached), { keyring, context: v.context });
    expect(hex(await collect(decryptBody(cipher, fromHex(v.body))))).toBe(plaintext);
    // The older identity alone does not open it.
    const older = new RecipientKeyring({ identities: [v.identities[0]!], backend: on });
    expect(await failureCode(decryptBuffer(selfContained, { keyring: older, context: v.context }))).toBe(
      ErrorCode.UNKNOWN_KEY,
    );
  });
});
