type Listener = (...args: unknown[]) => void;

/**
 * The part of Node's EventEmitter that {@link EncryptedUpload} offers, outside
 * Node (`#event-emitter`; Node gets node:events): on, once, off, emit and
 * their aliases. Listeners run synchronously in the order added; a listener
 * that throws propagates to `emit`'s caller, as in Node.
 */
export class EventEmitter {
  readonly #listeners = new Map<string | symbol, { listener: Listener; once: boolean }[]>();

  /** Adds `listener` for `event`. */
  on(event: string | symbol, listener: Listener): this {
    return this.#add(event, listener, false);
  }

  /** Adds `listener` for the next `event` only. */
  once(event: string | symbol, listener: Listener): this {
    return this.#add(event, listener, true);
  }

  /** Removes the most recently added registration of `listener` for `event`. */
  off(event: string | symbol, listener: Listener): this {
    const list = this.#listeners.get(event);
    const at = list ? list.map((entry) => entry.listener).lastIndexOf(listener) : -1;
    if (list && at >= 0) list.splice(at, 1);
    return this;
  }

  /** Alias of {@link EventEmitter.on}. */
  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  /** Alias of {@link EventEmitter.off}. */
  removeListener(event: string | symbol, listener: Listener): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of all events. */
  removeAllListeners(event?: string | symbol): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /** How many listeners `event` has. */
  listenerCount(event: string | symbol): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls the listeners of `event` with `args`; whether it had any. */
  emit(event: string | symbol, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const entry of [...list]) {
      if (entry.once) list.splice(list.indexOf(entry) >>> 0, 1); // this registration, not another of the listener
      entry.listener.apply(this, args);
    }
    return true;
  }

  #add(event: string | symbol, listener: Listener, once: boolean): this {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const list = this.#listeners.get(event) ?? [];
    list.push({ listener, once });
    this.#listeners.set(event, list);
    return this;
  }
}
