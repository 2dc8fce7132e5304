import type { PositionalFile } from './positional-file';

/** Tuning of a {@link FileWriter}. */
export interface FileWriterOptions {
  /**
   * Bytes queued (written or waiting) before {@link FileWriter.write} waits
   * (default 8 MiB): the memory bound, and how far the caller may run ahead.
   */
  readonly maxQueued?: number;
  /**
   * `writev` calls running at once (default 4, libuv's threadpool size):
   * copying into the page cache is CPU work, and one thread could not keep
   * up with the crypto (measured: fewer in flight, slower).
   */
  readonly maxInFlight?: number;
  /**
   * Bytes per `writev` at most (default 512 KiB): 4 MiB calls measured 3–5
   * times slower for 1 GiB on the 2-CPU machine this was tuned on.
   */
  readonly maxWrite?: number;
  /**
   * Bytes after which a background `fdatasync` is started (default 16 MiB; 0: never).
   * Flushing while writing continues keeps the disk busy from the start and
   * leaves little for the final fsync (measured: 16 MiB a little faster than 64).
   */
  readonly syncEvery?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** One `writev` waiting to run. */
interface Batch {
  readonly pieces: Uint8Array[];
  readonly length: number;
  readonly position: number;
}

/**
 * Output to an open file through positioned `writev` calls of bounded size,
 * queued and run in the background: {@link write} returns at once unless
 * `maxQueued` bytes are still unwritten, so reading and crypto go on while
 * the kernel copies. Background `fdatasync` calls keep the final fsync short.
 *
 * The first failure (ENOSPC, EIO, ...) is kept and thrown by the next call.
 */
export class FileWriter {
  readonly #file: PositionalFile;
  readonly #maxQueued: number;
  readonly #maxInFlight: number;
  readonly #maxWrite: number;
  readonly #syncEvery: number;
  readonly #queue: Batch[] = [];
  #queuedBytes = 0;
  #inFlight = 0;
  #position: number;
  #sinceSync = 0;
  #syncing: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;
  /** Resolved whenever a write ends (a waiting {@link write} or {@link settle} then looks again). */
  #progress: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(file: PositionalFile, position = 0, options: FileWriterOptions = {}) {
    this.#file = file;
    this.#position = position;
    this.#maxQueued = Math.max(1, options.maxQueued ?? 8 * MiB);
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 4);
    this.#maxWrite = Math.max(1, options.maxWrite ?? 512 * KiB);
    this.#syncEvery = options.syncEvery ?? 16 * MiB;
  }

  /** File offset of the next write. */
  get position(): number {
    return this.#position;
  }

  /**
   * Queues `pieces` (their concatenation) at the current position, in
   * `writev` calls of at most `maxWrite` bytes. The pieces are not copied:
   * the caller must leave them untouched until {@link finish} or
   * {@link settle}. Resolves once fewer than `maxQueued` bytes wait.
   */
  async write(pieces: readonly Uint8Array[]): Promise<void> {
    this.#throwIfFailed();
    let batch: Uint8Array[] = [];
    let size = 0;
    for (let i = 0; i < pieces.length; i++) {
      let piece = pieces[i] as Uint8Array;
      while (size + piece.length >= this.#maxWrite) {
        const take = this.#maxWrite - size;
        batch.push(take === piece.length ? piece : piece.subarray(0, take));
        this.#enqueue(batch, this.#maxWrite);
        piece = piece.subarray(take);
        batch = [];
        size = 0;
      }
      if (piece.length > 0) {
        batch.push(piece);
        size += piece.length;
      }
    }
    if (size > 0) this.#enqueue(batch, size);
    while (this.#queuedBytes >= this.#maxQueued && this.#failure === undefined) await this.#nextProgress();
    this.#throwIfFailed();
  }

  /** Waits for every write, then makes the file durable (fsync). Throws the first failure. */
  async finish(): Promise<void> {
    await this.settle();
    this.#throwIfFailed();
    await this.#file.sync();
  }

  /** Waits until no write or sync is pending or queued, ignoring failures (before closing on an error path). */
  async settle(): Promise<void> {
    while (this.#queuedBytes > 0 || this.#syncing !== undefined) {
      if (this.#queuedBytes > 0) await this.#nextProgress();
      else await this.#syncing;
    }
  }

  #enqueue(pieces: Uint8Array[], length: number): void {
    this.#queue.push({ pieces, length, position: this.#position });
    this.#position += length;
    this.#queuedBytes += length;
    this.#pump();
  }

  /** Starts queued writes while fewer than `maxInFlight` run (after a failure: drops them). */
  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#queue.shift() as Batch;
      if (this.#failure) {
        this.#done(batch.length, false);
        continue;
      }
      this.#inFlight++;
      this.#writeAll(batch).then(
        () => this.#done(batch.length, true),
        (error) => {
          this.#fail(error);
          this.#done(batch.length, true);
        },
      );
    }
  }

  /** Accounts for a batch written (`ran`) or dropped after a failure. */
  #done(length: number, ran: boolean): void {
    if (ran) this.#inFlight--;
    this.#queuedBytes -= length;
    this.#sinceSync += length;
    if (this.#syncEvery > 0 && this.#sinceSync >= this.#syncEvery && this.#syncing === undefined && !this.#failure) {
      this.#sinceSync = 0;
      this.#syncing = this.#file.datasync().then(
        () => {
          this.#syncing = undefined;
        },
        (error) => {
          this.#syncing = undefined;
          this.#fail(error);
        },
      );
    }
    const progress = this.#progress;
    this.#progress = undefined;
    progress?.resolve();
    this.#pump();
  }

  #nextProgress(): Promise<void> {
    if (!this.#progress) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#progress = { promise, resolve };
    }
    return this.#progress.promise;
  }

  async #writeAll({ pieces, length, position }: Batch): Promise<void> {
    // libuv's writev loops over partial writes and IOV_MAX itself; a short count here means trouble.
    const { bytesWritten } = await this.#file.writev(pieces, position);
    if (bytesWritten !== length) throw new Error(`short write: ${bytesWritten} of ${length} bytes at ${position}`);
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
