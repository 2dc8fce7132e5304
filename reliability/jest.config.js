/**
 * Reliability tests: injected faults, crash/resume, soak (ours) and fuzz / adversary,
 * all against a real S3 server (S3_ENDPOINT, see test/helpers/s3.ts). Tests run from the
 * packages' sources, no build. Figures go to .tmp/reliability/figures.jsonl (cleared by
 * globalSetup) and are printed as a table by globalTeardown.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: {
    '^@encrypted-stream/codec$': '<rootDir>/../packages/codec/src/index.ts',
    '^@encrypted-stream/s3$': '<rootDir>/../packages/s3/src/index.ts',
  },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/summary/global-teardown.ts',
  testTimeout: 300000,
};
