import { forgeCommitmentStream } from '../../scripts/generate-vectors';
import type { CryptoBackend } from '../../src/crypto/backend/backend';
import type { Keyring } from '../../src/crypto/keyring';
import { LocalKeyring, type LocalKeyringJSON } from '../../src/crypto/local-keyring';
import { openStreamCipher, rewrapHeader } from '../../src/crypto/stream-cipher';
import { EncryptedStreamError, ErrorCode } from '../../src/format/errors';
import { decodeHeader, encodeHeader, fromDetachedHeader, toDetachedHeader } from '../../src/format/header';
import { decryptBody, decryptBuffer } from '../../src/io/decrypt';
import { encryptBuffer } from '../../src/io/encrypt';
import { backend, C, collect, concat, failureCode, filler, hex, seeded } from '../helpers';

let on: CryptoBackend;
const K1 = filler(32, 101);
const K2 = filler(32, 102);
const K3 = filler(32, 103);
const AAD = filler(96, 104);

beforeAll(async () => {
  on = await backend('native');
});

const split = (bytes: Uint8Array) => {
  const parsed = decodeHeader(bytes)!;
  return { header: parsed.header, body: bytes.subarray(parsed.length) };
};

describe('LocalKeyring', () => {
  test('wraps under the primary key into 72 bytes, and unwraps', async () => {
    const kr = new LocalKeyring({ a: K1, b: K2 }, 'a', on);
    expect(kr.primaryKeyId).toBe('a');
    expect(kr.keyIds).toEqual(['a', 'b']);
    const dataKey = filler(32, 1);
    const wrapped = await kr.wrap(dataKey, AAD);
    expect(wrapped.keyId).toBe('a');
    expect(wrapped.wrappedKey.length).toBe(72);
    expect(hex(await kr.unwrap(wrapped, AAD))).toBe(hex(dataKey));
    // Fresh nonce every time.
    expect(hex((await kr.wrap(dataKey, AAD)).wrappedKey)).not.toBe(hex(wrapped.wrappedKey));
  });

  test('the primary defaults to the last key given', () => {
    expect(new LocalKeyring({ a: K1, b: K2 }, undefined, on).primaryKeyId).toBe('b');
    expect(LocalKeyring.single('only', K1).keyIds).toEqual(['only']);
  });

  test('unwrap failures: unknown id, wrong length, tampering, another header, another key id', async () => {
    const kr = new LocalKeyring({ a: K1, b: K2 }, 'a', on);
    const wrapped = await kr.wrap(filler(32, 2), AAD);
    expect(await failureCode(kr.unwrap({ ...wrapped, keyId: 'c' }, AAD))).toBe(ErrorCode.UNKNOWN_KEY);
    expect(await failureCode(kr.unwrap({ ...wrapped, wrappedKey: wrapped.wrappedKey.subarray(1) }, AAD))).toBe(
      ErrorCode.KEY_UNWRAP_FAILED,
    );
    expect(
      await failureCode(kr.unwrap({ ...wrapped, wrappedKey: concat(wrapped.wrappedKey, Uint8Array.of(0)) }, AAD)),
    ).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    for (const offset of [0, 23, 24, 55, 56, 71]) {
      const w = wrapped.wrappedKey.slice();
      w[offset] = (w[offset] as number) ^ 0x10;
      expect(await failureCode(kr.unwrap({ ...wrapped, wrappedKey: w }, AAD))).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    }
    const otherAad = AAD.slice();
    otherAad[95] = (otherAad[95] as number) ^ 1;
    expect(await failureCode(kr.unwrap(wrapped, otherAad))).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    // The key id is bound too: the same master key under another id does not unwrap it.
    const alias = new LocalKeyring({ a: K1, alias: K1 }, 'a', on);
    expect(await failureCode(alias.unwrap({ ...wrapped, keyId: 'alias' }, AAD))).toBe(ErrorCode.KEY_UNWRAP_FAILED);
    await expect(kr.wrap(filler(32), AAD.subarray(1))).rejects.toBeInstanceOf(RangeError);
  });

  test.each<[string, () => unknown, typeof TypeError | typeof RangeError]>([
    ['no keys', () => new LocalKeyring({}), RangeError],
    ['undefined keys', () => new LocalKeyring(undefined as unknown as Record<string, Uint8Array>), RangeError],
    ['a 31-byte key', () => new LocalKeyring({ a: new Uint8Array(31) }), RangeError],
    ['a 33-byte key', () => new LocalKeyring({ a: new Uint8Array(33) }), RangeError],
    ['a non-bytes key', () => new LocalKeyring({ a: 'x'.repeat(32) as unknown as Uint8Array }), RangeError],
    ['a key id with a space', () => new LocalKeyring({ 'a b': K1 }), RangeError],
    ['a 201-character key id', () => new LocalKeyring({ ['x'.repeat(201)]: K1 }), RangeError],
    ['a non-ASCII key id', () => new LocalKeyring({ clé: K1 }), RangeError],
    ['a primary not held', () => new LocalKeyring({ a: K1 }, 'b'), RangeError],
    ['a duplicate id on rotation', () => new LocalKeyring({ a: K1 }, 'a', on).withPrimaryKey('a', K2), RangeError],
    [
      'a bad key on rotation',
      () => new LocalKeyring({ a: K1 }, 'a', on).withPrimaryKey('b', new Uint8Array(16)),
      RangeError,
    ],
    ['a bad id on rotation', () => new LocalKeyring({ a: K1 }, 'a', on).withPrimaryKey('', K2), RangeError],
    ['fromJSON(null)', () => LocalKeyring.fromJSON(null), TypeError],
    ['fromJSON({})', () => LocalKeyring.fromJSON({}), TypeError],
    ['fromJSON version 2', () => LocalKeyring.fromJSON({ version: 2, primary: 'a', keys: {} }), TypeError],
    ['fromJSON without primary', () => LocalKeyring.fromJSON({ version: 1, keys: {} }), TypeError],
    ['fromJSON keys not an object', () => LocalKeyring.fromJSON({ version: 1, primary: 'a', keys: 'x' }), TypeError],
    [
      'fromJSON a non-string key',
      () => LocalKeyring.fromJSON({ version: 1, primary: 'a', keys: { a: 5 } }),
      RangeError,
    ],
    [
      'fromJSON a short key',
      () => LocalKeyring.fromJSON({ version: 1, primary: 'a', keys: { a: 'AAAA' } }),
      RangeError,
    ],
    [
      'fromJSON a padded key',
      () =>
        LocalKeyring.fromJSON({ version: 1, primary: 'a', keys: { a: `${Buffer.from(K1).toString('base64url')}=` } }),
      RangeError,
    ],
    [
      'fromJSON a standard-base64 key',
      () =>
        LocalKeyring.fromJSON({
          version: 1,
          primary: 'a',
          keys: { a: Buffer.from(new Uint8Array(32).fill(0xfb)).toString('base64') },
        }),
      RangeError,
    ],
    ['fromJSON no keys', () => LocalKeyring.fromJSON({ version: 1, primary: 'a', keys: {} }), RangeError],
    [
      'fromJSON a primary not held',
      () => LocalKeyring.fromJSON({ version: 1, primary: 'b', keys: { a: Buffer.from(K1).toString('base64url') } }),
      RangeError,
    ],
  ])('%s is an argument error', (_name, make, type) => {
    let thrown: unknown;
    try {
      make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(type);
    expect(thrown).not.toBeInstanceOf(EncryptedStreamError);
  });

  test('keys are copied: changing the caller’s array later does not change the keyring', async () => {
    const key = K1.slice();
    const kr = new LocalKeyring({ a: key }, 'a', on);
    const wrapped = await kr.wrap(filler(32, 3), AAD);
    key.fill(0);
    expect(hex(await kr.unwrap(wrapped, AAD))).toBe(hex(filler(32, 3)));
  });

  test('toJSON / fromJSON round trip (through JSON text)', async () => {
    const kr = new LocalKeyring({ a: K1, b: K2 }, 'a', on);
    const json = kr.toJSON();
    expect(json).toEqual({
      version: 1,
      primary: 'a',
      keys: { a: Buffer.from(K1).toString('base64url'), b: Buffer.from(K2).toString('base64url') },
    });
    const back = LocalKeyring.fromJSON(JSON.parse(JSON.stringify(kr)) as LocalKeyringJSON);
    expect(back.toJSON()).toEqual(json);
    expect(back.primaryKeyId).toBe('a');
    const bytes = await encryptBuffer(filler(5000), { keyring: kr, backend: on, chunkSize: C });
    expect(hex(await decryptBuffer(bytes, { keyring: back, backend: on }))).toBe(hex(filler(5000)));
  });
});

describe('rotation', () => {
  test('withPrimaryKey: new streams use the new key, old streams still open, the old keyring is unchanged', async () => {
    const old = new LocalKeyring({ 'key-2023': K1 }, 'key-2023', on);
    const before = await encryptBuffer(filler(100, 1), { keyring: old, backend: on, chunkSize: C });
    const rotated = old.withPrimaryKey('key-2024', K2);
    expect(rotated.primaryKeyId).toBe('key-2024');
    expect(rotated.keyIds).toEqual(['key-2023', 'key-2024']);
    expect(old.keyIds).toEqual(['key-2023']);
    expect(old.primaryKeyId).toBe('key-2023');
    const after = await encryptBuffer(filler(100, 2), { keyring: rotated, backend: on, chunkSize: C });
    expect(decodeHeader(after)!.header.keyId).toBe('key-2024');
    expect(hex(await decryptBuffer(before, { keyring: rotated, backend: on }))).toBe(hex(filler(100, 1)));
    expect(hex(await decryptBuffer(after, { keyring: rotated, backend: on }))).toBe(hex(filler(100, 2)));
    expect(await failureCode(decryptBuffer(after, { keyring: old, backend: on }))).toBe(ErrorCode.UNKNOWN_KEY);
    const third = rotated.withPrimaryKey('key-2025', K3);
    expect(hex(await decryptBuffer(before, { keyring: third, backend: on }))).toBe(hex(filler(100, 1)));
  });

  test('a rotated keyring keeps the backend it was given', async () => {
    // Two keyrings on identically seeded backends wrap identically, rotated or not.
    const wrapWith = async (label: string) => {
      const b = await seeded(label);
      const rotated = new LocalKeyring({ a: K1 }, 'a', b).withPrimaryKey('b', K2);
      return hex((await rotated.wrap(filler(32, 4), AAD)).wrappedKey);
    };
    expect(await wrapWith('rotation-backend')).toBe(await wrapWith('rotation-backend'));
  });
});

describe('rewrapHeader', () => {
  test('new key block, same stream header; the old chunks decrypt under the new keyring only', async () => {
    const context = { bucket: 'b', key: 'k' };
    const old = new LocalKeyring({ old: K1 }, 'old', on);
    const plaintext = filler(2 * C + 7, 5);
    const bytes = await encryptBuffer(plaintext, { keyring: old, backend: on, chunkSize: C, context });
    const { header, body } = split(bytes);

    const rotated = old.withPrimaryKey('new', K2);
    const rewrapped = await rewrapHeader(header, rotated); // no context needed
    expect(rewrapped.keyId).toBe('new');
    expect(hex(rewrapped.streamBytes)).toBe(hex(header.streamBytes));
    expect(hex(rewrapped.wrappedKey)).not.toBe(hex(header.wrappedKey));
    const d0 = toDetachedHeader(header);
    const d1 = toDetachedHeader(rewrapped);
    expect(d1.h).toBe(d0.h);
    expect([d1.k, d1.w === d0.w]).toEqual(['new', false]);

    const newOnly = new LocalKeyring({ new: K2 }, 'new', on);
    const reframed = concat(encodeHeader(rewrapped), body);
    expect(hex(await decryptBuffer(reframed, { keyring: newOnly, backend: on, context }))).toBe(hex(plaintext));
    const cipher = await openStreamCipher(fromDetachedHeader(d1), { keyring: newOnly, backend: on, context });
    expect(hex(await collect(decryptBody(cipher, body)))).toBe(hex(plaintext));
    // The old keyring does not hold the new key.
    expect(await failureCode(decryptBuffer(reframed, { keyring: old, backend: on, context }))).toBe(
      ErrorCode.UNKNOWN_KEY,
    );
    // The context is still enforced after re-wrapping.
    expect(await failureCode(decryptBuffer(reframed, { keyring: newOnly, backend: on }))).toBe(
      ErrorCode.CONTEXT_MISMATCH,
    );
    // The original still opens with the old key.
    expect(hex(await decryptBuffer(bytes, { keyring: old, backend: on, context }))).toBe(hex(plaintext));
  });

  test('from one keyring to another', async () => {
    const a = new LocalKeyring({ a: K1 }, 'a', on);
    const b = new LocalKeyring({ b: K2 }, 'b', on);
    const bytes = await encryptBuffer(filler(10), { keyring: a, backend: on });
    const { header, body } = split(bytes);
    const moved = await rewrapHeader(header, a, b, on);
    expect(hex(await decryptBuffer(concat(encodeHeader(moved), body), { keyring: b, backend: on }))).toBe(
      hex(filler(10)),
    );
    expect(await failureCode(rewrapHeader(header, b, a))).toBe(ErrorCode.UNKNOWN_KEY);
  });

  test('refuses a header whose commitment is for another data key', async () => {
    const kr = new LocalKeyring({ a: K1 }, 'a', on);
    const forged = await forgeCommitmentStream(on, kr, filler(10), C);
    expect(await failureCode(rewrapHeader(forged.header, kr))).toBe(ErrorCode.KEY_COMMITMENT_MISMATCH);
  });

  test('argument errors', async () => {
    const kr = new LocalKeyring({ a: K1 }, 'a', on);
    const { header } = split(await encryptBuffer(filler(10), { keyring: kr, backend: on }));
    await expect(rewrapHeader(header, kr, {} as Keyring)).rejects.toBeInstanceOf(TypeError);
    await expect(rewrapHeader(header, null as unknown as Keyring)).rejects.toBeInstanceOf(TypeError);
  });
});
