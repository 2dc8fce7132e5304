import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Figures of a reliability run: one JSON object per line in
 * `<repo>/.tmp/reliability/figures.jsonl`, appended by tests (any process) and
 * printed as a table by the global teardown (test/summary/global-teardown.ts).
 */
export const FIGURES_PATH = resolve(__dirname, '../../../.tmp/reliability/figures.jsonl');

export type FigureValue = string | number | boolean;

export interface Figure {
  readonly section: string;
  readonly name: string;
  readonly value: FigureValue;
  readonly at: string;
}

/**
 * Appends one figure. `section` groups figures in the summary (`faults`, `crash`,
 * `soak`, `fuzz`, `adversary`); recording the same `section`/`name` twice keeps both
 * lines, the summary shows the last one (and sums where it says so).
 */
export function recordFigure(section: string, name: string, value: FigureValue): void {
  mkdirSync(dirname(FIGURES_PATH), { recursive: true });
  const figure: Figure = { section, name, value, at: new Date().toISOString() };
  appendFileSync(FIGURES_PATH, `${JSON.stringify(figure)}\n`);
}

/** Every figure recorded so far, in order (malformed lines are skipped). */
export function readFigures(path = FIGURES_PATH): Figure[] {
  if (!existsSync(path)) return [];
  const figures: Figure[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = JSON.parse(line) as Partial<Figure>;
      if (typeof parsed.section === 'string' && typeof parsed.name === 'string' && parsed.value !== undefined) {
        figures.push(parsed as Figure);
      }
    } catch {
      // a line cut by a killed writer: ignore
    }
  }
  return figures;
}

/** Deletes the figures file (global setup: each run starts empty). */
export function clearFigures(path = FIGURES_PATH): void {
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true });
}
