/**
 * The one escaping helper every printed line goes through: control and bidi
 * characters become visible escapes; JSON stays the same document.
 */
import { printable, printableJson } from '../../src/terminal-text';

describe('printable', () => {
  test.each([
    ['ESC (colour)', 'a\x1b[31mred', 'a\\x1b[31mred'],
    ['CR and LF (overwrite, extra line)', 'ok\rFAIL\nx', 'ok\\x0dFAIL\\x0ax'],
    ['NUL, BEL, backspace, tab', '\x00\x07\x08\t', '\\x00\\x07\\x08\\x09'],
    ['DEL', 'del\x7f', 'del\\x7f'],
    ['C1 (CSI, NEL, OSC)', '\u009b31m\u0085\u009d', '\\x9b31m\\x85\\x9d'],
    ['bidi override (Trojan Source)', 'invoice\u202Efdp.exe', 'invoice\\u{202e}fdp.exe'],
    [
      'bidi embeddings and isolates',
      '\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069',
      '\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{2066}\\u{2067}\\u{2068}\\u{2069}',
    ],
    ['bidi marks', '\u200E\u200F\u061C', '\\u{200e}\\u{200f}\\u{061c}'],
    ['a backslash (so escapes stay unambiguous)', 'dir\\x1b', 'dir\\\\x1b'],
  ])('%s', (_label, input, expected) => {
    expect(printable(input)).toBe(expected);
  });

  test('ordinary text, other scripts and emoji are unchanged', () => {
    const text = 'backups/2024-01-01 résumé 日本語 עברית 🙂 ~!@#$%^&*()[]{}"\'';
    expect(printable(text)).toBe(text);
  });

  test('the result holds no character below U+0020 and none of the unsafe ones', () => {
    const every = Array.from({ length: 0x2100 }, (_, i) => String.fromCharCode(i)).join('');
    expect(printable(every)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('printableJson', () => {
  test('DEL, C1 and bidi characters as \\u escapes; parses back to the same value', () => {
    const value = { key: 'a\x1b[31m\x7f\u009b\u202e\u2066"\\\n', n: 1, nested: [{ id: '\u0085' }] };
    const json = printableJson(value);
    expect(json).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
    expect(json).toContain('\\u001b[31m\\u007f\\u009b\\u202e\\u2066');
    expect(JSON.parse(json)).toEqual(value);
  });

  test('plain values are exactly JSON.stringify', () => {
    const value = { bucket: 'b', key: 'k/ü', sizes: [0, 1], ok: true };
    expect(printableJson(value)).toBe(JSON.stringify(value));
  });
});
