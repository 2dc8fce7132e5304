import {
  ContextMismatchError,
  type EncryptionContext,
  ErrorCode,
  type Keyring,
  LocalKeyring,
  type StreamCipher,
} from '@encrypted-stream/codec';
import {
  createStreamCipher,
  decryptBody,
  type EncryptionHeader,
  encryptBody,
  rewrapHeader,
  type WrappedKey,
} from '@encrypted-stream/codec/low-level';
import { StreamCache } from '../../src/stream-cache';
import { bytesOf, C, failureCode, filler, MASTER_KEY, rejection, testKeyring } from '../helpers/common';

/** Delegates to a keyring, counting unwrap calls. */
class CountingKeyring implements Keyring {
  unwraps = 0;
  constructor(private readonly inner: Keyring) {}
  wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    return this.inner.wrap(dataKey, aad);
  }
  unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    this.unwraps++;
    return this.inner.unwrap(wrapped, aad);
  }
}

const SECOND_KEY = filler(32, 42);
const CONTEXT: EncryptionContext = { bucket: 'b', key: 'photos/cat.jpg' };
const plaintext = filler(2 * C + 77, 3);

let keyring: CountingKeyring;
let original: StreamCipher;
let ciphertext: Uint8Array;

async function headerFor(context: EncryptionContext = CONTEXT, by: Keyring = testKeyring()) {
  return (await createStreamCipher({ keyring: by, context, chunkSize: C })).header;
}

beforeAll(async () => {
  original = await createStreamCipher({ keyring: testKeyring(), context: CONTEXT, chunkSize: C });
  ciphertext = await bytesOf(encryptBody(original, plaintext));
});

beforeEach(() => {
  // Holds the test key and a second one, so headers re-wrapped under either open.
  keyring = new CountingKeyring(new LocalKeyring({ 'unit-test-key': MASTER_KEY, second: SECOND_KEY }, 'unit-test-key'));
});

describe('StreamCache', () => {
  test('a second open of the same header and context does not unwrap again', async () => {
    const cache = new StreamCache(keyring, 4);
    const first = await cache.open(original.header, CONTEXT);
    const second = await cache.open(original.header, { ...CONTEXT });
    expect(keyring.unwraps).toBe(1);
    expect(second).toBe(first);
  });

  test('the order of context entries does not matter', async () => {
    const cache = new StreamCache(keyring, 4);
    await cache.open(original.header, { bucket: 'b', key: 'photos/cat.jpg' });
    await cache.open(original.header, { key: 'photos/cat.jpg', bucket: 'b' });
    expect(keyring.unwraps).toBe(1);
  });

  test('concurrent opens of one stream share one unwrap', async () => {
    const cache = new StreamCache(keyring, 4);
    const [a, b] = await Promise.all([cache.open(original.header, CONTEXT), cache.open(original.header, CONTEXT)]);
    expect(a).toBe(b);
    expect(keyring.unwraps).toBe(1);
  });

  test('the cached cipher decrypts what the original encrypted', async () => {
    const cache = new StreamCache(keyring, 4);
    for (let i = 0; i < 2; i++) {
      const cipher = await cache.open(original.header, CONTEXT);
      expect(Buffer.from(await bytesOf(decryptBody(cipher, ciphertext))).equals(Buffer.from(plaintext))).toBe(true);
    }
  });

  test('a wrong context is a separate entry and fails, even after the right one was cached', async () => {
    const cache = new StreamCache(keyring, 4);
    await cache.open(original.header, CONTEXT);
    const wrongs: EncryptionContext[] = [
      {},
      { bucket: 'b' },
      { ...CONTEXT, key: 'photos/dog.jpg' },
      { ...CONTEXT, x: '' },
    ];
    for (const wrong of wrongs) {
      const before = keyring.unwraps;
      const error = await rejection(cache.open(original.header, wrong));
      expect(error).toBeInstanceOf(ContextMismatchError);
      expect((error as ContextMismatchError).code).toBe(ErrorCode.CONTEXT_MISMATCH);
      expect(keyring.unwraps).toBe(before + 1);
    }
  });

  test('contexts that would look alike joined naively are told apart', async () => {
    const header = await headerFor({ a: 'b,c' });
    const cache = new StreamCache(keyring, 4);
    await cache.open(header, { a: 'b,c' });
    const lookalikes: EncryptionContext[] = [{ 'a,b': 'c' }, { a: 'b', c: '' }, { a: 'b,c\u0000' }, { 'a"': 'b,c' }];
    for (const wrong of lookalikes) {
      expect(await failureCode(cache.open(header, wrong))).toBe(ErrorCode.CONTEXT_MISMATCH);
    }
  });

  test('failures are not cached: an unknown key fails again and unwraps again', async () => {
    const header = await headerFor(CONTEXT, LocalKeyring.single('elsewhere', filler(32, 9)));
    const cache = new StreamCache(keyring, 4);
    expect(await failureCode(cache.open(header, CONTEXT))).toBe(ErrorCode.UNKNOWN_KEY);
    expect(await failureCode(cache.open(header, CONTEXT))).toBe(ErrorCode.UNKNOWN_KEY);
    expect(keyring.unwraps).toBe(2);
  });

  test('a failed context check is not cached either', async () => {
    const cache = new StreamCache(keyring, 4);
    for (let i = 1; i <= 2; i++) {
      expect(await failureCode(cache.open(original.header, {}))).toBe(ErrorCode.CONTEXT_MISMATCH);
      expect(keyring.unwraps).toBe(i);
    }
  });

  test('capacity evicts the least recently used stream', async () => {
    const [a, b, c] = await Promise.all([headerFor(), headerFor(), headerFor()]);
    const cache = new StreamCache(keyring, 2);
    for (const h of [a, b, a, c] as EncryptionHeader[]) await cache.open(h, CONTEXT);
    expect(keyring.unwraps).toBe(3);
    await cache.open(a as EncryptionHeader, CONTEXT); // used more recently than b: kept
    expect(keyring.unwraps).toBe(3);
    await cache.open(b as EncryptionHeader, CONTEXT); // evicted by c
    expect(keyring.unwraps).toBe(4);
  });

  test('capacity 0 never caches', async () => {
    const cache = new StreamCache(keyring, 0);
    const first = await cache.open(original.header, CONTEXT);
    const second = await cache.open(original.header, CONTEXT);
    expect(keyring.unwraps).toBe(2);
    expect(second).not.toBe(first);
  });

  test('a re-wrapped header (same stream, another key block) is a separate entry that decrypts the same', async () => {
    const cache = new StreamCache(keyring, 4);
    const rewrapped = await rewrapHeader(original.header, testKeyring(), LocalKeyring.single('second', SECOND_KEY));
    const sameKey = await rewrapHeader(original.header, testKeyring());
    expect(Buffer.from(rewrapped.streamBytes).equals(Buffer.from(original.header.streamBytes))).toBe(true);
    await cache.open(original.header, CONTEXT);
    for (const [header, unwraps] of [
      [rewrapped, 2],
      [sameKey, 3],
      [original.header, 3],
      [rewrapped, 3],
    ] as const) {
      const cipher = await cache.open(header, CONTEXT);
      expect(keyring.unwraps).toBe(unwraps);
      expect(Buffer.from(await bytesOf(decryptBody(cipher, ciphertext))).equals(Buffer.from(plaintext))).toBe(true);
    }
  });
});
