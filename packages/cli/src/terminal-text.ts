/**
 * Text the CLI prints that it did not write itself (S3 keys, metadata, key
 * ids, server error messages, file names) may hold characters a terminal acts
 * on: C0 controls (ESC starts colour, cursor and title sequences; CR and
 * backspace overwrite what was printed), DEL, C1 controls (U+009B is a
 * one-character CSI on some terminals), and the bidirectional overrides and
 * isolates that reorder what is shown ("Trojan Source", CVE-2021-42574).
 * Anyone who can write to a bucket chooses its keys, so every line the CLI
 * prints passes through {@link printable}, and every JSON document through
 * {@link printableJson}.
 */

/** C0, backslash (so an escape is never ambiguous), DEL, C1, and the bidi marks, embeddings, overrides and isolates. */
const UNSAFE_TEXT = /[\u0000-\u001f\\\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** What JSON.stringify leaves raw of the above (it escapes C0, backslash and quote itself). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');

/**
 * `text` safe to write to a terminal: every character above as a visible
 * escape (`\x1b`, `\x7f`, `\x9b`, `\u{202e}`, and `\\` for a backslash),
 * everything else unchanged. The result holds no line break either, so a
 * one-line message stays one line.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE_TEXT, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\\') return '\\\\';
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`;
  });
}

/**
 * `JSON.stringify(value)` with DEL, C1 and bidi characters also written as
 * `\uXXXX` escapes: the same document to a JSON parser, and nothing a
 * terminal acts on when it is printed.
 */
export function printableJson(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}
