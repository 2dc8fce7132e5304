/**
 * The conventions under which lib-storage's `Upload` works through the plugin
 * (uploads created without a part size): part 1 sets the part size, parts
 * that come before it wait for it, Complete ends the stream. The whole path
 * against a real server is integration/test/lib-storage.test.ts.
 */
import { ErrorCode } from '@encrypted-stream/codec';
import { decryptBody } from '@encrypted-stream/codec/low-level';
import { EncryptedS3Error, S3ErrorCode } from '../../src/errors';
import { resolveOptions } from '../../src/options';
import { missingEnd } from '../../src/stream-end';
import { UploadRegistry } from '../../src/upload-registry';
import {
  encryptPart,
  MIN_PART_SIZE,
  newUploadCipher,
  partSizeFromPartOne,
  type UploadState,
} from '../../src/upload-state';
import { bytesOf, C, failureCode, filler, rejection, STRIDE, testKeyring } from '../helpers/common';

const keyring = testKeyring();
const MiB = 1024 * 1024;

async function cipher(chunkSize = C) {
  return newUploadCipher(resolveOptions({ keyring, chunkSize }), 'bucket', 'key');
}

async function state(partSize: number, completeEnds: boolean): Promise<UploadState> {
  return { bucket: 'bucket', key: 'key', uploadId: 'u', partSize, cipher: await cipher(), completeEnds };
}

describe('partSizeFromPartOne', () => {
  test.each<[string, number, number, boolean | undefined, number | undefined]>([
    ["lib-storage's default part", 5 * MiB, C, undefined, 5 * MiB],
    ['a bigger part, a multiple of the chunk size', 8 * MiB + C, C, undefined, 8 * MiB + C],
    ['under 5 MiB, unmarked: the only part', 5 * MiB - C, C, undefined, undefined],
    ['a small single byte', 1, C, undefined, undefined],
    ['empty: the only part', 0, C, undefined, undefined],
    ['marked last, however long: the only part', 64 * MiB + 3, C, true, undefined],
    ['marked not last, small: sets it all the same', 2 * C, C, false, 2 * C],
  ])('%s', (_, length, chunkSize, isLastPart, expected) => {
    expect(partSizeFromPartOne(length, chunkSize, isLastPart)).toBe(expected);
  });

  test.each<[string, number, number, boolean | undefined]>([
    ['5 MiB + 1 (lib-storage accepts it)', 5 * MiB + 1, C, undefined],
    [
      "lib-storage's default for a 60 GiB body: ceil(size / 10,000)",
      Math.ceil((60 * 1024 * MiB) / 10_000),
      C,
      undefined,
    ],
    ['5 MiB with 16 MiB chunks', 5 * MiB, 16 * MiB, undefined],
    ['marked not last, empty', 0, C, false],
  ])(
    'a part 1 that cannot set the part size is a RangeError that says what to set: %s',
    (_, length, chunkSize, last) => {
      let error: unknown;
      try {
        partSizeFromPartOne(length, chunkSize, last);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(RangeError);
      const message = (error as Error).message;
      expect(message).toContain(`multiple of ${chunkSize}`);
      expect(message).toContain('partSize');
      expect(message).toContain(`such as ${Math.max(1, Math.ceil(length / chunkSize)) * chunkSize}`);
    },
  );
});

describe('encryptPart under lib-storage conventions (completeEnds)', () => {
  test('part 10,000 is always final: no part can follow it', async () => {
    const conventions = await state(2 * C, true);
    const part = await encryptPart(conventions, 10_000, filler(2 * C), undefined, undefined);
    expect(part.ContentLength).toBe(2 * STRIDE + 40); // ends with an empty final chunk
    const strict = await state(2 * C, false);
    expect((await encryptPart(strict, 10_000, filler(2 * C), undefined, undefined)).ContentLength).toBe(2 * STRIDE);
  });

  test('a part 1 of 5 MiB or more, shorter than a fixed part size and unmarked, is a RangeError (not taken as the end)', async () => {
    const conventions = await state(8 * MiB, true);
    const error = await rejection(encryptPart(conventions, 1, new Uint8Array(5 * MiB), undefined, undefined));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain('partSize 8388608');
    expect(conventions.finalPart).toBeUndefined();
    // Marked, it is a single part; under 5 MiB it can only be one.
    await expect(encryptPart(conventions, 1, new Uint8Array(5 * MiB), undefined, true)).resolves.toBeDefined();
    const small = await state(8 * MiB, true);
    const part = await encryptPart(small, 1, new Uint8Array(MIN_PART_SIZE - 1), undefined, undefined);
    expect(small.finalPart).toEqual({ number: 1, length: MIN_PART_SIZE - 1 });
    expect(part.ContentLength % STRIDE).not.toBe(0);
  });

  test('without the conventions a short part 1 is still taken as the end (the low-level protocol)', async () => {
    const strict = await state(8 * MiB, false);
    await encryptPart(strict, 1, new Uint8Array(5 * MiB), undefined, undefined);
    expect(strict.finalPart).toEqual({ number: 1, length: 5 * MiB });
  });
});

describe('missingEnd: the part that must carry the final chunk', () => {
  const full = 2 * STRIDE; // ciphertext of a full part at partSize 2·C
  const parts = (n: number) => Array.from({ length: n }, (_, i) => ({ PartNumber: i + 1 }));
  const listed = (n: number, last = full) =>
    Array.from({ length: n }, (_, i) => ({ PartNumber: i + 1, Size: i + 1 === n ? last : full }));

  test('the last named part is full and nothing follows it: one more part', async () => {
    expect(missingEnd(await state(2 * C, true), parts(3), listed(3))).toBe(4);
    expect(missingEnd(await state(2 * C, true), parts(1), listed(1))).toBe(2);
  });

  test.each<[string, boolean, number, { PartNumber: number; Size: number }[]]>([
    ['the low-level protocol (the caller marks the end)', false, 3, listed(3)],
    ['the last part ends the stream already', true, 3, listed(3, STRIDE + 100 + 40)],
    ['a part after the last named one was uploaded', true, 2, listed(3)],
    ['the last named part was never uploaded', true, 4, listed(3)],
    ['no parts', true, 0, []],
  ])('nothing to add: %s', async (_, completeEnds, named, list) => {
    expect(missingEnd(await state(2 * C, completeEnds), parts(named), list)).toBeUndefined();
  });

  test('not past part 10,000 (which is always final under the conventions)', async () => {
    expect(missingEnd(await state(2 * C, true), [{ PartNumber: 10_000 }], listed(10_000))).toBeUndefined();
  });

  test('a final part already recorded: none, unless it is the empty end added before (a retried Complete)', async () => {
    const marked = await state(2 * C, true);
    marked.finalPart = { number: 3, length: 100 };
    expect(missingEnd(marked, parts(3), listed(3, STRIDE + 140))).toBeUndefined();
    const added = await state(2 * C, true);
    added.finalPart = { number: 4, length: 0 };
    expect(missingEnd(added, parts(3), [...listed(3), { PartNumber: 4, Size: 40 }])).toBe(4);
  });

  test('the added end completes the stream: full parts then an empty final part decrypt as one', async () => {
    const s = await state(2 * C, true);
    const plaintext = filler(6 * C, 9);
    const pieces: Uint8Array[] = [];
    for (let n = 1; n <= 3; n++) {
      const part = await encryptPart(s, n, plaintext.subarray((n - 1) * 2 * C, n * 2 * C), undefined, undefined);
      pieces.push(await bytesOf(part.Body as Uint8Array));
    }
    expect(s.finalPart).toBeUndefined();
    const end = await encryptPart(s, missingEnd(s, parts(3), listed(3)) as number, new Uint8Array(0), 0, true);
    const whole = Buffer.concat([...pieces, await bytesOf(end.Body as Uint8Array)]);
    expect(Buffer.from(await bytesOf(decryptBody(s.cipher, whole)))).toEqual(Buffer.from(plaintext));
    // Without it, the stream has no end: a reader refuses it.
    expect(await failureCode(bytesOf(decryptBody(s.cipher, Buffer.concat(pieces))))).toBe(ErrorCode.TRUNCATED);
  });
});

describe('UploadRegistry: an upload created without a part size', () => {
  async function pending(registry: UploadRegistry, uploadId = 'u', fallbackPartSize = 8 * MiB) {
    registry.addPending({ bucket: 'b', key: 'k', uploadId, cipher: await cipher(), fallbackPartSize });
  }

  test('part 1 sets the part size; parts that came first wait for it', async () => {
    const registry = new UploadRegistry();
    await pending(registry);
    const part3 = registry.forPart('u', 'b', 'k', { partNumber: 3, length: 100 });
    const part2 = registry.forPart('u', 'b', 'k', { partNumber: 2, length: 5 * MiB });
    const part1 = await registry.forPart('u', 'b', 'k', { partNumber: 1, length: 5 * MiB });
    expect(part1.partSize).toBe(5 * MiB);
    expect(part1.completeEnds).toBe(true);
    let released = false;
    void part2.then(() => {
      released = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(released).toBe(false); // until part 1 is accepted (its encryption checked its place)
    registry.partOneAccepted('u');
    expect(await part2).toBe(part1);
    expect(await part3).toBe(part1);
    expect(registry.get('u', 'b', 'k')).toBe(part1);
  });

  test('a part 1 that cannot set it fails, and so do the parts waiting for it; nothing is decided', async () => {
    const registry = new UploadRegistry();
    await pending(registry);
    const part2 = registry.forPart('u', 'b', 'k', { partNumber: 2, length: 5 * MiB + 1 });
    const error = await rejection(registry.forPart('u', 'b', 'k', { partNumber: 1, length: 5 * MiB + 1 }));
    expect(error).toBeInstanceOf(RangeError);
    expect(await rejection(part2)).toBe(error);
    // Parts that come after the refusal fail at once (lib-storage waits for every part before it aborts).
    expect(await rejection(registry.forPart('u', 'b', 'k', { partNumber: 3, length: 5 * MiB + 1 }))).toBe(error);
    // Still pending: a corrected part 1 sets the part size.
    expect((await registry.forPart('u', 'b', 'k', { partNumber: 1, length: 6 * MiB })).partSize).toBe(6 * MiB);
  });

  test('a part 1 that is the only part (marked, or under 5 MiB) gets the fallback part size and ends the stream', async () => {
    const registry = new UploadRegistry();
    await pending(registry, 'u', 2 * C);
    const s = await registry.forPart('u', 'b', 'k', { partNumber: 1, length: 100 });
    expect(s.partSize).toBe(2 * C);
    await encryptPart(s, 1, new Uint8Array(100), undefined, undefined);
    registry.partOneAccepted('u');
    expect(s.finalPart).toEqual({ number: 1, length: 100 });
    const late = await registry.forPart('u', 'b', 'k', { partNumber: 2, length: 100 });
    const error = await rejection(encryptPart(late, 2, new Uint8Array(100), undefined, undefined));
    expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_UPLOAD);
  });

  test("with the plugin's partSize option: a shorter unmarked part waits for part 1, a whole one does not", async () => {
    const registry = new UploadRegistry();
    const fixed = await state(8 * MiB, true);
    registry.add(fixed);
    expect(await registry.forPart('u', 'bucket', 'key', { partNumber: 3, length: 8 * MiB })).toBe(fixed);
    expect(await registry.forPart('u', 'bucket', 'key', { partNumber: 4, length: 5, isLastPart: true })).toBe(fixed);
    const short = registry.forPart('u', 'bucket', 'key', { partNumber: 2, length: 5 * MiB });
    expect(await registry.forPart('u', 'bucket', 'key', { partNumber: 1, length: 8 * MiB })).toBe(fixed);
    registry.partOneAccepted('u');
    expect(await short).toBe(fixed);
  });

  test("with the plugin's partSize option: part 1 refused (lib-storage's 5 MiB against 8 MiB), shorter parts fail with its error at once", async () => {
    const registry = new UploadRegistry();
    registry.add(await state(8 * MiB, true));
    const early = registry.forPart('u', 'bucket', 'key', { partNumber: 2, length: 5 * MiB });
    const refusal = new RangeError('part 1 holds 5242880 bytes');
    registry.partOneRefused('u', refusal);
    expect(await rejection(early)).toBe(refusal);
    expect(await rejection(registry.forPart('u', 'bucket', 'key', { partNumber: 3, length: 5 * MiB }))).toBe(refusal);
    // A corrected part 1 lets them through again.
    registry.partOneAccepted('u');
    await expect(registry.forPart('u', 'bucket', 'key', { partNumber: 3, length: 5 * MiB })).resolves.toBeDefined();
  });

  test('a part waits for part 1 only so long, then ES_INVALID_UPLOAD says what to do', async () => {
    const registry = new UploadRegistry({ partOneWaitMs: 30 });
    await pending(registry);
    const error = await rejection(registry.forPart('u', 'b', 'k', { partNumber: 2, length: 5 * MiB }));
    expect(error).toBeInstanceOf(EncryptedS3Error);
    expect((error as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_UPLOAD);
    expect((error as Error).message).toMatch(/send part 1 first.*withEncryption\(input, \{ partSize \}\)/);
  });

  test('aborting the upload fails the parts waiting for its part 1', async () => {
    const registry = new UploadRegistry();
    await pending(registry);
    const part2 = registry.forPart('u', 'b', 'k', { partNumber: 2, length: 5 * MiB });
    registry.delete('u');
    expect(((await rejection(part2)) as EncryptedS3Error).code).toBe(S3ErrorCode.INVALID_UPLOAD);
    expect(((await rejection(async () => registry.get('u', 'b', 'k'))) as EncryptedS3Error).code).toBe(
      S3ErrorCode.UNKNOWN_UPLOAD,
    );
  });

  test('before part 1 the upload can be neither completed nor handed over (get); other keys are unknown', async () => {
    const registry = new UploadRegistry();
    await pending(registry);
    const early = (await rejection(async () => registry.get('u', 'b', 'k'))) as EncryptedS3Error;
    expect(early.code).toBe(S3ErrorCode.INVALID_UPLOAD);
    expect(early.message).toContain('no part 1 yet');
    const other = await rejection(registry.forPart('u', 'b', 'other', { partNumber: 1, length: 5 * MiB }));
    expect((other as EncryptedS3Error).code).toBe(S3ErrorCode.UNKNOWN_UPLOAD);
    expect(registry.find('u')).toBeUndefined();
  });
});
