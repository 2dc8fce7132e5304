/**
 * The targets of issue 13, as checks over one run's summaries. Ratios are
 * ours / peer from the same run (never across runs), so load on the shared
 * cores shifts both sides alike, roughly.
 */
import type { Summary } from './stats';

/** The operations of the bench, by key. */
export type Operation = 'encrypt' | 'decrypt' | 'put' | 'get' | 'range' | 'head' | 'help';

/** One side's summary of one operation, if it ran. */
export type Lookup = (operation: Operation, side: string) => Summary | undefined;

/** A target with what the run measured for it. */
export interface TargetResult {
  readonly target: string;
  /** The measured value, formatted; '-' when a side did not run. */
  readonly value: string;
  /** undefined: not measured in this run. */
  readonly met: boolean | undefined;
}

const OURS = 'encrypted-stream';

function ratioTarget(
  lookup: Lookup,
  operation: Operation,
  label: string,
  peer: string,
  metric: 'wall' | 'cpu',
  limit: number,
): TargetResult {
  const ours = lookup(operation, OURS);
  const theirs = lookup(operation, peer);
  const what = metric === 'wall' ? 'time' : 'CPU';
  const target = `${label}: ${what} ≤ ${limit.toFixed(2)}× ${peer}'s`;
  if (!ours || !theirs || theirs[metric] <= 0) return { target, value: '-', met: undefined };
  const ratio = ours[metric] / theirs[metric];
  return { target, value: `${ratio.toFixed(3)}×`, met: ratio <= limit }; // 3 decimals: 1.15 could hide 1.154
}

function absoluteTarget(
  lookup: Lookup,
  operation: Operation,
  label: string,
  metric: 'wall' | 'peakRssMiB',
  limit: number,
): TargetResult {
  const ours = lookup(operation, OURS);
  const unit = metric === 'wall' ? 's' : 'MiB';
  const target = `${label}: ${metric === 'wall' ? 'time' : 'peak RSS'} ≤ ${limit} ${unit}`;
  if (!ours) return { target, value: '-', met: undefined };
  const value = ours[metric];
  return { target, value: `${value.toFixed(metric === 'wall' ? 3 : 0)} ${unit}`, met: value <= limit };
}

/** Every target of issue 13 ("Targets" and "Memory"), checked against one run. */
export function checkTargets(lookup: Lookup): TargetResult[] {
  return [
    ratioTarget(lookup, 'encrypt', 'encrypt', 'age', 'wall', 1.0),
    ratioTarget(lookup, 'decrypt', 'decrypt', 'age', 'wall', 1.0),
    ratioTarget(lookup, 'encrypt', 'encrypt', 'age', 'cpu', 1.3),
    ratioTarget(lookup, 'decrypt', 'decrypt', 'age', 'cpu', 1.3),
    ratioTarget(lookup, 'put', 'put', 'rclone crypt', 'wall', 1.0),
    ratioTarget(lookup, 'put', 'put', 'rclone (plain)', 'wall', 1.15),
    ratioTarget(lookup, 'get', 'get', 'rclone crypt', 'wall', 1.0),
    ratioTarget(lookup, 'get', 'get', 'rclone (plain)', 'wall', 1.15),
    ratioTarget(lookup, 'range', 'ranged get', 'rclone crypt', 'wall', 1.0),
    absoluteTarget(lookup, 'encrypt', 'encrypt', 'peakRssMiB', 64),
    absoluteTarget(lookup, 'decrypt', 'decrypt', 'peakRssMiB', 64),
    absoluteTarget(lookup, 'put', 'put', 'peakRssMiB', 64),
    absoluteTarget(lookup, 'get', 'get', 'peakRssMiB', 64),
    // "starts in well under 0.2 s": the whole process, start to exit, under 0.2 s is the least that means.
    absoluteTarget(lookup, 'help', 'start-up (--help)', 'wall', 0.2),
    absoluteTarget(lookup, 'head', 'head', 'wall', 0.2),
  ];
}
