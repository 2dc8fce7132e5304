/**
 * `@encrypted-stream/test-base/fuzz`: the shared machinery of the fuzz tests (the codec's and the s3
 * package's parsers, reliability's decoders):
 *
 * - `run.ts`: `fuzz(target, arbitrary, check, { runs })`, the run budget (`FUZZ_RUNS`, `runsFor`, `BUG_RUNS`),
 *   `attempt`/`attemptAsync`, error contracts (`assertContractError`), `largestAllocation`, the figures sink
 * - `mutations.ts`: byte and string mutations of valid encodings, biased to field boundaries
 * - `format-oracle.ts`: what FORMAT.md §2, §3, §7 say of a header, written from the specification alone
 * - `header-inputs.ts`: a corpus of real headers (made with the codec functions a test passes in) and
 *   detached strings derived from them
 */
export * from './format-oracle';
export * from './header-inputs';
export * from './mutations';
export * from './run';
