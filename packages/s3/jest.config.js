/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleNameMapper: {
    '^@encrypted-stream/codec$': '<rootDir>/../codec/src/index.ts',
    '^@encrypted-stream/codec/node$': '<rootDir>/../codec/src/node.ts',
    '^@encrypted-stream/codec/low-level$': '<rootDir>/../codec/src/low-level.ts',
  },
  testTimeout: 60000,
};
