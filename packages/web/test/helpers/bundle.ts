/**
 * Bundles a browser entry with esbuild, the way an application would: the
 * `browser` platform (the AWS SDK's browser build: fetch handler, Web Stream
 * bodies) and the workspace packages from their TypeScript sources.
 */
import { build } from 'esbuild';

/** Options of {@link bundleForBrowser}. */
export interface BundleOptions {
  /** `esm` for pages (`<script type="module">`) and module workers, `iife` for classic workers. */
  readonly format?: 'esm' | 'iife';
  /** Minify (the bench measures what ships); off by default for readable stack traces. */
  readonly minify?: boolean;
  /**
   * Bundle the workspace packages as published (their built `dist/`, run
   * `pnpm run build` first) rather than from their TypeScript sources. Main
   * fields are then set explicitly: with its default ones, esbuild resolves a
   * `require()` (as the packages' CommonJS build makes) of a package with both
   * `module` and `main` to `main`, the AWS SDK's Node build.
   */
  readonly built?: boolean;
}

/** Bundles `entry` (a path) into one JavaScript text for browsers; fails on any `node:` import left. */
export async function bundleForBrowser(entry: string, options: BundleOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: options.format ?? 'esm',
    target: 'chrome120',
    minify: options.minify ?? false,
    ...(options.built ? { mainFields: ['browser', 'module', 'main'] } : { conditions: ['@encrypted-stream/source'] }),
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}
