/**
 * Test order of the reliability suite, which runs in one process (--runInBand):
 * the soak first, then the rest, largest file first (Jest's own order without
 * timings). The soak asserts that RSS stays flat; run after the other files, it
 * would measure what they left in the process too (a CI run started the soak
 * at 765 MiB RSS with 274 MiB of another suite's heap, and saw 74 MiB of growth
 * that a soak run alone, or first, does not show).
 */
const { statSync } = require('node:fs');

module.exports = class SoakFirstSequencer {
  /** @param {ReadonlyArray<{ path: string }>} tests */
  sort(tests) {
    const isSoak = (test) => /[\\/]soak[\\/]/.test(test.path);
    const size = (test) => statSync(test.path).size;
    return [...tests].sort((a, b) => Number(isSoak(b)) - Number(isSoak(a)) || size(b) - size(a));
  }

  /** Jest calls this after a run; this order keeps no timings. */
  cacheResults() {}
};
