import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FIGURES_PATH, readFigures } from '../helpers/figures';
import { renderDetail, renderSummary } from './summary';

/** Prints the run's summary table; writes it, with every figure, next to the figures file. */
export default async function globalTeardown(): Promise<void> {
  const figures = readFigures();
  const text = renderSummary(figures);
  const detailPath = join(dirname(FIGURES_PATH), 'summary.txt');
  try {
    writeFileSync(detailPath, `${text}\n${renderDetail(figures)}\n`);
  } catch {
    // the summary on stdout is what matters
  }
  process.stdout.write(`\n${text}\nevery figure: ${detailPath}\n`);
}
