/**
 * FORMAT.md §9, "when several errors apply": streams with two faults at once
 * must report the earlier step's error, front to back and in random access.
 */
import { LocalKeyring } from '../../src/crypto/local-keyring';
import { openStreamCipher } from '../../src/crypto/stream-cipher';
import { ErrorCode } from '../../src/format/errors';
import { decodeHeader, encodeHeader } from '../../src/format/header';
import { decryptBuffer } from '../../src/io/decrypt';
import { encryptBuffer, encryptStream } from '../../src/io/encrypt';
import { decryptRange } from '../../src/io/random-access';
import { collect, concat, failureCode, filler, flipBit, STRIDE } from '../helpers';

const C = 4096;
const keyring = LocalKeyring.single('precedence', filler(32, 7));
const context = { bucket: 'b', key: 'k' };
const plaintext = filler(2 * C + 100);

/** A self-contained stream split into its prefix (header and key block) and its chunked body. */
async function stream(recordSize: boolean) {
  const options = { keyring, context, chunkSize: C };
  const bytes = recordSize
    ? await encryptBuffer(plaintext, options)
    : await collect(encryptStream([plaintext], options)); // a stream of unknown length records no size
  const { header, length } = decodeHeader(bytes) ?? fail('no header');
  return { header, prefix: bytes.subarray(0, length), body: bytes.subarray(length) };
}

function fail(message: string): never {
  throw new Error(message);
}

/** The header with another key id in its key block (a key the keyring does not hold). */
function withForeignKeyId(prefix: Uint8Array): Uint8Array {
  const { header } = decodeHeader(prefix) ?? fail('no header');
  return encodeHeader({ ...header, keyId: 'someone-else' });
}

const corruptChunk0 = (body: Uint8Array) => flipBit(body, 100, 0);
const cutInChunk2 = (body: Uint8Array) => body.subarray(0, 2 * STRIDE + 10);
const appended = (body: Uint8Array) => concat(body, filler(40, 9));

/** The code front-to-back decryption reports. */
const streaming = (bytes: Uint8Array, options = { keyring, context }) => failureCode(decryptBuffer(bytes, options));

/** The code a random-access reader (body size known first) reports for the whole range. */
async function randomAccess(prefix: Uint8Array, body: Uint8Array, options = { keyring, context }) {
  return failureCode(async () => {
    const { header } = decodeHeader(prefix) ?? fail('no header');
    const cipher = await openStreamCipher(header, options);
    await collect(decryptRange(cipher, (s, e) => body.subarray(s, e), body.length, 0, Number.MAX_SAFE_INTEGER));
  });
}

describe('error precedence (FORMAT.md §9)', () => {
  test('an unknown key id beats a corrupt chunk', async () => {
    const { prefix, body } = await stream(true);
    const bytes = concat(withForeignKeyId(prefix), corruptChunk0(body));
    expect(await streaming(bytes)).toBe(ErrorCode.UNKNOWN_KEY);
    expect(await randomAccess(withForeignKeyId(prefix), cutInChunk2(body))).toBe(ErrorCode.UNKNOWN_KEY);
  });

  test('a wrong context beats a truncated or extended body', async () => {
    const { prefix, body } = await stream(true);
    const elsewhere = { keyring, context: { bucket: 'b', key: 'other' } };
    expect(await streaming(concat(prefix, cutInChunk2(body)), elsewhere)).toBe(ErrorCode.CONTEXT_MISMATCH);
    expect(await randomAccess(prefix, appended(body), elsewhere)).toBe(ErrorCode.CONTEXT_MISMATCH);
  });

  test('a malformed header beats everything after it', async () => {
    const { prefix, body } = await stream(true);
    const badVersion = prefix.slice();
    badVersion[4] = 99; // the format version byte (§2)
    expect(await streaming(concat(badVersion, corruptChunk0(body)))).toBe(ErrorCode.UNSUPPORTED_VERSION);
  });

  test.each([
    ['cut inside the final chunk', cutInChunk2],
    ['40 bytes appended', appended],
  ])('front to back, a corrupt first chunk beats a later fault (%s)', async (_name, later) => {
    for (const recorded of [true, false]) {
      const { prefix, body } = await stream(recorded);
      expect([recorded, await streaming(concat(prefix, later(corruptChunk0(body))))]).toEqual([
        recorded,
        ErrorCode.AUTH_FAILED,
      ]);
    }
  });

  test('with the body size known first, a size that disagrees with the recorded one beats a corrupt chunk', async () => {
    const { prefix, body } = await stream(true);
    expect(await randomAccess(prefix, appended(corruptChunk0(body)))).toBe(ErrorCode.SIZE_MISMATCH);
    // A body size no stream can have (r < 40) is a truncation, before any chunk is read.
    expect(await randomAccess(prefix, corruptChunk0(body).subarray(0, 2 * STRIDE + 39))).toBe(ErrorCode.TRUNCATED);
  });

  test('faults after the last authenticated chunk: truncation and trailing data', async () => {
    const sized = await stream(true);
    expect(await streaming(concat(sized.prefix, cutInChunk2(sized.body)))).toBe(ErrorCode.TRUNCATED);
    expect(await streaming(concat(sized.prefix, appended(sized.body)))).toBe(ErrorCode.TRAILING_DATA);
    // Without a recorded size, appended bytes become part of the last chunk and fail its tag.
    const unsized = await stream(false);
    expect(await streaming(concat(unsized.prefix, appended(unsized.body)))).toBe(ErrorCode.AUTH_FAILED);
  });
});
