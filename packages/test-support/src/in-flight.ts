import type { S3Client } from '@aws-sdk/client-s3';

let trackers = 0;

/** A count of the S3 requests a client has under way, and a gate that holds them before they are sent. */
export interface InFlight {
  /** Requests sent (or waiting at the gate) whose response body has not closed yet. */
  readonly current: number;
  /** The highest `current` seen. */
  readonly max: number;
  /** Requests seen in all. */
  readonly started: number;
  /** From now on, requests wait before they are sent until {@link InFlight.open}. */
  close(): void;
  /** Lets waiting and future requests through. */
  open(): void;
  /** Resolves once `current` reaches `count` (rejects after `timeoutMs`). */
  reach(count: number, timeoutMs?: number): Promise<void>;
  /** Resets `max` to `current`. */
  resetMax(): void;
}

/**
 * Counts `client`'s S3 requests in flight: from the moment the client sends
 * one (a middleware at the end of finalizeRequest) until its response body
 * is closed (read to the end or destroyed) or it failed. Optionally holds
 * them at a gate, so a test can see how many a burst gets under way at once.
 */
export function trackInFlight(client: S3Client): InFlight {
  let current = 0;
  let max = 0;
  let started = 0;
  let gate: { promise: Promise<void>; resolve: () => void } | undefined;
  const watchers: (() => void)[] = [];
  const changed = () => {
    max = Math.max(max, current);
    for (const watcher of [...watchers]) watcher();
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      started++;
      current++;
      changed();
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        current--;
        changed();
      };
      try {
        if (gate) await gate.promise;
        const result = await next(args);
        const body = (result.response as { body?: NodeJS.ReadableStream & { closed?: boolean } }).body;
        if (body && typeof body.once === 'function' && !body.closed) body.once('close', finish);
        else finish();
        return result;
      } catch (error) {
        finish();
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: `testSupportInFlight${++trackers}` },
  );
  return {
    get current() {
      return current;
    },
    get max() {
      return max;
    },
    get started() {
      return started;
    },
    close() {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      gate = { promise, resolve };
    },
    open() {
      gate?.resolve();
      gate = undefined;
    },
    reach(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (current !== count) return;
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(check), 1);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.splice(watchers.indexOf(check), 1);
          reject(new Error(`S3 requests in flight stayed at ${current}, not ${count}, for ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.push(check);
        check();
      });
    },
    resetMax() {
      max = current;
    },
  };
}
