#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this), on a fresh
# machine or a developer's: toolchain, lint, type check, build, unit tests,
# then integration tests against a real S3 server (started here unless
# S3_ENDPOINT points at one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPORTS=$ROOT/.tmp/test-reports
T0=$SECONDS
step() { printf '\n== %s (%ds)\n' "$*" "$((SECONDS - T0))"; }

step "toolchain"
command -v pnpm >/dev/null 2>&1 || npm install -g pnpm@10 >/dev/null
pnpm install --frozen-lockfile --reporter=silent

step "lint and format (biome)"
pnpm run lint

step "type check"
pnpm run typecheck

step "build"
pnpm run build

rm -rf "$REPORTS" && mkdir -p "$REPORTS"
FAILED=()
run_jest() { # name dir [jest args...]: a failing suite is reported at the end; the others still run
  local name=$1 dir=$2
  shift 2
  (cd "$dir" && npx jest --ci --json --outputFile="$REPORTS/$name.json" "$@") || FAILED+=("$name")
}

step "unit, vector, tamper and property tests"
run_jest codec packages/codec
run_jest s3 packages/s3

step "real S3 server"
if [ -z "${S3_ENDPOINT:-}" ]; then
  bash scripts/s3-server.sh up
  eval "$(bash scripts/s3-server.sh env)"
else
  echo "using S3_ENDPOINT=$S3_ENDPOINT"
fi

step "integration tests against $S3_ENDPOINT"
run_jest integration integration --runInBand

step "KMS keyring: KMS test double (and LocalStack's KMS where Docker answers), real S3"
run_jest kms packages/kms --runInBand

step "command-line end-to-end tests (built binary, real files, real S3)"
run_jest cli packages/cli --runInBand

step "HTTP gateway tests (real S3, headless Chromium)"
if ! command -v chromium >/dev/null 2>&1 || ! command -v ffmpeg >/dev/null 2>&1; then
  # Debian's Chromium drives the video test (no browser download); ffmpeg makes the test video.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium ffmpeg >/dev/null
fi
run_jest gateway packages/gateway --runInBand

step "browser: the page and its Service Worker decrypt (real S3, headless Chromium)"
run_jest web packages/web --runInBand

step "reliability: faults, crashes, soak, adversary, fuzzing"
run_jest reliability reliability --runInBand

step "summary"
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    console.log(`${f.replace(".json", "").padEnd(12)} ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests;
  }
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (passed === 0 || failed > 0) process.exit(1);
' "$REPORTS" || FAILED+=("summary")
echo "total time: $((SECONDS - T0))s"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "failed suites: ${FAILED[*]}"
  exit 1
fi
