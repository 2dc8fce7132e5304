import { formatBytes } from './sizes';
import { printable } from './terminal-text';

/**
 * A one-line progress bar on a terminal (stderr): bytes, percent, throughput
 * and ETA. Silent when stderr is not a TTY or with --quiet.
 */
export class Progress {
  readonly #enabled: boolean;
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #start = performance.now();
  #done = 0;
  #lastDraw = 0;

  constructor(label: string, total: number | undefined, enabled: boolean) {
    this.#label = printable(label); // it names the object: drawn on the terminal
    this.#total = total;
    this.#enabled = enabled && process.stderr.isTTY === true;
  }

  /** Bytes done so far. */
  get done(): number {
    return this.#done;
  }

  /** Records `bytes` more done; redraws at most 10 times a second. */
  add(bytes: number): void {
    this.#done += bytes;
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && this.#done !== this.#total) return;
    this.#lastDraw = now;
    process.stderr.write(`\r${this.line(now)}\x1b[K`);
  }

  /** The current status line. */
  line(now = performance.now()): string {
    const seconds = Math.max((now - this.#start) / 1000, 1e-3);
    const rate = this.#done / seconds;
    const parts = [this.#label, formatBytes(this.#done)];
    if (this.#total) {
      const fraction = Math.min(1, this.#done / this.#total);
      const width = 24;
      const filled = Math.round(fraction * width);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}%`);
      parts.push(`of ${formatBytes(this.#total)}`);
    }
    parts.push(`${formatBytes(rate)}/s`);
    if (this.#total && rate > 0 && this.#done < this.#total) {
      parts.push(`ETA ${Math.ceil((this.#total - this.#done) / rate)}s`);
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
