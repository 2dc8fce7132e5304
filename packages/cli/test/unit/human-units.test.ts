/**
 * What the progress line and summaries print: sizes and rates in binary units
 * with three significant digits, durations as 1m05s, object counts as counts
 * (issue 12: the line used to show `136.15857536011774 B/s`, and rotate drew
 * object counts as bytes).
 */
import { formatBytes, formatCountRate, formatDuration } from '../../src/human-units';
import { Progress } from '../../src/progress';

describe('formatBytes', () => {
  test.each([
    [0, '0 B'],
    [1, '1 B'],
    [136.15857536011774, '136 B'],
    [999, '999 B'],
    [1000, '0.98 KiB'],
    [1024, '1.00 KiB'],
    [65536, '64.0 KiB'],
    [12.3 * 1024 ** 2, '12.3 MiB'],
    [7 * 1024 ** 2 + 3, '7.00 MiB'],
    [999 * 1024 ** 2, '999 MiB'],
    [1.5 * 1024 ** 3, '1.50 GiB'],
    [5 * 1024 ** 4, '5.00 TiB'],
  ])('%d bytes: %s', (bytes, shown) => {
    expect(formatBytes(bytes)).toBe(shown);
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [0.2, '1s'], // rounded up: an ETA never says 0s while work remains
    [45, '45s'],
    [59.5, '1m00s'],
    [65, '1m05s'],
    [3599, '59m59s'],
    [3600, '1h00m'],
    [2 * 3600 + 3 * 60 + 1, '2h03m'],
    [3 * 86400 + 4 * 3600, '3d04h'],
  ])('%d s: %s', (seconds, shown) => {
    expect(formatDuration(seconds)).toBe(shown);
  });
});

test('formatCountRate: three significant digits', () => {
  expect(formatCountRate(2 / 3)).toBe('0.67');
  expect(formatCountRate(12.345)).toBe('12.3');
  expect(formatCountRate(250.4)).toBe('250');
});

/** A Progress on a clock the test moves (never drawn: stderr here is not a terminal). */
function clocked(total: number | undefined, unit: 'bytes' | 'objects' = 'bytes') {
  const clock = { now: 1000 };
  return { clock, progress: new Progress('put s3://b/k', total, true, { unit, now: () => clock.now }) };
}

describe('Progress.line', () => {
  test('bytes: amount of total, bar, percent, rate and ETA in human units', () => {
    const { clock, progress } = clocked(60 * 1024 ** 2);
    progress.add(12 * 1024 ** 2);
    clock.now += 1000 * (12 / 12.3); // 12 MiB in 0.976 s: 12.3 MiB/s
    expect(progress.line()).toBe(
      'put s3://b/k  12.0 MiB / 60.0 MiB  [#####...................]  20%  12.3 MiB/s  ETA 4s',
    );
  });

  test('a slow odd rate is rounded, and a long ETA reads as minutes and seconds', () => {
    const { clock, progress } = clocked(100_000);
    progress.add(1361.5857536011774);
    clock.now += 10_000;
    const line = progress.line();
    expect(line).toContain('  136 B/s  ');
    expect(line).toMatch(/ETA 12m05s$/);
    expect(line).not.toMatch(/\d\.\d{4,}/);
  });

  test('resumed work counts as done, not towards the rate', () => {
    const { clock, progress } = clocked(20 * 1024 ** 2);
    progress.addResumed(10 * 1024 ** 2);
    progress.add(1024 ** 2);
    clock.now += 1000;
    expect(progress.line()).toBe(
      'put s3://b/k  11.0 MiB / 20.0 MiB  [#############...........]  55%  1.00 MiB/s  ETA 9s',
    );
  });

  test('objects: counts as counts, rate in objects per second, no byte units', () => {
    const { clock, progress } = clocked(10, 'objects');
    progress.add(3);
    clock.now += 2000;
    expect(progress.line()).toBe(
      'put s3://b/k  3 / 10 objects  [#######.................]  30%  1.50 objects/s  ETA 5s',
    );
  });

  test('unknown total (stdin): amount and rate only', () => {
    const { clock, progress } = clocked(undefined);
    progress.add(3 * 1024 ** 2);
    clock.now += 2000;
    expect(progress.line()).toBe('put s3://b/k  3.00 MiB  1.50 MiB/s');
  });
});
