import { EncryptedStreamError, LocalKeyring } from '@encrypted-stream/codec';
import { seededBytes } from '@encrypted-stream/test-base';

/** The smallest chunk size (most tests use it to keep data small). */
export const C = 4096;
/** Bytes of one full encrypted chunk at {@link C}. */
export const STRIDE = C + 40;

/** A fixed 32-byte master key. */
export const MASTER_KEY = new Uint8Array(32).map((_, i) => (i * 7 + 3) & 0xff);
export const KEY_ID = 'unit-test-key';

/** A one-key local keyring over {@link MASTER_KEY} (or another key). */
export function testKeyring(keyId = KEY_ID, masterKey = MASTER_KEY): LocalKeyring {
  return LocalKeyring.single(keyId, masterKey);
}

/** Reproducible filler bytes: seed `seed`'s seeded data (test-base's `seededBytes`), in an ArrayBuffer of their own. */
export function filler(length: number, seed = 1): Uint8Array<ArrayBuffer> {
  return new Uint8Array(seededBytes(`s3-unit-${seed}`, length));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Collects bytes from a Uint8Array or any async iterable of pieces. */
export async function bytesOf(body: Uint8Array | AsyncIterable<Uint8Array | string>): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const parts: Buffer[] = [];
  for await (const piece of body) parts.push(Buffer.from(piece));
  return new Uint8Array(Buffer.concat(parts));
}

/** What `work` rejects with (fails the test if it resolves). */
export async function rejection(work: Promise<unknown> | (() => Promise<unknown>)): Promise<unknown> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, but the operation succeeded');
}

/** The code of the EncryptedStreamError `work` rejects with (fails the test for anything else). */
export async function failureCode(work: Promise<unknown> | (() => Promise<unknown>)): Promise<string> {
  const error = await rejection(work);
  if (!(error instanceof EncryptedStreamError)) {
    throw new Error(`expected an EncryptedStreamError, got ${String(error)}`, { cause: error });
  }
  return error.code;
}
