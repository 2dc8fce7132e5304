/**
 * An adversary with write access moves whole objects, or parts of them, between
 * keys: swaps bodies and/or metadata of two objects written with the same
 * keyring, copies an object to another key or bucket, replaces an object's
 * metadata with another object's, and rolls an object back to an older version
 * of itself. The victim reads through the plugin, with the default context
 * ('none') and with `context: 'location'`.
 *
 * Detected: any mix of one object's body with another's metadata (the chunks
 * authenticate under the header's data key only), and — with 'location' — any
 * object read at a key it was not written for (ES_CONTEXT_MISMATCH).
 * Undetectable by design (SECURITY.md): a whole object moved or copied to
 * another key when the context is 'none', and a rollback of a whole object to an
 * older version of itself (a valid object, written for that very key).
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { useBucket, useEncryptedClient } from '../helpers';
import {
  C,
  copyRaw,
  ES_H,
  ES_K,
  ES_W,
  expectDetected,
  expectUndetectable,
  getRaw,
  plaintextFor,
  putRaw,
  type RawObject,
  STRIDE,
  victimKeyring,
  victimRead,
} from './support';

const bucket = useBucket('adv-objects');
const elsewhere = useBucket('adv-objects-2');
const keyring = victimKeyring('adv-1');
type Mode = 'none' | 'location';
const clients: Record<Mode, S3Client> = {
  none: useEncryptedClient({ keyring, context: 'none' }).client,
  location: useEncryptedClient({ keyring, context: 'location' }).client,
};

const SIZE = 2 * C + 300;
const A = plaintextFor('object-a', SIZE);
const B = plaintextFor('object-b', SIZE);
const SHORT = plaintextFor('object-short', 1000);
/** Stored objects per mode: a (for copies) and short (another size, for its metadata). */
const raw = {} as Record<Mode, { short: RawObject }>;

const keyOf = (mode: Mode, name: string) => `${mode}/${name}`;

beforeAll(async () => {
  for (const mode of ['none', 'location'] as const) {
    for (const [name, body] of [
      ['a', A],
      ['b', B],
      ['short', SHORT],
    ] as const) {
      await clients[mode].send(new PutObjectCommand({ Bucket: bucket.name, Key: keyOf(mode, name), Body: body }));
    }
    raw[mode] = { short: await getRaw(bucket.client, bucket.name, keyOf(mode, 'short')) };
  }
});

let counter = 0;
/**
 * The victim writes A and B at two fresh keys (so that with 'location' each header
 * is bound to its own key); returns the keys and what the adversary reads back.
 */
async function victimPair(mode: Mode, label: string): Promise<[string, string, RawObject, RawObject]> {
  const atA = keyOf(mode, `${label}-a`);
  const atB = keyOf(mode, `${label}-b`);
  await clients[mode].send(new PutObjectCommand({ Bucket: bucket.name, Key: atA, Body: A }));
  await clients[mode].send(new PutObjectCommand({ Bucket: bucket.name, Key: atB, Body: B }));
  return [atA, atB, await getRaw(bucket.client, bucket.name, atA), await getRaw(bucket.client, bucket.name, atB)];
}
const read = (mode: Mode, key: string, Bucket = bucket.name) => victimRead(clients[mode], Bucket, key);
const modeLabel = (mode: Mode) => `context '${mode}'`;

describe.each(['none', 'location'] as const)('%s', (mode) => {
  test('bodies of two objects swapped (each keeps its metadata) → ES_AUTH_FAILED at chunk 0', async () => {
    const [atA, atB, ra, rb] = await victimPair(mode, 'swap-body');
    await putRaw(bucket.client, bucket.name, atA, { body: rb.body, metadata: ra.metadata });
    await putRaw(bucket.client, bucket.name, atB, { body: ra.body, metadata: rb.metadata });
    expectDetected(`swap: bodies of two objects swapped, ${modeLabel(mode)}`, await read(mode, atA), 'ES_AUTH_FAILED', {
      plaintext: A,
      atMost: 0,
    });
    expectDetected(`swap: bodies swapped (other side), ${modeLabel(mode)}`, await read(mode, atB), 'ES_AUTH_FAILED', {
      plaintext: B,
      atMost: 0,
    });
  });

  test("metadata of two objects swapped (each keeps its body) → ES_AUTH_FAILED ('none') / ES_CONTEXT_MISMATCH ('location')", async () => {
    const [atA, atB, ra, rb] = await victimPair(mode, 'swap-meta');
    const code = mode === 'none' ? 'ES_AUTH_FAILED' : 'ES_CONTEXT_MISMATCH';
    await putRaw(bucket.client, bucket.name, atA, { body: ra.body, metadata: rb.metadata });
    await putRaw(bucket.client, bucket.name, atB, { body: rb.body, metadata: ra.metadata });
    expectDetected(`swap: metadata of two objects swapped, ${modeLabel(mode)}`, await read(mode, atA), code, {
      plaintext: A,
      atMost: 0,
    });
    expectDetected(`swap: metadata swapped (other side), ${modeLabel(mode)}`, await read(mode, atB), code, {
      plaintext: B,
      atMost: 0,
    });
  });

  test("whole objects swapped (body and metadata) → the other object's content ('none') / ES_CONTEXT_MISMATCH ('location')", async () => {
    const [atA, atB, ra, rb] = await victimPair(mode, 'swap-whole');
    await putRaw(bucket.client, bucket.name, atA, rb);
    await putRaw(bucket.client, bucket.name, atB, ra);
    if (mode === 'none') {
      expectUndetectable(`swap: whole objects swapped, ${modeLabel(mode)}`, await read(mode, atA), B);
      expectUndetectable(`swap: whole objects swapped (other side), ${modeLabel(mode)}`, await read(mode, atB), A);
    } else {
      expectDetected(`swap: whole objects swapped, ${modeLabel(mode)}`, await read(mode, atA), 'ES_CONTEXT_MISMATCH');
      expectDetected(
        `swap: whole objects swapped (other side), ${modeLabel(mode)}`,
        await read(mode, atB),
        'ES_CONTEXT_MISMATCH',
      );
    }
  });

  test("object copied to another key → readable there ('none') / ES_CONTEXT_MISMATCH ('location')", async () => {
    const to = keyOf(mode, `copy-${++counter}`);
    await copyRaw(bucket.client, { Bucket: bucket.name, Key: keyOf(mode, 'a') }, { Bucket: bucket.name, Key: to });
    const name = `copy: object copied to another key, ${modeLabel(mode)}`;
    if (mode === 'none') expectUndetectable(name, await read(mode, to), A);
    else expectDetected(name, await read(mode, to), 'ES_CONTEXT_MISMATCH');
  });

  test("object copied to the same key in another bucket → readable there ('none') / ES_CONTEXT_MISMATCH ('location')", async () => {
    const key = keyOf(mode, 'a');
    await copyRaw(bucket.client, { Bucket: bucket.name, Key: key }, { Bucket: elsewhere.name, Key: key });
    const name = `copy: object copied to the same key in another bucket, ${modeLabel(mode)}`;
    if (mode === 'none') expectUndetectable(name, await read(mode, key, elsewhere.name), A);
    else expectDetected(name, await read(mode, key, elsewhere.name), 'ES_CONTEXT_MISMATCH');
  });

  test.each([
    { size: 'same size', code: 'ES_AUTH_FAILED', donor: (rb: RawObject) => rb, original: { plaintext: A, atMost: 0 } },
    { size: 'other size', code: 'ES_SIZE_MISMATCH', donor: () => raw[mode].short, original: undefined },
  ])(
    "all metadata replaced by another object's ($size) → $code / ES_CONTEXT_MISMATCH",
    async ({ size, code, donor, original }) => {
      const [atA, , ra, rb] = await victimPair(mode, `meta-${size.replace(' ', '-')}`);
      await putRaw(bucket.client, bucket.name, atA, { body: ra.body, metadata: { ...donor(rb).metadata } });
      expectDetected(
        `metadata: replaced by another object's (${size}), ${modeLabel(mode)}`,
        await read(mode, atA),
        mode === 'none' ? code : 'ES_CONTEXT_MISMATCH',
        original,
      );
    },
  );

  test('only es-h (the stream header) taken from another object → ES_KEY_UNWRAP_FAILED', async () => {
    const [atA, , ra, rb] = await victimPair(mode, 'meta-header');
    await putRaw(bucket.client, bucket.name, atA, {
      body: ra.body,
      metadata: { ...ra.metadata, [ES_H]: rb.metadata[ES_H] as string },
    });
    expectDetected(
      `metadata: es-h taken from another object, ${modeLabel(mode)}`,
      await read(mode, atA),
      'ES_KEY_UNWRAP_FAILED',
    );
  });

  test('only the key block (es-k, es-w) taken from another object → ES_KEY_UNWRAP_FAILED', async () => {
    const [atA, , ra, rb] = await victimPair(mode, 'meta-keyblock');
    await putRaw(bucket.client, bucket.name, atA, {
      body: ra.body,
      metadata: { ...ra.metadata, [ES_K]: rb.metadata[ES_K] as string, [ES_W]: rb.metadata[ES_W] as string },
    });
    expectDetected(
      `metadata: key block (es-k, es-w) taken from another object, ${modeLabel(mode)}`,
      await read(mode, atA),
      'ES_KEY_UNWRAP_FAILED',
    );
  });

  describe('rollback to an older version of the same object', () => {
    const V1 = plaintextFor(`v1-${mode}`, SIZE);
    const V2 = plaintextFor(`v2-${mode}`, SIZE);
    const V2_OTHER_SIZE = plaintextFor(`v2b-${mode}`, SIZE + 5000);
    let key: string;
    let v1: RawObject;
    let v2: RawObject;

    beforeAll(async () => {
      key = keyOf(mode, 'versioned');
      await clients[mode].send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: V1 }));
      v1 = await getRaw(bucket.client, bucket.name, key); // the adversary keeps v1's raw body and metadata
      await clients[mode].send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: V2 }));
      v2 = await getRaw(bucket.client, bucket.name, key);
    });

    test('the whole of v1 put back over v2 → reads v1 (undetectable by design)', async () => {
      await putRaw(bucket.client, bucket.name, key, v1);
      expectUndetectable(
        `rollback: whole object replaced by an older version of itself, ${modeLabel(mode)}`,
        await read(mode, key),
        V1,
      );
    });

    test.each([
      [
        "v1's body under v2's metadata",
        'old body under new metadata',
        () => ({ body: v1.body, metadata: v2.metadata }),
        V2,
      ],
      [
        "v2's body under v1's metadata",
        'new body under old metadata',
        () => ({ body: v2.body, metadata: v1.metadata }),
        V1,
      ],
    ])('%s → ES_AUTH_FAILED', async (_title, what, mixed, plaintext) => {
      await putRaw(bucket.client, bucket.name, key, mixed());
      expectDetected(`rollback: ${what}, ${modeLabel(mode)}`, await read(mode, key), 'ES_AUTH_FAILED', {
        plaintext,
        atMost: 0,
      });
    });

    test("v2 with chunk 1 rolled back to v1's → ES_AUTH_FAILED at chunk 1", async () => {
      const body = Buffer.concat([
        v2.body.subarray(0, STRIDE),
        v1.body.subarray(STRIDE, 2 * STRIDE),
        v2.body.subarray(2 * STRIDE),
      ]);
      await putRaw(bucket.client, bucket.name, key, { body, metadata: v2.metadata });
      expectDetected(`rollback: one chunk rolled back, ${modeLabel(mode)}`, await read(mode, key), 'ES_AUTH_FAILED', {
        plaintext: V2,
        atMost: C,
      });
    });

    test("v1's body under the metadata of a v2 of another size → ES_SIZE_MISMATCH", async () => {
      await clients[mode].send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: V2_OTHER_SIZE }));
      const v2b = await getRaw(bucket.client, bucket.name, key);
      await putRaw(bucket.client, bucket.name, key, { body: v1.body, metadata: v2b.metadata });
      expectDetected(
        `rollback: old body under new metadata of another size, ${modeLabel(mode)}`,
        await read(mode, key),
        'ES_SIZE_MISMATCH',
      );
    });
  });
});
