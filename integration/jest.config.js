/**
 * Integration tests: real HTTP against an S3 server (see test/helpers/s3-endpoint.ts
 * for how the endpoint is found). Tests run from the packages' sources, no build.
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
