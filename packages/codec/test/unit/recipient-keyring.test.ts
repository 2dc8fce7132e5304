import { createHash } from 'node:crypto';
import type { CryptoBackend } from '../../src/crypto/backend/backend';
import { loadSodium } from '../../src/crypto/backend/sodium';
import { LocalKeyring } from '../../src/crypto/local-keyring';
import { RecipientKeyring } from '../../src/crypto/recipient-keyring';
import { X25519_WRAPPED_SIZE } from '../../src/crypto/recipient-wrap';
import { createStreamCipher, openStreamCipher, rewrapHeader } from '../../src/crypto/stream-cipher';
import { EncryptedStreamError, ErrorCode } from '../../src/format/errors';
import { decodeHeader, encodeHeader, fromDetachedHeader, toDetachedHeader } from '../../src/format/header';
import { formatIdentity, formatRecipient, parseIdentity, parseRecipient } from '../../src/format/recipient-text';
import { decryptBody, decryptBuffer } from '../../src/io/decrypt';
import { encryptBody, encryptBuffer } from '../../src/io/encrypt';
import { BACKENDS, backend, C, collect, concat, failureCode, filler, hex, seeded } from '../helpers';

let on: CryptoBackend;
const AAD = filler(96, 104);
const DATA_KEY = filler(32, 1);
/** Fixed identities (any 32 bytes are an X25519 private key). */
const OLD = formatIdentity(filler(32, 11));
const NEW = formatIdentity(filler(32, 12));
let OLD_RECIPIENT: string;
let NEW_RECIPIENT: string;
let OLD_KEY_ID: string;
let NEW_KEY_ID: string;

beforeAll(async () => {
  on = await backend('native');
  OLD_RECIPIENT = await RecipientKeyring.recipientOf(OLD);
  NEW_RECIPIENT = await RecipientKeyring.recipientOf(NEW);
  OLD_KEY_ID = await RecipientKeyring.keyIdOf(OLD_RECIPIENT);
  NEW_KEY_ID = await RecipientKeyring.keyIdOf(NEW_RECIPIENT);
});

/** Throws (or rejects) an argument error, not an EncryptedStreamError. */
async function expectArgumentError(work: () => unknown, type: typeof TypeError | typeof RangeError) {
  let thrown: unknown;
  try {
    await work();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  expect(thrown).not.toBeInstanceOf(EncryptedStreamError);
}

describe('RecipientKeyring', () => {
  test('a write-only keyring wraps into 80 bytes under key id = its recipient, and unwraps nothing', async () => {
    const writer = new RecipientKeyring({ recipient: NEW_RECIPIENT, backend: on });
    expect(writer.canUnwrap).toBe(false);
    expect(await writer.recipient()).toBe(NEW_RECIPIENT);
    const wrapped = await writer.wrap(DATA_KEY, AAD);
    expect(wrapped.keyId).toBe(NEW_KEY_ID);
    expect(wrapped.keyId).toMatch(/^es-x25519-[A-Za-z0-9_-]{22}$/);
    expect(wrapped.wrappedKey.length).toBe(X25519_WRAPPED_SIZE);
    expect(X25519_WRAPPED_SIZE).toBe(80);
    expect(await failureCode(writer.unwrap(wrapped, AAD))).toBe(ErrorCode.UNKNOWN_KEY);
    const reader = new RecipientKeyring({ identities: [NEW], backend: on });
    expect(reader.canUnwrap).toBe(true);
    expect(hex(await reader.unwrap(wrapped, AAD))).toBe(hex(DATA_KEY));
  });

  test('the key id: es-x25519- and a one-way 128-bit fingerprint of the recipient', async () => {
    expect(NEW_KEY_ID).toMatch(/^es-x25519-[A-Za-z0-9_-]{22}$/);
    expect(OLD_KEY_ID).not.toBe(NEW_KEY_ID);
    const digest = createHash('sha256')
      .update('encrypted-stream v1 x25519 key id')
      .update(parseRecipient(NEW_RECIPIENT))
      .digest();
    expect(NEW_KEY_ID).toBe(`es-x25519-${digest.subarray(0, 16).toString('base64url')}`);
    // Neither the key id nor the wrapped key holds the public key.
    const wrapped = await new RecipientKeyring({ recipient: NEW_RECIPIENT, backend: on }).wrap(DATA_KEY, AAD);
    const publicKey = Buffer.from(parseRecipient(NEW_RECIPIENT));
    expect(Buffer.from(wrapped.wrappedKey).indexOf(publicKey.subarray(0, 8))).toBe(-1);
    expect(wrapped.keyId).not.toContain(NEW_RECIPIENT.slice(7, 20));
    await expectArgumentError(() => RecipientKeyring.keyIdOf(NEW), RangeError);
  });

  test('a fresh ephemeral key for every wrap', async () => {
    const writer = new RecipientKeyring({ recipient: NEW_RECIPIENT, backend: on });
    const a = await writer.wrap(DATA_KEY, AAD);
    const b = await writer.wrap(DATA_KEY, AAD);
    expect(hex(a.wrappedKey.subarray(0, 32))).not.toBe(hex(b.wrappedKey.subarray(0, 32)));
    expect(hex(a.wrappedKey.subarray(32))).not.toBe(hex(b.wrappedKey.subarray(32)));
  });

  test('several identities: the last one is the default recipient, every one unwraps', async () => {
    const toOld = new RecipientKeyring({ recipient: OLD_RECIPIENT, backend: on });
    const both = new RecipientKeyring({ identities: [OLD, NEW], backend: on });
    expect(await both.recipient()).toBe(NEW_RECIPIENT);
    const fromOld = await toOld.wrap(DATA_KEY, AAD);
    const fromBoth = await both.wrap(filler(32, 2), AAD);
    expect(fromBoth.keyId).toBe(NEW_KEY_ID);
    expect(hex(await both.unwrap(fromOld, AAD))).toBe(hex(DATA_KEY));
    expect(hex(await both.unwrap(fromBoth, AAD))).toBe(hex(filler(32, 2)));
    // An explicit recipient wins over the identities'.
    const explicit = new RecipientKeyring({ identities: [OLD, NEW], recipient: OLD_RECIPIENT, backend: on });
    expect((await explicit.wrap(DATA_KEY, AAD)).keyId).toBe(OLD_KEY_ID);
    // The old identity alone does not open what was wrapped to the new one.
    const oldOnly = new RecipientKeyring({ identities: [OLD], backend: on });
    expect(await failureCode(oldOnly.unwrap(fromBoth, AAD))).toBe(ErrorCode.UNKNOWN_KEY);
  });

  test('identities as the text of an identity file; duplicates are harmless', async () => {
    const file = `# recipient: ${OLD_RECIPIENT}\n${OLD}\n\n# recipient: ${NEW_RECIPIENT}\n${NEW}\n${OLD.toLowerCase()}\n`;
    const kr = new RecipientKeyring({ identities: file, backend: on });
    const wrapped = await new RecipientKeyring({ recipient: OLD_RECIPIENT, backend: on }).wrap(DATA_KEY, AAD);
    expect(hex(await kr.unwrap(wrapped, AAD))).toBe(hex(DATA_KEY));
  });

  test('generateIdentity / recipientOf: a working pair, X25519 of libsodium', async () => {
    const identity = await RecipientKeyring.generateIdentity();
    expect(identity).toMatch(/^ES-SECRET-KEY-1[A-Z0-9]{58}$/);
    expect(await RecipientKeyring.generateIdentity()).not.toBe(identity);
    const recipient = await RecipientKeyring.recipientOf(identity);
    const sodium = await loadSodium();
    expect(hex(parseRecipient(recipient))).toBe(hex(sodium.crypto_scalarmult_base(parseIdentity(identity))));
    const wrapped = await new RecipientKeyring({ recipient }).wrap(DATA_KEY, AAD);
    expect(hex(await new RecipientKeyring({ identities: [identity] }).unwrap(wrapped, AAD))).toBe(hex(DATA_KEY));
  });

  test('RFC 7748 §6.1: the X25519 key agreement test vector', async () => {
    const sodium = await loadSodium();
    const alice = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    const bobPublic = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
    const bob = formatIdentity(Buffer.from('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb', 'hex'));
    expect(hex(parseRecipient(await RecipientKeyring.recipientOf(bob)))).toBe(bobPublic);
    expect(hex(sodium.crypto_scalarmult(alice, Buffer.from(bobPublic, 'hex')))).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  test.each(BACKENDS)('whole streams, self-contained and detached, with a context (%s backend)', async (name) => {
    const b = await backend(name);
    const writer = new RecipientKeyring({ recipient: NEW_RECIPIENT, backend: b });
    const reader = new RecipientKeyring({ identities: [OLD, NEW], backend: b });
    const context = { bucket: 'backups', key: 'db.tar' };
    const plaintext = filler(2 * C + 3, 5);
    const bytes = await encryptBuffer(plaintext, { keyring: writer, backend: b, chunkSize: C, context });
    expect(decodeHeader(bytes)!.header.keyId).toBe(NEW_KEY_ID);
    expect(hex(await decryptBuffer(bytes, { keyring: reader, backend: b, context }))).toBe(hex(plaintext));
    expect(await failureCode(decryptBuffer(bytes, { keyring: writer, backend: b, context }))).toBe(
      ErrorCode.UNKNOWN_KEY,
    );
    expect(await failureCode(decryptBuffer(bytes, { keyring: reader, backend: b }))).toBe(ErrorCode.CONTEXT_MISMATCH);

    const cipher = await createStreamCipher({ keyring: writer, backend: b, chunkSize: C, plaintextSize: 10 });
    const body = await collect(encryptBody(cipher, filler(10, 6)));
    const detached = toDetachedHeader(cipher.header);
    expect(detached.k).toBe(NEW_KEY_ID);
    expect(detached.w).toHaveLength(107); // base64url of 80 bytes, under FORMAT.md §7's 252
    const opened = await openStreamCipher(fromDetachedHeader(detached), { keyring: reader, backend: b });
    expect(hex(await collect(decryptBody(opened, body)))).toBe(hex(filler(10, 6)));
  });

  test('both backends write identical bytes from the same randomness', async () => {
    const run = async (name: 'native' | 'libsodium') => {
      const b = await seeded('recipient-backends', name);
      const writer = new RecipientKeyring({ recipient: NEW_RECIPIENT, backend: b });
      return hex(await encryptBuffer(filler(C + 1, 3), { keyring: writer, backend: b, chunkSize: C }));
    };
    const native = await run('native');
    expect(await run('libsodium')).toBe(native);
    // …and each reads what the other wrote.
    for (const name of BACKENDS) {
      const reader = new RecipientKeyring({ identities: [NEW], backend: await backend(name) });
      expect(hex(await decryptBuffer(Buffer.from(native, 'hex'), { keyring: reader }))).toBe(hex(filler(C + 1, 3)));
    }
  });

  test('rotation: rewrapHeader moves a stream between keyring types and recipients, chunks untouched', async () => {
    const local = LocalKeyring.single('2025', filler(32, 20));
    const plaintext = filler(100, 7);
    const bytes = await encryptBuffer(plaintext, { keyring: local, backend: on, chunkSize: C });
    const parsed = decodeHeader(bytes)!;
    const body = bytes.subarray(parsed.length);

    // local → recipient (old) → recipient (new): each step needs the reading side's key, never the new private key.
    const toOld = await rewrapHeader(parsed.header, local, new RecipientKeyring({ recipient: OLD_RECIPIENT }), on);
    expect(toOld.keyId).toBe(OLD_KEY_ID);
    expect(hex(toOld.streamBytes)).toBe(hex(parsed.header.streamBytes));
    const oldReader = new RecipientKeyring({ identities: [OLD], backend: on });
    const toNew = await rewrapHeader(toOld, oldReader, new RecipientKeyring({ recipient: NEW_RECIPIENT }), on);
    const newReader = new RecipientKeyring({ identities: [NEW], backend: on });
    expect(hex(await decryptBuffer(concat(encodeHeader(toNew), body), { keyring: newReader }))).toBe(hex(plaintext));
    expect(await failureCode(decryptBuffer(concat(encodeHeader(toNew), body), { keyring: oldReader }))).toBe(
      ErrorCode.UNKNOWN_KEY,
    );
    // …and back to a local key.
    const back = await rewrapHeader(toNew, newReader, local, on);
    expect(hex(await decryptBuffer(concat(encodeHeader(back), body), { keyring: local }))).toBe(hex(plaintext));
  });

  test('a low-order recipient is refused at the first wrap, before any chunk is written', async () => {
    const lowOrder = formatRecipient(new Uint8Array(32));
    const writer = new RecipientKeyring({ recipient: lowOrder, backend: on });
    await expectArgumentError(() => writer.wrap(DATA_KEY, AAD), RangeError);
    await expectArgumentError(() => encryptBuffer(filler(10), { keyring: writer, backend: on }), RangeError);
  });

  test.each<[string, () => unknown, typeof TypeError | typeof RangeError]>([
    ['no options', () => new RecipientKeyring(undefined as never), TypeError],
    ['an empty options object', () => new RecipientKeyring({}), RangeError],
    ['an empty identity list and no recipient', () => new RecipientKeyring({ identities: [] }), RangeError],
    [
      'a recipient that is not a string',
      () => new RecipientKeyring({ recipient: new Uint8Array(32) as never }),
      TypeError,
    ],
    ['a recipient with a typo', () => new RecipientKeyring({ recipient: 'es-pub1qqqq' }), RangeError],
    ['an identity as the recipient', () => new RecipientKeyring({ recipient: OLD }), RangeError],
    ['a recipient as an identity', () => new RecipientKeyring({ identities: [OLD_RECIPIENT] }), RangeError],
    ['identities not a string or list', () => new RecipientKeyring({ identities: 5 as never }), TypeError],
    ['an identity that is not a string', () => new RecipientKeyring({ identities: [5 as never] }), TypeError],
    ['an identity file without identities', () => new RecipientKeyring({ identities: '# nothing\n' }), RangeError],
  ])('%s is an argument error', async (_name, make, type) => {
    await expectArgumentError(make, type);
  });

  test('wrap/unwrap argument errors', async () => {
    const kr = new RecipientKeyring({ identities: [NEW], backend: on });
    const wrapped = await kr.wrap(DATA_KEY, AAD);
    await expectArgumentError(() => kr.wrap(DATA_KEY, AAD.subarray(1)), RangeError);
    await expectArgumentError(() => kr.wrap(DATA_KEY.subarray(1), AAD), RangeError);
    await expectArgumentError(() => kr.wrap('key' as never, AAD), TypeError);
    await expectArgumentError(() => kr.unwrap(wrapped, AAD.subarray(1)), RangeError);
    await expectArgumentError(() => kr.unwrap({ ...wrapped, wrappedKey: 'x' as never }, AAD), TypeError);
  });

  test('the unknown-key message names the key id; no message holds a secret', async () => {
    const kr = new RecipientKeyring({ identities: [OLD], backend: on });
    const wrapped = await new RecipientKeyring({ recipient: NEW_RECIPIENT, backend: on }).wrap(DATA_KEY, AAD);
    const unknown = await kr.unwrap(wrapped, AAD).catch((error: Error) => error);
    expect((unknown as Error).message).toContain(NEW_KEY_ID);
    const tampered = { ...wrapped, keyId: OLD_KEY_ID };
    const failed = await kr.unwrap(tampered, AAD).catch((error: Error) => error);
    expect((failed as EncryptedStreamError).code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    for (const error of [unknown as Error, failed as Error]) {
      expect(error.message.toLowerCase()).not.toContain(OLD.slice(16, 40).toLowerCase());
    }
  });

  test('a returned data key is the caller’s: wiping it changes nothing for the next unwrap', async () => {
    const kr = new RecipientKeyring({ identities: [NEW], backend: on });
    const wrapped = await kr.wrap(DATA_KEY, AAD);
    (await kr.unwrap(wrapped, AAD)).fill(0);
    expect(hex(await kr.unwrap(wrapped, AAD))).toBe(hex(DATA_KEY));
  });
});
