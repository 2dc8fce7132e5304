/**
 * `pnpm test:unit`: the keyring and the KMS test double alone (test/unit) — no
 * S3 server, no Docker.
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/unit'],
  globalSetup: undefined,
  globalTeardown: undefined,
};
