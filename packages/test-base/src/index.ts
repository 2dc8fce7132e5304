/**
 * The part of the encrypted-stream test kit that depends on no workspace package (private, never
 * published), so that the codec's and the s3 package's own tests can use it as well as the suites:
 *
 * - `seeded-data.ts`: deterministic data, any slice on its own (`seededBytes`, `seededPieces`, `seededStream`, …)
 * - `@encrypted-stream/test-base/fuzz` (`fuzz/`): the fuzz machinery — `fuzz()` with its run budget, time and
 *   memory bounds, error contracts (`run.ts`), hostile mutations (`mutations.ts`) and an independent reading
 *   of FORMAT.md (`format-oracle.ts`)
 *
 * `@encrypted-stream/test-support` builds on it (S3 settings, clients, buckets, the fault proxy) and
 * re-exports the seeded data.
 */
export * from './seeded-data';
