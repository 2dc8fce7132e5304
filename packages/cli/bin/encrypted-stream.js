#!/usr/bin/env node
const { join } = require('node:path');

// Start-up: main.js and its chunks compile through a private V8 code cache (src/compile-cache.ts).
try {
  require('../dist/compile-cache.js').installCompileCache({ root: join(__dirname, '..', 'dist') });
} catch {
  // without a cache, everything compiles as usual
}

require('../dist/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
