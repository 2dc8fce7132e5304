/**
 * Numbers as people read them: sizes and rates in binary units with three
 * significant digits (`136 B/s`, `12.3 MiB/s`, never `136.15857536011774 B/s`),
 * durations as `45s`, `1m05s`, `2h03m`. Binary units, like the sizes the
 * options take (`--part-size 8MiB`).
 */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Three significant digits: 1.23, 12.3, 123. */
const threeDigits = (value: number) => value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);

/** `n` bytes as `0 B`, `999 B`, `1.00 KiB`, `12.3 MiB`, `1.50 GiB` (a unit up from 1000 on, so at most 3 digits before the point). */
export function formatBytes(n: number): string {
  let value = Math.max(0, n);
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${threeDigits(value)} ${BYTE_UNITS[unit]}`;
}

/** A count per second: `0.50`, `12.3`, `250`. */
export function formatCountRate(perSecond: number): string {
  return threeDigits(Math.max(0, perSecond));
}

/** A duration, rounded up to the second: `0s`, `45s`, `1m05s`, `2h03m`, `3d04h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor((s % 86400) / 3600))}h`;
}
