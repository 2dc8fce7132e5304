/**
 * The printed result of the peers bench: one Markdown table of ours against
 * each peer (median time, ratios, CPU, peak RSS, spread between rounds), the
 * issue's targets with met/missed, and our CPU per GiB.
 */
import type { Summary } from './stats';
import { checkTargets, type Lookup, type Operation } from './targets';

/** One line of the comparison table: our side of `operation` against `peer`. */
export interface ComparisonRow {
  readonly operation: Operation;
  readonly label: string;
  readonly peer: string;
  /** Bytes the operation moves (for CPU per GiB); 0 for start-up rows. */
  readonly bytes: number;
}

const OURS = 'encrypted-stream';
const GiB = 1024 ** 3;

function seconds(s: Summary | undefined): string {
  if (!s) return '-';
  return s.wall < 1 ? `${(s.wall * 1000).toFixed(0)} ms` : `${s.wall.toFixed(2)} s`;
}

function cpu(s: Summary | undefined): string {
  return s ? `${s.cpu.toFixed(2)} s` : '-';
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b <= 0 ? '-' : a / b >= 10 ? (a / b).toFixed(1) : (a / b).toFixed(2);
}

function spread(s: Summary | undefined): string {
  return s ? `${(s.spread * 100).toFixed(0)} %` : '-';
}

/** Renders rows of cells as a Markdown table, numbers right-aligned. */
function markdownTable(header: string[], rows: string[][], rightAligned: Set<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

/** Prints the comparison table, the targets and our CPU per GiB to stdout. */
export function printReport(preamble: string[], rows: readonly ComparisonRow[], lookup: Lookup): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out();
  for (const line of preamble) out(line);
  out();
  const cells = rows.map((row) => {
    const ours = lookup(row.operation, OURS);
    const peer = lookup(row.operation, row.peer);
    return [
      row.label,
      seconds(ours),
      `${row.peer} ${seconds(peer)}`,
      ratio(ours?.wall, peer?.wall),
      `${cpu(ours)} / ${cpu(peer)}`,
      `${ours ? ours.user.toFixed(2) : '-'} / ${peer ? peer.user.toFixed(2) : '-'} s`,
      `${ours ? ours.peakRssMiB.toFixed(0) : '-'} / ${peer ? peer.peakRssMiB.toFixed(0) : '-'} MiB`,
      `${spread(ours)} / ${spread(peer)}`,
    ];
  });
  const header = [
    'operation',
    'encrypted-stream',
    'peer',
    'ratio (time, ours / peer)',
    'CPU, ours / peer',
    // User time alone: on this VM, sys time swings with the balloon artefact (see warm-memory.ts).
    'user CPU, ours / peer',
    'peak RSS, ours / peer',
    'spread, ours / peer',
  ];
  for (const line of markdownTable(header, cells, new Set([1, 2, 3, 4, 5, 6, 7]))) out(line);
  out();
  out('Targets (issue 13; ratios from this run):');
  out();
  const targets = checkTargets(lookup).map((t) => [
    t.target,
    t.value,
    t.met === undefined ? 'not measured' : t.met ? 'met' : 'MISSED',
  ]);
  for (const line of markdownTable(['target', 'measured', ''], targets, new Set([1]))) out(line);
  out();
  // Per GiB only for the bulk operations: a 1 MiB read is start-up, not throughput.
  const perGiB = [...new Map(rows.filter((r) => r.bytes >= 64 * 1024 * 1024).map((r) => [r.operation, r])).values()]
    .map((r) => {
      const ours = lookup(r.operation, OURS);
      return ours ? `${r.operation} ${((ours.cpu * GiB) / r.bytes).toFixed(2)}` : undefined;
    })
    .filter(Boolean);
  out(`Our CPU per GiB (s, user+sys): ${perGiB.join(', ')}.`);
}
