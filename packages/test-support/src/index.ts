/**
 * The shared test kit of the encrypted-stream suites (private, never published):
 *
 * - `s3-settings.ts`: where the S3 server under test is (`s3Settings`, `findS3Settings`, `s3SettingsFromEnv`,
 *   `s3SettingsEnv`, `assertReachable`)
 * - `clients.ts`: `clientConfig`, `plainClient`; `encrypted-client.ts`: `encryptedClient`, `useEncryptedClient`,
 *   `withEncryptedClient`; `keys.ts`: `newKeyring`, `newMasterKey`
 * - `bucket.ts`: a fresh bucket per test file (`useBucket`, `useEncryptedBucket`), `destroyBucket`, `listOpenUploads`
 * - seeded data, re-exported from `@encrypted-stream/test-base` (which the codec's and s3's own tests use
 *   too): deterministic data, any slice on its own (`seededBytes`, `seededPieces`, `seededStream`, …)
 * - `request-counter.ts`: `countRequests(client)`, every HTTP request a client sends
 * - `in-flight.ts`: `trackInFlight(client)`, the requests a client has under way, with a gate
 * - `stored-object.ts`: `editStoredObject`, rewriting an object's stored bytes as a bucket writer could
 * - `streams.ts`: `readAll`, `consume`, `hashBody`, `consumeUntilError`, `contains`
 * - `parallel.ts`: `parallel`, `shuffled`
 * - `fault-proxy.ts`: `startFaultProxy()`, a scripted fault-injecting reverse proxy in front of S3
 * - `kms-test-double.ts` (its own entry, `@encrypted-stream/test-support/kms-test-double`, so that suites
 *   without KMS never load the KMS SDK): `KmsTestDouble`, a test double of AWS KMS's JSON protocol
 * - `browser.ts` (its own entry, `@encrypted-stream/test-support/browser`): headless Chromium (`launchChromium`,
 *   `CHROMIUM`, `CHROMIUM_ARGS`, `requireTools`), `makeTestVideo` (ffmpeg), `videoState`, `playsPast` and `seekAndPlay`
 */
export * from '@encrypted-stream/test-base';
export * from './bucket';
export * from './clients';
export * from './encrypted-client';
export * from './fault-proxy';
export * from './in-flight';
export * from './keys';
export * from './parallel';
export * from './request-counter';
export * from './s3-settings';
export * from './stored-object';
export * from './streams';
