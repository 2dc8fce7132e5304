import { formatBytes, formatCountRate, formatDuration } from './human-units';
import { printable } from './terminal-text';

/** What a {@link Progress} counts: bytes (sizes in KiB, MiB …) or objects (plain counts). */
export type ProgressUnit = 'bytes' | 'objects';

/** Options of a {@link Progress}. */
export interface ProgressOptions {
  readonly unit?: ProgressUnit;
  /** The clock, in milliseconds (tests); default `performance.now`. */
  readonly now?: () => number;
}

/**
 * A one-line progress bar on a terminal (stderr): amount done, percent,
 * rate and ETA in human units (human-units.ts). Silent when stderr is not a
 * TTY or with --quiet. Work done before this run (resumed parts) counts
 * towards the amount, not the rate.
 */
export class Progress {
  readonly #enabled: boolean;
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #unit: ProgressUnit;
  readonly #now: () => number;
  readonly #start: number;
  #done = 0;
  #resumed = 0;
  #lastDraw = 0;

  constructor(label: string, total: number | undefined, enabled: boolean, options: ProgressOptions = {}) {
    this.#label = printable(label); // it names the object: drawn on the terminal
    this.#total = total;
    this.#unit = options.unit ?? 'bytes';
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#enabled = enabled && process.stderr.isTTY === true;
  }

  /** Amount done so far (resumed work included). */
  get done(): number {
    return this.#done;
  }

  /** Records `amount` more done; redraws at most 10 times a second. */
  add(amount: number): void {
    this.#done += amount;
    this.#draw();
  }

  /** Records `amount` done by an earlier run (resumed parts): shown as done, left out of the rate. */
  addResumed(amount: number): void {
    this.#done += amount;
    this.#resumed += amount;
    this.#draw();
  }

  #draw(): void {
    if (!this.#enabled) return;
    const now = this.#now();
    if (now - this.#lastDraw < 100 && this.#done !== this.#total) return;
    this.#lastDraw = now;
    process.stderr.write(`\r${this.line()}\x1b[K`);
  }

  #amount(n: number): string {
    return this.#unit === 'bytes' ? formatBytes(n) : String(n);
  }

  /** The current status line, e.g. `put s3://b/k  12.0 MiB / 60.0 MiB  [#####...]  20%  12.3 MiB/s  ETA 4s`. */
  line(): string {
    const seconds = Math.max((this.#now() - this.#start) / 1000, 1e-3);
    const rate = (this.#done - this.#resumed) / seconds;
    const objects = this.#unit === 'objects' ? ' objects' : '';
    const parts = [
      this.#label,
      `${this.#amount(this.#done)}${this.#total === undefined ? '' : ` / ${this.#amount(this.#total)}`}${objects}`,
    ];
    if (this.#total !== undefined && this.#total > 0) {
      const fraction = Math.min(1, this.#done / this.#total);
      const width = 24;
      const filled = Math.round(fraction * width);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`, `${Math.floor(fraction * 100)}%`);
    }
    parts.push(this.#unit === 'bytes' ? `${formatBytes(rate)}/s` : `${formatCountRate(rate)} objects/s`);
    if (this.#total !== undefined && rate > 0 && this.#done < this.#total) {
      parts.push(`ETA ${formatDuration((this.#total - this.#done) / rate)}`);
    }
    return parts.join('  ');
  }

  /** Ends the line. */
  finish(): void {
    if (this.#enabled) process.stderr.write(`\r${this.line()}\x1b[K\n`);
  }
}

/** Passes `pieces` through, counting their bytes into `progress`. */
export async function* counted(pieces: AsyncIterable<Uint8Array>, progress: Progress): AsyncGenerator<Uint8Array> {
  for await (const piece of pieces) {
    progress.add(piece.length);
    yield piece;
  }
}
