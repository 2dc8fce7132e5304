import { encodeBech32 } from '../../src/format/bech32';
import { EncryptedStreamError } from '../../src/format/errors';
import {
  formatIdentity,
  formatRecipient,
  parseIdentities,
  parseIdentity,
  parseRecipient,
} from '../../src/format/recipient-text';
import { filler, hex } from '../helpers';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const PUBLIC = filler(32, 7);
const SECRET = filler(32, 8);
const RECIPIENT = formatRecipient(PUBLIC);
const IDENTITY = formatIdentity(SECRET);

/** The error `work` throws (fails the test if it returns). */
function thrown(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('recipient and identity strings', () => {
  test('shapes: es-pub1 + 58 characters lower case, ES-SECRET-KEY-1 + 58 upper case', () => {
    expect(RECIPIENT).toMatch(/^es-pub1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/);
    expect(RECIPIENT).toHaveLength(65);
    expect(IDENTITY).toMatch(/^ES-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/);
    expect(IDENTITY).toHaveLength(73);
    expect(hex(parseRecipient(RECIPIENT))).toBe(hex(PUBLIC));
    expect(hex(parseIdentity(IDENTITY))).toBe(hex(SECRET));
  });

  test('either case parses (bech32), the formatted form is canonical', () => {
    expect(hex(parseRecipient(RECIPIENT.toUpperCase()))).toBe(hex(PUBLIC));
    expect(hex(parseIdentity(IDENTITY.toLowerCase()))).toBe(hex(SECRET));
    expect(() => parseRecipient(`E${RECIPIENT.slice(1)}`)).toThrow(RangeError); // mixed case
  });

  test('every single-character substitution is caught, in either string', () => {
    for (const [text, parse] of [
      [RECIPIENT, parseRecipient],
      [IDENTITY, parseIdentity],
    ] as const) {
      const lower = text.toLowerCase();
      for (let i = 0; i < lower.length; i++) {
        const alphabet = i < lower.indexOf('1') ? 'abcdefghijklmnopqrstuvwxyz-' : CHARSET;
        for (const c of alphabet) {
          if (c === lower[i]) continue;
          const typo = `${lower.slice(0, i)}${c}${lower.slice(i + 1)}`;
          expect(() => parse(typo)).toThrow(RangeError);
        }
      }
    }
  });

  test('swapped neighbours, a dropped or doubled character, extra whitespace are caught', () => {
    for (let i = 7; i < RECIPIENT.length - 1; i++) {
      if (RECIPIENT[i] === RECIPIENT[i + 1]) continue;
      const swapped = `${RECIPIENT.slice(0, i)}${RECIPIENT[i + 1]}${RECIPIENT[i]}${RECIPIENT.slice(i + 2)}`;
      expect(() => parseRecipient(swapped)).toThrow(RangeError);
    }
    for (let i = 0; i < RECIPIENT.length; i++) {
      expect(() => parseRecipient(RECIPIENT.slice(0, i) + RECIPIENT.slice(i + 1))).toThrow(RangeError);
      expect(() => parseRecipient(RECIPIENT.slice(0, i + 1) + RECIPIENT.slice(i))).toThrow(RangeError);
    }
    expect(() => parseRecipient(` ${RECIPIENT}`)).toThrow(RangeError);
    expect(() => parseRecipient(`${RECIPIENT}\n`)).toThrow(RangeError);
  });

  test('a key of another length under the right prefix is refused', () => {
    expect(() => parseRecipient(encodeBech32('es-pub', filler(31)))).toThrow(RangeError);
    expect(() => parseRecipient(encodeBech32('es-pub', filler(33)))).toThrow(RangeError);
    expect(() => parseIdentity(encodeBech32('es-secret-key-', filler(31), true))).toThrow(RangeError);
  });

  test('an identity where a recipient belongs (and the reverse) is named, and the secret never echoed', () => {
    const asRecipient = thrown(() => parseRecipient(IDENTITY));
    expect(asRecipient).toBeInstanceOf(RangeError);
    expect(asRecipient.message).toMatch(/identity \(a private key\)/);
    const asIdentity = thrown(() => parseIdentity(RECIPIENT));
    expect(asIdentity.message).toMatch(/recipient \(a public key\)/);
    const typo = `${IDENTITY.slice(0, 30)}Q${IDENTITY.slice(31)}`;
    for (const error of [asRecipient, thrown(() => parseIdentity(typo)), thrown(() => parseIdentities(`x\n${typo}`))]) {
      expect(error.message).not.toContain(IDENTITY.slice(15, 40));
      expect(error.message.toLowerCase()).not.toContain(IDENTITY.slice(15, 40).toLowerCase());
    }
  });

  test('age keys (valid bech32, another prefix) are not ours', () => {
    const ageRecipient = encodeBech32('age', PUBLIC);
    const ageIdentity = encodeBech32('age-secret-key-', SECRET, true);
    expect(ageIdentity.startsWith('AGE-SECRET-KEY-1')).toBe(true);
    expect(() => parseRecipient(ageRecipient)).toThrow(RangeError);
    expect(() => parseIdentity(ageIdentity)).toThrow(RangeError);
  });

  test('argument types', () => {
    expect(() => parseRecipient(undefined as unknown as string)).toThrow(TypeError);
    expect(() => parseIdentity(5 as unknown as string)).toThrow(TypeError);
    expect(() => parseIdentities(null as unknown as string)).toThrow(TypeError);
    expect(() => formatRecipient('x' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => formatRecipient(new Uint8Array(31))).toThrow(RangeError);
    expect(() => formatIdentity(new Uint8Array(33))).toThrow(RangeError);
    for (const work of [() => parseRecipient('x'), () => parseIdentity('x')]) {
      expect(thrown(work)).not.toBeInstanceOf(EncryptedStreamError);
    }
  });
});

describe('identity files', () => {
  const other = formatIdentity(filler(32, 9));

  test('one identity per line; blank lines, # comments, CRLF and surrounding spaces are fine', () => {
    const text = `# created 2026-01-01\r\n# recipient: ${RECIPIENT}\r\n${IDENTITY}\r\n\n   \n  ${other.toLowerCase()}  \n`;
    expect(parseIdentities(text).map(hex)).toEqual([hex(SECRET), hex(filler(32, 9))]);
  });

  test('a bad line is named by number; a file with no identity is refused', () => {
    expect(thrown(() => parseIdentities(`# x\n${IDENTITY}\n${RECIPIENT}\n`)).message).toMatch(/^line 3: .*recipient/);
    expect(thrown(() => parseIdentities(`${IDENTITY} ${other}`)).message).toMatch(/^line 1:/);
    expect(() => parseIdentities('')).toThrow(RangeError);
    expect(() => parseIdentities('# only a comment\n\n')).toThrow(RangeError);
    expect(() => parseIdentities(`${IDENTITY}\n#ok\n; not a comment`)).toThrow(/line 3/);
  });
});
