#!/usr/bin/env node
// Builds the CLI as it ships: CommonJS bundles made by esbuild, one entry
// (dist/main.js, everything of src/) and lazily required chunks
// (dist/chunks/*.js), so that each command loads only what it needs.
//
// Why chunks: a single bundle of everything is 2.9 MB, and Node parses the
// whole file before it runs a line of it (about 70–90 ms here, even when the
// modules inside only run on first require): `--help` would pay for the AWS
// SDK and libsodium. esbuild splits code only for ES module output and only
// at import() boundaries, which would make the CLI's lazy, synchronous
// `require` seams asynchronous (command lookup, error mapping, the S3 client,
// the KMS keyring, libsodium in the codec). Instead, each group of packages
// below is bundled on its own, and every import of one of its packages from
// anywhere else becomes a `require` of that chunk file: a chunk is read only
// when code that needs it runs, and each package exists exactly once (one
// set of error classes for `instanceof`, one libsodium instance).
//
// Usage (from packages/cli, after the workspace packages are built): node scripts/bundle.cjs
'use strict';
const { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join, relative, dirname } = require('node:path');
const esbuild = require('esbuild');

const root = join(__dirname, '..');
const dist = join(root, 'dist');

/**
 * The lazily loaded chunks and the package specifiers each one owns. A chunk
 * is required only when one of its packages is: the S3 SDK by the S3
 * commands, the KMS SDK with a KMS keyring, libsodium by the codec on first
 * use of a cipher that needs it, the gateway by `serve`/`share`.
 */
const CHUNKS = {
  codec: ['@encrypted-stream/codec', '@encrypted-stream/codec/node', '@encrypted-stream/codec/low-level'],
  s3: ['@encrypted-stream/s3', '@encrypted-stream/s3/upload'],
  kms: ['@encrypted-stream/kms'],
  gateway: ['@encrypted-stream/gateway'],
  'sdk-s3': ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'],
  'sdk-kms': ['@aws-sdk/client-kms', '@aws-sdk/credential-provider-ini'],
  libsodium: ['libsodium-wrappers-sumo'],
};

/** Where a chunk's packages resolve from, when not from this package: libsodium is the codec's dependency. */
const RESOLVE_FROM = { libsodium: join(root, '../codec') };

/** The chunk that owns each specifier. */
const OWNER = new Map(Object.entries(CHUNKS).flatMap(([chunk, specifiers]) => specifiers.map((s) => [s, chunk])));
const chunkFile = (chunk) => join(dist, 'chunks', `${chunk}.js`);
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const OWNED = new RegExp(`^(${[...OWNER.keys()].map(escapeRegExp).join('|')})$`);

/**
 * Imports of another chunk's packages become `require("<relative chunk file>")[specifier]`;
 * the chunk's own packages bundle normally. `outfile` is where the build writes (for the relative path).
 */
function chunkPlugin(ownChunk, outfile) {
  return {
    name: 'chunks',
    setup(build) {
      build.onResolve({ filter: OWNED }, (args) => {
        const owner = OWNER.get(args.path);
        // Third-party packages keep their own dependencies (the S3 client's credential chain has its
        // own credential-provider-ini, maybe of another version): only our code's imports are rewired.
        if (owner === ownChunk || args.importer.includes('/node_modules/')) return undefined;
        return { path: args.path, namespace: 'chunk-ref', pluginData: owner };
      });
      build.onLoad({ filter: /.*/, namespace: 'chunk-ref' }, (args) => {
        let file = relative(dirname(outfile), chunkFile(args.pluginData)).split('\\').join('/');
        if (!file.startsWith('.')) file = `./${file}`;
        return { contents: `module.exports = require(${JSON.stringify(file)})[${JSON.stringify(args.path)}];` };
      });
      // The chunk path written above stays a run-time require.
      build.onResolve({ filter: /^\.\.?\/.*\.js$/, namespace: 'chunk-ref' }, (args) => ({
        path: args.path,
        external: true,
      }));
    },
  };
}

/** A chunk's entry: each of its packages behind a getter, so that one is loaded only when asked for. */
function chunkEntry(specifiers) {
  const getters = specifiers.map(
    (s) => `  ${JSON.stringify(s)}: { enumerable: true, get: () => require(${JSON.stringify(s)}) },`,
  );
  return `module.exports = Object.defineProperties({}, {\n${getters.join('\n')}\n});\n`;
}

const common = {
  bundle: true,
  platform: 'node',
  // Packages resolve as Node resolves them at run time: the `node` condition (the codec's
  // #native-backend is then node:crypto's AEAD), and not esbuild's default `module` condition,
  // which would pick the SDK's ES builds (dist-es: browser user-agent code, 90 KB more).
  conditions: ['node'],
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true, // class and function names as in the sources (error names are printed)
  sourcemap: false,
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

/** The directory of the package (with its package.json) that holds `file`, for a file in node_modules. */
function packageDirOf(file) {
  const match = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file);
  return match ? match[1] : undefined;
}

/**
 * The bundled packages' licenses (the AWS SDK is Apache-2.0, libsodium ISC…): each package's
 * name, version, license and LICENSE/NOTICE files, as redistributing them in the bundle requires.
 */
function notices(results) {
  const dirs = new Set();
  for (const result of results) {
    for (const input of Object.keys(result.metafile.inputs)) {
      const dir = packageDirOf(join(root, input));
      if (dir) dirs.add(dir);
    }
  }
  // Each license text once, after the packages it covers (the SDK's packages share one).
  const byText = new Map();
  const packages = [...dirs]
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name) || a.dir.localeCompare(b.dir));
  for (const { dir, manifest } of packages) {
    const text = readdirSync(dir)
      .filter((file) => /^(licen[cs]e|notice|copying)(\.|$)/i.test(file) && existsSync(join(dir, file)))
      .map((file) => readFileSync(join(dir, file), 'utf8').trim())
      .join('\n\n');
    const license = typeof manifest.license === 'string' ? manifest.license : JSON.stringify(manifest.license);
    const names = byText.get(text) ?? [];
    names.push(`${manifest.name}@${manifest.version} (${license ?? 'no license field'})`);
    byText.set(text, names);
  }
  const sections = [...byText].map(([text, names]) => `${names.join('\n')}\n\n${text || '(no license file)'}`);
  const rule = `\n\n${'-'.repeat(78)}\n\n`;
  return `Third-party code bundled in dist/ (scripts/bundle.cjs), with its licenses.${rule}${sections.join(rule)}\n`;
}

async function main() {
  rmSync(dist, { recursive: true, force: true });
  const builds = [
    { name: 'main', outfile: join(dist, 'main.js'), options: { entryPoints: [join(root, 'src/main.ts')] } },
    // Installed by bin/ before main.js loads, so main.js and every chunk compile through it.
    {
      name: 'compile-cache',
      outfile: join(dist, 'compile-cache.js'),
      options: { entryPoints: [join(root, 'src/compile-cache.ts')] },
    },
    ...Object.entries(CHUNKS).map(([chunk, specifiers]) => ({
      name: chunk,
      outfile: chunkFile(chunk),
      options: {
        stdin: {
          contents: chunkEntry(specifiers),
          resolveDir: RESOLVE_FROM[chunk] ?? root,
          sourcefile: `chunk:${chunk}`,
        },
      },
    })),
  ];
  const results = await Promise.all(
    builds.map(({ name, outfile, options }) =>
      esbuild.build({ ...common, ...options, outfile, plugins: [chunkPlugin(name, outfile)] }),
    ),
  );
  // Every source file in exactly one output, but for the two SDK clients' own copies of their
  // shared internals (@smithy/*, @aws-sdk/core…): two clients, each complete, as when installed.
  const owners = new Map();
  const duplicated = [];
  results.forEach((result, i) => {
    for (const output of Object.values(result.metafile.outputs)) {
      for (const input of Object.keys(output.inputs)) {
        if (input.startsWith('chunk-ref:')) continue;
        const first = owners.get(input);
        const name = builds[i].name;
        if (first && first !== name && [first, name].sort().join('+') !== 'sdk-kms+sdk-s3') {
          duplicated.push(`${input} (${first}, ${name})`);
        }
        owners.set(input, first ?? name);
      }
    }
  });
  if (duplicated.length) throw new Error(`bundled twice:\n  ${duplicated.join('\n  ')}`);
  writeFileSync(join(dist, 'THIRD-PARTY-NOTICES.txt'), notices(results));
  const sizes = builds.map(({ outfile }, i) => {
    const bytes = Object.values(results[i].metafile.outputs)[0].bytes;
    return `${relative(root, outfile)} ${(bytes / 1024).toFixed(0)} KiB`;
  });
  console.log(sizes.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
