/**
 * Summaries of repeated process measurements: medians for time and CPU (a
 * 2-core box shared with the S3 server has outliers both ways), the largest
 * peak RSS (a memory target is about the worst run), and the spread, so a
 * reader can tell a real difference from noise.
 */
import type { ProcessSample } from './measure-process';

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Repeated runs of one side of one operation, summarised. */
export interface Summary {
  readonly runs: number;
  readonly wall: number;
  readonly wallMin: number;
  readonly wallMax: number;
  /** (max − min) / median of the wall times: 0.1 means the runs spread over 10 % of the median. */
  readonly spread: number;
  readonly cpu: number;
  readonly user: number;
  readonly sys: number;
  readonly peakRssMiB: number;
}

/** Summarises `samples` (at least one). */
export function summarize(samples: readonly ProcessSample[]): Summary {
  const walls = samples.map((s) => s.wall);
  const wall = median(walls);
  const wallMin = Math.min(...walls);
  const wallMax = Math.max(...walls);
  return {
    runs: samples.length,
    wall,
    wallMin,
    wallMax,
    spread: wall > 0 ? (wallMax - wallMin) / wall : 0,
    cpu: median(samples.map((s) => s.cpu)),
    user: median(samples.map((s) => s.user)),
    sys: median(samples.map((s) => s.sys)),
    peakRssMiB: Math.max(...samples.map((s) => s.peakRssMiB)),
  };
}
