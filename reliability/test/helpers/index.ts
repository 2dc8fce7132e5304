/**
 * Helpers of the reliability tests (faults, crash, soak, fuzz, adversary): the shared test kit
 * (`@encrypted-stream/test-support`: clients, buckets, seeded data, streams, parallel, the fault proxy)
 * and what only this suite needs:
 *
 * - `prng.ts`: `prng(seed)`, a replayable PRNG for test decisions
 * - `figures.ts`: `recordFigure(section, name, value)` → .tmp/reliability/figures.jsonl (printed by the summary)
 * - `memory.ts`: `forceGc`, `settledRssMiB`
 */
export * from '@encrypted-stream/test-support';
export * from './figures';
export * from './memory';
export * from './prng';
