import { usageError } from './exit-codes';

const UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Parses `65536`, `64k`, `64KiB`, `16MiB`, `1g` into bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw usageError(`${what}: "${text}" is not a size (e.g. 65536, 64KiB, 16MiB)`);
  const value = Number(m[1]) * unit;
  if (!Number.isSafeInteger(value)) throw usageError(`${what}: ${text} is too large`);
  return value;
}

/** Parses `a-b` (inclusive), `a-` or `-n` into a Range header value. */
export function parseRangeArgument(text: string): string {
  if (!/^(\d+-\d*|-\d+)$/.test(text)) throw usageError(`--range: "${text}" is not a-b, a- or -n`);
  return `bytes=${text}`;
}

/** Human-readable bytes (MB = 10^6). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 'B';
  for (const u of units) {
    if (value < 1e3) break;
    value /= 1e3;
    unit = u;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`;
}

/** The plaintext `[start, end)` a Range header value selects, or undefined when unsatisfiable. */
export function resolveRangeArgument(range: string, size: number): { start: number; end: number } | undefined {
  // Required here, not at start-up: the S3 package brings the AWS SDK, which `decrypt` otherwise never needs.
  const { parseRange, resolveRange } = require('@encrypted-stream/s3') as typeof import('@encrypted-stream/s3');
  return resolveRange(parseRange(range), size);
}
