/**
 * Integration tests: real HTTP against an S3 server (see test/helpers/s3-endpoint.ts
 * for how the endpoint is found). Tests run from the packages' sources, no build.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: {
    '^@encrypted-stream/codec$': '<rootDir>/../packages/codec/src/index.ts',
    '^@encrypted-stream/codec/node$': '<rootDir>/../packages/codec/src/node.ts',
    '^@encrypted-stream/codec/low-level$': '<rootDir>/../packages/codec/src/low-level.ts',
    '^@encrypted-stream/s3$': '<rootDir>/../packages/s3/src/index.ts',
    '^@encrypted-stream/gateway$': '<rootDir>/../packages/gateway/src/index.ts',
  },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  testTimeout: 120000,
};
