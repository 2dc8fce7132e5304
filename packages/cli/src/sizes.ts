import { usageError } from './exit-codes';

const KiB = 1024;
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KiB,
  kib: KiB,
  m: KiB ** 2,
  mib: KiB ** 2,
  g: KiB ** 3,
  gib: KiB ** 3,
};

/** Parses `65536`, `64k`, `64KiB`, `16MiB`, `1g` into bytes (binary units: 1 KiB = 1024). */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw usageError(
      `${what}: "${text}" is not a size: a whole number of bytes, or of KiB, MiB or GiB (1 KiB = 1024 bytes), e.g. 65536, 64KiB, 16MiB`,
    );
  }
  const value = Number(m[1]) * unit;
  if (!Number.isSafeInteger(value)) throw usageError(`${what}: ${text} is too large`);
  return value;
}

/** `bytes` as an option value {@link parseSize} reads back exactly: `5GiB`, `7MiB`, `64KiB`, `1000`. */
export function sizeArgument(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', KiB ** 3],
    ['MiB', KiB ** 2],
    ['KiB', KiB],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** Parses `a-b` (inclusive), `a-` or `-n` into a Range header value. */
export function parseRangeArgument(text: string): string {
  if (!/^(\d+-\d*|-\d+)$/.test(text)) throw usageError(`--range: "${text}" is not a-b, a- or -n`);
  return `bytes=${text}`;
}

/** The plaintext `[start, end)` a Range header value selects, or undefined when unsatisfiable. */
export function resolveRangeArgument(range: string, size: number): { start: number; end: number } | undefined {
  // Required here, not at start-up: the S3 package brings the AWS SDK, which `decrypt` otherwise never needs.
  const { parseRange, resolveRange } = require('@encrypted-stream/s3') as typeof import('@encrypted-stream/s3');
  return resolveRange(parseRange(range), size);
}
