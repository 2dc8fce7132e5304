/**
 * An adversary with write access edits the encryption metadata of an object
 * (es-h: the 96-byte stream header; es-k: the key id; es-w: the wrapped data key),
 * removes it, or edits the metadata that is not ours. The victim reads through the plugin.
 *
 * Expected (FORMAT.md §2, §6, §9): a stream header byte that makes the header
 * invalid → ES_MALFORMED / ES_UNSUPPORTED_VERSION; any other header byte →
 * ES_KEY_UNWRAP_FAILED (the whole header is the key wrapping's associated data);
 * a key id the keyring lacks → ES_UNKNOWN_KEY, one it holds → ES_KEY_UNWRAP_FAILED;
 * any wrapped-key byte → ES_KEY_UNWRAP_FAILED; a value that is not canonical
 * base64url / out of range → ES_MALFORMED; part of ours removed → ES_MALFORMED;
 * all of it removed → ES_NOT_ENCRYPTED. Not protected (by design): the caller's
 * own metadata and Content-Type; the key block of an object rolled back to its
 * value before a key rotation; anything read with `passthrough: true` once our
 * metadata is gone.
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { rotateObjectKey } from '@encrypted-stream/s3';
import { expectStreamHeader } from '@encrypted-stream/test-base/fuzz';
import { encryptedClient, useEncryptedClient } from '../helpers';
import {
  ES_H,
  ES_K,
  ES_W,
  editStreamHeader,
  editWrappedKey,
  expectDetected,
  expectUndetectable,
  getRaw,
  MASTER_KEYS,
  plaintextFor,
  putRaw,
  type RawObject,
  tamperer,
  useVictim,
  victimRead,
} from './support';

/** The keyring wraps new objects under adv-1; also holds adv-0. */
const { bucket, keyring, victim } = useVictim('adv-metadata', 'adv-0', 'adv-1');
const passthrough = useEncryptedClient({ keyring, passthrough: true }).client;

const SIZE = 1000;
const plaintext = plaintextFor('metadata', SIZE);
let original: RawObject;

beforeAll(async () => {
  await victim.send(
    new PutObjectCommand({
      Bucket: bucket.name,
      Key: 'victim',
      Body: plaintext,
      Metadata: { owner: 'victim' },
      ContentType: 'text/plain',
    }),
  );
  original = await getRaw(bucket.client, bucket.name, 'victim');
  expect(original.metadata[ES_K]).toBe('adv-1');
});

const tamper = tamperer(bucket);
/** Stores an edited copy of `from` (by default the original) under a fresh key; returns the key. */
const tampered = (edit: (raw: RawObject) => void, from: RawObject = original) => tamper(from, edit);
const read = (key: string, client = victim) => victimRead(client, bucket.name, key);

describe('es-h: every byte of the stream header flipped', () => {
  const fields: [string, number, number][] = [
    ['magic', 0, 4],
    ['version', 4, 5],
    ['suite', 5, 6],
    ['chunk size exponent', 6, 7],
    ['flags', 7, 8],
    ['plaintext size', 8, 16],
    ['stream id', 16, 48],
    ['key commitment', 48, 80],
    ['context tag', 80, 96],
  ];
  test.each(fields)('%s (bytes %i…%i, each with masks 0x01 and 0x80)', async (field, from, to) => {
    // Group the flips of this field by the code FORMAT.md predicts for them.
    const groups = new Map<string, { at: number; mask: number }[]>();
    const header = Buffer.from(original.metadata[ES_H] as string, 'base64url');
    for (let at = from; at < to; at++) {
      for (const mask of [0x01, 0x80]) {
        const flipped = Buffer.from(header);
        flipped[at] = (flipped[at] as number) ^ mask;
        const expected = expectStreamHeader(flipped);
        // A valid header other than the one the key was wrapped with: the unwrap fails (§6).
        const codes = expected.ok ? ['ES_KEY_UNWRAP_FAILED'] : [...expected.codes];
        expect(codes).toHaveLength(1);
        const code = codes[0] as string;
        groups.set(code, [...(groups.get(code) ?? []), { at, mask }]);
      }
    }
    for (const [code, flips] of groups) {
      let last: Awaited<ReturnType<typeof read>> | undefined;
      for (const { at, mask } of flips) {
        const key = await tampered((raw) =>
          editStreamHeader(raw.metadata, (h) => {
            h[at] = (h[at] as number) ^ mask;
          }),
        );
        last = await read(key);
        if (last.ok || last.code !== code)
          throw new Error(
            `es-h byte ${at} ^ ${mask}: expected ${code}, got ${last.ok ? 'a successful read' : last.code}`,
          );
      }
      expectDetected(
        `metadata: es-h ${field} byte flipped (${flips.length} flips)`,
        last as NonNullable<typeof last>,
        code,
        {
          plaintext,
          atMost: 0,
        },
      );
    }
  });

  test.each([
    ['padded with "="', (h: string) => `${h}=`, 'ES_MALFORMED'],
    ['4 characters short (93 bytes)', (h: string) => h.slice(0, -4), 'ES_MALFORMED'],
    ['with a standard-base64 "+" in it', (h: string) => `+${h.slice(1)}`, 'ES_MALFORMED'],
    ['with a character outside base64', (h: string) => `${h.slice(0, 10)}*${h.slice(11)}`, 'ES_MALFORMED'],
    ['4 characters too long (99 bytes)', (h: string) => `${h}AAAA`, 'ES_MALFORMED'],
  ])('es-h %s → %s', async (what, edit, code) => {
    const key = await tampered((raw) => {
      raw.metadata[ES_H] = edit(raw.metadata[ES_H] as string);
    });
    expectDetected(`metadata: es-h ${what}`, await read(key), code, { plaintext, atMost: 0 });
  });
});

describe('es-k: the key id', () => {
  test.each([
    ['an id the keyring does not hold', 'adv-9', 'ES_UNKNOWN_KEY'],
    ['the id in another case', 'ADV-1', 'ES_UNKNOWN_KEY'],
    ['another id the keyring holds', 'adv-0', 'ES_KEY_UNWRAP_FAILED'],
    ['an id with a space', 'adv 1', 'ES_MALFORMED'],
    ['an id of 201 characters', 'x'.repeat(201), 'ES_MALFORMED'],
  ])('es-k replaced by %s → %s', async (what, value, code) => {
    const key = await tampered((raw) => {
      raw.metadata[ES_K] = value;
    });
    expectDetected(`metadata: es-k replaced by ${what}`, await read(key), code, { plaintext, atMost: 0 });
  });
});

describe('es-w: the wrapped data key', () => {
  test.each([
    ['wrap nonce', 0, 24],
    ['wrapped data key', 24, 56],
    ['wrap tag', 56, 72],
  ])('every byte of the %s flipped → ES_KEY_UNWRAP_FAILED', async (what, from, to) => {
    let last: Awaited<ReturnType<typeof read>> | undefined;
    for (let at = from; at < to; at++) {
      const key = await tampered((raw) =>
        editWrappedKey(raw.metadata, (w) => {
          w[at] = (w[at] as number) ^ 0x01;
          return w;
        }),
      );
      last = await read(key);
      if (last.ok || last.code !== 'ES_KEY_UNWRAP_FAILED')
        throw new Error(`es-w byte ${at}: ${last.ok ? 'read succeeded' : last.code}`);
    }
    expectDetected(
      `metadata: es-w ${what} byte flipped (${to - from} flips)`,
      last as NonNullable<typeof last>,
      'ES_KEY_UNWRAP_FAILED',
      {
        plaintext,
        atMost: 0,
      },
    );
  });

  test.each([
    ['one byte short', (w: Buffer) => w.subarray(0, w.length - 1), 'ES_KEY_UNWRAP_FAILED'],
    ['one byte longer', (w: Buffer) => Buffer.concat([w, Buffer.of(0)]), 'ES_KEY_UNWRAP_FAILED'],
    ['190 bytes long (more than the detached form holds)', () => Buffer.alloc(190, 1), 'ES_MALFORMED'],
  ])('es-w %s → %s', async (what, edit, code) => {
    const key = await tampered((raw) => editWrappedKey(raw.metadata, edit));
    expectDetected(`metadata: es-w ${what}`, await read(key), code, { plaintext, atMost: 0 });
  });

  test('es-w with a character outside base64url → ES_MALFORMED', async () => {
    const key = await tampered((raw) => {
      raw.metadata[ES_W] = `${(raw.metadata[ES_W] as string).slice(0, -1)}.`;
    });
    expectDetected('metadata: es-w with a character outside base64url', await read(key), 'ES_MALFORMED', {
      plaintext,
      atMost: 0,
    });
  });
});

describe('removed and foreign metadata', () => {
  test.each([[ES_H], [ES_K], [ES_W]])('%s removed → ES_MALFORMED', async (name) => {
    const key = await tampered((raw) => {
      delete raw.metadata[name];
    });
    expectDetected(`metadata: ${name} removed`, await read(key), 'ES_MALFORMED', { plaintext, atMost: 0 });
  });

  test('all encryption metadata removed → ES_NOT_ENCRYPTED; with passthrough the stored bytes come back as they are', async () => {
    const key = await tampered((raw) => {
      raw.metadata = { owner: 'victim' };
    });
    expectDetected('metadata: all encryption metadata removed', await read(key), 'ES_NOT_ENCRYPTED', {
      plaintext,
      atMost: 0,
    });
    expectUndetectable(
      'metadata: all encryption metadata removed, read with passthrough: true (returns the stored bytes)',
      await read(key, passthrough),
      original.body,
    );
  });

  test("object replaced by the adversary's own plaintext → ES_NOT_ENCRYPTED; with passthrough it is returned", async () => {
    const forged = Buffer.from('forged content chosen by the adversary');
    const key = await tampered((raw) => {
      raw.body = forged;
      raw.metadata = { owner: 'victim' };
    });
    expectDetected("object replaced by the adversary's plaintext", await read(key), 'ES_NOT_ENCRYPTED');
    expectUndetectable(
      "object replaced by the adversary's plaintext, read with passthrough: true",
      await read(key, passthrough),
      forged,
    );
  });

  test('user metadata and Content-Type (not ours) changed → the read succeeds and shows the changes', async () => {
    const key = await tampered((raw) => {
      raw.metadata.owner = 'mallory';
      raw.metadata.added = 'by the adversary';
      raw.contentType = 'application/x-evil';
    });
    const outcome = await read(key);
    expectUndetectable('metadata that is not ours (user metadata, Content-Type) changed', outcome, plaintext);
    if (outcome.ok) expect(outcome.metadata).toEqual({ owner: 'mallory', added: 'by the adversary' });
  });
});

describe('HeadObject', () => {
  test('HeadObject authenticates the header: a tampered es-h → ES_KEY_UNWRAP_FAILED, as GetObject', async () => {
    const key = await tampered((raw) =>
      editStreamHeader(raw.metadata, (h) => {
        h[20] = (h[20] as number) ^ 0x01; // stream id: the header still parses
      }),
    );
    const head = await victim.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key })).then(
      () => ({ code: 'accepted' }),
      (error: { code?: string }) => ({ code: error.code }),
    );
    expect(head.code).toBe('ES_KEY_UNWRAP_FAILED');
    expectDetected('GetObject of the same object', await read(key), 'ES_KEY_UNWRAP_FAILED');
  });
});

describe('key rotation rolled back', () => {
  test('the pre-rotation key block put back → reads while the old master key is held; ES_UNKNOWN_KEY once it is not', async () => {
    const before = new LocalKeyring({ 'adv-0': MASTER_KEYS['adv-0'] }, 'adv-0');
    const writer = encryptedClient({ keyring: before }).client;
    await writer.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'rotated', Body: plaintext }));
    writer.destroy();
    const old = await getRaw(bucket.client, bucket.name, 'rotated');
    const after = before.withPrimaryKey('adv-2', new Uint8Array(32).fill(0xa2));
    const rotation = await rotateObjectKey(
      bucket.client,
      { Bucket: bucket.name, Key: 'rotated' },
      { from: before, to: after },
    );
    expect(rotation).toEqual({ rotated: true, fromKeyId: 'adv-0', toKeyId: 'adv-2' });
    expect((await getRaw(bucket.client, bucket.name, 'rotated')).metadata[ES_K]).toBe('adv-2');

    await putRaw(bucket.client, bucket.name, 'rotated', old); // the adversary restores the old key block
    const holdsBoth = encryptedClient({ keyring: after }).client;
    const onlyNew = encryptedClient({ keyring: LocalKeyring.single('adv-2', new Uint8Array(32).fill(0xa2)) }).client;
    try {
      expectUndetectable(
        'key block rolled back to before a key rotation (old master key still held)',
        await read('rotated', holdsBoth),
        plaintext,
      );
      expectDetected(
        'key block rolled back to before a key rotation (old master key retired)',
        await read('rotated', onlyNew),
        'ES_UNKNOWN_KEY',
      );
    } finally {
      holdsBoth.destroy();
      onlyNew.destroy();
    }
  });
});
