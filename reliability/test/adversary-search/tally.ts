/**
 * Every judged read of the search, grouped the way the tests are named
 * (write path › mutation kind › read path), and the figures the run records.
 */
import { recordFigure } from '../helpers';
import { type Judgement, UNAUTHENTICATED_416, type Verdict } from './oracle';

/** The mutation "kind" of reads of the untouched objects. */
export const CONTROL = 'control (unmutated)';

export interface Case {
  readonly path: string;
  /** The original plaintext size (undefined where no object is read: upload-state cases). */
  readonly size: number | undefined;
  readonly kind: string;
  readonly instance: string;
  readonly read: string;
  readonly verdict: Verdict;
  readonly detail: string;
}

export class Tally {
  readonly cases: Case[] = [];

  add(where: Omit<Case, 'verdict' | 'detail'>, judgement: Judgement): void {
    this.cases.push({ ...where, ...judgement });
  }

  select(path: string, kind: string, read: string): Case[] {
    return this.cases.filter((c) => c.path === path && c.kind === kind && c.read === read);
  }

  /** Records the figures of this part of the search: `search (<label>): …`. */
  record(label: string): { run: number; accepted: number } {
    const mutated = this.cases.filter((c) => c.kind !== CONTROL);
    const accepted = mutated.filter((c) => c.verdict === 'violation').length;
    const refused = mutated.filter((c) => c.verdict === 'refused').length;
    const controlsFailed = this.cases.filter((c) => c.kind === CONTROL && c.verdict !== 'intact').length;
    recordFigure('adversary', `search (${label}): cases run`, this.cases.length);
    recordFigure('adversary', `search (${label}): mutations accepted`, accepted);
    recordFigure('adversary', `search (${label}): control reads failed`, controlsFailed);
    recordFigure(
      'adversary',
      `search (${label}): refusals stating a size no read authenticated (unrecorded sizes, by design)`,
      mutated.filter((c) => c.verdict === 'refused' && c.detail.startsWith(UNAUTHENTICATED_416)).length,
    );
    // Summed into the summary's headline "tamper cases detected" (reads of untouched ranges are neither).
    recordFigure('adversary', `search (${label}): mutated reads detected`, refused);
    recordFigure('adversary', `search (${label}): mutated reads undetected`, accepted);
    return { run: this.cases.length, accepted };
  }
}

const line = (c: Case) => `  - ${c.size === undefined ? '' : `${c.size}-byte object, `}${c.instance}: ${c.detail}`;

/** Asserts no case is a violation (mutations) or every case read the original (controls), listing the offenders. */
export function expectClean(cases: readonly Case[], failure?: unknown): void {
  if (failure) throw failure;
  const bad = cases.filter((c) => (c.kind === CONTROL ? c.verdict !== 'intact' : c.verdict === 'violation'));
  if (bad.length === 0) return;
  const what = cases[0]?.kind === CONTROL ? 'control reads did not return the original' : 'mutations accepted';
  const shown = bad.slice(0, 12).map(line);
  if (bad.length > shown.length) shown.push(`  … and ${bad.length - shown.length} more`);
  throw new Error(`${bad.length} of ${cases.length} ${what}:\n${shown.join('\n')}`);
}
