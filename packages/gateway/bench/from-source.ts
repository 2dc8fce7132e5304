/**
 * Makes the workspace packages resolve to their TypeScript sources (as the
 * tests' moduleNameMapper does), so the benchmark measures the code in the
 * tree, not a possibly stale dist/. Import it before anything else.
 */
import Module from 'node:module';
import path from 'node:path';

const SOURCES: Record<string, string> = {
  '@encrypted-stream/codec': path.resolve(__dirname, '../../codec/src/index.ts'),
  '@encrypted-stream/codec/node': path.resolve(__dirname, '../../codec/src/node.ts'),
  '@encrypted-stream/codec/low-level': path.resolve(__dirname, '../../codec/src/low-level.ts'),
  '@encrypted-stream/s3': path.resolve(__dirname, '../../s3/src/index.ts'),
};

type Resolve = (request: string, ...rest: unknown[]) => string;
const mod = Module as unknown as { _resolveFilename: Resolve };
const original = mod._resolveFilename;
mod._resolveFilename = function resolveFromSource(this: unknown, request: string, ...rest: unknown[]) {
  return original.call(this, SOURCES[request] ?? request, ...rest);
};
