/**
 * Shared helpers of the reliability tests (faults, crash, soak, fuzz, adversary).
 *
 * - `s3.ts`: clients for the server under test (`plainClient`, `encryptedClient`, `useEncryptedClient`, `clientConfig`,
 *   `s3Env`, `newKeyring`)
 * - the integration suite's `bucket.ts`: `useBucket(label)` (per test file), `useEncryptedBucket`, `createBucket`,
 *   `destroyBucket`, `listOpenUploads`, `abortAllUploads`
 * - `data.ts`: seeded deterministic data (`seededBytes`, `seededPieces`, `seededStream`, `seededSha256`), `prng`
 * - `streams.ts`: `readAll`, `consume` (piece by piece, for bodies that may fail mid-way)
 * - `figures.ts`: `recordFigure(section, name, value)` → .tmp/reliability/figures.jsonl (printed by the summary)
 * - `memory.ts`: `forceGc`, `settledRssMiB`
 * - `fault-proxy.ts`: `startFaultProxy()`, a scripted fault-injecting reverse proxy in front of S3
 */
export * from '../../../integration/test/helpers/bucket';
export * from './data';
export * from './fault-proxy';
export * from './figures';
export * from './memory';
export * from './s3';
export * from './streams';
