/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // Workspace packages resolve through their package.json exports, to their TypeScript sources.
  testEnvironmentOptions: { customExportConditions: ['node', 'node-addons', '@encrypted-stream/source'] },
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testTimeout: 120000,
};
