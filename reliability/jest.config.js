/**
 * Reliability tests: injected faults, crash/resume, soak (ours) and fuzz / adversary,
 * all against a real S3 server (S3_ENDPOINT, see test/helpers/s3.ts). Tests run from the
 * packages' sources, no build. Figures go to .tmp/reliability/figures.jsonl (cleared by
 * globalSetup) and are printed as a table by globalTeardown.
 *
 * The integration suite's settings (ts-jest, the packages' sources), with `<rootDir>` this folder.
 * @type {import('jest').Config}
 */
module.exports = {
  ...require('../integration/jest.config.js'),
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/summary/global-teardown.ts',
  // The soak measures memory growth: it runs first, before other files fill the process.
  testSequencer: '<rootDir>/test/helpers/soak-first-sequencer.js',
  testTimeout: 300000,
};
