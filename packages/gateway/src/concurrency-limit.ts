/**
 * What {@link ConcurrencyLimit.acquire} got: a slot (call `release` exactly
 * once when done), or why not.
 * @public
 */
export type SlotResult =
  | { readonly granted: true; readonly release: () => void }
  | { readonly granted: false; readonly reason: 'queue-full' | 'timeout' | 'aborted' };

interface Waiter {
  readonly grant: () => void;
}

/**
 * At most `max` holders at a time; up to `maxQueued` more wait in arrival
 * order, each for at most `timeoutMs`; beyond that a request is refused at
 * once. The gateway holds one slot per request from its first S3 request
 * until the response ends, so slots bound the S3 requests in flight.
 * @public
 */
export class ConcurrencyLimit {
  readonly max: number;
  readonly maxQueued: number;
  readonly timeoutMs: number;
  #active = 0;
  readonly #queue: Waiter[] = [];

  /** @throws RangeError when `max` is not a positive integer or `maxQueued`/`timeoutMs` not non-negative ones. */
  constructor(max: number, maxQueued: number, timeoutMs: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxConcurrentRequests must be an integer ≥ 1');
    if (!Number.isSafeInteger(maxQueued) || maxQueued < 0) {
      throw new RangeError('maxQueuedRequests must be an integer ≥ 0');
    }
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) {
      throw new RangeError('queueTimeoutMs must be an integer ≥ 0');
    }
    this.max = max;
    this.maxQueued = maxQueued;
    this.timeoutMs = timeoutMs;
  }

  /** Slots held now. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting now. */
  get queued(): number {
    return this.#queue.length;
  }

  /** A slot now, or after waiting in the queue; `signal` (the client went away) gives up the place. */
  acquire(signal: AbortSignal): Promise<SlotResult> {
    if (signal.aborted) return Promise.resolve({ granted: false, reason: 'aborted' });
    if (this.#active < this.max) {
      this.#active++;
      return Promise.resolve({ granted: true, release: this.#releaser() });
    }
    if (this.#queue.length >= this.maxQueued) return Promise.resolve({ granted: false, reason: 'queue-full' });
    return new Promise((resolve) => {
      const leave = (reason: 'timeout' | 'aborted') => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        cleanup();
        resolve({ granted: false, reason });
      };
      const onAbort = () => leave('aborted');
      const timer = setTimeout(() => leave('timeout'), this.timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: () => {
          cleanup();
          resolve({ granted: true, release: this.#releaser() });
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** A release function that hands the slot to the next waiter (or frees it); calls after the first do nothing. */
  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter: `active` is unchanged, no newcomer can overtake.
      if (next) next.grant();
      else this.#active--;
    };
  }
}
