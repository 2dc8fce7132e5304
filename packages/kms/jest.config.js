/**
 * Every suite: `test/unit` (the keyring and the KMS test double, no server) and
 * `test/s3` (through the real S3 plugin against the real S3 server, with the
 * KMS test double and, where Docker answers or KMS_ENDPOINT is set, LocalStack's
 * KMS; see test/helpers/global-setup.ts). `pnpm test:unit` runs test/unit alone
 * (jest.unit.config.js).
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  // Workspace packages resolve through their package.json exports, to their TypeScript sources.
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', '@encrypted-stream/source'] },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 120000,
};
