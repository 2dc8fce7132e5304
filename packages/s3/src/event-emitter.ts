import type { EventEmitter as NodeEventEmitter } from 'node:events';
import { EventEmitter as PlatformEventEmitter } from '#event-emitter';

/**
 * Node's EventEmitter under Node; outside Node a small one with the same
 * on/once/off/emit (see `web/event-emitter.ts`). Typed as Node's, and
 * re-exported from here rather than from `#event-emitter`, so that the
 * published declarations name no `#` import: TypeScript's older
 * `moduleResolution: node` cannot resolve one.
 */
export const EventEmitter: typeof NodeEventEmitter = PlatformEventEmitter as unknown as typeof NodeEventEmitter;
