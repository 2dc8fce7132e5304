/** Node's own EventEmitter, under Node (`#event-emitter`; browsers get web/event-emitter.ts). */
export { EventEmitter } from 'node:events';
