#!/usr/bin/env node
// Writes the ES module entries of a built package: for every entry of its
// package.json `exports` with an `import` condition, `dist/<name>.mjs` re-exports
// the names of the CommonJS build and `dist/<name>.d.mts` its types.
//
// Why wrappers rather than a second build: an application that both imports
// and requires a package (directly, or through a dependency) then still loads
// one copy of it: one backend cache, one set of error classes for `instanceof`
// (Node's "ES module wrapper" answer to the dual-package hazard).
//
// The names come from the CommonJS module itself, and the script then imports
// every wrapper and fails unless it exports exactly those names, so that a
// name Node's CommonJS export detection misses breaks the build, not a user.
//
// Usage, from a package directory after tsc: node ../../scripts/esm-entries.cjs
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The `import` → `default` / `require` → `default` targets of every entry. */
function entries() {
  return Object.entries(manifest.exports ?? {})
    .filter(([, target]) => typeof target === 'object' && target.import && target.require)
    .map(([subpath, target]) => ({ subpath, esm: target.import.default, cjs: target.require.default }));
}

/** The names a CommonJS module exports, as `require` sees them. */
function namesOf(file) {
  return Object.keys(require(resolve(root, file)))
    .filter((name) => name !== '__esModule' && name !== 'default')
    .sort();
}

async function main() {
  const written = entries();
  if (written.length === 0) throw new Error(`${manifest.name}: no exports entry has both import and require`);
  for (const { subpath, esm, cjs } of written) {
    const names = namesOf(cjs);
    const from = `./${cjs.split('/').pop()}`;
    const banner = `// ES module entry of ${manifest.name}${subpath.slice(1)}: the CommonJS build's exports (see scripts/esm-entries.cjs).\n`;
    writeFileSync(
      resolve(root, esm),
      `${banner}export {\n${names.map((n) => `  ${n},\n`).join('')}} from '${from}';\n`,
    );
    writeFileSync(resolve(root, esm.replace(/\.mjs$/, '.d.mts')), `${banner}export * from '${from}';\n`);
    const loaded = Object.keys(await import(pathToFileURL(resolve(root, esm)).href))
      .filter((name) => name !== 'default' && name !== 'module.exports')
      .sort();
    if (JSON.stringify(loaded) !== JSON.stringify(names)) {
      throw new Error(`${esm}: exports ${loaded.join(', ')}; the CommonJS build exports ${names.join(', ')}`);
    }
  }
  console.log(`${manifest.name}: ES module entries for ${written.map((e) => e.subpath).join(', ')}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
