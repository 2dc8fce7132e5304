import fc from 'fast-check';
import { decodeBech32, decodeBech32Words, encodeBech32 } from '../../src/format/bech32';
import { hex } from '../helpers';

describe('bech32 (BIP 173)', () => {
  // BIP 173's own test vectors.
  test.each([
    ['A12UEL5L', 'a'],
    ['a12uel5l', 'a'],
    ['an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs', undefined],
    ['abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', 'abcdef'],
    [`11${'q'.repeat(82)}c8247j`, '1'],
    ['split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w', 'split'],
    ['?1ezyfcl', '?'],
  ])('BIP 173 valid: %s', (text, hrp) => {
    const decoded = decodeBech32Words(text);
    expect(decoded).toBeDefined();
    if (hrp) expect(decoded?.hrp).toBe(hrp);
  });

  test.each([
    ['\x201nwldj5', 'HRP character out of range'],
    ['\x7f1axkwrx', 'HRP character out of range'],
    ['\x801eym55h', 'HRP character out of range'],
    [
      'an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx',
      'overall max length exceeded',
    ],
    ['pzry9x0s0muk', 'no separator'],
    ['1pzry9x0s0muk', 'empty HRP'],
    ['x1b4n0q5v', 'invalid data character'],
    ['li1dgmt3', 'too short checksum'],
    ['de1lg7wt\xff', 'invalid character in checksum'],
    ['A1G7SGD8', 'checksum calculated with the upper-case HRP'],
    ['10a06t8', 'empty HRP'],
    ['1qzzfhee', 'empty HRP'],
    ['A12uEL5L', 'mixed case'],
  ])('BIP 173 invalid: %j (%s)', (text) => {
    expect(decodeBech32Words(text)).toBeUndefined();
  });

  test('bytes: the example from BIP 173 (abcdef1qpzry…: the 32 5-bit values 0…31 are 20 bytes)', () => {
    const bytes = decodeBech32('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', 'abcdef');
    expect(hex(bytes!)).toBe('00443214c74254b635cf84653a56d7c675be77df');
    expect(encodeBech32('abcdef', bytes!)).toBe('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw');
    expect(decodeBech32('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', 'abcdeg')).toBeUndefined();
  });

  test('data must be whole bytes with zero padding (one spelling per byte string)', () => {
    // Valid bech32 strings (checksums from the BIP 173 reference code) over the 5-bit words given.
    expect(hex(decodeBech32('a1qqqd87cq', 'a')!)).toBe('00'); // [0, 0]: 8 bits and 2 zero padding bits
    expect(decodeBech32Words('a1qpamnt9j')).toEqual({ hrp: 'a', words: [0, 1] });
    expect(decodeBech32('a1qpamnt9j', 'a')).toBeUndefined(); // [0, 1]: non-zero padding
    expect(decodeBech32Words('a1pv7wwwr')).toEqual({ hrp: 'a', words: [1] });
    expect(decodeBech32('a1pv7wwwr', 'a')).toBeUndefined(); // 5 bits: not even one byte
    expect(decodeBech32Words('a1qqqqtk27v5')).toEqual({ hrp: 'a', words: [0, 0, 0, 0] });
    expect(hex(decodeBech32('a1qqqqtk27v5', 'a')!)).toBe('0000'); // 20 bits: 2 bytes and 4 zero padding bits
    expect(hex(decodeBech32(`11${'q'.repeat(82)}c8247j`, '1')!)).toBe('00'.repeat(51));
  });

  test('round trip, one spelling per case, any single substitution detected (property)', () => {
    const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.nat(),
        fc.integer({ min: 1, max: 31 }),
        (bytes, at, shift) => {
          const text = encodeBech32('es-test', bytes);
          expect(hex(decodeBech32(text, 'es-test')!)).toBe(hex(bytes));
          expect(hex(decodeBech32(text.toUpperCase(), 'es-test')!)).toBe(hex(bytes));
          expect(encodeBech32('es-test', bytes, true)).toBe(text.toUpperCase());
          const data = text.indexOf('1') + 1 + (at % (text.length - text.indexOf('1') - 1));
          const changed = CHARSET[(CHARSET.indexOf(text[data]!) + shift) % 32];
          expect(decodeBech32(`${text.slice(0, data)}${changed}${text.slice(data + 1)}`, 'es-test')).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  test('encode refuses an invalid prefix and results over 90 characters', () => {
    expect(() => encodeBech32('', new Uint8Array(1))).toThrow(RangeError);
    expect(() => encodeBech32('a b', new Uint8Array(1))).toThrow(RangeError);
    expect(encodeBech32('a', new Uint8Array(51))).toHaveLength(2 + 82 + 6); // 408 bits in 82 words: 90 characters
    expect(() => encodeBech32('a', new Uint8Array(52))).toThrow(RangeError); // 84 words: 92
  });
});
