import { encodeContext } from '../../src/format/context';
import { ErrorCode } from '../../src/format/errors';
import { decryptBuffer } from '../../src/io/decrypt';
import { encryptBuffer } from '../../src/io/encrypt';
import { backend, failureCode, hex, keyring } from '../helpers';

const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]).toString('hex');
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const entry = (k: string, v: string) => `${u32(Buffer.byteLength(k))}${utf8(k)}${u32(Buffer.byteLength(v))}${utf8(v)}`;

describe('canonical context encoding (FORMAT.md §4)', () => {
  test('the empty map (and no context) is zero bytes', () => {
    expect(encodeContext({}).length).toBe(0);
    expect(encodeContext().length).toBe(0);
  });

  test('entries are sorted by the UTF-8 bytes of their keys, each as u32 length || bytes', () => {
    expect(hex(encodeContext({ key: 'a/b.txt', bucket: 'my-bucket' }))).toBe(
      entry('bucket', 'my-bucket') + entry('key', 'a/b.txt'),
    );
    // U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80) in UTF-8, but after it in UTF-16 code units.
    expect(hex(encodeContext({ '\u{1F600}': 'x', '\uFF21': 'y' }))).toBe(
      entry('\uFF21', 'y') + entry('\u{1F600}', 'x'),
    );
    expect(hex(encodeContext({ b: '', a: 'é', '': 'empty key' }))).toBe(
      entry('', 'empty key') + entry('a', 'é') + entry('b', ''),
    );
  });

  test('entry order in the object does not matter', () => {
    expect(hex(encodeContext({ a: '1', b: '2', c: '3' }))).toBe(hex(encodeContext({ c: '3', a: '1', b: '2' })));
  });

  test('non-string values and non-objects are TypeErrors, also when encrypting', async () => {
    expect(() => encodeContext({ a: 1 as unknown as string })).toThrow(TypeError);
    expect(() => encodeContext(['a'] as unknown as Record<string, string>)).toThrow(TypeError);
    expect(() => encodeContext(null as unknown as Record<string, string>)).toThrow(TypeError);
    expect(() => encodeContext('a=b' as unknown as Record<string, string>)).toThrow(TypeError);
    const on = await backend();
    const kr = keyring('k', new Uint8Array(32), on);
    await expect(
      encryptBuffer(new Uint8Array(1), { keyring: kr, backend: on, context: { a: 1 as unknown as string } }),
    ).rejects.toBeInstanceOf(TypeError);
  });

  test('contexts that only differ in encoding boundaries are different contexts', async () => {
    const on = await backend();
    const kr = keyring('k', new Uint8Array(32).fill(1), on);
    const bytes = await encryptBuffer(new Uint8Array(5), { keyring: kr, backend: on, context: { ab: 'c' } });
    expect(await failureCode(decryptBuffer(bytes, { keyring: kr, backend: on, context: { a: 'bc' } }))).toBe(
      ErrorCode.CONTEXT_MISMATCH,
    );
    expect(await decryptBuffer(bytes, { keyring: kr, backend: on, context: { ab: 'c' } })).toHaveLength(5);
  });
});
