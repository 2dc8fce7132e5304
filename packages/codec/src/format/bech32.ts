/**
 * Bech32 (BIP 173): the text encoding of recipients and identities
 * (FORMAT.md §6). A 30-bit BCH checksum over the human-readable part and the
 * data detects any error in up to 4 characters; the alphabet leaves out the
 * look-alikes 1, b, i and o; a string is all lower case or all upper case.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;
/** BIP 173's limit on the whole string. */
const MAX_LENGTH = 90;
const CHECKSUM_LENGTH = 6;

function polymod(values: readonly number[]): number {
  let checksum = 1;
  for (const value of values) {
    const top = checksum >>> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) checksum ^= GENERATOR[i] as number;
  }
  return checksum >>> 0;
}

/** The human-readable part's high bits, a zero, its low bits (lower case). */
function expandHrp(hrp: string): number[] {
  const codes = [...hrp].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
}

/** Regroups `bits`-bit values into `into`-bit values; undefined when `pad` is off and leftover bits are not zero padding. */
function regroup(values: ArrayLike<number>, bits: number, into: number, pad: boolean): number[] | undefined {
  let accumulator = 0;
  let held = 0;
  const out: number[] = [];
  const mask = (1 << into) - 1;
  for (let i = 0; i < values.length; i++) {
    accumulator = ((accumulator << bits) | (values[i] as number)) & 0xffff;
    held += bits;
    while (held >= into) {
      held -= into;
      out.push((accumulator >>> held) & mask);
    }
  }
  if (pad) {
    if (held > 0) out.push((accumulator << (into - held)) & mask);
  } else if (held >= bits || ((accumulator << (into - held)) & mask) !== 0) {
    return undefined;
  }
  return out;
}

const HRP_PATTERN = /^[\x21-\x7e]{1,83}$/;

/**
 * Encodes `bytes` under the human-readable part `hrp`, in lower case (or upper
 * case with `upper`). Throws RangeError for an invalid `hrp` or a result over 90 characters.
 */
export function encodeBech32(hrp: string, bytes: Uint8Array, upper = false): string {
  if (!HRP_PATTERN.test(hrp)) throw new RangeError('a bech32 prefix is 1–83 printable ASCII characters');
  const lowerHrp = hrp.toLowerCase();
  const words = regroup(bytes, 8, 5, true) as number[];
  const mod = polymod([...expandHrp(lowerHrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: CHECKSUM_LENGTH }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  const text = `${lowerHrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
  if (text.length > MAX_LENGTH) throw new RangeError(`a bech32 string is at most ${MAX_LENGTH} characters`);
  return upper ? text.toUpperCase() : text;
}

/**
 * Splits and checks a bech32 string: its human-readable part (lower case) and
 * its 5-bit data words without the checksum. Undefined for anything BIP 173
 * rejects: mixed case, characters outside the alphabet, a bad checksum, a
 * string over 90 characters, an empty human-readable part.
 */
export function decodeBech32Words(text: string): { hrp: string; words: number[] } | undefined {
  if (text.length > MAX_LENGTH || !/^[\x21-\x7e]+$/.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) return undefined; // mixed case
  const separator = lower.lastIndexOf('1');
  if (separator < 1 || separator + 1 + CHECKSUM_LENGTH > lower.length) return undefined;
  const hrp = lower.slice(0, separator);
  const words: number[] = [];
  for (const char of lower.slice(separator + 1)) {
    const value = CHARSET.indexOf(char);
    if (value < 0) return undefined;
    words.push(value);
  }
  if (polymod([...expandHrp(hrp), ...words]) !== 1) return undefined;
  return { hrp, words: words.slice(0, -CHECKSUM_LENGTH) };
}

/**
 * Decodes a bech32 string whose human-readable part is `hrp` (compared case-insensitively)
 * into bytes. Undefined unless the string is valid BIP 173 with that prefix and
 * its data is whole bytes with zero padding (so every byte string has one spelling per case).
 */
export function decodeBech32(text: string, hrp: string): Uint8Array | undefined {
  const decoded = decodeBech32Words(text);
  if (!decoded || decoded.hrp !== hrp.toLowerCase()) return undefined;
  const bytes = regroup(decoded.words, 5, 8, false);
  return bytes ? Uint8Array.from(bytes) : undefined;
}
