import { type EncryptedStreamError, ErrorCode, FormatError, LocalKeyring } from '@encrypted-stream/codec';
import { createStreamCipher, type EncryptionHeader } from '@encrypted-stream/codec/low-level';
import {
  assertNoReservedMetadata,
  encryptionMetadata,
  METADATA_KEYS,
  readEncryptionHeader,
  userMetadata,
} from '../../src/metadata';
import { C, MASTER_KEY, testKeyring } from '../helpers/common';

let header: EncryptionHeader;
beforeAll(async () => {
  header = (await createStreamCipher({ keyring: testKeyring(), chunkSize: C, plaintextSize: 12345 })).header;
});

function expectSameHeader(actual: EncryptionHeader | undefined, expected: EncryptionHeader) {
  expect(actual).toBeDefined();
  expect(Buffer.from(actual!.streamBytes)).toEqual(Buffer.from(expected.streamBytes));
  expect(actual!.keyId).toBe(expected.keyId);
  expect(Buffer.from(actual!.wrappedKey)).toEqual(Buffer.from(expected.wrappedKey));
  expect(actual!.stream.chunkSize).toBe(expected.stream.chunkSize);
  expect(actual!.stream.plaintextSize).toBe(expected.stream.plaintextSize);
}

const expectMalformed = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(FormatError);
    expect((error as EncryptedStreamError).code).toBe(ErrorCode.MALFORMED);
    return;
  }
  throw new Error('expected FormatError(ES_MALFORMED)');
};

describe('encryptionMetadata / readEncryptionHeader', () => {
  test('uses exactly the three documented keys', () => {
    expect(METADATA_KEYS).toEqual({ h: 'es-h', k: 'es-k', w: 'es-w' });
    expect(Object.keys(encryptionMetadata(header)).sort()).toEqual(['es-h', 'es-k', 'es-w']);
  });

  test('round trips', () => {
    expectSameHeader(readEncryptionHeader(encryptionMetadata(header)), header);
  });

  test('every value is printable ASCII under 256 characters (FORMAT.md §7)', () => {
    const metadata = encryptionMetadata(header);
    expect(metadata['es-h']).toHaveLength(128);
    expect(metadata['es-k']).toBe(header.keyId);
    for (const value of Object.values(metadata)) {
      expect(value.length).toBeLessThan(256);
      expect(value).toMatch(/^[\x21-\x7e]+$/);
    }
  });

  test('a 200-character key id still fits', async () => {
    const keyId = 'k'.repeat(200);
    const long = await createStreamCipher({ keyring: LocalKeyring.single(keyId, MASTER_KEY), chunkSize: C });
    const metadata = encryptionMetadata(long.header);
    for (const value of Object.values(metadata)) expect(value.length).toBeLessThan(256);
    expectSameHeader(readEncryptionHeader(metadata), long.header);
  });

  test('lookup is case-insensitive (stores that keep the caller case)', () => {
    const { 'es-h': h, 'es-k': k, 'es-w': w } = encryptionMetadata(header);
    expectSameHeader(readEncryptionHeader({ 'ES-H': h!, 'Es-K': k!, 'es-W': w! }), header);
  });

  test('other metadata beside ours is ignored', () => {
    expectSameHeader(readEncryptionHeader({ ...encryptionMetadata(header), owner: 'me', 'es-x': 'y' }), header);
  });

  test.each([undefined, {}, { owner: 'me' }, { 'es-hh': 'x', 'x-es-h': 'y' }])(
    'undefined without our keys: %p',
    (m) => {
      expect(readEncryptionHeader(m as Record<string, string> | undefined)).toBeUndefined();
    },
  );

  test.each([['es-h'], ['es-k'], ['es-w'], ['es-h', 'es-k'], ['es-k', 'es-w'], ['es-h', 'es-w']])(
    'partial metadata (without %s) is FormatError ES_MALFORMED',
    (...missing: string[]) => {
      const metadata = encryptionMetadata(header);
      for (const name of missing) delete metadata[name];
      expectMalformed(() => readEncryptionHeader(metadata));
    },
  );

  test.each<[string, (m: Record<string, string>) => void]>([
    ['h not base64url', (m) => (m['es-h'] = `${m['es-h']!.slice(0, -1)}!`)],
    ['h one character short', (m) => (m['es-h'] = m['es-h']!.slice(1))],
    ['h of another length', (m) => (m['es-h'] = m['es-h']!.slice(4))],
    ['h with wrong magic', (m) => (m['es-h'] = `A${m['es-h']!.slice(1)}`)],
    ['w empty', (m) => (m['es-w'] = '')],
    ['w too long', (m) => (m['es-w'] = 'A'.repeat(256))],
    ['k with a space', (m) => (m['es-k'] = 'a key')],
    ['k empty', (m) => (m['es-k'] = '')],
  ])('malformed values are ES_MALFORMED: %s', (_, tamper) => {
    const metadata = encryptionMetadata(header);
    tamper(metadata);
    expectMalformed(() => readEncryptionHeader(metadata));
  });
});

describe('userMetadata', () => {
  test('strips only our keys, whatever their case', () => {
    const metadata = {
      ...encryptionMetadata(header),
      'ES-H': 'x',
      'Es-W': 'y',
      owner: 'me',
      'es-hh': 'kept',
      'my-es-h': 'kept',
      'es-': 'kept',
      'es-key': 'kept',
    };
    expect(userMetadata(metadata)).toEqual({
      owner: 'me',
      'es-hh': 'kept',
      'my-es-h': 'kept',
      'es-': 'kept',
      'es-key': 'kept',
    });
  });

  test('leaves metadata without our keys equal and does not mutate its input', () => {
    const metadata = { a: '1', b: '2' };
    expect(userMetadata(metadata)).toEqual({ a: '1', b: '2' });
    const ours = encryptionMetadata(header);
    const copy = { ...ours };
    expect(userMetadata(ours)).toEqual({});
    expect(ours).toEqual(copy);
  });

  test('undefined stays undefined', () => {
    expect(userMetadata(undefined)).toBeUndefined();
  });
});

describe('assertNoReservedMetadata', () => {
  test.each(['es-h', 'es-k', 'es-w', 'ES-H', 'Es-K', 'es-W'])('TypeError for %s', (name) => {
    expect(() => assertNoReservedMetadata({ ok: '1', [name]: 'v' })).toThrow(TypeError);
  });

  test.each([undefined, {}, { owner: 'me', 'es-hh': 'x', 'es-x': 'y', h: 'z' }])('accepts %p', (metadata) => {
    expect(() => assertNoReservedMetadata(metadata as Record<string, string> | undefined)).not.toThrow();
  });
});
