/**
 * An adversary with write access to the bucket edits the stored ciphertext of an
 * object (plain S3 client, real server); the victim reads through the plugin.
 * Every edit of the body is detected, with the code FORMAT.md predicts, and no
 * byte of a chunk that did not authenticate is released:
 *
 * - a flipped byte anywhere (nonce, ciphertext, tag of any chunk) → ES_AUTH_FAILED
 *   after the chunks before it;
 * - truncation at a chunk boundary or inside a chunk's 40 bytes of overhead →
 *   ES_TRUNCATED; elsewhere → ES_SIZE_MISMATCH (size recorded in the header) or
 *   ES_AUTH_FAILED (size not recorded: multipart uploads);
 * - appended bytes, reordered / duplicated / dropped / foreign chunks → likewise;
 * - ranged reads: a range of untouched chunks reads; a range touching the
 *   tampered chunk fails (size checks apply to every read of a recorded-size object).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { EncryptedMultipartUpload } from '@encrypted-stream/s3';
import {
  C,
  expectDetected,
  expectIntact,
  expectUndetectable,
  flip,
  getRaw,
  plaintextFor,
  type RawObject,
  STRIDE,
  tamperer,
  useVictim,
  victimRead,
} from './support';

const { bucket, keyring, victim } = useVictim('adv-body', 'adv-0', 'adv-1');

const SIZE = 3 * C + 1000; // chunks 0, 1, 2 full; chunk 3 final (1000 bytes)
const FINAL_LENGTH = 1000 + 40;
const plaintext = plaintextFor('body', SIZE);
const other = plaintextFor('body-other', SIZE);
let original: RawObject;
let otherRaw: RawObject;

beforeAll(async () => {
  await victim.send(
    new PutObjectCommand({ Bucket: bucket.name, Key: 'victim', Body: plaintext, Metadata: { owner: 'victim' } }),
  );
  await victim.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'other', Body: other }));
  original = await getRaw(bucket.client, bucket.name, 'victim');
  otherRaw = await getRaw(bucket.client, bucket.name, 'other');
  expect(original.body.length).toBe(3 * STRIDE + FINAL_LENGTH);
});

const tampered = tamperer(bucket);

const read = (key: string, range?: string) => victimRead(victim, bucket.name, key, range);

describe('flipped bytes (size recorded)', () => {
  const places: [string, number, number][] = [];
  for (let k = 0; k < 4; k++) {
    const length = k < 3 ? STRIDE : FINAL_LENGTH;
    places.push(
      [`chunk ${k} nonce`, k, k * STRIDE + 5],
      [`chunk ${k} ciphertext`, k, k * STRIDE + 24 + 500],
      [`chunk ${k} tag`, k, k * STRIDE + length - 3],
    );
  }
  test.each(places)('a byte flipped in the %s → ES_AUTH_FAILED after the chunks before it', async (what, k, at) => {
    const key = await tampered(original, (raw) => flip(raw.body, at));
    expectDetected(`body: byte flipped in ${what}`, await read(key), 'ES_AUTH_FAILED', { plaintext, atMost: k * C });
  });
});

describe('ranged reads of an object whose chunk 2 was tampered with', () => {
  let key: string;
  beforeAll(async () => {
    key = await tampered(original, (raw) => flip(raw.body, 2 * STRIDE + 24 + 100, 0x80));
  });

  test.each([
    ['bytes=0-99', 0, 100],
    [`bytes=${C}-${2 * C - 1}`, C, C],
    [`bytes=${3 * C}-`, 3 * C, 1000],
    ['bytes=-500', SIZE - 500, 500],
    [`bytes=${2 * C - 10}-${2 * C - 1}`, 2 * C - 10, 10],
  ])('a range of untampered chunks (%s) reads', async (range, from, length) => {
    expectIntact(await read(key, range), plaintext.subarray(from, from + length));
  });

  test.each([
    ['inside the chunk', `bytes=${2 * C + 5}-${2 * C + 5}`, 2 * C + 5, 0],
    ['from the chunk to the end', `bytes=${2 * C}-`, 2 * C, 0],
    ['from chunk 1 into the chunk', `bytes=${C + 100}-${2 * C + 100}`, C + 100, C - 100],
    ['the whole object', undefined, 0, 2 * C],
    ['a suffix from chunk 1 into the chunk', `bytes=-${C + 1001}`, SIZE - C - 1001, 1],
  ])('a range touching the chunk (%s) fails after the chunks before it', async (what, range, from, atMost) => {
    expectDetected(`ranged read touching a tampered chunk (${what})`, await read(key, range), 'ES_AUTH_FAILED', {
      plaintext,
      from,
      atMost,
    });
  });
});

describe('truncation (size recorded: every read, ranged or not, checks the stored size)', () => {
  test.each([
    ['to nothing', 0, 'ES_TRUNCATED'],
    ['at the boundary after chunk 0', STRIDE, 'ES_TRUNCATED'],
    ['at the boundary after chunk 2 (final chunk dropped)', 3 * STRIDE, 'ES_TRUNCATED'],
    ['inside the overhead of chunk 1 (20 bytes in)', STRIDE + 20, 'ES_TRUNCATED'],
    ['inside chunk 1 (1000 bytes in)', STRIDE + 1000, 'ES_SIZE_MISMATCH'],
    ['inside the final chunk (1 byte short)', 3 * STRIDE + FINAL_LENGTH - 1, 'ES_SIZE_MISMATCH'],
    ['inside the final chunk (to its nonce)', 3 * STRIDE + 24, 'ES_TRUNCATED'],
  ])('cut %s → %s', async (what, at, code) => {
    const key = await tampered(original, (raw) => {
      raw.body = raw.body.subarray(0, at);
    });
    expectDetected(`body: truncated ${what}`, await read(key), code, { plaintext, atMost: 0 });
    // A range of bytes the cut did not touch fails too: the size is checked first.
    expectDetected(`body: truncated ${what}, ranged read of chunk 0`, await read(key, 'bytes=0-99'), code, {
      plaintext,
      atMost: 0,
    });
  });
});

describe('appended bytes (size recorded)', () => {
  test.each([
    ['1 byte', Buffer.of(0), 'ES_SIZE_MISMATCH'],
    ['40 bytes', Buffer.alloc(40, 7), 'ES_SIZE_MISMATCH'],
    ['bytes that fill the final chunk to a full one', Buffer.alloc(STRIDE - FINAL_LENGTH, 1), 'ES_TRUNCATED'],
  ])('%s → %s', async (what, extra, code) => {
    const key = await tampered(original, (raw) => {
      raw.body = Buffer.concat([raw.body, extra]);
    });
    expectDetected(`body: ${what} appended`, await read(key), code, { plaintext, atMost: 0 });
  });

  test("another object's final chunk appended → ES_SIZE_MISMATCH", async () => {
    const key = await tampered(original, (raw) => {
      raw.body = Buffer.concat([raw.body, otherRaw.body.subarray(3 * STRIDE)]);
    });
    expectDetected("body: another object's final chunk appended", await read(key), 'ES_SIZE_MISMATCH', {
      plaintext,
      atMost: 0,
    });
  });
});

describe('reordered, duplicated, dropped and foreign chunks', () => {
  const chunk = (raw: RawObject, k: number) =>
    raw.body.subarray(k * STRIDE, k < 3 ? (k + 1) * STRIDE : raw.body.length);

  test('chunks 0 and 1 swapped → ES_AUTH_FAILED at chunk 0', async () => {
    const key = await tampered(original, (raw) => {
      raw.body = Buffer.concat([chunk(original, 1), chunk(original, 0), chunk(original, 2), chunk(original, 3)]);
    });
    expectDetected('body: chunks 0 and 1 swapped', await read(key), 'ES_AUTH_FAILED', { plaintext, atMost: 0 });
  });

  test('chunk 1 copied over chunk 2 → ES_AUTH_FAILED at chunk 2', async () => {
    const key = await tampered(original, (raw) => {
      raw.body = Buffer.concat([chunk(original, 0), chunk(original, 1), chunk(original, 1), chunk(original, 3)]);
    });
    expectDetected('body: chunk 1 duplicated over chunk 2', await read(key), 'ES_AUTH_FAILED', {
      plaintext,
      atMost: 2 * C,
    });
  });

  test('chunk 1 dropped → ES_SIZE_MISMATCH', async () => {
    const key = await tampered(original, (raw) => {
      raw.body = Buffer.concat([chunk(original, 0), chunk(original, 2), chunk(original, 3)]);
    });
    expectDetected('body: chunk 1 dropped', await read(key), 'ES_SIZE_MISMATCH', { plaintext, atMost: 0 });
  });

  test('chunk 1 of another object (same keyring, same size) spliced in → ES_AUTH_FAILED at chunk 1', async () => {
    const key = await tampered(original, (raw) => {
      raw.body = Buffer.concat([chunk(original, 0), chunk(otherRaw, 1), chunk(original, 2), chunk(original, 3)]);
    });
    expectDetected('body: chunk spliced from another object', await read(key), 'ES_AUTH_FAILED', {
      plaintext,
      atMost: C,
    });
  });

  test("the final chunk replaced by another object's → ES_AUTH_FAILED at the final chunk", async () => {
    const key = await tampered(original, (raw) => {
      raw.body = Buffer.concat([original.body.subarray(0, 3 * STRIDE), chunk(otherRaw, 3)]);
    });
    expectDetected("body: final chunk replaced by another object's", await read(key), 'ES_AUTH_FAILED', {
      plaintext,
      atMost: 3 * C,
    });
  });
});

describe('multipart object (plaintext size not recorded in the header)', () => {
  const PART = 5 * 2 ** 20; // Ceph RGW's (and S3's) minimum part size
  const MP_SIZE = PART + 1000; // chunks 0 … 79 full, chunk 80 final (1000 bytes)
  const LAST = PART / C;
  const mpPlaintext = plaintextFor('multipart', MP_SIZE);
  let mp: RawObject;

  beforeAll(async () => {
    const upload = await EncryptedMultipartUpload.create(
      bucket.client,
      { Bucket: bucket.name, Key: 'multipart' },
      { keyring, partSize: PART },
    );
    await upload.uploadPart(1, mpPlaintext.subarray(0, PART));
    await upload.uploadPart(2, mpPlaintext.subarray(PART), { isLastPart: true });
    await upload.complete();
    mp = await getRaw(bucket.client, bucket.name, 'multipart');
    expect(mp.body.length).toBe(LAST * STRIDE + FINAL_LENGTH);
    expectIntact(await read('multipart'), mpPlaintext);
  });

  test('final chunk dropped (cut at a chunk boundary) → ES_TRUNCATED from the size alone', async () => {
    const key = await tampered(mp, (raw) => {
      raw.body = raw.body.subarray(0, LAST * STRIDE);
    });
    expectDetected('multipart: final chunk dropped', await read(key), 'ES_TRUNCATED', {
      plaintext: mpPlaintext,
      atMost: 0,
    });
  });

  test('final chunk cut short → ES_AUTH_FAILED at the final chunk, after the authentic chunks before it', async () => {
    const key = await tampered(mp, (raw) => {
      raw.body = raw.body.subarray(0, LAST * STRIDE + 540);
    });
    expectDetected('multipart: final chunk cut short', await read(key), 'ES_AUTH_FAILED', {
      plaintext: mpPlaintext,
      atMost: LAST * C,
    });
  });

  test('cut inside chunk 79 (its rest would pass for a final chunk) → ES_AUTH_FAILED at chunk 79', async () => {
    const key = await tampered(mp, (raw) => {
      raw.body = raw.body.subarray(0, (LAST - 1) * STRIDE + 5000);
    });
    expectDetected('multipart: cut inside a full chunk', await read(key), 'ES_AUTH_FAILED', {
      plaintext: mpPlaintext,
      atMost: (LAST - 1) * C,
    });
  });

  test('1 byte appended → ES_AUTH_FAILED at the final chunk', async () => {
    const key = await tampered(mp, (raw) => {
      raw.body = Buffer.concat([raw.body, Buffer.of(0)]);
    });
    expectDetected('multipart: 1 byte appended', await read(key), 'ES_AUTH_FAILED', {
      plaintext: mpPlaintext,
      atMost: LAST * C,
    });
  });

  test('a byte flipped in chunk 40 → ES_AUTH_FAILED at chunk 40', async () => {
    const key = await tampered(mp, (raw) => flip(raw.body, 40 * STRIDE + 777));
    expectDetected('multipart: byte flipped in chunk 40', await read(key), 'ES_AUTH_FAILED', {
      plaintext: mpPlaintext,
      atMost: 40 * C,
    });
  });

  test('final chunk cut short: a range that does not reach it still reads (ranges authenticate only their chunks)', async () => {
    const key = await tampered(mp, (raw) => {
      raw.body = raw.body.subarray(0, LAST * STRIDE + 540);
    });
    expectUndetectable(
      'multipart (size not recorded): final chunk cut short, ranged read of chunk 0',
      await read(key, 'bytes=0-999'),
      mpPlaintext.subarray(0, 1000),
    );
    expectDetected(
      'multipart: final chunk cut short, ranged read of the end',
      await read(key, 'bytes=-10'),
      'ES_AUTH_FAILED',
      {
        plaintext: mpPlaintext,
        from: LAST * C + 490,
        atMost: 0,
      },
    );
  });
});
