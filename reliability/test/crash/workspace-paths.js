// Preloaded (`node -r`) into the crash child so that it runs the workspace packages from
// their TypeScript sources, exactly as jest's moduleNameMapper does (no build needed).
const Module = require('node:module');
const path = require('node:path');

const SOURCES = {
  '@encrypted-stream/codec': path.resolve(__dirname, '../../../packages/codec/src/index.ts'),
  '@encrypted-stream/codec/node': path.resolve(__dirname, '../../../packages/codec/src/node.ts'),
  '@encrypted-stream/codec/low-level': path.resolve(__dirname, '../../../packages/codec/src/low-level.ts'),
  '@encrypted-stream/s3': path.resolve(__dirname, '../../../packages/s3/src/index.ts'),
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveWorkspace(request, ...rest) {
  return resolve.call(this, SOURCES[request] ?? request, ...rest);
};
