import { hkdfSync } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ErrorCode, KeyError, LocalKeyring, openStreamCipher, type StreamCipher } from '@encrypted-stream/codec';
import { ciphertextSize, decryptBody, fromDetachedHeader, toDetachedHeader } from '@encrypted-stream/codec/low-level';
import { EncryptedS3Error, S3ErrorCode } from '../../src/errors';
import { encryptionMetadata, readEncryptionHeader } from '../../src/metadata';
import { type EncryptionOptions, resolveOptions } from '../../src/options';
import {
  adoptKnownParts,
  encryptPart,
  fromResumeToken,
  type ListedPart,
  newUploadCipher,
  toResumeToken,
  type UploadState,
  verifyParts,
} from '../../src/upload-state';
import {
  bytesOf,
  C,
  concat,
  failureCode,
  filler,
  KEY_ID,
  MASTER_KEY,
  rejection,
  STRIDE,
  testKeyring,
} from '../helpers/common';

const keyring = testKeyring();
/** Plaintext bytes per part in these tests: two chunks. */
const PART = 2 * C;
/** Ciphertext bytes of a full (non-final) part. */
const FULL_PART = 2 * STRIDE;

async function newState(
  options: Partial<EncryptionOptions> = {},
  partSize = PART,
  plaintextSize?: number,
): Promise<UploadState> {
  const resolved = resolveOptions({ keyring, chunkSize: C, partSize, ...options });
  const cipher = await newUploadCipher(resolved, 'bucket', 'dir/key', plaintextSize);
  return { bucket: 'bucket', key: 'dir/key', uploadId: 'upload-1', partSize, cipher };
}

/** A reader's cipher, opened from the object's metadata as GetObject would. */
async function readerCipher(state: UploadState, options: Partial<EncryptionOptions> = {}): Promise<StreamCipher> {
  const header = readEncryptionHeader(encryptionMetadata(state.cipher.header))!;
  const resolved = resolveOptions({ keyring, ...options });
  return openStreamCipher(header, { keyring, context: resolved.contextFor({ bucket: state.bucket, key: state.key }) });
}

const body = async (part: { Body: Uint8Array | Readable | Blob }) => bytesOf(part.Body as Uint8Array | Readable);
const decrypt = async (cipher: StreamCipher, ciphertext: Uint8Array, firstChunk = 0, expectFinal = true) =>
  bytesOf(decryptBody(cipher, ciphertext, { firstChunk, expectFinal }));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'es-s3-parts-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tempFile(bytes: Uint8Array): string {
  const path = join(dir, `f${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, bytes);
  return path;
}

describe('encryptPart: ciphertext buffers reused once a part was sent', () => {
  const bytes = async (part: { Body: Uint8Array | Readable | Blob }) => part.Body as Uint8Array;

  test('after release, the next part of the upload is encrypted into the same memory, and both decrypt', async () => {
    const state = await newState();
    const reader = await readerCipher(state);
    const one = await encryptPart(state, 1, filler(PART, 1), undefined, undefined);
    const first = Uint8Array.prototype.slice.call(await bytes(one)); // what was sent
    one.release?.();
    const two = await encryptPart(state, 2, filler(PART, 2), undefined, undefined);
    expect((await bytes(two)).buffer).toBe((await bytes(one)).buffer); // reused
    expect(Buffer.from(await decrypt(reader, first, 0, false))).toEqual(Buffer.from(filler(PART, 1)));
    expect(Buffer.from(await decrypt(reader, await bytes(two), 2, false))).toEqual(Buffer.from(filler(PART, 2)));
    // The shorter final part fits in a view of the same buffer.
    two.release?.();
    const last = await encryptPart(state, 3, filler(C + 5, 3), undefined, true);
    expect((await bytes(last)).buffer).toBe((await bytes(one)).buffer);
    expect(await bytes(last)).toHaveLength(STRIDE + 5 + (STRIDE - C)); // a whole chunk, then a 5-byte final one
    expect(Buffer.from(await decrypt(reader, await bytes(last), 4, true))).toEqual(Buffer.from(filler(C + 5, 3)));
  });

  test('a part not released (in flight, or its send failed) is never written over', async () => {
    const state = await newState();
    const one = await encryptPart(state, 1, filler(PART, 1), undefined, undefined);
    const sent = Uint8Array.prototype.slice.call(await bytes(one));
    const two = await encryptPart(state, 2, filler(PART, 2), undefined, undefined);
    expect((await bytes(two)).buffer).not.toBe((await bytes(one)).buffer);
    expect(Buffer.from(await bytes(one))).toEqual(Buffer.from(sent));
  });

  test('releasing twice frees the buffer once: two later parts never share it', async () => {
    const state = await newState();
    const one = await encryptPart(state, 1, filler(PART, 1), undefined, undefined);
    one.release?.();
    one.release?.();
    const two = await encryptPart(state, 2, filler(PART, 2), undefined, undefined);
    const three = await encryptPart(state, 3, filler(PART, 3), undefined, undefined);
    expect((await bytes(two)).buffer).not.toBe((await bytes(three)).buffer);
  });

  test('uploads never share buffers', async () => {
    const a = await newState();
    const b = await newState();
    const one = await encryptPart(a, 1, filler(PART, 1), undefined, undefined);
    one.release?.();
    const other = await encryptPart(b, 1, filler(PART, 2), undefined, undefined);
    expect((await bytes(other)).buffer).not.toBe((await bytes(one)).buffer);
  });
});

describe('encryptPart', () => {
  test('part n starts at chunk (n-1)·partSize/chunkSize', async () => {
    const state = await newState();
    const reader = await readerCipher(state);
    const plaintext = filler(PART, 3);
    const part3 = await body(await encryptPart(state, 3, plaintext, undefined, undefined));
    expect(part3).toHaveLength(FULL_PART);
    expect(Buffer.from(await decrypt(reader, part3, 4, false))).toEqual(Buffer.from(plaintext));
    expect(await failureCode(decrypt(reader, part3, 0, false))).toBe(ErrorCode.AUTH_FAILED);
    expect(await failureCode(decrypt(reader, part3, 2, false))).toBe(ErrorCode.AUTH_FAILED);
  });

  test('the first chunk index scales with the part size', async () => {
    const state = await newState({}, 5 * C);
    const reader = await readerCipher(state);
    const plaintext = filler(5 * C, 4);
    const part = await body(await encryptPart(state, 7, plaintext, undefined, false));
    expect(Buffer.from(await decrypt(reader, part, 30, false))).toEqual(Buffer.from(plaintext));
  });

  test.each([
    ['one byte over', PART + 1, undefined],
    ['a chunk over', PART + C, undefined],
    ['short but marked not last', PART - 1, false],
    ['a chunk short, marked not last', C, false],
    ['empty, marked not last', 0, false],
  ])('a non-final part of the wrong size is a RangeError: %s', async (_, length, isLastPart) => {
    const state = await newState();
    expect(await rejection(encryptPart(state, 1, new Uint8Array(length), undefined, isLastPart))).toBeInstanceOf(
      RangeError,
    );
  });

  test.each([0, -1, 10001, 1.5, Number.NaN])('part number %p is a RangeError', async (partNumber) => {
    const state = await newState();
    expect(await rejection(encryptPart(state, partNumber, new Uint8Array(PART), undefined, undefined))).toBeInstanceOf(
      RangeError,
    );
  });

  test('part numbers 1 and 10000 are accepted', async () => {
    const state = await newState();
    await expect(encryptPart(state, 1, new Uint8Array(PART), undefined, undefined)).resolves.toBeDefined();
    await expect(encryptPart(state, 10000, new Uint8Array(10), undefined, undefined)).resolves.toBeDefined();
  });

  test('a part shorter than the part size is final', async () => {
    const state = await newState();
    const reader = await readerCipher(state);
    const plaintext = filler(C + 100, 5);
    const part = await encryptPart(state, 2, plaintext, undefined, undefined);
    expect(part.ContentLength).toBe(STRIDE + 100 + 40);
    const bytes = await body(part);
    // decrypts as the end of the stream (final flag set on its last chunk)
    expect(Buffer.from(await decrypt(reader, bytes, 2, true))).toEqual(Buffer.from(plaintext));
  });

  test('isLastPart makes a full part final (with an empty final chunk)', async () => {
    const state = await newState();
    const reader = await readerCipher(state);
    const plaintext = filler(PART, 6);
    const part = await encryptPart(state, 1, plaintext, undefined, true);
    expect(part.ContentLength).toBe(FULL_PART + 40);
    expect(Buffer.from(await decrypt(reader, await body(part)))).toEqual(Buffer.from(plaintext));
  });

  test('the last part may be longer than the part size, or empty', async () => {
    const state = await newState();
    const reader = await readerCipher(state);
    const long = filler(3 * C + 7, 7);
    const part = await encryptPart(state, 1, long, undefined, true);
    expect(part.ContentLength).toBe(3 * STRIDE + 7 + 40);
    expect(Buffer.from(await decrypt(reader, await body(part)))).toEqual(Buffer.from(long));
    const other = await newState(); // a stream has one final part
    const empty = await encryptPart(other, 2, new Uint8Array(0), undefined, true);
    expect(empty.ContentLength).toBe(40);
    expect(await decrypt(await readerCipher(other), await body(empty), 2)).toHaveLength(0);
  });

  test.each([
    ['a Readable', () => Readable.from([Buffer.alloc(PART)])],
    ['a web ReadableStream', () => new Blob([new Uint8Array(PART)]).stream()],
    [
      'an async iterable',
      () =>
        (async function* () {
          yield new Uint8Array(PART);
        })(),
    ],
  ])('a stream of unknown length is a TypeError: %s', async (_, make) => {
    const state = await newState();
    expect(await rejection(encryptPart(state, 1, make(), undefined, undefined))).toBeInstanceOf(TypeError);
  });

  describe('ContentLength is the real encrypted length', () => {
    const cases: [string, number, boolean | undefined, () => unknown, number | undefined][] = [
      ['Uint8Array, full part', PART, undefined, () => filler(PART), undefined],
      ['Uint8Array, short final part', 100, undefined, () => filler(100), undefined],
      ['Uint8Array, marked final full part', PART, true, () => filler(PART), undefined],
      ['Uint8Array, empty final part', 0, true, () => new Uint8Array(0), undefined],
      [
        'string with multi-byte characters',
        Buffer.byteLength('€😀é'.repeat(700)),
        undefined,
        () => '€😀é'.repeat(700),
        undefined,
      ],
      ['string of exactly a part', PART, undefined, () => 'x'.repeat(PART), undefined],
      ['Blob', C + 1, undefined, () => new Blob([filler(C + 1)]), undefined],
      ['Blob, full part', PART, undefined, () => new Blob([filler(PART)]), undefined],
      ['Readable + ContentLength, full part', PART, undefined, () => Readable.from([filler(C), filler(C)]), PART],
      ['Readable + ContentLength, final', 5000, undefined, () => Readable.from([filler(5000)]), 5000],
      ['web stream + ContentLength', 3000, true, () => new Blob([filler(3000)]).stream(), 3000],
      ['fs read stream, full part', PART, undefined, () => createReadStream(tempFile(filler(PART))), undefined],
      ['fs read stream, final', 777, undefined, () => createReadStream(tempFile(filler(777))), undefined],
      [
        'fs read stream with start/end',
        PART,
        undefined,
        () => createReadStream(tempFile(filler(3 * PART)), { start: 10, end: 10 + PART - 1 }),
        undefined,
      ],
    ];
    test.each(cases)('%s', async (_, length, isLastPart, make, contentLength) => {
      const state = await newState();
      const source = make();
      const part = await encryptPart(state, 2, source, contentLength, isLastPart);
      const bytes = await body(part);
      expect(part.ContentLength).toBe(bytes.length);
      const final = isLastPart ?? length < PART;
      expect(bytes.length).toBe(final ? Math.floor(length / C) * STRIDE + (length % C) + 40 : (length / C) * STRIDE);
      // in-memory bodies stay bytes, everything else is streamed
      expect(part.Body instanceof Uint8Array).toBe(typeof source === 'string' || source instanceof Uint8Array);
      const reader = await readerCipher(state);
      expect(await decrypt(reader, bytes, 2, final)).toHaveLength(length);
    });
  });

  test.each([
    ['final part, stream longer than ContentLength', 100, 5000, undefined],
    ['final part, stream shorter than ContentLength', 100, 50, undefined],
    ['full part, stream a chunk short of ContentLength', PART, C, false],
    ['full part, stream a chunk longer than ContentLength', PART, PART + C, false],
  ])(
    'a stream that disagrees with its ContentLength fails rather than sending a body of another length: %s',
    async (_, contentLength, actual, isLastPart) => {
      // BUG: encryptPart trusts ContentLength and encrypts whatever the stream yields, so Body and
      // ContentLength disagree (the request then hangs, is cut, or stores a corrupt part).
      const state = await newState();
      let outcome: string;
      try {
        const part = await encryptPart(state, 1, Readable.from([filler(actual)]), contentLength, isLastPart);
        const bytes = await body(part);
        outcome = `a ${bytes.length}-byte body sent with ContentLength ${part.ContentLength}`;
      } catch (error) {
        outcome = error instanceof RangeError ? 'RangeError' : String(error);
      }
      expect(outcome).toBe('RangeError');
    },
  );
});

describe('verifyParts', () => {
  let state: UploadState;
  beforeAll(async () => {
    state = await newState();
  });
  const parts = (...numbers: (number | undefined)[]) => numbers.map((PartNumber) => ({ PartNumber }));
  const listed = (...sizes: number[]): ListedPart[] => sizes.map((Size, i) => ({ PartNumber: i + 1, Size }));
  const invalid = (work: () => void) => {
    try {
      work();
    } catch (error) {
      expect(error).toBeInstanceOf(EncryptedS3Error);
      expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_UPLOAD);
      return;
    }
    throw new Error('expected ES_INVALID_UPLOAD');
  };

  test.each<[string, { PartNumber?: number }[], ListedPart[]]>([
    ['one short final part', parts(1), listed(140)],
    ['one empty final part', parts(1), listed(40)],
    ['one full part marked final', parts(1), listed(FULL_PART + 40)],
    ['full, full, short final', parts(1, 2, 3), listed(FULL_PART, FULL_PART, 500)],
    ['full, then an empty final part', parts(1, 2), listed(FULL_PART, 40)],
    ['a final part longer than the part size', parts(1, 2), listed(FULL_PART, 3 * STRIDE + 41)],
    ['requested out of order', parts(3, 1, 2), listed(FULL_PART, FULL_PART, 41)],
    ['unrequested extra parts are ignored', parts(1, 2), listed(FULL_PART, 99, FULL_PART)],
    [
      'listed out of order',
      parts(1, 2),
      [
        { PartNumber: 2, Size: 60 },
        { PartNumber: 1, Size: FULL_PART },
      ],
    ],
  ])('valid: %s', (_, requested, list) => {
    expect(() => verifyParts(state, requested, list)).not.toThrow();
  });

  test.each<[string, { PartNumber?: number }[], ListedPart[]]>([
    ['no parts', [], listed(140)],
    ['a gap', parts(1, 3), listed(FULL_PART, FULL_PART, 140)],
    ['a repeat', parts(1, 1, 2), listed(FULL_PART, 140)],
    ['a repeat replacing the last', parts(1, 2, 2), listed(FULL_PART, FULL_PART, 140)],
    ['not starting at 1', parts(2, 3), listed(FULL_PART, FULL_PART, 140)],
    ['starting at 0', parts(0, 1), listed(FULL_PART, 140)],
    ['a part without a number', parts(1, undefined), listed(FULL_PART, 140)],
    ['a requested part that was not uploaded', parts(1, 2), listed(FULL_PART)],
    ['a listed part without a size', parts(1), [{ PartNumber: 1 }]],
    ['a non-final part one byte short', parts(1, 2), listed(FULL_PART - 1, 140)],
    ['a non-final part one chunk short', parts(1, 2), listed(STRIDE, 140)],
    ['a non-final part marked final', parts(1, 2), listed(FULL_PART + 40, 140)],
    ['a non-final short final part', parts(1, 2), listed(140, 140)],
    ['the last part never marked final', parts(1, 2), listed(FULL_PART, FULL_PART)],
    ['a single unmarked full part', parts(1), listed(FULL_PART)],
    ['a last part ending inside a chunk overhead', parts(1, 2), listed(FULL_PART, STRIDE + 39)],
    ['an empty last part', parts(1, 2), listed(FULL_PART, 0)],
  ])('ES_INVALID_UPLOAD: %s', (_, requested, list) => {
    invalid(() => verifyParts(state, requested, list));
  });
});

describe('resume tokens', () => {
  const decode = (token: string) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  const encode = (body: unknown) => Buffer.from(JSON.stringify(body)).toString('base64url');

  test('round trip', async () => {
    const state = await newState({ context: 'location' });
    const resumed = await fromResumeToken(toResumeToken(state), resolveOptions({ keyring, context: 'location' }));
    expect(resumed).toMatchObject({ bucket: state.bucket, key: state.key, uploadId: state.uploadId, partSize: PART });
    expect(Buffer.from(resumed.cipher.header.streamBytes)).toEqual(Buffer.from(state.cipher.header.streamBytes));
    expect(resumed.cipher.chunkSize).toBe(C);
  });

  test('parts from the original and the resumed state form one stream', async () => {
    const state = await newState();
    const resumed = await fromResumeToken(toResumeToken(state), resolveOptions({ keyring }));
    const plaintext = filler(2 * PART + 10, 9);
    const p2 = await body(await encryptPart(resumed, 2, plaintext.subarray(PART, 2 * PART), undefined, undefined));
    const p1 = await body(await encryptPart(state, 1, plaintext.subarray(0, PART), undefined, undefined));
    const p3 = await body(await encryptPart(resumed, 3, plaintext.subarray(2 * PART), undefined, true));
    const reader = await readerCipher(state);
    expect(Buffer.from(await decrypt(reader, concat(p1, p2, p3)))).toEqual(Buffer.from(plaintext));
  });

  test('holds only the documented fields', async () => {
    const state = await newState();
    const body = decode(toResumeToken(state));
    expect(Object.keys(body).sort()).toEqual(['b', 'h', 'k', 'm', 'p', 'u', 'v']);
    expect(body).toMatchObject({ v: 2, b: 'bucket', k: 'dir/key', u: 'upload-1', p: PART });
    expect(Buffer.from(body.m, 'base64url')).toHaveLength(32);
    expect(body.h).toEqual(toDetachedHeader(state.cipher.header));
    expect(Object.keys(body.h).sort()).toEqual(['h', 'k', 'w']);
    expect(toResumeToken(state)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  test('holds no unwrapped key: neither the master key, the data key nor keys derived from it', async () => {
    const state = await newState();
    const { header } = state.cipher;
    // Recover the data key the way a keyring holder could, and check it with the header's commitment.
    const dataKey = Buffer.from(await keyring.unwrap(header, header.streamBytes));
    const derive = (label: string) =>
      Buffer.from(hkdfSync('sha256', dataKey, header.stream.streamId, Buffer.from(label), 32));
    expect(derive('encrypted-stream v1 commitment')).toEqual(Buffer.from(header.stream.commitment));
    const secrets = [Buffer.from(MASTER_KEY), dataKey, derive('encrypted-stream v1 payload')];

    const token = toResumeToken(state);
    const json = Buffer.from(token, 'base64url').toString('utf8');
    const fields = JSON.parse(json);
    const haystacks = [
      Buffer.from(token),
      Buffer.from(json),
      Buffer.from(token, 'base64url'),
      Buffer.from(fields.h.h, 'base64url'),
      Buffer.from(fields.h.w, 'base64url'),
    ];
    for (const secret of secrets) {
      const forms = [
        secret,
        secret.subarray(0, 16), // no half of it either
        secret.subarray(16),
        Buffer.from(secret.toString('hex')),
        Buffer.from(secret.toString('base64')),
        Buffer.from(secret.toString('base64url')),
      ];
      for (const haystack of haystacks) for (const form of forms) expect(haystack.includes(form)).toBe(false);
    }
  });

  test.each<[string, (token: string) => string]>([
    ['garbage', () => 'not a token'],
    ['empty', () => ''],
    ['truncated', (t) => t.slice(0, t.length / 2)],
    ['JSON null', () => encode(null)],
    ['a JSON array', () => encode([1, 2])],
    ['a JSON string', () => encode('x')],
    ['version 1 (unauthenticated, from an older release)', (t) => encode({ ...decode(t), v: 1 })],
    ['version 3', (t) => encode({ ...decode(t), v: 3 })],
    ['an unknown field', (t) => encode({ ...decode(t), x: 1 })],
    ['MAC missing', (t) => encode({ ...decode(t), m: undefined })],
    ['no version', (t) => encode({ ...decode(t), v: undefined })],
    ['bucket not a string', (t) => encode({ ...decode(t), b: 7 })],
    ['key missing', (t) => encode({ ...decode(t), k: undefined })],
    ['upload id missing', (t) => encode({ ...decode(t), u: undefined })],
    ['header missing', (t) => encode({ ...decode(t), h: undefined })],
    ['header not an object', (t) => encode({ ...decode(t), h: 'x' })],
    ['stream header cut', (t) => encode({ ...decode(t), h: { ...decode(t).h, h: decode(t).h.h.slice(4) } })],
    ['stream header not base64url', (t) => encode({ ...decode(t), h: { ...decode(t).h, h: `${'!'.repeat(128)}` } })],
    ['key id with a space', (t) => encode({ ...decode(t), h: { ...decode(t).h, k: 'a b' } })],
    ['wrapped key empty', (t) => encode({ ...decode(t), h: { ...decode(t).h, w: '' } })],
  ])('a malformed token is ES_INVALID_RESUME_TOKEN: %s', async (_, tamper) => {
    const state = await newState();
    const error = await rejection(fromResumeToken(tamper(toResumeToken(state)), resolveOptions({ keyring })));
    expect(error).toBeInstanceOf(EncryptedS3Error);
    expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_RESUME_TOKEN);
  });

  test.each<[string, unknown]>([
    ['not a multiple of the chunk size', PART + 1],
    ['zero', 0],
    ['negative', -PART],
    ['a string', String(PART)],
    ['missing', undefined],
  ])('a token with a tampered part size is ES_INVALID_RESUME_TOKEN: %s', async (_, p) => {
    // BUG: fromResumeToken checks `p` only after the try block, so a malformed part size is a bare RangeError.
    const state = await newState();
    const token = encode({ ...decode(toResumeToken(state)), p });
    const error = await rejection(fromResumeToken(token, resolveOptions({ keyring })));
    expect({ error: (error as Error).name, code: (error as EncryptedS3Error).code }).toEqual({
      error: 'EncryptedS3Error',
      code: S3ErrorCode.INVALID_RESUME_TOKEN,
    });
  });

  test('a non-string token is a TypeError', async () => {
    for (const token of [undefined, 42, { v: 1 }]) {
      expect(await rejection(fromResumeToken(token as unknown as string, resolveOptions({ keyring })))).toBeInstanceOf(
        TypeError,
      );
    }
  });

  test('a keyring without the key: KeyError ES_UNKNOWN_KEY', async () => {
    const state = await newState();
    const other = LocalKeyring.single('other-key', MASTER_KEY);
    const error = await rejection(fromResumeToken(toResumeToken(state), resolveOptions({ keyring: other })));
    expect(error).toBeInstanceOf(KeyError);
    expect((error as KeyError).code).toBe(ErrorCode.UNKNOWN_KEY);
  });

  test('a keyring with another key under the same id: ES_INVALID_RESUME_TOKEN, caused by ES_KEY_UNWRAP_FAILED', async () => {
    const state = await newState();
    const impostor = LocalKeyring.single(KEY_ID, new Uint8Array(32).fill(9));
    const error = await rejection(fromResumeToken(toResumeToken(state), resolveOptions({ keyring: impostor })));
    expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_RESUME_TOKEN);
    expect(((error as Error).cause as KeyError).code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test('a tampered wrapped key: ES_INVALID_RESUME_TOKEN, caused by ES_KEY_UNWRAP_FAILED', async () => {
    const state = await newState();
    const body = decode(toResumeToken(state));
    const w = Buffer.from(body.h.w, 'base64url');
    w[30] = (w[30] as number) ^ 1;
    const token = encode({ ...body, h: { ...body.h, w: w.toString('base64url') } });
    const error = await rejection(fromResumeToken(token, resolveOptions({ keyring })));
    expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_RESUME_TOKEN);
    expect(((error as Error).cause as KeyError).code).toBe(ErrorCode.KEY_UNWRAP_FAILED);
  });

  test('a token moved to another key of a location-bound upload is refused (context mismatch)', async () => {
    const state = await newState({ context: 'location' });
    const token = encode({ ...decode(toResumeToken(state)), k: 'another/key' });
    const options = resolveOptions({ keyring, context: 'location' });
    const moved = await rejection(fromResumeToken(token, options));
    expect((moved as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_RESUME_TOKEN);
    expect(((moved as Error).cause as KeyError).code).toBe(ErrorCode.CONTEXT_MISMATCH);
    const unbound = await rejection(fromResumeToken(toResumeToken(state), resolveOptions({ keyring })));
    expect(((unbound as Error).cause as KeyError).code).toBe(ErrorCode.CONTEXT_MISMATCH);
  });

  // Issue 10: a token is authenticated by a MAC keyed from its data key, so
  // nobody without that key can edit one or splice another object's header in.
  test.each<[string, (body: Record<string, unknown>, other: Record<string, unknown>) => Record<string, unknown>]>([
    ['bucket', (b) => ({ ...b, b: 'other-bucket' })],
    ['key', (b) => ({ ...b, k: 'dir/other' })],
    ['upload id', (b) => ({ ...b, u: 'upload-2' })],
    ['part size', (b) => ({ ...b, p: 2 * PART })],
    ['final part added', (b) => ({ ...b, f: [1, PART] })],
    ["another upload's header (same keyring)", (b, other) => ({ ...b, h: other.h })],
    ["another upload's MAC", (b, other) => ({ ...b, m: other.m })],
    ['MAC with one bit flipped', (b) => ({ ...b, m: flipFirst(b.m as string) })],
  ])('an edited token fails its MAC: %s', async (_, edit) => {
    const state = await newState();
    const other = decode(toResumeToken(await newState()));
    const token = encode(edit(decode(toResumeToken(state)), other));
    const error = await rejection(fromResumeToken(token, resolveOptions({ keyring })));
    expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_RESUME_TOKEN);
  });

  test('a token for another destination than the one given is refused', async () => {
    const state = await newState();
    const token = toResumeToken(state);
    const options = resolveOptions({ keyring });
    await expect(fromResumeToken(token, options, { bucket: 'bucket', key: 'dir/key' })).resolves.toBeDefined();
    for (const destination of [{ bucket: 'other' }, { key: 'dir/other' }, { bucket: 'bucket', key: 'dir/key2' }]) {
      expect(await failureCode(fromResumeToken(token, options, destination))).toBe(S3ErrorCode.INVALID_RESUME_TOKEN);
    }
  });

  test('the final part travels in the token: a resumed process cannot mark another one', async () => {
    const state = await newState();
    await encryptPart(state, 3, filler(100), undefined, true);
    const resumed = await fromResumeToken(toResumeToken(state), resolveOptions({ keyring }));
    expect(resumed.finalPart).toEqual({ number: 3, length: 100 });
    expect(await failureCode(encryptPart(resumed, 4, filler(PART), undefined, undefined))).toBe(
      S3ErrorCode.INVALID_UPLOAD,
    );
    expect(await failureCode(encryptPart(resumed, 2, filler(50), undefined, true))).toBe(S3ErrorCode.INVALID_UPLOAD);
    await expect(encryptPart(resumed, 3, filler(100), undefined, true)).resolves.toBeDefined(); // a retry
  });
});

describe('one final part per stream (issue 10)', () => {
  test.each<[string, (state: UploadState) => Promise<unknown>]>([
    [
      'a part after the final one',
      async (s) => {
        await encryptPart(s, 2, filler(10), undefined, true);
        return encryptPart(s, 3, filler(PART), undefined, undefined);
      },
    ],
    [
      'a second, different final part',
      async (s) => {
        await encryptPart(s, 2, filler(10), undefined, true);
        return encryptPart(s, 3, filler(10), undefined, true);
      },
    ],
    [
      'the final part again with another length',
      async (s) => {
        await encryptPart(s, 2, filler(10), undefined, true);
        return encryptPart(s, 2, filler(11), undefined, true);
      },
    ],
    [
      'the final part again as a full middle part',
      async (s) => {
        await encryptPart(s, 2, filler(10), undefined, true);
        return encryptPart(s, 2, filler(PART), undefined, false);
      },
    ],
    [
      'a final part before a part already uploaded',
      async (s) => {
        await encryptPart(s, 3, filler(PART), undefined, undefined);
        return encryptPart(s, 2, filler(10), undefined, true);
      },
    ],
  ])('%s: ES_INVALID_UPLOAD', async (_, attempt) => {
    expect(await failureCode(attempt(await newState()))).toBe(S3ErrorCode.INVALID_UPLOAD);
  });

  test('retrying the final part with the same length is allowed', async () => {
    const state = await newState();
    await encryptPart(state, 2, filler(10), undefined, true);
    await expect(encryptPart(state, 2, filler(10, 3), undefined, true)).resolves.toBeDefined();
    await expect(encryptPart(state, 1, filler(PART), undefined, undefined)).resolves.toBeDefined();
  });
});

describe('a resumed state adopts the parts already known (reviewer finding)', () => {
  const listedFinal = [
    { PartNumber: 1, Size: FULL_PART },
    { PartNumber: 2, Size: ciphertextSize(100, C) },
  ];

  test('a final part S3 lists is remembered: no part after it, no second end, no demotion', async () => {
    for (const attempt of [
      (s: UploadState) => encryptPart(s, 3, filler(5), undefined, undefined),
      (s: UploadState) => encryptPart(s, 2, filler(PART), undefined, false),
      (s: UploadState) => encryptPart(s, 1, filler(50), undefined, true),
    ]) {
      const state = await newState();
      adoptKnownParts(state, listedFinal);
      expect(await failureCode(attempt(state))).toBe(S3ErrorCode.INVALID_UPLOAD);
    }
    const state = await newState();
    adoptKnownParts(state, listedFinal);
    expect(state.finalPart).toEqual({ number: 2, length: 100 });
    await expect(encryptPart(state, 2, filler(100), undefined, true)).resolves.toBeDefined(); // a retry
  });

  test('a later part S3 lists forbids an earlier final part', async () => {
    const state = await newState();
    adoptKnownParts(state, [{ PartNumber: 3, Size: FULL_PART }]);
    expect(await failureCode(encryptPart(state, 1, filler(50), undefined, true))).toBe(S3ErrorCode.INVALID_UPLOAD);
  });

  test("a live state's final part survives resuming from a token taken before it was marked", async () => {
    const live = await newState();
    const token = toResumeToken(live);
    await encryptPart(live, 2, filler(10), undefined, true);
    const resumed = await fromResumeToken(token, resolveOptions({ keyring }));
    adoptKnownParts(resumed, [], live);
    expect(await failureCode(encryptPart(resumed, 3, filler(PART), undefined, undefined))).toBe(
      S3ErrorCode.INVALID_UPLOAD,
    );
  });

  test('S3 already holding two ends makes the resume fail', async () => {
    const state = await newState();
    expect(() => adoptKnownParts(state, [...listedFinal, { PartNumber: 3, Size: ciphertextSize(5, C) }])).toThrow(
      expect.objectContaining({ code: S3ErrorCode.INVALID_UPLOAD }),
    );
  });
});

describe('uploads with a recorded plaintext size', () => {
  const sized = (size: number) => newState({}, PART, size);

  test('the size fixes the last part and every part length', async () => {
    const state = await sized(2 * PART + 5);
    await expect(encryptPart(state, 3, filler(5), undefined, undefined)).resolves.toMatchObject({ ContentLength: 45 });
    expect(await rejection(encryptPart(state, 3, filler(6), undefined, undefined))).toBeInstanceOf(RangeError);
    expect(await rejection(encryptPart(state, 4, filler(1), undefined, undefined))).toBeInstanceOf(RangeError);
    expect(await rejection(encryptPart(state, 2, filler(PART), undefined, true))).toBeInstanceOf(RangeError);
    expect(await rejection(encryptPart(state, 2, filler(5), undefined, undefined))).toBeInstanceOf(RangeError);
  });

  test('a size that is a multiple of the part size ends with a full last part; 0 bytes is one empty part', async () => {
    const state = await sized(2 * PART);
    const last = await encryptPart(state, 2, filler(PART), undefined, undefined);
    expect(last.ContentLength).toBe(ciphertextSize(PART, C)); // the empty final chunk included
    const empty = await sized(0);
    expect((await encryptPart(empty, 1, new Uint8Array(0), undefined, undefined)).ContentLength).toBe(40);
  });
});

const flipFirst = (text: string) => {
  const bytes = Buffer.from(text, 'base64url');
  bytes[0] = (bytes[0] as number) ^ 1;
  return bytes.toString('base64url');
};

describe('parts encrypted out of order form one stream', () => {
  let reader: StreamCipher;
  let plaintext: Uint8Array<ArrayBuffer>;
  let p1: Uint8Array;
  let p2: Uint8Array;
  let p3: Uint8Array;

  beforeAll(async () => {
    const state = await newState();
    plaintext = filler(2 * PART + 3000, 11);
    // last part first, as a Blob; then part 1 as bytes; then part 2 as a stream
    p3 = await body(await encryptPart(state, 3, new Blob([plaintext.subarray(2 * PART)]), undefined, true));
    p1 = await body(await encryptPart(state, 1, plaintext.subarray(0, PART), undefined, undefined));
    p2 = await body(await encryptPart(state, 2, Readable.from([plaintext.subarray(PART, 2 * PART)]), PART, undefined));
    reader = await openStreamCipher(fromDetachedHeader(toDetachedHeader(state.cipher.header)), { keyring });
  });

  test('their concatenation decrypts to the plaintext', async () => {
    expect(Buffer.from(await decrypt(reader, concat(p1, p2, p3)))).toEqual(Buffer.from(plaintext));
  });

  test('a re-encrypted part (retry) differs but fits the stream as well', async () => {
    const state = await newState();
    const again = await openStreamCipher(state.cipher.header, { keyring });
    const same = { ...state, cipher: again };
    const a = await body(await encryptPart(state, 1, plaintext.subarray(0, PART), undefined, undefined));
    const b = await body(await encryptPart(same, 1, plaintext.subarray(0, PART), undefined, undefined));
    expect(Buffer.from(a)).not.toEqual(Buffer.from(b)); // fresh nonces
    const r = await openStreamCipher(state.cipher.header, { keyring });
    expect(await decrypt(r, a, 0, false)).toEqual(await decrypt(r, b, 0, false));
  });

  test.each<[string, () => Uint8Array, string]>([
    ['part 2 dropped', () => concat(p1, p3), ErrorCode.AUTH_FAILED],
    ['part 1 dropped', () => concat(p2, p3), ErrorCode.AUTH_FAILED],
    ['parts 1 and 2 swapped', () => concat(p2, p1, p3), ErrorCode.AUTH_FAILED],
    ['part 1 twice', () => concat(p1, p1, p3), ErrorCode.AUTH_FAILED],
    ['the final part dropped', () => concat(p1, p2), ErrorCode.TRUNCATED],
    ['only part 1', () => p1, ErrorCode.TRUNCATED],
    ['the final part moved first', () => concat(p3, p1, p2), ErrorCode.AUTH_FAILED],
  ])('%s fails', async (_, assemble, code) => {
    expect(await failureCode(decrypt(reader, assemble()))).toBe(code);
  });
});
