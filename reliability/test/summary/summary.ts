import type { Figure, FigureValue } from '../helpers/figures';

/**
 * Builds the summary table of a reliability run from its figures. Headline
 * rows are computed per section; every figure is listed below them.
 *
 * Conventions (what the headline rows read):
 * - `faults`: one figure per case, value 'survived' or 'failed'; numeric figures named
 *   `faults injected` are summed.
 * - `crash`: numeric `kills`, `resumes`, `parts re-uploaded`, and `ok` (true/false).
 * - `soak`: numeric `requests`, `bytes`, `errors`, `mismatches`, `rss start MiB`, `rss end MiB`.
 * - `fuzz`: numeric figures whose name contains `inputs` (else every numeric figure) are summed.
 * - `adversary`: figures valued 'detected' (or true) count as detected, any other value
 *   (e.g. 'undetectable-by-design') is counted by value; numeric figures named
 *   `... detected` / `... undetected` are summed.
 */

function last(figures: Figure[], section: string, name: string): FigureValue | undefined {
  for (let i = figures.length - 1; i >= 0; i--) {
    const f = figures[i] as Figure;
    if (f.section === section && f.name === name) return f.value;
  }
  return undefined;
}

function sum(figures: Figure[], section: string, pick: (f: Figure) => boolean): number {
  return figures
    .filter((f) => f.section === section && typeof f.value === 'number' && pick(f))
    .reduce((n, f) => n + (f.value as number), 0);
}

function show(value: FigureValue | undefined): string {
  if (value === undefined) return '—';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return String(value);
}

/** Figures recorded once per test or file and meant to be added up. */
const SUMMED = new Set(['faults\u0000faults injected', 'fuzz\u0000inputs']);

/** Latest value per (section, name), in first-seen order; summed for the SUMMED names. */
function latest(figures: Figure[]): Figure[] {
  const map = new Map<string, Figure>();
  for (const f of figures) {
    const id = `${f.section}\u0000${f.name}`;
    const before = map.get(id);
    if (SUMMED.has(id) && before && typeof before.value === 'number' && typeof f.value === 'number') {
      map.set(id, { ...f, value: before.value + f.value });
    } else {
      map.set(id, f);
    }
  }
  return [...map.values()];
}

export function headlineRows(figures: Figure[]): [string, string][] {
  const rows: [string, string][] = [];
  const sections = new Set(figures.map((f) => f.section));
  const uniq = latest(figures);

  if (sections.has('faults')) {
    const cases = uniq.filter((f) => f.section === 'faults' && typeof f.value === 'string');
    const survived = cases.filter((f) => f.value === 'survived').length;
    const injected = sum(figures, 'faults', (f) => f.name === 'faults injected');
    rows.push(['faults: cases survived / run', `${survived} / ${cases.length}`]);
    rows.push(['faults: faults injected', show(injected)]);
  }
  if (sections.has('crash')) {
    rows.push(['crash: kills (SIGKILL)', show(last(figures, 'crash', 'kills'))]);
    rows.push(['crash: resumes', show(last(figures, 'crash', 'resumes'))]);
    rows.push(['crash: parts re-uploaded', show(last(figures, 'crash', 'parts re-uploaded'))]);
    rows.push(['crash: object byte-identical', show(last(figures, 'crash', 'ok'))]);
  }
  if (sections.has('soak')) {
    rows.push(['soak: seconds', show(last(figures, 'soak', 'seconds'))]);
    rows.push(['soak: requests', show(last(figures, 'soak', 'requests'))]);
    const bytes = last(figures, 'soak', 'bytes');
    rows.push(['soak: bytes verified', typeof bytes === 'number' ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : '—']);
    rows.push(['soak: errors', show(last(figures, 'soak', 'errors'))]);
    rows.push(['soak: mismatches', show(last(figures, 'soak', 'mismatches'))]);
    rows.push([
      'soak: RSS start → end (MiB)',
      `${show(last(figures, 'soak', 'rss start MiB'))} → ${show(last(figures, 'soak', 'rss end MiB'))}`,
    ]);
  }
  if (sections.has('fuzz')) {
    let inputs = sum(figures, 'fuzz', (f) => f.name === 'inputs');
    if (inputs === 0) inputs = sum(figures, 'fuzz', (f) => /inputs/i.test(f.name));
    rows.push(['fuzz: inputs tried', show(inputs)]);
  }
  if (sections.has('adversary')) {
    const adv = uniq.filter((f) => f.section === 'adversary');
    const isDetected = (f: Figure) => f.value === 'detected' || f.value === true;
    const cases = adv.filter((f) => typeof f.value !== 'number');
    const detected =
      cases.filter(isDetected).length + sum(figures, 'adversary', (f) => /(^|\s)detected$/i.test(f.name));
    const counted = cases.length + sum(figures, 'adversary', (f) => /(un)?detected$/i.test(f.name));
    const others = new Map<string, number>();
    for (const f of cases) if (!isDetected(f)) others.set(String(f.value), (others.get(String(f.value)) ?? 0) + 1);
    const note = [...others].map(([value, n]) => `${n} ${value}`).join(', ');
    rows.push(['adversary: tamper cases detected', `${detected} / ${counted}${note ? ` (${note})` : ''}`]);
  }
  return rows;
}

function table(title: string, rows: [string, string][]): string {
  const w0 = Math.max(title.length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(5, ...rows.map((r) => r[1].length));
  const line = `+${'-'.repeat(w0 + 2)}+${'-'.repeat(w1 + 2)}+`;
  const out = [line, `| ${title.padEnd(w0)} | ${''.padEnd(w1)} |`, line];
  for (const [a, b] of rows) out.push(`| ${a.padEnd(w0)} | ${b.padEnd(w1)} |`);
  out.push(line);
  return out.join('\n');
}

/** The printed summary: the headline table, then the fault cases that failed (if any). */
export function renderSummary(figures: Figure[]): string {
  if (figures.length === 0) return 'reliability summary: no figures recorded';
  const failed = latest(figures).filter((f) => f.section === 'faults' && f.value === 'failed');
  const failures = failed.length
    ? `\n${table(
        'fault cases that failed',
        failed.map((f): [string, string] => [f.name, String(f.value)]),
      )}`
    : '';
  return `${table('reliability summary', headlineRows(figures))}${failures}`;
}

/** Every figure (latest value; summed where summed), for the summary file. */
export function renderDetail(figures: Figure[]): string {
  const rows = latest(figures).map((f): [string, string] => [`${f.section}: ${f.name}`, show(f.value)]);
  return table('all figures', rows);
}
